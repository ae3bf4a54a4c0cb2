//! Hybrid retrieval over one index version.

use std::sync::Arc;

use llmops_core::Embedder;
use llmops_core::tokens::TokenCounter;
use serde::{Deserialize, Serialize};

use crate::error::{RagError, Result};
use crate::filter::MetadataFilter;
use crate::fusion::{DEFAULT_RRF_K, reciprocal_rank_fusion};
use crate::index::{SearchIndex, embed_all};
use crate::rerank::Reranker;

/// Which indexes a query uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RetrievalMode {
    /// BM25 only.
    Keyword,
    /// The vector index only.
    Dense,
    /// Both, fused by weighted reciprocal rank.
    Hybrid,
}

/// Options of one query.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrievalOptions {
    /// Hits returned. Default 10.
    pub k: usize,
    /// Indexes used. Default [`RetrievalMode::Hybrid`].
    pub mode: RetrievalMode,
    /// Candidates taken from each index before fusion. Default 100.
    pub candidates: usize,
    /// RRF weight of the vector index. Default 1.
    pub dense_weight: f32,
    /// RRF weight of the BM25 index. Default 1.
    pub keyword_weight: f32,
    /// RRF constant. Default [`DEFAULT_RRF_K`].
    pub rrf_k: f32,
    /// Only chunks of documents matching this filter are returned.
    pub filter: MetadataFilter,
    /// Longest accepted query, in tokens counted with the index's chunking
    /// tokenizer, in the modes that embed the query. Default 256, the
    /// sequence length all-MiniLM-L6-v2 was trained with. Keyword mode
    /// embeds nothing and accepts any length.
    pub max_query_tokens: u64,
}

impl Default for RetrievalOptions {
    fn default() -> Self {
        RetrievalOptions {
            k: 10,
            mode: RetrievalMode::Hybrid,
            candidates: 100,
            dense_weight: 1.0,
            keyword_weight: 1.0,
            rrf_k: DEFAULT_RRF_K,
            filter: MetadataFilter::new(),
            max_query_tokens: 256,
        }
    }
}

/// One retrieved chunk with its citation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Chunk number in the index.
    pub chunk: usize,
    /// The source document.
    pub document_id: String,
    /// Byte offset of the chunk in the document's extracted text.
    pub start: usize,
    /// Byte offset one past the chunk's end.
    pub end: usize,
    /// The chunk text.
    pub text: String,
    /// Fused score, or the single index's score outside hybrid mode.
    pub score: f32,
}

/// Queries one index version with the embedder it was built with.
pub struct Retriever {
    index: Arc<SearchIndex>,
    embedder: Arc<dyn Embedder>,
    reranker: Option<Arc<dyn Reranker>>,
    counter: TokenCounter,
}

impl Retriever {
    /// Pairs an index with its embedder.
    ///
    /// # Errors
    ///
    /// [`RagError::EmbedderMismatch`] or [`RagError::DimensionMismatch`]
    /// when the embedder is not the one the index was built with.
    pub fn new(index: Arc<SearchIndex>, embedder: Arc<dyn Embedder>) -> Result<Retriever> {
        let manifest = index.manifest();
        if manifest.embedder != embedder.model() {
            return Err(RagError::EmbedderMismatch {
                index_model: manifest.embedder.clone(),
                model: embedder.model().to_owned(),
            });
        }
        if manifest.dimensions != embedder.dimensions() {
            return Err(RagError::DimensionMismatch {
                index_dimensions: manifest.dimensions,
                embedder_dimensions: embedder.dimensions(),
                model: embedder.model().to_owned(),
            });
        }
        Ok(Retriever {
            index,
            embedder,
            reranker: None,
            counter: TokenCounter::new(),
        })
    }

    /// Adds a re-ranking stage applied to the fused candidates.
    pub fn with_reranker(mut self, reranker: Arc<dyn Reranker>) -> Self {
        self.reranker = Some(reranker);
        self
    }

