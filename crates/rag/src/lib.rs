//! Retrieval-augmented generation (RAG) operations: ingest documents, cut
//! them into chunks, embed and index them, retrieve with hybrid search, pack
//! context with citations, and measure retrieval quality.
//!
//! - [`Document`] and [`extract_text`]: text, Markdown, HTML and PDF with
//!   ids, metadata and content hashes; bad input gives a clear [`RagError`].
//! - [`chunk_text`]: token-aware chunking that follows Markdown headings,
//!   paragraphs and sentences, with overlap and byte offsets into the source.
//! - [`CachedEmbedder`]: wraps any [`llmops_core::Embedder`] so each text is
//!   embedded once; [`PersistentEmbedCache`] keeps the vectors in
//!   `llmops-store` across restarts; [`HashEmbedder`] is a model-free
//!   embedder for tests.
//! - [`SearchIndex`]: one index version (BM25 keyword index and HNSW vector
//!   index over the chunks) saved as one checksummed file. The graph
//!   searches on vectors quantised to 8 bits, a quarter of the memory a
//!   search reads, and its candidates are scored again on the f32 vectors,
//!   so returned similarities are exact.
//! - [`Retriever`]: keyword, dense or hybrid retrieval fused by
//!   [`reciprocal_rank_fusion`], with [`MetadataFilter`]s and an optional
//!   [`Reranker`].
//! - [`Collection`]: documents and index versions in `llmops-store` (SQLite
//!   or PostgreSQL); versions are built beside the live one, switched
//!   atomically and rolled back.
//! - [`pack_context`]: fits hits into a token budget with de-duplication
//!   and [`Citation`]s.
//! - `SemanticResponseCache` (feature `gateway`): a semantic cache for
//!   `llmops-gateway` that serves a stored answer to a similar request,
//!   by embedding similarity within one model and prompt version.
//! - [`metrics`]: recall@k, precision@k, MRR, nDCG@k and hit rate against
//!   qrels; [`beir`] reads BEIR-format data sets.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use llmops_core::tokens::TokenCounter;
//! use llmops_rag::{
//!     Document, HashEmbedder, IndexSettings, IngestLimits, Retriever, RetrievalOptions,
//!     SearchIndex, SourceText, extract_text,
//! };
//!
//! let documents = [
//!     Document::text("cats", "Cats sleep most of the day."),
//!     Document::text("rust", "Rust has no garbage collector."),
//! ];
//! let sources: Vec<SourceText> = documents
//!     .iter()
//!     .map(|document| SourceText {
//!         id: document.id.clone(),
//!         format: document.format,
//!         content_hash: document.content_hash(),
//!         metadata: document.metadata.clone(),
//!         text: extract_text(document, IngestLimits::default()).unwrap(),
//!     })
//!     .collect();
//! let embedder = Arc::new(HashEmbedder::new(64));
//! let index = SearchIndex::build(&sources, embedder.as_ref(), &IndexSettings::default(), &TokenCounter::new())
//!     .await
//!     .unwrap();
//! let retriever = Retriever::new(Arc::new(index), embedder).unwrap();
//! let hits = retriever.retrieve("garbage collector", &RetrievalOptions::default()).await.unwrap();
//! assert_eq!(hits[0].document_id, "rust");
//! # });
//! ```

pub mod beir;
mod bm25;
mod chunk;
mod collection;
mod document;
mod embed_cache;
mod error;
mod filter;
mod fusion;
mod hash_embedder;
mod index;
pub mod metrics;
mod pack;
mod persistent_cache;
mod rerank;
mod retrieve;
mod schema;
#[cfg(feature = "gateway")]
mod semantic_cache;
mod vector;

pub use bm25::{Bm25Index, DEFAULT_B, DEFAULT_K1, tokenize};
pub use chunk::{Chunk, ChunkingConfig, chunk_text};
pub use collection::{Collection, IndexVersion, IngestOutcome};
pub use document::{DEFAULT_MAX_DOCUMENT_BYTES, Document, Format, IngestLimits, extract_text};
pub use embed_cache::{CachedEmbedder, DEFAULT_CACHE_CAPACITY};
pub use error::{RagError, Result};
pub use filter::MetadataFilter;
pub use fusion::{DEFAULT_RRF_K, reciprocal_rank_fusion};
pub use hash_embedder::HashEmbedder;
pub use index::{IndexManifest, IndexSettings, SearchIndex, SourceText, corpus_hash};
pub use pack::{Citation, PackOrder, PackedContext, pack_context};
pub use persistent_cache::PersistentEmbedCache;
pub use rerank::Reranker;
pub use retrieve::{Hit, RetrievalMode, RetrievalOptions, Retriever};
#[cfg(feature = "gateway")]
pub use semantic_cache::{
    CallerScope, DEFAULT_SEMANTIC_CAPACITY, DEFAULT_SEMANTIC_TTL, DEFAULT_SIMILARITY_THRESHOLD,
    PROMPT_METADATA_KEY, PROMPT_VERSION_METADATA_KEY, SemanticCacheConfig, SemanticResponseCache,
};
pub use vector::HnswConfig;
