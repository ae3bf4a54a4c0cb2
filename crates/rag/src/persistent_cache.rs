//! An embedding cache in `llmops-store` (SQLite or PostgreSQL), so vectors
//! survive restarts and are shared by every process on the same database.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use llmops_core::Embedder;
use llmops_store::sqlx::{self, Row};
use llmops_store::{Store, now_ms};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::schema::MIGRATIONS;

/// Rows looked up or written per statement; far below the bind-parameter
/// limits of both dialects.
const ROWS_PER_STATEMENT: usize = 500;

/// Wraps an embedder so each text is embedded once per model and vector
/// length, across restarts.
///
/// Vectors live in the `rag_embeddings` table, keyed by the model name,
/// the vector length and the SHA-256 of the text. The text itself is not
/// stored. Only texts missing from the table reach the inner embedder, in
/// one batch, and their vectors are written back. Two processes embedding
/// the same text at once both call the model, and the first write wins.
///
/// The cache never fails a call on its own account: when the database
/// cannot be read, every text goes to the inner embedder, and when it
/// cannot be written the vectors are still returned. Both cases log a
/// warning. A stored vector of the wrong length is treated as missing and
/// replaced. Entries are never evicted; delete rows of old models from
/// `rag_embeddings` to reclaim space.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use llmops_core::Embedder;
/// use llmops_rag::{HashEmbedder, PersistentEmbedCache};
/// use llmops_store::Store;
///
/// let store = Store::connect("sqlite::memory:").await.unwrap();
/// let cached = PersistentEmbedCache::open(store, HashEmbedder::new(16)).await.unwrap();
/// let texts = vec!["a".to_owned()];
/// let first = cached.embed(&texts).await.unwrap();
/// assert_eq!(cached.embed(&texts).await.unwrap(), first);
/// assert_eq!(cached.hits(), 1);
/// # });
/// ```
pub struct PersistentEmbedCache<E> {
    store: Store,
    inner: E,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<E: Embedder> PersistentEmbedCache<E> {
    /// Wraps `inner`, creating the cache table in `store` when missing.
    ///
    /// # Errors
    ///
    /// [`RagError::Store`](crate::RagError::Store) when the migration fails.
    pub async fn open(store: Store, inner: E) -> Result<Self> {
        store.migrate(MIGRATIONS).await?;
        Ok(PersistentEmbedCache {
            store,
            inner,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    /// Returns how many texts were served from the table.
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

    fn dimensions_column(&self) -> i64 {
        i64::try_from(self.inner.dimensions()).unwrap_or(i64::MAX)
    }

    /// Reads the stored vectors of `hashes`, by hash.
    async fn read(
        &self,
        hashes: &[&str],
    ) -> std::result::Result<HashMap<String, Vec<f32>>, sqlx::Error> {
        let mut found = HashMap::new();
        for group in hashes.chunks(ROWS_PER_STATEMENT) {
            let placeholders: Vec<String> = (0..group.len())
                .map(|position| format!("${}", position + 3))
                .collect();
            let sql = format!(
                "SELECT content_hash, vector FROM rag_embeddings \
                 WHERE model = $1 AND dimensions = $2 AND content_hash IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql)
                .bind(self.inner.model())
                .bind(self.dimensions_column());
            for hash in group {
                query = query.bind(*hash);
            }
            for row in query.fetch_all(self.store.pool()).await? {
                let hash: String = row.try_get(0)?;
                let bytes: Vec<u8> = row.try_get(1)?;
                if let Some(vector) = vector_from_bytes(&bytes, self.inner.dimensions()) {
                    found.insert(hash, vector);
                }
            }
        }
        Ok(found)
    }

    /// Writes vectors, replacing any stored under the same key.
    async fn write(&self, entries: &[(&str, &[f32])]) -> std::result::Result<(), sqlx::Error> {
        let dialect = self.store.dialect();
        let upsert = dialect.upsert_clause(
            &["model", "dimensions", "content_hash"],
            &["vector", "created_at_ms"],
        );
        let now = now_ms();
        for group in entries.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO rag_embeddings (model, dimensions, content_hash, vector, created_at_ms) \
                 VALUES {} {upsert}",
                dialect.values_rows(group.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for (hash, vector) in group {
                query = query
                    .bind(self.inner.model())
                    .bind(self.dimensions_column())
                    .bind(*hash)
                    .bind(vector_to_bytes(vector))
                    .bind(now);
            }
            query.execute(self.store.pool()).await?;
        }
        Ok(())
    }
}

/// Returns the hex SHA-256 of a text, the cache key within one model.
fn content_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn vector_to_bytes(vector: &[f32]) -> Vec<u8> {
    vector
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect()
}

/// Decodes little-endian `f32` bytes; `None` unless there are exactly
/// `dimensions` values.
fn vector_from_bytes(bytes: &[u8], dimensions: usize) -> Option<Vec<f32>> {
    if bytes.len() != dimensions * 4 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|quad| f32::from_le_bytes([quad[0], quad[1], quad[2], quad[3]]))
            .collect(),
    )
}

#[async_trait]
impl<E: Embedder> Embedder for PersistentEmbedCache<E> {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let hashes: Vec<String> = texts.iter().map(|text| content_hash(text)).collect();
        let mut unique: Vec<&str> = hashes.iter().map(String::as_str).collect();
        unique.sort_unstable();
        unique.dedup();
        let mut stored = match self.read(&unique).await {
            Ok(stored) => stored,
            Err(error) => {
                let error = self.store.error(error);
                tracing::warn!(%error, model = self.inner.model(), "embedding cache read failed; embedding every text");
                HashMap::new()
            }
        };

        // Each distinct missing text is embedded once, even when repeated
        // in the batch.
        let mut missing: Vec<usize> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for (position, hash) in hashes.iter().enumerate() {
            if !stored.contains_key(hash) && seen.insert(hash) {
                missing.push(position);
            }
        }
        self.hits
            .fetch_add((texts.len() - missing.len()) as u64, Ordering::Relaxed);
        self.misses
            .fetch_add(missing.len() as u64, Ordering::Relaxed);

        if !missing.is_empty() {
            let batch: Vec<String> = missing.iter().map(|&i| texts[i].clone()).collect();
            let vectors = self.inner.embed(&batch).await?;
            let entries: Vec<(&str, &[f32])> = missing
                .iter()
                .zip(&vectors)
                .map(|(&i, vector)| (hashes[i].as_str(), vector.as_slice()))
                .collect();
            if let Err(error) = self.write(&entries).await {
                let error = self.store.error(error);
                tracing::warn!(%error, model = self.inner.model(), "embedding cache write failed; vectors returned uncached");
            }
            for (&i, vector) in missing.iter().zip(vectors) {
                stored.insert(hashes[i].clone(), vector);
            }
        }
        // Too few vectors from the inner embedder leave gaps, which the
        // caller's count check reports; this cache invents no vectors.
        Ok(hashes
            .iter()
            .filter_map(|hash| stored.get(hash).cloned())
            .collect())
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_bytes_round_trip() {
        let vector = vec![1.0, -0.5, f32::MIN_POSITIVE, 3.25];
        let bytes = vector_to_bytes(&vector);
        assert_eq!(vector_from_bytes(&bytes, 4), Some(vector));
        assert_eq!(vector_from_bytes(&bytes, 3), None);
    }

    #[test]
    fn content_hash_is_sha256_hex() {
        assert_eq!(
            content_hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