    /// Returns the index being queried.
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// Embeds `query` and retrieves its best chunks.
    ///
    /// # Errors
    ///
    /// [`RagError::EmptyQuery`], [`RagError::QueryTooLong`], embedder
    /// errors, and errors of the re-ranker.
    pub async fn retrieve(&self, query: &str, options: &RetrievalOptions) -> Result<Vec<Hit>> {
        self.check_query(query, options)?;
        let vector = match options.mode {
            RetrievalMode::Keyword => None,
            RetrievalMode::Dense | RetrievalMode::Hybrid => {
                let mut vectors = embed_all(self.embedder.as_ref(), &[query], 1).await?;
                vectors.pop()
            }
        };
        let hits = self.search_with_vector(query, vector.as_deref(), options);
        match &self.reranker {
            Some(reranker) => {
                let mut reranked = reranker.rerank(query, hits).await?;
                reranked.truncate(options.k);
                Ok(reranked)
            }
            None => Ok(hits),
        }
    }

    fn check_query(&self, query: &str, options: &RetrievalOptions) -> Result<()> {
        if query.trim().is_empty() {
            return Err(RagError::EmptyQuery);
        }
        if matches!(options.mode, RetrievalMode::Keyword) {
            return Ok(());
        }
        let model = &self.index.manifest().settings.chunking.tokenizer_model;
        let tokens = self.counter.count_text(model, query).tokens;
        if tokens > options.max_query_tokens {
            return Err(RagError::QueryTooLong {
                tokens,
                limit: options.max_query_tokens,
            });
        }
        Ok(())
    }

    /// Searches with an already embedded query; no re-ranking. `vector`
    /// is ignored in keyword mode and required otherwise (`None` then
    /// searches BM25 only).
    pub fn search_with_vector(
        &self,
        query: &str,
        vector: Option<&[f32]>,
        options: &RetrievalOptions,
    ) -> Vec<Hit> {
        let filter = &options.filter;
        let keep = |chunk: usize| {
            filter.is_empty()
                || self
                    .index
                    .document_metadata(chunk)
                    .is_some_and(|metadata| filter.matches(metadata))
        };
        let candidates = options.candidates.max(options.k);
        let keyword = || match options.mode {
            RetrievalMode::Dense => Vec::new(),
            RetrievalMode::Keyword | RetrievalMode::Hybrid => {
                self.index.bm25().search(query, candidates, &keep)
            }
        };
        let dense = || match (options.mode, vector) {
            (RetrievalMode::Keyword, _) | (_, None) => Vec::new(),
            (RetrievalMode::Dense | RetrievalMode::Hybrid, Some(vector)) => {
                self.index.vectors().search(vector, candidates, &keep)
            }
        };
        // A hybrid query searches both indexes at once on rayon's threads,
        // so it takes about as long as the slower of the two searches.
        let (keyword, dense) = match (options.mode, vector) {
            (RetrievalMode::Hybrid, Some(_)) => rayon::join(keyword, dense),
            _ => (keyword(), dense()),
        };
        let ranked: Vec<(usize, f32)> = match options.mode {
            RetrievalMode::Keyword => keyword,
            RetrievalMode::Dense => dense,
            RetrievalMode::Hybrid => {
                let lists = [
                    dense.iter().map(|&(chunk, _)| chunk).collect(),
                    keyword.iter().map(|&(chunk, _)| chunk).collect(),
                ];
                let weights = [options.dense_weight, options.keyword_weight];
                reciprocal_rank_fusion(&lists, &weights, options.rrf_k)
            }
        };
        ranked
            .into_iter()
            .take(options.k)
            .filter_map(|(chunk, score)| self.hit(chunk, score))
            .collect()
    }

    fn hit(&self, chunk: usize, score: f32) -> Option<Hit> {
        let stored = self.index.chunks().get(chunk)?;
        Some(Hit {
            chunk,
            document_id: stored.document_id.clone(),
            start: stored.start,
            end: stored.end,
            text: stored.text.clone(),
            score,
        })
    }
}
