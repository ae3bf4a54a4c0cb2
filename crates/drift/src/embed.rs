//! Embedding windows in batches, normalised to unit length.

use llmops_core::Embedder;

use crate::error::{DriftError, Result};

/// Texts per embedder call, so one call never carries a whole window.
const EMBED_BATCH: usize = 64;

/// Embeds `texts` in batches and checks the dimension of every vector.
pub(crate) async fn embed_all(embedder: &dyn Embedder, texts: &[String]) -> Result<Vec<Vec<f32>>> {
    let mut vectors = Vec::with_capacity(texts.len());
    for batch in texts.chunks(EMBED_BATCH) {
        vectors.extend(embedder.embed(batch).await?);
    }
    let expected = embedder.dimensions();
    if let Some((index, vector)) = vectors
        .iter()
        .enumerate()
        .find(|(_, v)| v.len() != expected)
    {
        return Err(DriftError::DimensionMismatch {
            index,
            expected,
            found: vector.len(),
        });
    }
    if vectors.len() != texts.len() {
        return Err(DriftError::LengthMismatch {
            what: "texts and embeddings",
            reference: texts.len(),
            current: vectors.len(),
        });
    }
    Ok(vectors)
}

/// Scales each vector to unit length; zero vectors stay zero.
pub(crate) fn normalise(vectors: &mut [Vec<f32>]) {
    for vector in vectors {
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            vector.iter_mut().for_each(|x| *x /= norm);
        }
    }
}
