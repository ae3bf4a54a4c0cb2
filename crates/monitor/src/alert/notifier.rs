//! Where alert transitions go.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::MonitorError;
use crate::snapshot::{AlertStatus, Window};

/// A rule that changed state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// The rule's name.
    pub rule: String,
    /// The watched metric, such as `error_ratio`.
    pub metric: String,
    /// The window of the aggregate.
    pub window: Window,
    /// The new state.
    pub status: AlertStatus,
    /// The value that caused the change.
    pub value: f64,
    /// The threshold it crossed: `fire_above` when firing, `clear_below`
    /// when clearing.
    pub threshold: f64,
    /// Unix time in milliseconds of the evaluation.
    pub at_ms: u64,
}

/// Delivers alert transitions. Called only when a rule changes state.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// A short name for logs, such as `webhook`.
    fn name(&self) -> &str;

    /// Delivers one transition.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Notify`] when delivery failed; the monitor logs it
    /// and goes on.
    async fn notify(&self, event: &AlertEvent) -> Result<(), MonitorError>;
}

/// Logs transitions through `tracing`: firing at WARN, clearing at INFO.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    fn name(&self) -> &str {
        "log"
    }

    async fn notify(&self, event: &AlertEvent) -> Result<(), MonitorError> {
        match event.status {
            AlertStatus::Firing => tracing::warn!(
                rule = %event.rule,
                metric = %event.metric,
                window = %event.window,
                value = event.value,
                threshold = event.threshold,
                "alert firing"
            ),
            AlertStatus::Ok => tracing::info!(
                rule = %event.rule,
                metric = %event.metric,
                window = %event.window,
                value = event.value,
                threshold = event.threshold,
                "alert cleared"
            ),
        }
        Ok(())
    }
}
