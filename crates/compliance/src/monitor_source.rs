//! The review queue as the oversight panel of the llmops-monitor
//! dashboard.

use async_trait::async_trait;
use llmops_monitor::source::OversightSource;
use llmops_monitor::{MonitorError, OversightItem, OversightSummary};
use llmops_store::now_ms;

use crate::review::ReviewQueue;

/// Items listed on the panel.
const RECENT_ITEMS: usize = 20;

#[async_trait]
impl OversightSource for ReviewQueue {
    async fn queue(&self) -> Result<OversightSummary, MonitorError> {
        let summary = self
            .summary(RECENT_ITEMS)
            .await
            .map_err(|error| MonitorError::Source {
                panel: "oversight",
                message: error.to_string(),
            })?;
        let now = now_ms();
        Ok(OversightSummary {
            pending: summary.waiting,
            oldest_pending_age_s: summary
                .oldest_waiting_ms
                .map(|queued| u64::try_from(now.saturating_sub(queued) / 1000).unwrap_or(0)),
            items: summary
                .recent
                .into_iter()
                .map(|item| OversightItem {
                    id: item.id.to_string(),
                    kind: item.subject,
                    status: item.state.as_str().to_owned(),
                    created_at_ms: u64::try_from(item.created_at_ms).unwrap_or(0),
                })
                .collect(),
        })
    }
}
