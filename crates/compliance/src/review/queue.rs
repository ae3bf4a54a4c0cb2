//! The stored review queue: each change in one transaction with its audit entry.

use llmops_store::{Dialect, StoreTransaction, now_ms};
use serde_json::{Value, json};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::state::{Decision, NewReview, ReviewItem, ReviewState};
use crate::error::{ComplianceError, Result};
use crate::event::{EventKind, NewEvent};
use crate::log::AuditLog;

/// The queue at a glance, from [`ReviewQueue::summary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSummary {
    /// Items waiting for a decision: queued, assigned, in review or
    /// escalated.
    pub waiting: u64,
    /// When the oldest waiting item was queued, in milliseconds since the
    /// Unix epoch.
    pub oldest_waiting_ms: Option<i64>,
    /// The newest items in any state, newest first.
    pub recent: Vec<ReviewItem>,
}

/// The review queue, stored with the audit log it records to.
#[derive(Debug, Clone)]
pub struct ReviewQueue {
    log: AuditLog,
}

const ITEM_COLUMNS: &str = "id, subject, reason, state, reviews_required, decisions, assignee, first_reviewer, expires_at_ms, last_decision, created_at_ms";

impl ReviewQueue {
    /// Creates the queue on the log's store; [`AuditLog::open`] created its table.
    pub fn new(log: AuditLog) -> Self {
        ReviewQueue { log }
    }

    /// Puts an item in the queue.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidReview`] when `reviews_required` is not 1
    /// or 2, and [`ComplianceError::Store`] when the database fails.
    pub async fn enqueue(&self, review: &NewReview, actor: &str) -> Result<ReviewItem> {
        if !(1..=2).contains(&review.reviews_required) {
            return Err(ComplianceError::InvalidReview {
                reason: format!(
                    "reviews_required is {}; use 1, or 2 for a second review",
                    review.reviews_required
                ),
            });
        }

        let store = self.log.store();
        let mut transaction = store.begin().await?;
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO compliance_reviews (subject, reason, state, reviews_required, decisions,
                 created_at_ms, updated_at_ms, expires_at_ms)
             VALUES ($1, $2, 'queued', $3, 0, $4, $4, $5) RETURNING id",
        )
        .bind(&review.subject)
        .bind(&review.reason)
        .bind(i64::from(review.reviews_required))
        .bind(now)
        .bind(review.expires_at_ms)
        .fetch_one(&mut *transaction)
        .await
        .map_err(|source| store.error(source))?;

