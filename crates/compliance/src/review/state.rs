//! Review states, decisions and the transition rules, without storage.

use std::fmt;

use crate::error::{ComplianceError, Result};

/// The state of a review item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReviewState {
    /// Waiting for a reviewer.
    Queued,
    /// Given to a reviewer who has not started.
    Assigned,
    /// The reviewer is working on it.
    InReview,
    /// The reviewer accepted the output as it was.
    Approved,
    /// The reviewer changed the output.
    Edited,
    /// The reviewer replaced the system's decision with their own.
    Overridden,
    /// The reviewer passed it to someone with more authority.
    Escalated,
    /// The deadline passed before a decision.
    Expired,
    /// Finished; no further change.
    Closed,
}

impl ReviewState {
    pub(super) const ALL: [ReviewState; 9] = [
        ReviewState::Queued,
        ReviewState::Assigned,
        ReviewState::InReview,
        ReviewState::Approved,
        ReviewState::Edited,
        ReviewState::Overridden,
        ReviewState::Escalated,
        ReviewState::Expired,
        ReviewState::Closed,
    ];

    /// The states in which an item waits for a reviewer's decision.
    pub const WAITING: [ReviewState; 4] = [
        ReviewState::Queued,
        ReviewState::Assigned,
        ReviewState::InReview,
        ReviewState::Escalated,
    ];

    /// Returns the snake_case name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Queued => "queued",
            ReviewState::Assigned => "assigned",
            ReviewState::InReview => "in_review",
            ReviewState::Approved => "approved",
            ReviewState::Edited => "edited",
            ReviewState::Overridden => "overridden",
            ReviewState::Escalated => "escalated",
            ReviewState::Expired => "expired",
            ReviewState::Closed => "closed",
        }
    }

    pub(super) fn parse(name: &str) -> Option<ReviewState> {
        ReviewState::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
    }

    /// Returns true for the three decisions that end a review round.
    pub fn is_final_decision(self) -> bool {
        matches!(
            self,
            ReviewState::Approved | ReviewState::Edited | ReviewState::Overridden
        )
    }

    /// Returns the states this state may move to, ignoring per-item rules
    /// such as a pending second review.
    pub fn next_states(self) -> &'static [ReviewState] {
        use ReviewState::*;
        match self {
            Queued => &[Assigned, Expired],
            Assigned => &[InReview, Queued, Expired],
            InReview => &[Approved, Edited, Overridden, Escalated, Expired],
            Escalated => &[Assigned, Expired],
            Approved | Edited | Overridden => &[Closed, Assigned],
            Expired => &[Closed],
            Closed => &[],
        }
    }
}

impl fmt::Display for ReviewState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reviewer's decision on an item in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Accept the output as it was.
    Approve,
    /// Accept a changed output.
    Edit,
    /// Replace the system's decision.
    Override,
    /// Pass the item to someone with more authority.
    Escalate,
}

impl Decision {
    pub(super) fn state(self) -> ReviewState {
        match self {
            Decision::Approve => ReviewState::Approved,
            Decision::Edit => ReviewState::Edited,
            Decision::Override => ReviewState::Overridden,
            Decision::Escalate => ReviewState::Escalated,
        }
    }
}

/// An item to put in the review queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReview {
    /// The reviewed object, such as `request:42`.
    pub subject: String,
    /// The reason for review, such as the guardrail that flagged it.
    pub reason: String,
    /// 1, or 2 when a second, different reviewer must also decide.
    pub reviews_required: u32,
    /// The deadline in milliseconds since the Unix epoch, if any.
    pub expires_at_ms: Option<i64>,
}

impl NewReview {
    /// Creates an item that needs one review and has no deadline.
    pub fn new(subject: impl Into<String>, reason: impl Into<String>) -> Self {
        NewReview {
            subject: subject.into(),
            reason: reason.into(),
            reviews_required: 1,
            expires_at_ms: None,
        }
    }
}

