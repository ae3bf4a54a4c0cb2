//! Sources of the panels whose data other crates record. An application
//! (the `llmops` binary, for one) implements them over the evaluation
//! store, the drift store and the review queue, so this crate depends on
//! none of those crates.

use async_trait::async_trait;

use crate::error::MonitorError;
use crate::snapshot::{DriftSummary, OversightSummary, ScoreRow};

/// Evaluation scores per prompt version.
#[async_trait]
pub trait QualitySource: Send + Sync {
    /// Returns mean scores per prompt version and metric over the last
    /// `window_ms` milliseconds; empty when nothing was scored.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Source`] when the store cannot be read.
    async fn scores(&self, window_ms: u64) -> Result<Vec<ScoreRow>, MonitorError>;
}

/// The latest drift report.
#[async_trait]
pub trait DriftSource: Send + Sync {
    /// Returns the newest report, or none when no check has run.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Source`] when the store cannot be read.
    async fn latest(&self) -> Result<Option<DriftSummary>, MonitorError>;
}

/// The human-oversight review queue.
#[async_trait]
pub trait OversightSource: Send + Sync {
    /// Returns the queue's current state.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Source`] when the store cannot be read.
    async fn queue(&self) -> Result<OversightSummary, MonitorError>;
}
