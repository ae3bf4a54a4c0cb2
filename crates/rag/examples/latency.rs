//! Query latency, build throughput and memory on a synthetic index.
//!
//! ```text
//! cargo run --release -p llmops-rag --example latency -- [CHUNKS] [QUERIES] [VECTORS] [INDEX] [MODE]
//! ```
//!
//! Builds an index of CHUNKS (default 100,000) synthetic chunks of 60
//! Zipf-distributed words from a 20,000-word vocabulary with 384-dimensional
//! unit vectors, then times QUERIES (default 2,000) hybrid searches of 5
//! words with precomputed query vectors, no re-ranking, k = 10, 100
//! candidates per index. Query embedding is excluded, since it depends on
//! the embedder, not on the index.
//!
//! VECTORS is `uniform` (default) or `clustered`. Uniform vectors are
//! spread evenly over the sphere, with no structure for the graph to use:
//! every point is about as far from a query as every other, which is the
//! hardest case for HNSW. Clustered vectors lie around 1,000 random topic
//! centres, at cosine similarity about 0.7 to their centre, and each query
//! is drawn the same way. Sentence embeddings of real text cluster by
//! topic like this.
//!
//! When INDEX names a file that exists, the index is loaded from it instead
//! of built; otherwise the built index is saved there, so later runs can
//! time queries without building again.
//!
//! MODE is `hybrid` (default), `keyword` for BM25 alone or `dense` for the
//! vector index alone, to time each part of a hybrid query. In `dense` mode
//! the report adds `dense_recall_at_10`: the share of each of the first 200
//! queries' ten nearest chunks, found by a full scan, that the search
//! returned.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use llmops_core::Embedder;
use llmops_core::tokens::TokenCounter;
use llmops_rag::{
    ChunkingConfig, Format, IndexSettings, RetrievalMode, RetrievalOptions, Retriever, SearchIndex,
    SourceText,
};
use rand::distr::Distribution;
use rand::{Rng, SeedableRng};
use rand_distr::{StandardNormal, Zipf};
use sha2::{Digest, Sha256};

const DIMENSIONS: usize = 384;

/// Unit vectors seeded by the text, so a text always gets the same one.
struct SyntheticEmbedder {
    /// Topic centres for clustered vectors; empty for uniform ones.
    centres: Vec<Vec<f32>>,
}

/// Standard deviation per dimension of the offset from a topic centre:
/// 384 * 0.052^2 is about 1.04, so a vector's cosine to its centre is
/// about 1 / sqrt(2.04), 0.7.
const CLUSTER_SPREAD: f32 = 0.052;

fn normalise(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    vector.iter_mut().for_each(|x| *x /= norm);
    vector
}

fn gaussian(rng: &mut rand::rngs::StdRng, scale: f32) -> Vec<f32> {
    (0..DIMENSIONS)
        .map(|_| scale * rng.sample::<f32, _>(StandardNormal))
        .collect()
}

impl SyntheticEmbedder {
    fn new(clustered: bool) -> Self {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let centres = match clustered {
            true => (0..1_000)
                .map(|_| normalise(gaussian(&mut rng, 1.0)))
                .collect(),
            false => Vec::new(),
        };
        SyntheticEmbedder { centres }
    }

    fn vector(&self, text: &str) -> Vec<f32> {
        let seed: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        let mut rng = rand::rngs::StdRng::from_seed(seed);
        if self.centres.is_empty() {
            return normalise(gaussian(&mut rng, 1.0));
        }
        let centre = &self.centres[rng.random_range(0..self.centres.len())];
        let offset = gaussian(&mut rng, CLUSTER_SPREAD);
        normalise(centre.iter().zip(offset).map(|(c, o)| c + o).collect())
    }
}

#[async_trait]
impl Embedder for SyntheticEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|text| self.vector(text)).collect())
    }

    fn dimensions(&self) -> usize {
        DIMENSIONS
    }

    fn model(&self) -> &str {
        match self.centres.is_empty() {
            true => "uniform-384",
            false => "clustered-384",
        }
    }
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Share of the true `options.k` nearest chunks of the first 200 queries,
/// found by scoring every chunk, that the retriever returns.
fn dense_recall(
    sources: &[SourceText],
    texts: &[String],
    vectors: &[Vec<f32>],
    retriever: &Retriever,
    options: &RetrievalOptions,
    embedder: &SyntheticEmbedder,
) -> f64 {
    let chunk_vectors: Vec<Vec<f32>> = sources
        .iter()
        .map(|source| embedder.vector(&source.text))
        .collect();
    let (mut found, mut total) = (0, 0);
    for (text, query) in texts.iter().zip(vectors).take(200) {
        let mut scored: Vec<(usize, f32)> = chunk_vectors
            .iter()
            .enumerate()
            .map(|(chunk, vector)| (chunk, vector.iter().zip(query).map(|(a, b)| a * b).sum()))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        let nearest: std::collections::HashSet<String> = scored
            .iter()
            .take(options.k)
            .map(|(chunk, _)| sources[*chunk].id.clone())
            .collect();
        let hits = retriever.search_with_vector(text, Some(query), options);
        found += hits
            .iter()
            .filter(|hit| nearest.contains(&hit.document_id))
            .count();
        total += nearest.len();
    }
    found as f64 / total.max(1) as f64
}

