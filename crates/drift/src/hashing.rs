//! A lexical embedder that needs no model.

use async_trait::async_trait;
use llmops_core::Embedder;

use crate::text::terms;

/// Embeds a text as the sum of fixed pseudo-random vectors of its words, a
/// random projection of its bag of words. Words are lowercased, and English
/// function words and one-character words are left out, as in topic labels.
/// Texts that share words are close; synonyms are not.
///
/// It is deterministic across runs and platforms (FNV-1a word hashes seed a
/// SplitMix64 sequence), so it suits tests and examples, and windows whose
/// topics differ in vocabulary. Prefer a sentence-embedding model where
/// topics differ in meaning more than in words.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use llmops_core::Embedder;
/// use llmops_drift::HashingEmbedder;
///
/// let embedder = HashingEmbedder::new(64);
/// let vectors = embedder.embed(&["Book a flight".into(), "book a FLIGHT!".into()]).await.unwrap();
/// assert_eq!(vectors[0], vectors[1]);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct HashingEmbedder {
    dimensions: usize,
    model: String,
}

impl HashingEmbedder {
    /// Creates an embedder of `dimensions` dimensions (at least 1).
    pub fn new(dimensions: usize) -> Self {
        let dimensions = dimensions.max(1);
        Self {
            dimensions,
            model: format!("hashing-bow-{dimensions}"),
        }
    }

    /// Embeds one text.
    pub fn embed_text(&self, text: &str) -> Vec<f32> {
        let mut vector = vec![0.0f32; self.dimensions];
        for word in terms(text) {
            let mut state = fnv1a(&word);
            for value in vector.iter_mut() {
                state = splitmix64(state);
                // The top 24 bits as a uniform value in [-1, 1).
                *value += (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0;
            }
        }
        vector
    }
}

#[async_trait]
impl Embedder for HashingEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|text| self.embed_text(text)).collect())
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn model(&self) -> &str {
        &self.model
    }
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn splitmix64(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::HashingEmbedder;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        dot / (norm(a) * norm(b))
    }

    #[test]
    fn shared_words_are_closer() {
        let embedder = HashingEmbedder::new(128);
        let a = embedder.embed_text("freeze my bank account");
        let b = embedder.embed_text("unfreeze the bank account");
        let c = embedder.embed_text("weather in paris tomorrow");
        assert!(cosine(&a, &b) > cosine(&a, &c) + 0.2);
    }

    #[test]
    fn text_without_words_is_zero() {
        let embedder = HashingEmbedder::new(8);
        assert_eq!(embedder.embed_text("? ! a the"), vec![0.0; 8]);
        assert_eq!(embedder.embed_text(""), vec![0.0; 8]);
    }

    #[test]
    fn values_stay_in_range_per_word() {
        let embedder = HashingEmbedder::new(256);
        let vector = embedder.embed_text("한국어");
        assert!(vector.iter().all(|v| (-1.0..1.0).contains(v)));
        assert!(vector.iter().any(|v| *v != 0.0));
    }
}
