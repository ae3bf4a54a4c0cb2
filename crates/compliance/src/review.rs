//! The human-oversight review queue.
//!
//! An item moves `queued → assigned → in_review`, then a reviewer decides
//! `approved`, `edited`, `overridden` or `escalated`. An escalated item is
//! assigned again, to another reviewer. A decided item closes, or when it
//! needs a second review, goes to a second, different reviewer first. Items
//! past their deadline can be expired from any open state. Every state
//! change is appended to the audit log in the same transaction as the
//! change itself.

use std::fmt;

use llmops_store::{Dialect, StoreTransaction, now_ms};
use serde_json::{Value, json};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::error::{ComplianceError, Result};
use crate::event::{EventKind, NewEvent};
use crate::log::AuditLog;

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
    const ALL: [ReviewState; 9] = [
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

    fn parse(name: &str) -> Option<ReviewState> {
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
    fn state(self) -> ReviewState {
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

    fn check_transition(&self, to: ReviewState) -> Result<()> {
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

    fn check_deadline(&self, now_ms: i64) -> Result<()> {
        match self.expires_at_ms {
            Some(deadline) if now_ms > deadline => Err(ComplianceError::ReviewRejected {
                id: self.id,
                reason: format!("the deadline {deadline} ms passed; expire the item instead"),
            }),
            _ => Ok(()),
        }
    }

    fn check_assignee(&self, reviewer: &str) -> Result<()> {
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

/// The review queue, stored with the audit log it records to.
#[derive(Debug, Clone)]
pub struct ReviewQueue {
    log: AuditLog,
}

const ITEM_COLUMNS: &str = "id, subject, reason, state, reviews_required, decisions, assignee, first_reviewer, expires_at_ms";

impl ReviewQueue {
    /// Creates the queue on the log's store; [`AuditLog::open`] created its table.
    pub fn new(log: AuditLog) -> Self {
        ReviewQueue { log }
    }

    /// Puts an item in the queue.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::ReviewRejected`] when `reviews_required` is not 1
    /// or 2, and [`ComplianceError::Store`] when the database fails.
    pub async fn enqueue(&self, review: &NewReview, actor: &str) -> Result<ReviewItem> {
        if !(1..=2).contains(&review.reviews_required) {
            return Err(ComplianceError::ReviewRejected {
                id: 0,
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
        self.log.append_in(&mut transaction, &[event]).await?;
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
    async fn change_at<F>(
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

        sqlx::query(
            "UPDATE compliance_reviews SET state = $1, decisions = $2, assignee = $3,
                 first_reviewer = $4, updated_at_ms = $5 WHERE id = $6",
        )
        .bind(to.as_str())
        .bind(i64::from(item.decisions))
        .bind(item.assignee.clone())
        .bind(item.first_reviewer.clone())
        .bind(now)
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
        self.log.append_in(&mut transaction, &[event]).await?;
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
    })
}

fn corrupt(id: i64, column: &'static str, reason: String) -> ComplianceError {
    ComplianceError::CorruptRow {
        seq: u64::try_from(id).unwrap_or(0),
        column,
        reason: format!("review item: {reason}"),
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