        let id: i64 = row.try_get(0).map_err(|source| store.error(source))?;
        let event = NewEvent::new(
            EventKind::Custom("oversight_enqueued".to_owned()),
            actor,
            format!("review:{id}"),
        )
        .payload(
            json!({"review_subject": review.subject, "reason": review.reason,
            "reviews_required": review.reviews_required}),
        );
        self.log
            .append_trusted_in(&mut transaction, &[event])
            .await?;
        let item = self.load(&mut transaction, id).await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        Ok(item)
    }

    /// Returns the item `id`.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::ReviewNotFound`] when there is none.
    pub async fn get(&self, id: i64) -> Result<ReviewItem> {
        let store = self.log.store();
        let row = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM compliance_reviews WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        match row {
            Some(row) => decode_item(&row),
            None => Err(ComplianceError::ReviewNotFound { id }),
        }
    }

    /// Returns the items, oldest first: every item, or those in `state`.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::Store`] when the database fails.
    pub async fn list(&self, state: Option<ReviewState>) -> Result<Vec<ReviewItem>> {
        let store = self.log.store();
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM compliance_reviews WHERE ($1 = '' OR state = $1) ORDER BY id"
        ))
        .bind(state.map_or("", ReviewState::as_str))
        .fetch_all(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        rows.iter().map(decode_item).collect()
    }

    /// Returns how many items wait for a decision, when the oldest of them
    /// was queued, and the `recent` newest items in any state, newest
    /// first, without reading the whole queue.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::Store`] when the database fails.
    pub async fn summary(&self, recent: usize) -> Result<QueueSummary> {
        let store = self.log.store();
        let waiting = ReviewState::WAITING.map(ReviewState::as_str);
        let row = sqlx::query(
            "SELECT COUNT(*), MIN(created_at_ms) FROM compliance_reviews \
             WHERE state IN ($1, $2, $3, $4)",
        )
        .bind(waiting[0])
        .bind(waiting[1])
        .bind(waiting[2])
        .bind(waiting[3])
        .fetch_one(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        let waiting: i64 = row.try_get(0).map_err(|source| store.error(source))?;
        let oldest_waiting_ms: Option<i64> =
            row.try_get(1).map_err(|source| store.error(source))?;
        let limit = i64::try_from(recent).unwrap_or(i64::MAX);
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM compliance_reviews ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        Ok(QueueSummary {
            waiting: u64::try_from(waiting).unwrap_or(0),
            oldest_waiting_ms,
            recent: rows.iter().map(decode_item).collect::<Result<_>>()?,
        })
    }

    /// Gives the item to `reviewer`: from the queue, after an escalation, or
    /// for a second review (then `reviewer` must differ from the first).
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidTransition`] from any other state and
    /// [`ComplianceError::ReviewRejected`] for the first reviewer on a
    /// second review or a passed deadline.
    pub async fn assign(&self, id: i64, reviewer: &str, actor: &str) -> Result<ReviewItem> {
        self.change(id, ReviewState::Assigned, actor, json!({"reviewer": reviewer}), |item| {
            if item.state.is_final_decision() && item.first_reviewer.as_deref() == Some(reviewer) {
                return Err(ComplianceError::ReviewRejected {
                    id: item.id,
                    reason: format!("`{reviewer}` made the first decision; assign the second review to someone else"),
                });
            }
            item.assignee = Some(reviewer.to_owned());
            Ok(())
        })
        .await
    }

    /// Puts an assigned item back in the queue.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidTransition`] unless the item is assigned.
    pub async fn release(&self, id: i64, actor: &str) -> Result<ReviewItem> {
        self.change(id, ReviewState::Queued, actor, json!({}), |item| {
            item.assignee = None;
            Ok(())
        })
        .await
    }

    /// Marks that the assigned `reviewer` started the review.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidTransition`] unless the item is assigned,
    /// and [`ComplianceError::ReviewRejected`] for another reviewer.
    pub async fn start(&self, id: i64, reviewer: &str) -> Result<ReviewItem> {
        self.change(id, ReviewState::InReview, reviewer, json!({}), |item| {
            item.check_assignee(reviewer)
        })
        .await
    }

    /// Records `reviewer`'s decision with a free JSON `note`.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidTransition`] unless the item is in review,
    /// and [`ComplianceError::ReviewRejected`] for another reviewer.
    pub async fn decide(
        &self,
        id: i64,
        reviewer: &str,
        decision: Decision,
        note: Value,
    ) -> Result<ReviewItem> {
        let to = decision.state();
        self.change(id, to, reviewer, json!({"note": note}), |item| {
            item.check_assignee(reviewer)?;
            if to.is_final_decision() {
                item.decisions += 1;
                if item.first_reviewer.is_none() {
                    item.first_reviewer = Some(reviewer.to_owned());
                }
            }
            Ok(())
        })
        .await
    }

    /// Closes a decided or expired item.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidTransition`] from any other state, or
    /// while a required second review is missing.
    pub async fn close(&self, id: i64, actor: &str) -> Result<ReviewItem> {
        self.change(id, ReviewState::Closed, actor, json!({}), |item| {
            item.assignee = None;
            Ok(())
        })
        .await
    }

    /// Expires every open item whose deadline is before `now_ms` and returns their ids.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::Store`] when the database fails.
    pub async fn expire_due(&self, now_ms: i64, actor: &str) -> Result<Vec<i64>> {
        let store = self.log.store();
        let rows = sqlx::query(
            "SELECT id FROM compliance_reviews
             WHERE expires_at_ms IS NOT NULL AND expires_at_ms < $1
               AND state IN ('queued', 'assigned', 'in_review', 'escalated')
             ORDER BY id",
        )
        .bind(now_ms)
        .fetch_all(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        let mut expired = Vec::new();
        for row in rows {
            let id: i64 = row.try_get(0).map_err(|source| store.error(source))?;
            let result = self
                .change_at(id, ReviewState::Expired, actor, json!({}), now_ms, |_| {
                    Ok(())
                })
                .await;
            match result {
                Ok(_) => expired.push(id),
                // Another caller moved the item first.
                Err(ComplianceError::InvalidTransition { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(expired)
    }

    async fn change<F>(
        &self,
        id: i64,
        to: ReviewState,
        actor: &str,
        details: Value,
        update: F,
    ) -> Result<ReviewItem>
    where
        F: FnOnce(&mut ReviewItem) -> Result<()>,
    {
        self.change_at(id, to, actor, details, now_ms(), update)
            .await
    }

    /// Moves item `id` to `to` after `update` checks and edits it, and
    /// appends the change to the audit log, all in one transaction.
    pub(super) async fn change_at<F>(
        &self,
        id: i64,
        to: ReviewState,
        actor: &str,
        details: Value,
        now: i64,
        update: F,
    ) -> Result<ReviewItem>
    where
        F: FnOnce(&mut ReviewItem) -> Result<()>,
    {
        let store = self.log.store();
        let mut transaction = store.begin().await?;
        let mut item = self.load(&mut transaction, id).await?;
        item.check_transition(to)?;
        if to != ReviewState::Expired && to != ReviewState::Closed {
            item.check_deadline(now)?;
        }
        let from = item.state;
        update(&mut item)?;
        item.state = to;
        if to.is_final_decision() || to == ReviewState::Escalated {
            item.last_note = details.get("note").cloned();
        }
        let last_note = item.last_note.as_ref().map(Value::to_string);

        sqlx::query(
            "UPDATE compliance_reviews SET state = $1, decisions = $2, assignee = $3,
                 first_reviewer = $4, updated_at_ms = $5, last_decision = $6 WHERE id = $7",
        )
        .bind(to.as_str())
        .bind(i64::from(item.decisions))
        .bind(item.assignee.clone())
        .bind(item.first_reviewer.clone())
        .bind(now)
        .bind(last_note)
        .bind(id)
        .execute(&mut *transaction)
        .await
        .map_err(|source| store.error(source))?;

        let kind = match to {
            ReviewState::Approved
            | ReviewState::Edited
            | ReviewState::Overridden
            | ReviewState::Escalated => EventKind::OversightDecision,
            _ => EventKind::Custom("oversight_transition".to_owned()),
        };
        let event = NewEvent::new(kind, actor, format!("review:{id}")).payload(json!({
            "review_subject": item.subject,
            "from": from.as_str(),
            "to": to.as_str(),
            "decisions": item.decisions,
            "details": details,
        }));
        self.log
            .append_trusted_in(&mut transaction, &[event])
            .await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        tracing::info!(review_id = id, from = %from, to = %to, "review item moved");
        Ok(item)
    }

    async fn load(&self, transaction: &mut StoreTransaction, id: i64) -> Result<ReviewItem> {
        let store = self.log.store();
        let lock = if store.dialect() == Dialect::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM compliance_reviews WHERE id = $1{lock}"
        ))
        .bind(id)
        .fetch_optional(&mut **transaction)
        .await
        .map_err(|source| store.error(source))?;
        match row {
            Some(row) => decode_item(&row),
            None => Err(ComplianceError::ReviewNotFound { id }),
        }
    }
}

fn decode_item(row: &AnyRow) -> Result<ReviewItem> {
    let id: i64 = row
        .try_get(0)
        .map_err(|e| corrupt(0, "id", e.to_string()))?;
    let get_text = |index: usize, column: &'static str| -> Result<String> {
        row.try_get(index)
            .map_err(|e| corrupt(id, column, e.to_string()))
    };
    let get_count = |index: usize, column: &'static str| -> Result<u32> {
        let value: i64 = row
            .try_get(index)
            .map_err(|e| corrupt(id, column, e.to_string()))?;
        u32::try_from(value).map_err(|e| corrupt(id, column, e.to_string()))
    };
    let state_name = get_text(3, "state")?;
    let state = ReviewState::parse(&state_name)
        .ok_or_else(|| corrupt(id, "state", format!("unknown state `{state_name}`")))?;
    Ok(ReviewItem {
        id,
        subject: get_text(1, "subject")?,
        reason: get_text(2, "reason")?,
        state,
        reviews_required: get_count(4, "reviews_required")?,
        decisions: get_count(5, "decisions")?,
        assignee: row
            .try_get(6)
            .map_err(|e| corrupt(id, "assignee", e.to_string()))?,
        first_reviewer: row
            .try_get(7)
            .map_err(|e| corrupt(id, "first_reviewer", e.to_string()))?,
        expires_at_ms: row
            .try_get(8)
            .map_err(|e| corrupt(id, "expires_at_ms", e.to_string()))?,
        last_note: row
            .try_get::<Option<String>, _>(9)
            .map_err(|e| corrupt(id, "last_decision", e.to_string()))?
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| corrupt(id, "last_decision", e.to_string()))?,
        created_at_ms: row
            .try_get(10)
            .map_err(|e| corrupt(id, "created_at_ms", e.to_string()))?,
    })
}

fn corrupt(id: i64, column: &'static str, reason: String) -> ComplianceError {
    ComplianceError::CorruptRow {
        seq: u64::try_from(id).unwrap_or(0),
        column,
        reason: format!("review item: {reason}"),
    }
}