/// A review item as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReviewItem {
    /// The item id.
    pub id: i64,
    /// The reviewed object.
    pub subject: String,
    /// The reason for review.
    pub reason: String,
    /// The current state.
    pub state: ReviewState,
    /// How many final decisions the item needs.
    pub reviews_required: u32,
    /// How many final decisions it has.
    pub decisions: u32,
    /// The current reviewer, if assigned.
    pub assignee: Option<String>,
    /// The reviewer of the first final decision.
    pub first_reviewer: Option<String>,
    /// The deadline in milliseconds since the Unix epoch, if any.
    pub expires_at_ms: Option<i64>,
    /// The note of the latest decision, such as the edited text.
    pub last_note: Option<serde_json::Value>,
    /// When the item was queued, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

impl ReviewItem {
    /// Returns the states this item may move to now.
    pub fn allowed_next(&self) -> Vec<ReviewState> {
        self.state
            .next_states()
            .iter()
            .copied()
            .filter(|next| match (self.state.is_final_decision(), next) {
                (true, ReviewState::Closed) => self.decisions >= self.reviews_required,
                (true, ReviewState::Assigned) => self.decisions < self.reviews_required,
                _ => true,
            })
            .collect()
    }

    pub(super) fn check_transition(&self, to: ReviewState) -> Result<()> {
        let allowed = self.allowed_next();
        if allowed.contains(&to) {
            return Ok(());
        }
        let names: Vec<&str> = allowed.iter().map(|state| state.as_str()).collect();
        Err(ComplianceError::InvalidTransition {
            id: self.id,
            from: self.state.to_string(),
            to: to.to_string(),
            allowed: if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            },
        })
    }

    pub(super) fn check_deadline(&self, now_ms: i64) -> Result<()> {
        match self.expires_at_ms {
            Some(deadline) if now_ms > deadline => Err(ComplianceError::ReviewRejected {
                id: self.id,
                reason: format!("the deadline {deadline} ms passed; expire the item instead"),
            }),
            _ => Ok(()),
        }
    }

    pub(super) fn check_assignee(&self, reviewer: &str) -> Result<()> {
        if self.assignee.as_deref() == Some(reviewer) {
            return Ok(());
        }
        Err(ComplianceError::ReviewRejected {
            id: self.id,
            reason: format!(
                "`{reviewer}` is not the assigned reviewer ({}); assign the item to them first",
                self.assignee.as_deref().unwrap_or("nobody")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(state: ReviewState, decisions: u32, required: u32) -> ReviewItem {
        ReviewItem {
            id: 7,
            subject: "request:1".into(),
            reason: "flagged".into(),
            state,
            reviews_required: required,
            decisions,
            assignee: None,
            first_reviewer: None,
            expires_at_ms: None,
            last_note: None,
            created_at_ms: 0,
        }
    }

    #[test]
    fn state_names_round_trip() {
        for state in ReviewState::ALL {
            assert_eq!(ReviewState::parse(state.as_str()), Some(state));
        }
        assert_eq!(ReviewState::parse("done"), None);
    }

    #[test]
    fn closed_allows_nothing() {
        let error = item(ReviewState::Closed, 1, 1)
            .check_transition(ReviewState::Assigned)
            .unwrap_err()
            .to_string();
        assert!(error.contains("from `closed` to `assigned`"), "{error}");
        assert!(error.contains("allowed next states: none"), "{error}");
    }

    #[test]
    fn error_lists_allowed_states() {
        let error = item(ReviewState::Queued, 0, 1)
            .check_transition(ReviewState::Approved)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("allowed next states: assigned, expired"),
            "{error}"
        );
    }

    #[test]
    fn second_review_gates_close() {
        let one_of_two = item(ReviewState::Approved, 1, 2);
        assert_eq!(one_of_two.allowed_next(), vec![ReviewState::Assigned]);
        let two_of_two = item(ReviewState::Edited, 2, 2);
        assert_eq!(two_of_two.allowed_next(), vec![ReviewState::Closed]);
        let one_of_one = item(ReviewState::Overridden, 1, 1);
        assert_eq!(one_of_one.allowed_next(), vec![ReviewState::Closed]);
    }

    #[test]
    fn every_state_reaches_closed() {
        for start in ReviewState::ALL {
            let mut seen = vec![start];
            let mut frontier = vec![start];
            while let Some(state) = frontier.pop() {
                for next in state.next_states() {
                    if !seen.contains(next) {
                        seen.push(*next);
                        frontier.push(*next);
                    }
                }
            }
            assert!(
                seen.contains(&ReviewState::Closed),
                "{start} cannot reach closed"
            );
        }
    }
}
