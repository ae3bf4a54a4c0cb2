//! One built index version: chunks, BM25 and HNSW, persisted as one file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use llmops_core::Embedder;
use llmops_core::tokens::TokenCounter;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::info;

use crate::bm25::{Bm25Index, DEFAULT_B, DEFAULT_K1};
use crate::chunk::{Chunk, ChunkingConfig, chunk_text};
use crate::document::Format;
use crate::error::{RagError, Result};
use crate::hash_embedder::normalize;
use crate::vector::{HnswConfig, VectorIndex};

/// First bytes of every index file.
const MAGIC: &[u8; 8] = b"LLMRAGIX";
/// Layout version of the file after the magic bytes. Version 2 stores the
/// graph's vectors quantised to 8 bits beside the f32 table.
const FILE_VERSION: u32 = 2;
/// Magic, layout version and SHA-256 of the payload.
const HEADER_BYTES: usize = 8 + 4 + 32;
/// How often a long embedding pass logs how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Settings of an index build, recorded with the version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexSettings {
    /// How documents are cut into chunks.
    pub chunking: ChunkingConfig,
    /// HNSW graph parameters.
    pub hnsw: HnswConfig,
    /// BM25 `k1`. Default [`DEFAULT_K1`].
    pub bm25_k1: f32,
    /// BM25 `b`. Default [`DEFAULT_B`].
    pub bm25_b: f32,
    /// Texts sent to the embedder per call. Default 64.
    pub embed_batch_size: usize,
    /// Base URL of a remote embedder's API, recorded so that queries embed
    /// at the same server. `None` for a local embedder or a provider's
    /// default URL. The build does not read it, so the caller that creates
    /// the embedder sets it.
    #[serde(default)]
    pub embedder_endpoint: Option<String>,
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            chunking: ChunkingConfig::default(),
            hnsw: HnswConfig::default(),
            bm25_k1: DEFAULT_K1,
            bm25_b: DEFAULT_B,
            embed_batch_size: 64,
            embedder_endpoint: None,
        }
    }
}

/// A document's extracted text, ready to index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceText {
    /// The document id.
    pub id: String,
    /// The format the text was extracted from; Markdown chunks by heading.
    pub format: Format,
    /// Hash of the source document, from [`Document::content_hash`](crate::Document::content_hash).
    pub content_hash: String,
    /// Document metadata, matched by filters.
    pub metadata: BTreeMap<String, String>,
    /// The extracted text that chunk offsets point into.
    pub text: String,
}

/// What an index was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexManifest {
    /// The embedding model's name.
    pub embedder: String,
    /// Length of every stored vector.
    pub dimensions: usize,
    /// The build settings.
    pub settings: IndexSettings,
    /// SHA-256 over the sorted document ids and content hashes.
    pub corpus_hash: String,
    /// Number of documents.
    pub documents: usize,
    /// Number of chunks.
    pub chunks: usize,
}

#[derive(Serialize, Deserialize)]
struct DocumentEntry {
    id: String,
    metadata: BTreeMap<String, String>,
}

/// A searchable index version held in memory.
#[derive(Serialize, Deserialize)]
pub struct SearchIndex {
    manifest: IndexManifest,
    documents: Vec<DocumentEntry>,
    chunks: Vec<Chunk>,
    /// Index into `documents` of each chunk.
    chunk_document: Vec<u32>,
    bm25: Bm25Index,
    vectors: VectorIndex,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("manifest", &self.manifest)
            .finish_non_exhaustive()
    }
}

/// Computes the corpus hash recorded in a manifest.
pub fn corpus_hash<'a>(documents: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = documents.into_iter().collect();
    pairs.sort_unstable();
    let mut hasher = Sha256::new();
    for (id, hash) in pairs {
        hasher.update((id.len() as u64).to_le_bytes());
        hasher.update(id.as_bytes());
        hasher.update(hash.as_bytes());
    }
    hex::encode(hasher.finalize())
}

impl SearchIndex {
    /// Chunks, embeds and indexes `sources`.
    ///
    /// # Errors
    ///
    /// [`RagError::InvalidConfig`] for bad chunking settings,
    /// [`RagError::Embedding`], [`RagError::EmbeddingCount`] or
    /// [`RagError::DimensionMismatch`] when the embedder fails or returns
    /// vectors of the wrong number or length.
    pub async fn build(
        sources: &[SourceText],
        embedder: &dyn Embedder,
        settings: &IndexSettings,
        counter: &TokenCounter,
    ) -> Result<SearchIndex> {
        let mut documents = Vec::with_capacity(sources.len());
        let mut chunks = Vec::new();
        let mut chunk_document = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            let pieces = chunk_text(
                &source.id,
                &source.text,
                source.format,
                &settings.chunking,
                counter,
            )?;
            chunk_document.extend(std::iter::repeat_n(
                u32::try_from(index).unwrap_or(u32::MAX),
                pieces.len(),
            ));
            chunks.extend(pieces);
            documents.push(DocumentEntry {
                id: source.id.clone(),
                metadata: source.metadata.clone(),
            });
        }

        let texts: Vec<&str> = chunks.iter().map(|chunk| chunk.text.as_str()).collect();
        info!(
            documents = documents.len(),
            chunks = chunks.len(),
            model = embedder.model(),
            "chunked the documents; embedding the chunks"
        );
        let started = Instant::now();
        let vectors = embed_all(embedder, &texts, settings.embed_batch_size).await?;
        info!(
            chunks = chunks.len(),
            seconds = started.elapsed().as_secs(),
            "embedded the chunks; building the BM25 and HNSW indexes"
        );
        let started = Instant::now();
        let bm25 = Bm25Index::build(&texts, settings.bm25_k1, settings.bm25_b);
        let dimensions = embedder.dimensions();
        let vectors = VectorIndex::build(vectors, dimensions, settings.hnsw);
        info!(
            seconds = started.elapsed().as_secs(),
            "built the BM25 and HNSW indexes"
        );

