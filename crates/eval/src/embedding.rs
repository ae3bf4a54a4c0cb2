//! Embedding cosine similarity between output and reference.

use std::sync::Arc;

use async_trait::async_trait;
use llmops_core::Embedder;

use crate::metric::{Metric, Sample, reference};
use crate::score::{Score, ScoreRange};

/// Returns the cosine similarity of two vectors, or `None` when their
/// lengths differ or either has zero norm.
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> Option<f64> {
    if a.len() != b.len() {
        return None;
    }
    let mut dot = 0.0f64;
    let mut norm_a = 0.0f64;
    let mut norm_b = 0.0f64;
    for (&x, &y) in a.iter().zip(b) {
        dot += f64::from(x) * f64::from(y);
        norm_a += f64::from(x) * f64::from(x);
        norm_b += f64::from(y) * f64::from(y);
    }
    if norm_a == 0.0 || norm_b == 0.0 {
        return None;
    }
    Some((dot / (norm_a.sqrt() * norm_b.sqrt())).clamp(-1.0, 1.0))
}

/// Cosine similarity (-1 to 1) of the embeddings of output and reference.
/// An embedder failure or a zero vector makes the score undetermined.
pub struct EmbeddingSimilarity {
    embedder: Arc<dyn Embedder>,
}

impl EmbeddingSimilarity {
    /// Creates the metric on an embedder.
    pub fn new(embedder: Arc<dyn Embedder>) -> Self {
        EmbeddingSimilarity { embedder }
    }
}

impl std::fmt::Debug for EmbeddingSimilarity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddingSimilarity")
            .field("model", &self.embedder.model())
            .finish()
    }
}

#[async_trait]
impl Metric for EmbeddingSimilarity {
    fn name(&self) -> &str {
        "embedding_cosine"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange {
            min: -1.0,
            max: 1.0,
            higher_is_better: true,
        }
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        let expected = match reference(sample, self.name()) {
            Ok(expected) => expected,
            Err(undetermined) => return undetermined,
        };
        let texts = [sample.output.to_owned(), expected.to_owned()];
        let vectors = match self.embedder.embed(&texts).await {
            Ok(vectors) => vectors,
            Err(error) => {
                tracing::warn!(model = self.embedder.model(), %error, "embedding failed");
                return Score::undetermined(format!("embedding failed: {error}"));
            }
        };
        let [output, reference] = vectors.as_slice() else {
            return Score::undetermined(format!(
                "embedder `{}` returned {} vectors for 2 texts",
                self.embedder.model(),
                vectors.len()
            ));
        };
        match cosine_similarity(output, reference) {
            Some(similarity) => Score::value(similarity),
            None => Score::undetermined("an embedding is a zero vector or the lengths differ"),
        }
    }
}
