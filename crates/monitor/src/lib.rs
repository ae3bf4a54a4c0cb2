//! Real-time operations metrics for LLM traffic.
//!
//! A [`Monitor`] records every finished request ([`RequestObservation`])
//! and every response score ([`ScoreObservation`]) under the OpenTelemetry
//! GenAI semantic-convention names. It keeps sliding-window aggregates
//! over one minute, one hour and one day: rates, error ratio, latency
//! percentiles from a DDSketch, tokens and spend by model, team, key,
//! route and prompt version. On top of them it evaluates [`AlertRule`]s
//! with hysteresis, tracks [`Budget`]s, prices the traffic on other
//! models, and renders the Prometheus text format.
//!
//! The dashboard reads one JSON document, a [`Snapshot`], from a
//! [`SnapshotSource`], which `Monitor` implements. Panels whose data lives
//! in other crates (evaluation scores, drift reports, the oversight queue)
//! arrive through the source traits in [`source`], so this crate depends
//! on none of them; a panel without a source says so instead of showing
//! zeros. User feedback is stored by [`FeedbackStore`] on llmops-store
//! (SQLite or PostgreSQL).
//!
//! Memory stays bounded: each label dimension keeps at most
//! [`DEFAULT_MAX_LABEL_VALUES`] distinct values (configurable) and counts
//! the rest under `other`, and each window is a ring of
//! [`BUCKETS_PER_WINDOW`] buckets.
//!
//! # Example
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use llmops_monitor::{
//!     Monitor, Outcome, RequestObservation, SnapshotSource, Window,
//! };
//!
//! let monitor = Monitor::new();
//! monitor.record_request(&RequestObservation {
//!     model: "gpt-4o-mini",
//!     provider: "openai",
//!     duration_ms: 420.0,
//!     input_tokens: 120,
//!     output_tokens: 30,
//!     cost_usd: 0.000_036,
//!     ..RequestObservation::default()
//! });
//! monitor.record_request(&RequestObservation {
//!     model: "gpt-4o-mini",
//!     provider: "openai",
//!     outcome: Outcome::Error("rate_limited"),
//!     duration_ms: 15.0,
//!     ..RequestObservation::default()
//! });
//!
//! let snapshot = monitor.snapshot(Window::Minute).await;
//! assert_eq!(snapshot.traffic.requests, 2);
//! assert_eq!(snapshot.traffic.error_ratio, Some(0.5));
//! assert!(monitor.render_prometheus().contains("gen_ai_client_operation_duration_seconds_bucket"));
//! # });
//! ```
//!
//! # Features
//!
//! - `dashboard` (default): the [`dashboard`] module, the web page and its
//!   HTTP routes over axum.
//! - `gateway`: `RecordSink for Monitor` and [`MonitorHook`], which feed
//!   the monitor from an llmops-gateway.
//! - `otlp`: the [`otlp`] module, which pushes the GenAI metrics and
//!   llmops' counters to an OpenTelemetry collector over OTLP/HTTP.

mod aggregate;
pub mod alert;
mod alerting;
mod budgets;
mod build_snapshot;
mod calendar;
pub mod clock;
mod cost;
#[cfg(feature = "dashboard")]
pub mod dashboard;
pub mod error;
pub mod feedback;
mod feedback_store;
#[cfg(feature = "gateway")]
mod gateway;
mod labels;
mod monitor;
mod observation;
#[cfg(feature = "otlp")]
pub mod otlp;
mod prometheus;
mod record;
mod request_buffer;
pub mod schema;
mod sketch;
pub mod snapshot;
pub mod source;
mod totals;
mod window;

pub use alert::{AlertEvent, AlertMetric, AlertRule, LogNotifier, Notifier, WebhookNotifier};
pub use clock::{Clock, ManualClock, SystemClock};
pub use cost::{Budget, BudgetPeriod, BudgetScope};
pub use error::MonitorError;
pub use feedback::{Feedback, FeedbackSink, MAX_COMMENT_CHARS, MAX_REQUEST_ID_CHARS};
pub use feedback_store::{CommentRedactor, FeedbackStore, MAX_VERSION_COMMENTS, VersionRating};
#[cfg(feature = "gateway")]
pub use gateway::{
    MonitorHook, PROMPT_METADATA_KEY, PROMPT_VERSION_METADATA_KEY, UNKNOWN_MODEL,
    prompt_from_metadata,
};
pub use labels::DEFAULT_MAX_LABEL_VALUES;
pub use monitor::{
    DEFAULT_GROUNDEDNESS_METRIC, DEFAULT_GROUNDEDNESS_THRESHOLD, Dimension, Monitor, MonitorBuilder,
};
pub use observation::{
    CLIENT_ERROR_CLASSES, Outcome, PromptRef, RequestObservation, ScoreObservation,
    is_service_error,
};
pub use sketch::RELATIVE_ERROR;
pub use snapshot::{
    AlertState, AlertStatus, Breakdown, BudgetStatus, CachePanel, CostAlternative, CostPanel,
    DriftMeasure, DriftSummary, FallbackPanel, FeedbackSummary, HallucinationRow, LatencyPanel,
    NamedCount, OversightItem, OversightSummary, Panel, Point, QualitySummary, ScoreRow, Snapshot,
    SnapshotSource, TopicShare, TrafficPanel, VersionFeedback, Window,
};
pub use source::{DriftSource, OversightSource, QualitySource};
pub use window::BUCKETS_PER_WINDOW;

/// Compiles and runs the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
