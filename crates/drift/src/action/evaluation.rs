//! Scheduling an evaluation run through an application hook.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Action;
use crate::check::CheckOutcome;
use crate::error::Result;
use crate::policy::Severity;

/// What an evaluation run should look at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EvaluationRequest {
    /// Severity of the report that asked for it.
    pub severity: Severity,
    /// Labels of the baseline topics whose share at least doubled.
    pub grown_topics: Vec<String>,
    /// Number of inputs in new topics.
    pub new_topic_inputs: usize,
    /// Drifted inputs to evaluate on.
    pub inputs: Vec<String>,
}

/// Starts evaluation runs; implemented by the application, for example on
/// top of its evaluation harness or job queue.
#[async_trait]
pub trait EvaluationScheduler: Send + Sync {
    /// Schedules a run and returns its id.
    ///
    /// # Errors
    ///
    /// Returns an error when the run could not be scheduled.
    async fn schedule(&self, request: EvaluationRequest) -> Result<String>;
}

/// Action that schedules an evaluation of the drifted inputs.
#[derive(Debug, Clone)]
pub struct ScheduleEvaluation<S> {
    scheduler: S,
}

impl<S: EvaluationScheduler> ScheduleEvaluation<S> {
    /// Creates the action over `scheduler`.
    pub fn new(scheduler: S) -> Self {
        Self { scheduler }
    }
}

#[async_trait]
impl<S: EvaluationScheduler> Action for ScheduleEvaluation<S> {
    fn name(&self) -> &str {
        "schedule_evaluation"
    }

    async fn run(&self, outcome: &CheckOutcome) -> Result<String> {
        let grown_topics = outcome
            .report
            .topic_shares
            .iter()
            .filter(|share| share.topic.is_some())
            .filter(|share| {
                share.current_count > 0.0 && share.current_share >= 2.0 * share.reference_share
            })
            .map(|share| share.label.clone())
            .collect();
        let request = EvaluationRequest {
            severity: outcome.report.severity,
            grown_topics,
            new_topic_inputs: outcome
                .drifted_inputs
                .iter()
                .filter(|i| i.topic.is_none())
                .count(),
            inputs: outcome
                .drifted_inputs
                .iter()
                .map(|i| i.text.clone())
                .collect(),
        };
        let id = self.scheduler.schedule(request).await?;
        Ok(format!("scheduled evaluation {id}"))
    }
}
