//! An approval gate: holds a response until a reviewer decides on it, or
//! until a deadline passes and the timeout policy applies.

use std::time::Duration;

use llmops_store::now_ms;
use serde_json::{Value, json};

use super::queue::ReviewQueue;
use super::state::{NewReview, ReviewItem, ReviewState};
use crate::error::{ComplianceError, Result};

/// What happens to a held response when nobody decides in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPolicy {
    /// Do not send it: the safe default for high-impact decisions.
    Withhold,
    /// Send it as it is; the expired review stays on record.
    Release,
}

/// The gate's verdict on a held response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GateOutcome {
    /// A reviewer approved it: send it.
    Approved,
    /// A reviewer changed it: send the note's replacement instead, such as
    /// `{"text": "..."}`.
    Edited {
        /// The decision's note.
        note: Option<Value>,
    },
    /// A reviewer rejected it: do not send it.
    Overridden {
        /// The decision's note.
        note: Option<Value>,
    },
    /// Nobody decided in time; the review item expired.
    TimedOut {
        /// Whether the policy lets the response go out.
        release: bool,
    },
}

impl GateOutcome {
    /// Whether the original response may be sent unchanged.
    pub fn sends_original(&self) -> bool {
        matches!(
            self,
            GateOutcome::Approved | GateOutcome::TimedOut { release: true }
        )
    }
}

/// Holds responses for human review.
///
/// [`ApprovalGate::hold`] puts an item in the review queue with a deadline
/// and waits, reading the item every poll interval, until a reviewer's
/// final decision (every required review, when a second one is needed) or
/// the deadline. An escalated item keeps waiting for the next reviewer.
#[derive(Debug, Clone)]
pub struct ApprovalGate {
    queue: ReviewQueue,
    timeout: Duration,
    poll_interval: Duration,
    on_timeout: TimeoutPolicy,
}

impl ApprovalGate {
    /// A gate that waits up to `timeout`, polling every second, and
    /// withholds the response when nobody decides.
    pub fn new(queue: ReviewQueue, timeout: Duration) -> Self {
        ApprovalGate {
            queue,
            timeout,
            poll_interval: Duration::from_secs(1),
            on_timeout: TimeoutPolicy::Withhold,
        }
    }

    /// Sets how often the item is read while waiting.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Sets what happens when the deadline passes.
    pub fn on_timeout(mut self, policy: TimeoutPolicy) -> Self {
        self.on_timeout = policy;
        self
    }

    /// Puts `review` in the queue with the gate's deadline and waits for
    /// the outcome; returns the item as last read with it.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidReview`] for a timeout too long to hold
    /// as a deadline, the errors of [`ReviewQueue::enqueue`], and
    /// [`ComplianceError::Store`] while waiting.
    pub async fn hold(&self, review: &NewReview, actor: &str) -> Result<(ReviewItem, GateOutcome)> {
        let timeout_ms = i64::try_from(self.timeout.as_millis()).map_err(|_| {
            ComplianceError::InvalidReview {
                reason: format!(
                    "a gate timeout of {:?} is too long; use hours, not centuries",
                    self.timeout
                ),
            }
        })?;
        let deadline = now_ms().saturating_add(timeout_ms);
        let review = NewReview {
            expires_at_ms: Some(deadline),
            ..review.clone()
        };
        let item = self.queue.enqueue(&review, actor).await?;
        tracing::info!(review_id = item.id, "response held for review");
        loop {
            let item = self.queue.get(item.id).await?;
            if let Some(outcome) = decided(&item) {
                return Ok((item, outcome));
            }
            if matches!(item.state, ReviewState::Expired | ReviewState::Closed) {
                return Ok((item, self.timed_out()));
            }
            let now = now_ms();
            if now > deadline {
                let expired = self
                    .queue
                    .change_at(item.id, ReviewState::Expired, actor, json!({}), now, |_| {
                        Ok(())
                    })
                    .await;
                return match expired {
                    Ok(item) => Ok((item, self.timed_out())),
                    // A reviewer decided at the last moment.
                    Err(ComplianceError::InvalidTransition { .. }) => {
                        let item = self.queue.get(item.id).await?;
                        let outcome = decided(&item).unwrap_or_else(|| self.timed_out());
                        Ok((item, outcome))
                    }
                    Err(error) => Err(error),
                };
            }
            let left = Duration::from_millis(u64::try_from(deadline - now).unwrap_or(0));
            tokio::time::sleep(self.poll_interval.min(left + Duration::from_millis(1))).await;
        }
    }

    fn timed_out(&self) -> GateOutcome {
        GateOutcome::TimedOut {
            release: self.on_timeout == TimeoutPolicy::Release,
        }
    }
}

/// The outcome once every required review is in, or `None` while waiting.
fn decided(item: &ReviewItem) -> Option<GateOutcome> {
    let complete = item.decisions >= item.reviews_required;
    let outcome = match item.state {
        ReviewState::Approved if complete => GateOutcome::Approved,
        ReviewState::Edited if complete => GateOutcome::Edited {
            note: item.last_note.clone(),
        },
        // One reviewer's rejection is enough to stop the response.
        ReviewState::Overridden => GateOutcome::Overridden {
            note: item.last_note.clone(),
        },
        _ => return None,
    };
    Some(outcome)
}
