//! [`FeedbackStore`]: user feedback in llmops-store, SQLite or
//! PostgreSQL, attached to the request and its prompt version.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use llmops_store::{Store, now_ms};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::error::MonitorError;
use crate::feedback::{Feedback, FeedbackSink};
use crate::observation::PromptRef;
use crate::request_buffer::{
    AfterPush, FLUSH_AFTER, RETRY_AFTER, RequestBuffer, RequestRow, newest_per_request,
};
use crate::schema::MIGRATIONS;
use crate::snapshot::FeedbackSummary;

/// The most recent items a summary lists.
const RECENT_ITEMS: i64 = 20;

/// Remembered requests per insert statement: 5 parameters each stays far
/// below SQLite's and PostgreSQL's parameter limits.
const ROWS_PER_STATEMENT: usize = 32;

/// How often a write also deletes requests older than the retention.
const PRUNE_EVERY_MS: i64 = 60_000;

/// Rewrites a comment before it is stored, such as a PII redactor.
pub type CommentRedactor = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The mean user rating of one prompt version.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VersionRating {
    /// The registry prompt.
    pub prompt: String,
    /// Its version.
    pub version: u32,
    /// The mean rating, 1 to 5.
    pub mean: f64,
    /// How many ratings.
    pub count: u64,
    /// How many ratings were 4 or 5.
    pub positive: u64,
    /// The newest non-empty comments, newest first (at most
    /// [`MAX_VERSION_COMMENTS`]).
    pub comments: Vec<String>,
}

/// The maximum number of comments per prompt version that
/// [`FeedbackStore::ratings_by_version`] returns.
pub const MAX_VERSION_COMMENTS: usize = 3;

/// Feedback and the requests it refers to, on a [`Store`].
///
/// [`FeedbackStore::remember_request`] records which model and prompt
/// version served a request id; [`FeedbackSink::submit`] then attaches a
/// rating to that prompt version even when the client sends only the
/// request id.
///
/// Remembered requests reach the database in batches, a quarter of a
/// second after the first of a batch arrives unless the database rejects
/// the write. Lookups see them at once.
/// [`FeedbackStore::flush`] writes what waits, for example before a
/// process exits. Clones share the waiting requests.
#[derive(Clone)]
pub struct FeedbackStore {
    store: Store,
    require_known_request: bool,
    redactor: Option<CommentRedactor>,
    requests: Arc<RequestBuffer>,
    request_retention: Option<Duration>,
    /// When the last write deleted expired requests, in Unix ms.
    last_prune_ms: Arc<AtomicI64>,
}

impl std::fmt::Debug for FeedbackStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedbackStore")
            .field("dialect", &self.store.dialect())
            .field("require_known_request", &self.require_known_request)
            .field("redactor", &self.redactor.is_some())
            .field("request_retention", &self.request_retention)
            .finish_non_exhaustive()
    }
}

impl FeedbackStore {
    /// Applies the monitor's migrations and returns the store.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Store`] when a migration fails.
    pub async fn open(store: Store) -> Result<Self, MonitorError> {
        store.migrate(MIGRATIONS).await?;
        Ok(FeedbackStore {
            store,
            require_known_request: false,
            redactor: None,
            requests: Arc::default(),
            request_retention: None,
            last_prune_ms: Arc::default(),
        })
    }

    /// Sets how long remembered requests are kept: about once a minute, a
    /// write also deletes older ones. Feedback that arrives later is
    /// stored without a prompt version, or rejected under
    /// [`FeedbackStore::require_known_request`]. Kept forever by default.
    pub fn with_request_retention(mut self, retention: Duration) -> Self {
        self.request_retention = Some(retention);
        self
    }

    /// Rejects feedback on request ids that
    /// [`FeedbackStore::remember_request`] never saw. Off by default, so
    /// feedback works before the request log is wired.
    pub fn require_known_request(mut self, require: bool) -> Self {
        self.require_known_request = require;
        self
    }

    /// Rewrites every comment before it is stored, such as a PII
    /// redactor. None by default: comments are stored as given.
    pub fn with_redactor(mut self, redactor: CommentRedactor) -> Self {
        self.redactor = Some(redactor);
        self
    }

    fn placeholders(&self, count: usize) -> Vec<String> {
        let dialect = self.store.dialect();
        (1..=count)
            .map(|index| dialect.placeholder(index))
            .collect()
    }

