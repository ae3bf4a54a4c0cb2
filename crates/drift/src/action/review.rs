//! Human-oversight items in the compliance review queue.

use async_trait::async_trait;
use llmops_compliance::{NewReview, ReviewQueue};

use super::Action;
use crate::check::CheckOutcome;
use crate::error::{DriftError, Result};

/// Opens a review item whose reason summarises the report, so a person
/// decides what to do about the drift.
#[derive(Debug, Clone)]
pub struct OpenReview {
    queue: ReviewQueue,
    subject: String,
    actor: String,
}

impl OpenReview {
    /// Creates the action; `subject` names what drifted (for example
    /// `drift:support-bot`) and `actor` is recorded in the audit log.
    pub fn new(queue: ReviewQueue, subject: impl Into<String>, actor: impl Into<String>) -> Self {
        Self {
            queue,
            subject: subject.into(),
            actor: actor.into(),
        }
    }
}

#[async_trait]
impl Action for OpenReview {
    fn name(&self) -> &str {
        "open_review"
    }

    async fn run(&self, outcome: &CheckOutcome) -> Result<String> {
        let report = &outcome.report;
        let flagged: Vec<String> = report
            .measures
            .iter()
            .filter(|m| m.severity == report.severity)
            .map(|m| m.measure.name())
            .collect();
        let reason = format!(
            "input drift ({}): {}; {} new topics, {} vanished",
            report.severity.as_str(),
            flagged.join(", "),
            report.new_topics.len(),
            report.vanished_topics.len()
        );
        let item = self
            .queue
            .enqueue(&NewReview::new(self.subject.clone(), reason), &self.actor)
            .await
            .map_err(|error| DriftError::Action {
                action: self.name().to_string(),
                message: error.to_string(),
            })?;
        Ok(format!("opened review item {}", item.id))
    }
}
