//! The human-oversight review queue.
//!
//! An item moves `queued → assigned → in_review`, then a reviewer decides
//! `approved`, `edited`, `overridden` or `escalated`. An escalated item is
//! assigned again, to another reviewer. A decided item closes, or when it
//! needs a second review, goes to a second, different reviewer first. Items
//! past their deadline can be expired from any open state. Every state
//! change is appended to the audit log in the same transaction as the
//! change itself. [`ApprovalGate`] holds a response until a decision or
//! a deadline.

mod gate;
mod queue;
mod state;

pub use gate::{ApprovalGate, GateOutcome, TimeoutPolicy};
pub use queue::{QueueSummary, ReviewQueue};
pub use state::{Decision, NewReview, ReviewItem, ReviewState};