fn percentile(sorted_us: &[f64], fraction: f64) -> f64 {
    let index = ((sorted_us.len() as f64 - 1.0) * fraction).round() as usize;
    sorted_us[index]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let chunks: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let queries: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2_000);
    let clustered = match args.next().as_deref() {
        None | Some("uniform") => false,
        Some("clustered") => true,
        Some(other) => {
            return Err(format!("VECTORS is {other:?}; use uniform or clustered").into());
        }
    };
    let index_path = args.next().map(std::path::PathBuf::from);
    let mode = match args.next().as_deref() {
        None | Some("hybrid") => RetrievalMode::Hybrid,
        Some("keyword") => RetrievalMode::Keyword,
        Some("dense") => RetrievalMode::Dense,
        Some(other) => {
            return Err(format!("MODE is {other:?}; use hybrid, keyword or dense").into());
        }
    };
    let embedder = SyntheticEmbedder::new(clustered);

    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let zipf = Zipf::new(20_000.0, 1.1)?;
    let words = |count: usize, rng: &mut rand::rngs::StdRng| -> String {
        (0..count)
            .map(|_| format!("w{}", zipf.sample(rng) as u64))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let sources: Vec<SourceText> = (0..chunks)
        .map(|i| SourceText {
            id: format!("doc{i}"),
            format: Format::Text,
            content_hash: String::new(),
            metadata: Default::default(),
            text: words(60, &mut rng),
        })
        .collect();
    let texts: Vec<String> = (0..queries).map(|_| words(5, &mut rng)).collect();

    let settings = IndexSettings {
        chunking: ChunkingConfig {
            max_tokens: 1_000,
            overlap_tokens: 0,
            ..ChunkingConfig::default()
        },
        ..IndexSettings::default()
    };
    let before = resident_bytes();
    let started = Instant::now();
    let (index, built_now) = match &index_path {
        Some(path) if path.exists() => (SearchIndex::load(path)?, false),
        _ => {
            let index =
                SearchIndex::build(&sources, &embedder, &settings, &TokenCounter::new()).await?;
            (index, true)
        }
    };
    let build_s = started.elapsed().as_secs_f64();
    let after = resident_bytes();
    let file = tempfile::NamedTempFile::new()?;
    let saved = index_path.as_deref().unwrap_or(file.path());
    if built_now {
        index.save(saved)?;
    }
    let file_bytes = std::fs::metadata(saved)?.len();
    let built = index.manifest().chunks;
    let retriever = Retriever::new(Arc::new(index), Arc::new(embedder))?;

    let options = RetrievalOptions {
        mode,
        ..RetrievalOptions::default()
    };
    let embedder = SyntheticEmbedder::new(clustered);
    let vectors: Vec<Vec<f32>> = texts.iter().map(|text| embedder.vector(text)).collect();
    for (text, vector) in texts.iter().zip(&vectors).take(100) {
        retriever.search_with_vector(text, Some(vector), &options);
    }
    let mut latencies_us = Vec::with_capacity(queries);
    let mut returned = 0;
    for (text, vector) in texts.iter().zip(&vectors) {
        let started = Instant::now();
        let hits = retriever.search_with_vector(text, Some(vector), &options);
        latencies_us.push(started.elapsed().as_secs_f64() * 1e6);
        returned += hits.len();
    }
    latencies_us.sort_by(f64::total_cmp);
    let recall = matches!(mode, RetrievalMode::Dense)
        .then(|| dense_recall(&sources, &texts, &vectors, &retriever, &options, &embedder));

    let report = serde_json::json!({
        "chunks": built,
        "vectors": if clustered { "clustered" } else { "uniform" },
        "loaded": !built_now,
        "build_s": (build_s * 100.0).round() / 100.0,
        "build_chunks_per_s": (built as f64 / build_s).round(),
        "resident_bytes_per_chunk": match (before, after) {
            (Some(before), Some(after)) => serde_json::json!(after.saturating_sub(before) / built as u64),
            _ => serde_json::Value::Null,
        },
        "file_bytes_per_chunk": file_bytes / built as u64,
        "queries": queries,
        "mean_hits": returned as f64 / queries as f64,
        "p50_us": percentile(&latencies_us, 0.5).round(),
        "p90_us": percentile(&latencies_us, 0.9).round(),
        "p99_us": percentile(&latencies_us, 0.99).round(),
        "max_us": latencies_us.last().copied().unwrap_or(0.0).round(),
        "dense_recall_at_10": recall,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
