//! A deterministic, model-free embedder for tests and examples.

use async_trait::async_trait;
use llmops_core::Embedder;
use sha2::{Digest, Sha256};

use crate::bm25::tokenize;

/// Embeds text as L2-normalised hashed bag-of-words counts.
///
/// Each token of [`tokenize`] adds 1 to the dimension picked by its
/// SHA-256, so texts sharing words get similar vectors. It needs no model
/// files and returns the same vectors on every machine, which makes it a
/// stand-in for a real embedder in tests; its retrieval quality is far below
/// a trained model's.
#[derive(Debug, Clone)]
pub struct HashEmbedder {
    dimensions: usize,
    model: String,
}

impl HashEmbedder {
    /// Creates an embedder returning `dimensions`-long vectors (at least 1).
    pub fn new(dimensions: usize) -> Self {
        let dimensions = dimensions.max(1);
        HashEmbedder {
            dimensions,
            model: format!("hash-bow-{dimensions}"),
        }
    }

    fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut vector = vec![0.0_f32; self.dimensions];
        for token in tokenize(text) {
            let digest = Sha256::digest(token.as_bytes());
            let mut head = [0_u8; 8];
            head.copy_from_slice(&digest[..8]);
            let slot = u64::from_le_bytes(head) % self.dimensions as u64;
            vector[slot as usize] += 1.0;
        }
        normalize(&mut vector);
        vector
    }
}

/// Scales `vector` to unit L2 length; a zero vector stays zero.
pub(crate) fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}

#[async_trait]
impl Embedder for HashEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|text| self.embed_one(text)).collect())
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn model(&self) -> &str {
        &self.model
    }
}