        let manifest = IndexManifest {
            embedder: embedder.model().to_owned(),
            dimensions,
            settings: settings.clone(),
            corpus_hash: corpus_hash(
                sources
                    .iter()
                    .map(|source| (source.id.as_str(), source.content_hash.as_str())),
            ),
            documents: documents.len(),
            chunks: chunks.len(),
        };
        Ok(SearchIndex {
            manifest,
            documents,
            chunks,
            chunk_document,
            bm25,
            vectors,
        })
    }

    /// Returns what the index was built from.
    pub fn manifest(&self) -> &IndexManifest {
        &self.manifest
    }

    /// Returns every chunk, indexed by chunk number.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    pub(crate) fn document_metadata(&self, chunk: usize) -> Option<&BTreeMap<String, String>> {
        let document = *self.chunk_document.get(chunk)? as usize;
        self.documents.get(document).map(|entry| &entry.metadata)
    }

    pub(crate) fn bm25(&self) -> &Bm25Index {
        &self.bm25
    }

    pub(crate) fn vectors(&self) -> &VectorIndex {
        &self.vectors
    }

    /// Writes the index to `path` through a temporary file and a rename, so
    /// a reader sees the old file or the whole new one, never a part.
    ///
    /// # Errors
    ///
    /// [`RagError::Io`] when the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        let payload = postcard::to_stdvec(self).map_err(|error| RagError::CorruptIndex {
            path: path.to_owned(),
            reason: format!("cannot encode the index: {error}"),
        })?;
        let checksum = Sha256::digest(&payload);
        let temporary = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            file.write_all(MAGIC)?;
            file.write_all(&FILE_VERSION.to_le_bytes())?;
            file.write_all(&checksum)?;
            file.write_all(&payload)?;
            file.sync_all()
        };
        write().map_err(|source| RagError::io("write", &temporary, source))?;
        std::fs::rename(&temporary, path).map_err(|source| RagError::io("rename", path, source))
    }

    /// Reads an index written by [`SearchIndex::save`], checking its magic
    /// bytes, layout version and checksum.
    ///
    /// # Errors
    ///
    /// [`RagError::Io`] when the file cannot be read, and
    /// [`RagError::CorruptIndex`] when any check or the decoding fails.
    pub fn load(path: &Path) -> Result<SearchIndex> {
        let bytes = std::fs::read(path).map_err(|source| RagError::io("read", path, source))?;
        let corrupt = |reason: String| RagError::CorruptIndex {
            path: path.to_owned(),
            reason,
        };
        if bytes.len() < HEADER_BYTES || &bytes[..8] != MAGIC {
            return Err(corrupt("not an llmops index file".to_owned()));
        }
        let mut version = [0_u8; 4];
        version.copy_from_slice(&bytes[8..12]);
        let version = u32::from_le_bytes(version);
        if version != FILE_VERSION {
            return Err(RagError::UnsupportedIndexLayout {
                path: path.to_owned(),
                version,
                supported: FILE_VERSION,
            });
        }
        let payload = &bytes[HEADER_BYTES..];
        if Sha256::digest(payload).as_slice() != &bytes[12..HEADER_BYTES] {
            return Err(corrupt("checksum mismatch".to_owned()));
        }
        let index: SearchIndex =
            postcard::from_bytes(payload).map_err(|error| corrupt(error.to_string()))?;
        index.check_consistency().map_err(corrupt)?;
        Ok(index)
    }

    fn check_consistency(&self) -> std::result::Result<(), String> {
        let chunks = self.chunks.len();
        if self.chunk_document.len() != chunks || self.bm25.len() != chunks {
            return Err("chunk tables disagree in length".to_owned());
        }
        if self.vectors.len() != chunks || self.vectors.dimensions() != self.manifest.dimensions {
            return Err("vector table disagrees with the chunks or manifest".to_owned());
        }
        self.vectors.check_consistency()?;
        if self
            .chunk_document
            .iter()
            .any(|&document| document as usize >= self.documents.len())
        {
            return Err("a chunk points past the document table".to_owned());
        }
        Ok(())
    }
}

/// Embeds `texts` in batches, checking count and length, and L2-normalises
/// every vector.
pub(crate) async fn embed_all(
    embedder: &dyn Embedder,
    texts: &[&str],
    batch_size: usize,
) -> Result<Vec<Vec<f32>>> {
    let mut vectors = Vec::with_capacity(texts.len());
    let mut last_report = Instant::now();
    for batch in texts.chunks(batch_size.max(1)) {
        if last_report.elapsed() >= PROGRESS_EVERY {
            info!(
                model = embedder.model(),
                done = vectors.len(),
                of = texts.len(),
                "embedding chunks"
            );
            last_report = Instant::now();
        }
        let owned: Vec<String> = batch.iter().map(|text| (*text).to_owned()).collect();
        let embedded = embedder
            .embed(&owned)
            .await
            .map_err(|error| RagError::Embedding {
                model: embedder.model().to_owned(),
                message: error.to_string(),
            })?;
        if embedded.len() != batch.len() {
            return Err(RagError::EmbeddingCount {
                model: embedder.model().to_owned(),
                expected: batch.len(),
                returned: embedded.len(),
            });
        }
        for mut vector in embedded {
            if vector.len() != embedder.dimensions() {
                return Err(RagError::DimensionMismatch {
                    index_dimensions: embedder.dimensions(),
                    embedder_dimensions: vector.len(),
                    model: embedder.model().to_owned(),
                });
            }
            normalize(&mut vector);
            vectors.push(vector);
        }
    }
    Ok(vectors)
}
