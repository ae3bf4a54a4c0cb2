//! Actions run when a report reaches a severity.
//!
//! - [`Webhook`] posts a summary of the report as JSON.
//! - [`JsonlExport`] writes the inputs of drifted topics as a JSON Lines
//!   dataset, for prompt re-tuning or fine-tuning.
//! - [`ScheduleEvaluation`] hands an [`EvaluationRequest`] to an
//!   [`EvaluationScheduler`] that the application implements.
//! - With the feature `compliance`, `OpenReview` opens a human-oversight
//!   item in the `llmops-compliance` review queue.

mod evaluation;
mod export;
#[cfg(feature = "compliance")]
mod review;
mod webhook;

pub use evaluation::{EvaluationRequest, EvaluationScheduler, ScheduleEvaluation};
pub use export::JsonlExport;
#[cfg(feature = "compliance")]
pub use review::OpenReview;
pub use webhook::Webhook;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::check::CheckOutcome;
use crate::error::Result;
use crate::policy::Severity;

/// Something to do about a drift report.
#[async_trait]
pub trait Action: Send + Sync {
    /// Returns a short name for logs and records, such as `webhook`.
    fn name(&self) -> &str;

    /// Runs the action for `outcome` and describes what it did.
    ///
    /// # Errors
    ///
    /// Returns an error when the action could not be completed.
    async fn run(&self, outcome: &CheckOutcome) -> Result<String>;
}

/// What one action did, or why it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// [`Action::name`].
    pub action: String,
    /// Whether it completed.
    pub ok: bool,
    /// Its description, or the error message.
    pub detail: String,
}

/// Actions with the severity at which each one runs.
#[derive(Default)]
pub struct Actions {
    triggers: Vec<(Severity, Box<dyn Action>)>,
}

impl std::fmt::Debug for Actions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<(Severity, &str)> =
            self.triggers.iter().map(|(s, a)| (*s, a.name())).collect();
        f.debug_struct("Actions").field("triggers", &names).finish()
    }
}

impl Actions {
    /// Creates an empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `action` for reports at `severity` or above. A trigger at
    /// [`Severity::None`] runs for every report.
    pub fn on(mut self, severity: Severity, action: impl Action + 'static) -> Self {
        self.triggers.push((severity, Box::new(action)));
        self
    }

    /// Runs every action whose severity the report reaches, in order. A
    /// failed action is logged and recorded; the rest still run.
    pub async fn run(&self, outcome: &CheckOutcome) -> Vec<ActionRecord> {
        let mut records = Vec::new();
        for (severity, action) in &self.triggers {
            if outcome.report.severity < *severity {
                continue;
            }
            let record = match action.run(outcome).await {
                Ok(detail) => ActionRecord {
                    action: action.name().to_string(),
                    ok: true,
                    detail,
                },
                Err(error) => {
                    tracing::error!(action = action.name(), %error, "drift action failed");
                    ActionRecord {
                        action: action.name().to_string(),
                        ok: false,
                        detail: error.to_string(),
                    }
                }
            };
            records.push(record);
        }
        records
    }
}
