//! Evaluation scores per prompt version for the llmops-monitor dashboard.

use async_trait::async_trait;
use llmops_monitor::source::QualitySource;
use llmops_monitor::{MonitorError, ScoreRow};
use llmops_store::now_ms;

use crate::registry::Registry;

#[async_trait]
impl QualitySource for Registry {
    async fn scores(&self, window_ms: u64) -> Result<Vec<ScoreRow>, MonitorError> {
        let span = i64::try_from(window_ms).unwrap_or(i64::MAX);
        let rows = self
            .score_summary(now_ms().saturating_sub(span))
            .await
            .map_err(|error| MonitorError::Source {
                panel: "quality",
                message: error.to_string(),
            })?;
        Ok(rows
            .into_iter()
            .map(|row| ScoreRow {
                prompt: row.prompt,
                version: row.version,
                metric: row.metric,
                mean: row.mean,
                count: row.count,
                feedback_mean: None,
            })
            .collect())
    }
}
