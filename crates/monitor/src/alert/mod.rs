//! Alert rules on the window aggregates, with hysteresis, and the
//! notifiers that deliver their transitions.

mod engine;
mod notifier;
mod rule;
mod webhook;

pub(crate) use engine::RuleState;
pub use notifier::{AlertEvent, LogNotifier, Notifier};
pub use rule::{AlertMetric, AlertRule};
pub use webhook::WebhookNotifier;
