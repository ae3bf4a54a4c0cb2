//! Errors of the RAG crate.

use std::path::PathBuf;

use llmops_store::StoreError;
use thiserror::Error;

/// Errors returned by ingestion, index builds, retrieval and evaluation.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RagError {
    /// A document has no text after extraction.
    #[error("document `{id}` is empty after text extraction. Remove it or supply its text")]
    EmptyDocument {
        /// The document id.
        id: String,
    },
    /// A document declared as text contains binary data.
    #[error(
        "document `{id}` looks binary ({reason}). Ingest it with its real format, such as `pdf`"
    )]
    BinaryDocument {
        /// The document id.
        id: String,
        /// The check that marked the bytes as binary.
        reason: String,
    },
    /// A document's format is not supported.
    #[error(
        "document `{id}` has unsupported format `{format}`. Use text, Markdown, HTML or PDF (extensions txt, md, html, htm, pdf)"
    )]
    UnsupportedFormat {
        /// The document id.
        id: String,
        /// The format name or file extension found.
        format: String,
    },
    /// A document is larger than the configured limit.
    #[error(
        "document `{id}` is {bytes} bytes, above the limit of {limit} bytes. Split it, or raise `IngestLimits::max_document_bytes`"
    )]
    DocumentTooLarge {
        /// The document id.
        id: String,
        /// The document size in bytes.
        bytes: usize,
        /// The configured maximum in bytes.
        limit: usize,
    },
    /// Text extraction failed for a document.
    #[error("cannot extract text from {format} document `{id}`: {message}")]
    Extraction {
        /// The document id.
        id: String,
        /// The document format.
        format: &'static str,
        /// The extractor's message.
        message: String,
    },
    /// A query is longer than the embedder accepts.
    #[error(
        "query is {tokens} tokens, above the embedder limit of {limit}. Shorten the query, or raise `RetrievalOptions::max_query_tokens` if the embedder accepts more"
    )]
    QueryTooLong {
        /// Tokens counted in the query.
        tokens: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A query is empty or only whitespace.
    #[error("query is empty. Pass the question text to search for")]
    EmptyQuery,
    /// The index and the embedder produce vectors of different lengths.
    #[error(
        "index was built with {index_dimensions}-dimensional vectors but embedder `{model}` returns {embedder_dimensions}. Query with the embedder the index was built with, or build a new index version"
    )]
    DimensionMismatch {
        /// Vector length recorded in the index.
        index_dimensions: usize,
        /// Vector length returned by the embedder.
        embedder_dimensions: usize,
        /// The embedder's model name.
        model: String,
    },
    /// The index was built with a different embedding model.
    #[error(
        "index was built with embedder `{index_model}` but the query uses `{model}`. Query with `{index_model}`, or build a new index version"
    )]
    EmbedderMismatch {
        /// Model recorded in the index.
        index_model: String,
        /// Model of the embedder passed in.
        model: String,
    },
    /// An index file written in a layout this build does not read.
    #[error(
        "index file {path} has layout version {version}, and this build reads only version {supported}; build a new index version from the stored documents"
    )]
    UnsupportedIndexLayout {
        /// The index file.
        path: PathBuf,
        /// The file's layout version.
        version: u32,
        /// The layout version this build reads.
        supported: u32,
    },
    /// An index file failed its integrity checks.
    #[error("index file {path} is corrupt: {reason}. Rebuild the index version")]
    CorruptIndex {
        /// The index file.
        path: PathBuf,
        /// The failed check.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// `read`, `write`, `rename` or `create`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A requested index version does not exist.
    #[error(
        "index version {version} of collection `{collection}` not found. List versions with `Collection::versions`"
    )]
    VersionNotFound {
        /// The collection name.
        collection: String,
        /// The missing version.
        version: i64,
    },
    /// No index version is live yet.
    #[error(
        "collection `{collection}` has no live index version. Build one with `Collection::build_version` and switch to it"
    )]
    NoLiveVersion {
        /// The collection name.
        collection: String,
    },
    /// Rollback found no earlier version to return to.
    #[error("collection `{collection}` has no earlier live version to roll back to")]
    NoEarlierVersion {
        /// The collection name.
        collection: String,
    },
    /// A collection has no documents to index.
    #[error(
        "collection `{collection}` has no documents. Ingest documents before building an index"
    )]
    EmptyCorpus {
        /// The collection name.
        collection: String,
    },
    /// A configuration value is invalid.
    #[error("invalid {setting}: {message}")]
    InvalidConfig {
        /// The setting name.
        setting: &'static str,
        /// The problem and the valid range.
        message: String,
    },
    /// The embedder failed.
    #[error("embedder `{model}` failed: {message}")]
    Embedding {
        /// The embedder's model name.
        model: String,
        /// The embedder's error message.
        message: String,
    },
    /// The embedder returned the wrong number of vectors.
    #[error("embedder `{model}` returned {returned} vectors for {expected} texts")]
    EmbeddingCount {
        /// The embedder's model name.
        model: String,
        /// Texts sent.
        expected: usize,
        /// Vectors returned.
        returned: usize,
    },
    /// A line of a relevance-judgement or query file is invalid.
    #[error("{path}:{line}: {message}")]
    InvalidEvalData {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The problem found.
        message: String,
    },
    /// A corpus, query or relevance-judgement file holds no rows.
    #[error("{path} holds no {what}; give a file with at least one")]
    NoEvalData {
        /// The file.
        path: PathBuf,
        /// What the file should hold, such as `queries`.
        what: &'static str,
    },
}

/// Result type of this crate.
pub type Result<T, E = RagError> = std::result::Result<T, E>;

impl RagError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        RagError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
