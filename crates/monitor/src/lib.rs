//! Real-time operations metrics for LLM traffic.
//!
//! The crate records every finished request under the OpenTelemetry GenAI
//! semantic-convention names, keeps sliding-window aggregates (one minute,
//! one hour, one day), evaluates alert rules over them and serves a live
//! dashboard.
//!
//! The dashboard reads one JSON document, a [`Snapshot`], from a
//! [`SnapshotSource`]. Panels whose data lives in other crates (evaluation
//! scores, drift reports, the oversight queue) arrive through the source
//! traits in [`source`], so this crate depends on none of them; a panel
//! without a source says so instead of showing zeros.
//!
//! # Features
//!
//! - `dashboard` (default): the [`dashboard`] module, the web page and its
//!   HTTP routes over axum.

#[cfg(feature = "dashboard")]
pub mod dashboard;
pub mod error;
pub mod feedback;
pub mod snapshot;
pub mod source;

pub use error::MonitorError;
pub use feedback::{Feedback, FeedbackSink, MAX_COMMENT_CHARS};
pub use snapshot::{
    AlertState, AlertStatus, Breakdown, BudgetStatus, CachePanel, CostAlternative, CostPanel,
    DriftMeasure, DriftSummary, FallbackPanel, FeedbackSummary, HallucinationRow, LatencyPanel,
    NamedCount, OversightItem, OversightSummary, Panel, Point, QualitySummary, ScoreRow, Snapshot,
    SnapshotSource, TopicShare, TrafficPanel, Window,
};
