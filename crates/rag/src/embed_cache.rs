//! An embedding cache keyed by content hash, wrapping any [`Embedder`].

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use llmops_core::Embedder;
use sha2::{Digest, Sha256};

/// Default [`CachedEmbedder`] capacity, in vectors.
pub const DEFAULT_CACHE_CAPACITY: usize = 100_000;

type Key = [u8; 32];

#[derive(Default)]
struct Entries {
    vectors: HashMap<Key, Vec<f32>>,
    order: VecDeque<Key>,
}

/// Wraps an embedder so that a text embedded once is never sent again.
///
/// Entries are keyed by the SHA-256 of the model name and the text, so two
/// models never share vectors. When full, the oldest entry is evicted.
/// Only texts missing from the cache reach the inner embedder, in one batch.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use llmops_core::Embedder;
/// use llmops_rag::{CachedEmbedder, HashEmbedder};
///
/// let cached = CachedEmbedder::new(HashEmbedder::new(16), 1_000);
/// let texts = vec!["a".to_owned(), "b".to_owned()];
/// let first = cached.embed(&texts).await.unwrap();
/// let second = cached.embed(&texts).await.unwrap();
/// assert_eq!(first, second);
/// assert_eq!(cached.hits(), 2);
/// # });
/// ```
pub struct CachedEmbedder<E> {
    inner: E,
    capacity: usize,
    entries: Mutex<Entries>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<E: Embedder> CachedEmbedder<E> {
    /// Wraps `inner`, keeping at most `capacity` vectors.
    pub fn new(inner: E, capacity: usize) -> Self {
        CachedEmbedder {
            inner,
            capacity,
            entries: Mutex::new(Entries::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Returns how many texts were answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Returns how many texts were sent to the inner embedder.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Returns the wrapped embedder.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    fn key(&self, text: &str) -> Key {
        let mut hasher = Sha256::new();
        let model = self.inner.model();
        hasher.update((model.len() as u64).to_le_bytes());
        hasher.update(model.as_bytes());
        hasher.update(text.as_bytes());
        hasher.finalize().into()
    }

    fn lookup(&self, keys: &[Key]) -> Vec<Option<Vec<f32>>> {
        let entries = match self.entries.lock() {
            Ok(entries) => entries,
            Err(poisoned) => poisoned.into_inner(),
        };
        keys.iter()
            .map(|key| entries.vectors.get(key).cloned())
            .collect()
    }

    fn store(&self, key: Key, vector: &[f32]) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = match self.entries.lock() {
            Ok(entries) => entries,
            Err(poisoned) => poisoned.into_inner(),
        };
        if entries.vectors.insert(key, vector.to_vec()).is_some() {
            return;
        }
        entries.order.push_back(key);
        while entries.order.len() > self.capacity {
            if let Some(oldest) = entries.order.pop_front() {
                entries.vectors.remove(&oldest);
            }
        }
    }
}

#[async_trait]
impl<E: Embedder> Embedder for CachedEmbedder<E> {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        let keys: Vec<Key> = texts.iter().map(|text| self.key(text)).collect();
        let mut found = self.lookup(&keys);

        let missing: Vec<usize> = (0..texts.len()).filter(|&i| found[i].is_none()).collect();
        self.hits
            .fetch_add((texts.len() - missing.len()) as u64, Ordering::Relaxed);
        self.misses
            .fetch_add(missing.len() as u64, Ordering::Relaxed);
        if !missing.is_empty() {
            let batch: Vec<String> = missing.iter().map(|&i| texts[i].clone()).collect();
            let vectors = self.inner.embed(&batch).await?;
            for (&i, vector) in missing.iter().zip(vectors) {
                self.store(keys[i], &vector);
                found[i] = Some(vector);
            }
        }
        // A short answer from the inner embedder leaves gaps; the caller's
        // count check reports it instead of this cache inventing vectors.
        Ok(found.into_iter().flatten().collect())
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }
}
