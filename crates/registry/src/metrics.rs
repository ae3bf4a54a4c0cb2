//! Evaluation scores and aggregate metrics per version or label over time windows.

use std::collections::BTreeMap;

use llmops_store::now_ms;
use rust_decimal::Decimal;
use sqlx::Row as _;

use crate::error::{RegistryError, Result};
use crate::registry::{Registry, text_column, version_column};
use crate::version::PromptVersion;

/// An evaluation score attached to a version, and to one call when `call_id` is set.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Score {
    /// The prompt name.
    pub prompt: String,
    /// The version scored.
    pub version: u32,
    /// The label the version was served through, if any.
    pub label: Option<String>,
    /// The scored call, if the score belongs to one.
    pub call_id: Option<String>,
    /// The metric name, such as `faithfulness`.
    pub metric: String,
    /// The score; must be finite.
    pub value: f64,
    /// When it was measured, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

impl Score {
    /// Creates a score of `version` on `metric`, timestamped now.
    pub fn new(version: &PromptVersion, metric: impl Into<String>, value: f64) -> Self {
        Score {
            prompt: version.name.clone(),
            version: version.version,
            label: None,
            call_id: None,
            metric: metric.into(),
            value,
            at_ms: now_ms(),
        }
    }

    /// Sets the label the version was served through.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the scored call.
    pub fn call_id(mut self, call_id: impl Into<String>) -> Self {
        self.call_id = Some(call_id.into());
        self
    }

    /// Sets the measurement time.
    pub fn at_ms(mut self, at_ms: i64) -> Self {
        self.at_ms = at_ms;
        self
    }
}

/// The calls an aggregate covers: one version, or whatever a label served.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricsScope {
    /// Calls logged with this version.
    Version(u32),
    /// Calls logged as served through this label, whatever the version.
    Label(String),
}

/// A time range cut into windows of equal length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindows {
    /// Start, inclusive, in milliseconds since the Unix epoch.
    pub from_ms: i64,
    /// End, exclusive.
    pub to_ms: i64,
    /// Window length in milliseconds; must be positive.
    pub window_ms: i64,
}

/// Aggregates of the calls and scores in one window.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WindowMetrics {
    /// Window start in milliseconds since the Unix epoch.
    pub start_ms: i64,
    /// Calls logged.
    pub calls: u64,
    /// Mean latency in milliseconds.
    pub mean_latency_ms: f64,
    /// Maximum latency in milliseconds.
    pub max_latency_ms: u64,
    /// Total prompt tokens.
    pub prompt_tokens: u64,
    /// Total completion tokens.
    pub completion_tokens: u64,
    /// Total cost in US dollars.
    pub cost_usd: Decimal,
    /// Mean and count of each score metric, by metric name.
    pub scores: BTreeMap<String, (f64, u64)>,
}

