//! Score sinks: the destinations of online scores.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::score::Score;

/// A prompt version named in request metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PromptVersionRef {
    /// The prompt name in the registry.
    pub name: String,
    /// The version number, from 1.
    pub version: u32,
}

/// One metric's score of one sampled gateway request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnlineScore {
    /// The gateway's request id.
    pub request_id: String,
    /// The prompt version the request was rendered from, when its metadata
    /// named one.
    pub prompt: Option<PromptVersionRef>,
    /// The model that produced the completion: the upstream model, else
    /// the requested one.
    pub model: String,
    /// The metric name.
    pub metric: String,
    /// The score, possibly undetermined.
    pub score: Score,
}

/// Receives the scores of sampled requests, on the online evaluator's
/// worker tasks.
#[async_trait]
pub trait ScoreSink: Send + Sync {
    /// Stores one score.
    ///
    /// # Errors
    ///
    /// Any error is counted in
    /// [`OnlineStats::sink_errors`](crate::online::OnlineStats::sink_errors)
    /// and logged; the score is not retried.
    async fn record(&self, score: &OnlineScore) -> Result<()>;
}
