//! A score sink that attaches online scores to prompt versions in
//! llmops-registry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use llmops_registry::{Registry, Selector};

use crate::error::{EvalError, Result};
use crate::online::sink::{OnlineScore, ScoreSink};
use crate::score::Score;

/// Stores each determined score of a request that named a prompt version
/// with [`Registry::record_score`], keyed by the request id as `call_id`,
/// so per-version metrics and experiments see it.
///
/// Scores of requests without prompt metadata and undetermined scores have
/// no registry counterpart; they are skipped and counted.
pub struct RegistryScoreSink {
    registry: Arc<Registry>,
    skipped: AtomicU64,
}

impl std::fmt::Debug for RegistryScoreSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryScoreSink")
            .field("skipped", &self.skipped())
            .finish_non_exhaustive()
    }
}

impl RegistryScoreSink {
    /// Creates a sink writing to `registry`.
    pub fn new(registry: Arc<Registry>) -> Self {
        RegistryScoreSink {
            registry,
            skipped: AtomicU64::new(0),
        }
    }

    /// Returns how many scores were skipped: undetermined, or from
    /// requests without prompt metadata.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl ScoreSink for RegistryScoreSink {
    async fn record(&self, score: &OnlineScore) -> Result<()> {
        let (Some(prompt), Score::Value { value }) = (&score.prompt, &score.score) else {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        };
        let failure = |error: llmops_registry::RegistryError| EvalError::ScoreSink {
            metric: score.metric.clone(),
            request_id: score.request_id.clone(),
            message: error.to_string(),
        };
        let version = self
            .registry
            .get(&prompt.name, &Selector::Version(prompt.version))
            .await
            .map_err(failure)?;
        let record = llmops_registry::Score::new(&version, score.metric.as_str(), *value)
            .call_id(score.request_id.as_str());
        self.registry.record_score(&record).await.map_err(failure)
    }
}