impl Registry {
    /// Stores an evaluation score.
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidRecord`] for a non-finite value, and [`RegistryError::Store`].
    pub async fn record_score(&self, score: &Score) -> Result<()> {
        if !score.value.is_finite() {
            return Err(RegistryError::InvalidRecord {
                name: score.prompt.clone(),
                reason: format!("score `{}` is not a finite number", score.metric),
            });
        }
        sqlx::query(
            "INSERT INTO registry_scores (prompt, version, label, call_id, metric, value, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(score.prompt.as_str())
        .bind(i64::from(score.version))
        .bind(score.label.as_deref())
        .bind(score.call_id.as_deref())
        .bind(score.metric.as_str())
        .bind(score.value)
        .bind(score.at_ms)
        .execute(self.store().pool())
        .await
        .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// Aggregates calls and scores of `prompt` in `scope`, one entry per
    /// window that has calls or scores, oldest first.
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidRecord`] for a non-positive window, and [`RegistryError::Store`].
    pub async fn metrics(
        &self,
        prompt: &str,
        scope: &MetricsScope,
        windows: TimeWindows,
    ) -> Result<Vec<WindowMetrics>> {
        if windows.window_ms <= 0 {
            return Err(RegistryError::InvalidRecord {
                name: prompt.to_owned(),
                reason: format!("window_ms must be positive, got {}", windows.window_ms),
            });
        }
        let (filter, key) = match scope {
            MetricsScope::Version(version) => {
                ("version = $2", ScopeKey::Version(i64::from(*version)))
            }
            MetricsScope::Label(label) => ("label = $2", ScopeKey::Label(label.clone())),
        };
        let calls_sql = format!(
            "SELECT (at_ms - $3) / $5 AS bucket, COUNT(*), CAST(SUM(latency_ms) AS BIGINT), MAX(latency_ms),
                    CAST(SUM(prompt_tokens) AS BIGINT), CAST(SUM(completion_tokens) AS BIGINT), CAST(SUM(cost_nano_usd) AS BIGINT)
             FROM registry_calls WHERE prompt = $1 AND {filter} AND at_ms >= $3 AND at_ms < $4
             GROUP BY bucket ORDER BY bucket"
        );
        let scores_sql = format!(
            "SELECT (at_ms - $3) / $5 AS bucket, metric, CAST(AVG(value) AS DOUBLE PRECISION), COUNT(*)
             FROM registry_scores WHERE prompt = $1 AND {filter} AND at_ms >= $3 AND at_ms < $4
             GROUP BY bucket, metric ORDER BY bucket, metric"
        );
        let mut windows_by_bucket: BTreeMap<i64, WindowMetrics> = BTreeMap::new();
        let empty = |bucket: i64| WindowMetrics {
            start_ms: windows.from_ms + bucket * windows.window_ms,
            calls: 0,
            mean_latency_ms: 0.0,
            max_latency_ms: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_usd: Decimal::ZERO,
            scores: BTreeMap::new(),
        };

        let call_rows = key
            .bind(sqlx::query(&calls_sql).bind(prompt))
            .bind(windows.from_ms)
            .bind(windows.to_ms)
            .bind(windows.window_ms)
            .fetch_all(self.store().pool())
            .await
            .map_err(|e| self.db(e))?;
        for row in &call_rows {
            let get = |index: usize| -> Result<i64> {
                row.try_get::<i64, _>(index).map_err(|e| self.db(e))
            };
            let bucket = get(0)?;
            let calls = get(1)?;
            let window = windows_by_bucket
                .entry(bucket)
                .or_insert_with(|| empty(bucket));
            window.calls = calls as u64;
            window.mean_latency_ms = get(2)? as f64 / calls.max(1) as f64;
            window.max_latency_ms = get(3)? as u64;
            window.prompt_tokens = get(4)? as u64;
            window.completion_tokens = get(5)? as u64;
            window.cost_usd = Decimal::new(get(6)?, 9);
        }

        let score_rows = key
            .bind(sqlx::query(&scores_sql).bind(prompt))
            .bind(windows.from_ms)
            .bind(windows.to_ms)
            .bind(windows.window_ms)
            .fetch_all(self.store().pool())
            .await
            .map_err(|e| self.db(e))?;
        for row in &score_rows {
            let bucket: i64 = row.try_get(0).map_err(|e| self.db(e))?;
            let metric = text_column(row, 1)?;
            let mean: f64 = row.try_get(2).map_err(|e| self.db(e))?;
            let count: i64 = row.try_get(3).map_err(|e| self.db(e))?;
            let window = windows_by_bucket
                .entry(bucket)
                .or_insert_with(|| empty(bucket));
            window.scores.insert(metric, (mean, count as u64));
        }
        Ok(windows_by_bucket.into_values().collect())
    }
}

enum ScopeKey {
    Version(i64),
    Label(String),
}

impl ScopeKey {
    fn bind<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        match self {
            ScopeKey::Version(version) => query.bind(*version),
            ScopeKey::Label(label) => query.bind(label.clone()),
        }
    }
}

/// The mean of one score metric over one prompt version.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSummary {
    /// The prompt.
    pub prompt: String,
    /// The version.
    pub version: u32,
    /// The metric.
    pub metric: String,
    /// The mean value.
    pub mean: f64,
    /// How many scores the mean covers.
    pub count: u64,
}

impl Registry {
    /// Averages every score recorded at or after `since_ms` by prompt,
    /// version and metric, ordered by prompt, version and metric.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Store`] when the database fails.
    pub async fn score_summary(&self, since_ms: i64) -> Result<Vec<ScoreSummary>> {
        let rows = sqlx::query(
            "SELECT prompt, version, metric, CAST(AVG(value) AS DOUBLE PRECISION), COUNT(*)
             FROM registry_scores WHERE at_ms >= $1
             GROUP BY prompt, version, metric ORDER BY prompt, version, metric",
        )
        .bind(since_ms)
        .fetch_all(self.store().pool())
        .await
        .map_err(|e| self.db(e))?;
        rows.iter()
            .map(|row| {
                let count: i64 = row.try_get(4).map_err(|e| self.db(e))?;
                Ok(ScoreSummary {
                    prompt: text_column(row, 0)?,
                    version: version_column(row, 1)?,
                    metric: text_column(row, 2)?,
                    mean: row.try_get(3).map_err(|e| self.db(e))?,
                    count: u64::try_from(count).unwrap_or(0),
                })
            })
            .collect()
    }
}