    /// Records which model and prompt version served `request_id`;
    /// recording the same id again replaces the earlier entry.
    ///
    /// The request is written with others in a batch: at once when it
    /// fills one, otherwise by a task on the current Tokio runtime a
    /// quarter of a second later, or at once outside a runtime.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Store`] when this call writes a batch and the
    /// database fails. The batch then waits for a retry, as with
    /// [`FeedbackStore::flush`].
    pub async fn remember_request(
        &self,
        request_id: &str,
        model: &str,
        prompt: Option<PromptRef<'_>>,
    ) -> Result<(), MonitorError> {
        let row = RequestRow {
            request_id: request_id.to_owned(),
            model: model.to_owned(),
            prompt: prompt.map(|prompt| (prompt.name.to_owned(), prompt.version)),
            created_at_ms: now_ms(),
        };
        match self.requests.push(row) {
            AfterPush::Nothing => Ok(()),
            AfterPush::Flush => self.flush().await,
            AfterPush::ArmTimer => {
                if self.write_later(FLUSH_AFTER) {
                    Ok(())
                } else {
                    self.requests.timer_fired();
                    self.flush().await
                }
            }
        }
    }

    /// Spawns a write after `delay` on the current Tokio runtime, and
    /// returns false outside a runtime. Call it with the timer armed.
    fn write_later(&self, delay: Duration) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let store = self.clone();
        runtime.spawn(async move {
            tokio::time::sleep(delay).await;
            store.requests.timer_fired();
            if let Err(error) = store.flush().await {
                tracing::warn!(
                    %error,
                    waiting = store.requests.len(),
                    "remembered requests not written; retrying in a second"
                );
            }
        });
        true
    }

    /// Returns how many remembered requests are not yet written.
    pub fn unwritten_requests(&self) -> usize {
        self.requests.len()
    }

    /// Writes every remembered request that waits, in one transaction.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Store`] when the database fails. The requests then
    /// wait, and on a Tokio runtime a write is tried again a second later.
    /// Beyond 100,000 waiting, the oldest are dropped with a warning.
    pub async fn flush(&self) -> Result<(), MonitorError> {
        let _turn = self.requests.write_turn().await;
        let Some(batch) = self.requests.take() else {
            return Ok(());
        };
        let written = self.write_requests(&batch).await;
        let dropped = self.requests.finish(written.is_ok());
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "remembered requests dropped: the database rejected writes"
            );
        }
        if written.is_err() && self.requests.arm_if_waiting() && !self.write_later(RETRY_AFTER) {
            self.requests.timer_fired();
        }
        written?;
        tracing::debug!(requests = batch.len(), "remembered requests written");
        Ok(())
    }

    async fn write_requests(&self, batch: &[RequestRow]) -> Result<(), MonitorError> {
        let rows = newest_per_request(batch);
        let upsert = self
            .store
            .dialect()
            .upsert_clause(&["request_id"], &["model", "prompt", "prompt_version"]);
        let mut transaction = self.store.begin().await?;
        for statement_rows in rows.chunks(ROWS_PER_STATEMENT) {
            let p = self.placeholders(5 * statement_rows.len());
            let values: Vec<String> = p
                .chunks(5)
                .map(|row| format!("({})", row.join(", ")))
                .collect();
            let sql = format!(
                "INSERT INTO monitor_requests (request_id, model, prompt, prompt_version, created_at_ms) \
                 VALUES {} {upsert}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for row in statement_rows {
                query = query
                    .bind(row.request_id.as_str())
                    .bind(row.model.as_str())
                    .bind(row.prompt.as_ref().map(|(name, _)| name.as_str()))
                    .bind(row.prompt.as_ref().map(|(_, version)| i64::from(*version)))
                    .bind(row.created_at_ms);
            }
            query
                .execute(&mut *transaction)
                .await
                .map_err(|source| self.store.error(source))?;
        }
        if let Some(cutoff) = self.prune_cutoff() {
            let sql = format!(
                "DELETE FROM monitor_requests WHERE created_at_ms < {}",
                self.store.dialect().placeholder(1)
            );
            sqlx::query(&sql)
                .bind(cutoff)
                .execute(&mut *transaction)
                .await
                .map_err(|source| self.store.error(source))?;
        }
        transaction
            .commit()
            .await
            .map_err(|source| self.store.error(source))?;
        Ok(())
    }

    /// Returns the creation time before which requests expire, when a
    /// minute has passed since the last deletion.
    fn prune_cutoff(&self) -> Option<i64> {
        let retention = self.request_retention?;
        let now = now_ms();
        let last = self.last_prune_ms.load(Ordering::Relaxed);
        if now - last < PRUNE_EVERY_MS {
            return None;
        }
        self.last_prune_ms.store(now, Ordering::Relaxed);
        let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        Some(now.saturating_sub(retention_ms))
    }

    /// The prompt and version that served `request_id`: outer none when
    /// the request is unknown, inner none when it had no prompt.
    async fn request_prompt(
        &self,
        request_id: &str,
    ) -> Result<Option<Option<(String, u32)>>, MonitorError> {
        if let Some(waiting) = self.requests.find(request_id) {
            return Ok(Some(waiting));
        }
        let sql = format!(
            "SELECT prompt, prompt_version FROM monitor_requests WHERE request_id = {}",
            self.store.dialect().placeholder(1)
        );
        let row = sqlx::query(&sql)
            .bind(request_id)
            .fetch_optional(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let prompt: Option<String> = self.get(&row, 0)?;
        let version: Option<i64> = self.get(&row, 1)?;
        Ok(Some(prompt.zip(version.map(version_from_db))))
    }

    /// Every piece of feedback on `request_id`, oldest first.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Store`] when the database fails.
    pub async fn for_request(&self, request_id: &str) -> Result<Vec<Feedback>, MonitorError> {
        let sql = format!(
            "SELECT request_id, rating, comment, prompt, prompt_version, created_at_ms \
             FROM monitor_feedback WHERE request_id = {} ORDER BY created_at_ms, id",
            self.store.dialect().placeholder(1)
        );
        let rows = sqlx::query(&sql)
            .bind(request_id)
            .fetch_all(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        rows.iter().map(|row| self.feedback_from_row(row)).collect()
    }

    /// Ratings since `since_ms`: their count and mean, and the 20 newest.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Store`] when the database fails.
    pub async fn summary(&self, since_ms: u64) -> Result<FeedbackSummary, MonitorError> {
        let since = i64::try_from(since_ms).unwrap_or(i64::MAX);
        let p = self.placeholders(2);
        // CAST keeps both sums BIGINT: PostgreSQL sums BIGINT as NUMERIC.
        let totals_sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(rating), 0) AS BIGINT) \
             FROM monitor_feedback WHERE created_at_ms >= {}",
            p[0]
        );
        let row = sqlx::query(&totals_sql)
            .bind(since)
            .fetch_one(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        let count: i64 = self.get(&row, 0)?;
        let sum: i64 = self.get(&row, 1)?;

        let recent_sql = format!(
            "SELECT request_id, rating, comment, prompt, prompt_version, created_at_ms \
             FROM monitor_feedback WHERE created_at_ms >= {} \
             ORDER BY created_at_ms DESC, id DESC LIMIT {}",
            p[0], p[1]
        );
        let rows = sqlx::query(&recent_sql)
            .bind(since)
            .bind(RECENT_ITEMS)
            .fetch_all(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        let recent = rows
            .iter()
            .map(|row| self.feedback_from_row(row))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FeedbackSummary {
            count: count.max(0) as u64,
            mean_rating: (count > 0).then(|| sum as f64 / count as f64),
            recent,
        })
    }

    /// Ratings per prompt version since `since_ms`, by prompt and version:
    /// count, mean, ratings of 4 or 5, and the newest comments. Feedback
    /// without a prompt is left out.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Store`] when the database fails.
    pub async fn ratings_by_version(
        &self,
        since_ms: u64,
    ) -> Result<Vec<VersionRating>, MonitorError> {
        let since = i64::try_from(since_ms).unwrap_or(i64::MAX);
        let sql = format!(
            "SELECT prompt, prompt_version, CAST(COUNT(*) AS BIGINT), CAST(SUM(rating) AS BIGINT), \
             CAST(SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM monitor_feedback \
             WHERE created_at_ms >= {} AND prompt IS NOT NULL AND prompt_version IS NOT NULL \
             GROUP BY prompt, prompt_version ORDER BY prompt, prompt_version",
            self.store.dialect().placeholder(1)
        );
        let rows = sqlx::query(&sql)
            .bind(since)
            .fetch_all(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        let mut ratings = rows
            .iter()
            .map(|row| {
                let count: i64 = self.get(row, 2)?;
                let sum: i64 = self.get(row, 3)?;
                let positive: i64 = self.get(row, 4)?;
                Ok(VersionRating {
                    prompt: self.get(row, 0)?,
                    version: version_from_db(self.get(row, 1)?),
                    mean: sum as f64 / count.max(1) as f64,
                    count: count.max(0) as u64,
                    positive: positive.max(0) as u64,
                    comments: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, MonitorError>>()?;

        for (prompt, version, comment) in self.latest_comments(since).await? {
            let rating = ratings
                .iter_mut()
                .find(|rating| rating.prompt == prompt && rating.version == version);
            if let Some(rating) = rating {
                rating.comments.push(comment);
            }
        }
        Ok(ratings)
    }

    /// The newest [`MAX_VERSION_COMMENTS`] non-empty comments of each
    /// prompt version since `since`, newest first within a version.
    async fn latest_comments(
        &self,
        since: i64,
    ) -> Result<Vec<(String, u32, String)>, MonitorError> {
        // ROW_NUMBER needs SQLite 3.25 or later; every PostgreSQL has it.
        let p = self.placeholders(2);
        let sql = format!(
            "SELECT prompt, prompt_version, comment FROM (\
               SELECT prompt, prompt_version, comment, ROW_NUMBER() OVER (\
                 PARTITION BY prompt, prompt_version ORDER BY created_at_ms DESC, id DESC\
               ) AS position \
               FROM monitor_feedback \
               WHERE created_at_ms >= {} AND prompt IS NOT NULL \
                 AND prompt_version IS NOT NULL AND comment IS NOT NULL AND comment <> ''\
             ) AS ranked WHERE position <= {} ORDER BY prompt, prompt_version, position",
            p[0], p[1]
        );
        let rows = sqlx::query(&sql)
            .bind(since)
            .bind(MAX_VERSION_COMMENTS as i64)
            .fetch_all(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        rows.iter()
            .map(|row| {
                Ok((
                    self.get(row, 0)?,
                    version_from_db(self.get(row, 1)?),
                    self.get(row, 2)?,
                ))
            })
            .collect()
    }

    fn get<'r, T>(&self, row: &'r AnyRow, index: usize) -> Result<T, MonitorError>
    where
        T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        row.try_get(index)
            .map_err(|source| MonitorError::Store(self.store.error(source)))
    }

    fn feedback_from_row(&self, row: &AnyRow) -> Result<Feedback, MonitorError> {
        let rating: i64 = self.get(row, 1)?;
        let version: Option<i64> = self.get(row, 4)?;
        let created_at_ms: i64 = self.get(row, 5)?;
        Ok(Feedback {
            request_id: self.get(row, 0)?,
            rating: u8::try_from(rating).unwrap_or(0),
            comment: self.get(row, 2)?,
            prompt: self.get(row, 3)?,
            prompt_version: version.map(version_from_db),
            created_at_ms: u64::try_from(created_at_ms).unwrap_or(0),
        })
    }
}

fn version_from_db(version: i64) -> u32 {
    u32::try_from(version).unwrap_or(0)
}

#[async_trait]
impl FeedbackSink for FeedbackStore {
    async fn submit(&self, mut feedback: Feedback) -> Result<Feedback, MonitorError> {
        feedback.validate()?;
        match self.request_prompt(&feedback.request_id).await? {
            Some(Some((prompt, version))) => {
                feedback.prompt = Some(prompt);
                feedback.prompt_version = Some(version);
            }
            Some(None) => {}
            None if self.require_known_request => {
                return Err(MonitorError::Invalid {
                    field: "request_id",
                    value: feedback.request_id,
                    fix: "give the id of a request this gateway served (from the x-llmops-request-id header)".into(),
                });
            }
            None => {}
        }
        if let (Some(redactor), Some(comment)) = (&self.redactor, &feedback.comment) {
            feedback.comment = Some(redactor(comment));
        }
        if feedback.created_at_ms == 0 {
            feedback.created_at_ms = u64::try_from(now_ms()).unwrap_or(0);
        }

        let p = self.placeholders(6);
        let sql = format!(
            "INSERT INTO monitor_feedback \
             (request_id, rating, comment, prompt, prompt_version, created_at_ms) \
             VALUES ({}, {}, {}, {}, {}, {})",
            p[0], p[1], p[2], p[3], p[4], p[5]
        );
        sqlx::query(&sql)
            .bind(&feedback.request_id)
            .bind(i64::from(feedback.rating))
            .bind(feedback.comment.clone())
            .bind(feedback.prompt.clone())
            .bind(feedback.prompt_version.map(i64::from))
            .bind(i64::try_from(feedback.created_at_ms).unwrap_or(i64::MAX))
            .execute(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        tracing::debug!(request_id = ?feedback.request_id, rating = feedback.rating, "feedback stored");
        Ok(feedback)
    }
}
