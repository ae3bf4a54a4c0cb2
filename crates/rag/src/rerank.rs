//! The optional re-ranking stage.

use async_trait::async_trait;

use crate::error::Result;
use crate::retrieve::Hit;

/// Reorders retrieved hits, for example with a cross-encoder.
///
/// A re-ranker receives the fused candidates and returns them in its own
/// order, possibly with new scores and fewer items; retrieval keeps the
/// first `k` it returns.
#[async_trait]
pub trait Reranker: Send + Sync {
    /// Reorders `hits` for `query`.
    ///
    /// # Errors
    ///
    /// Any [`RagError`](crate::RagError) the model behind it reports.
    async fn rerank(&self, query: &str, hits: Vec<Hit>) -> Result<Vec<Hit>>;
}
