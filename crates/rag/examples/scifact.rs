//! Retrieval quality on the BEIR SciFact subset: nDCG@10 and recall@100 for
//! BM25, dense and hybrid retrieval, printed as JSON.
//!
//! ```text
//! cargo run --release -p llmops-rag --features minilm --example scifact -- [DATA_DIR] [--dense-weight W]...
//! ```
//!
//! DATA_DIR defaults to `crates/rag/tests/data/scifact`. Each
//! `--dense-weight W` adds a hybrid run whose RRF weight of the vector index
//! is W (BM25 keeps weight 1), reported as `hybrid_dense_W`. The corpus is
//! encoded once for all runs. Each document is
//! indexed as one chunk (title, a space, then the text), as the Python
//! baselines in `benches/python/scifact_baselines.py` index it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use llmops_core::Embedder;
use llmops_core::tokens::TokenCounter;
use llmops_local::{EmbedderConfig, MiniLmEmbedder};
use llmops_rag::beir::{read_corpus, read_qrels, read_queries};
use llmops_rag::metrics::evaluate;
use llmops_rag::{
    ChunkingConfig, Format, HashEmbedder, IndexSettings, RetrievalMode, RetrievalOptions,
    Retriever, SearchIndex, SourceText,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Command-line arguments: an optional data directory and hybrid weights.
struct Arguments {
    data: PathBuf,
    dense_weights: Vec<f32>,
}

impl Arguments {
    fn parse() -> Result<Self, BoxError> {
        let mut data = None;
        let mut dense_weights = Vec::new();
        let mut arguments = std::env::args().skip(1);
        while let Some(argument) = arguments.next() {
            if argument == "--dense-weight" {
                let value = arguments
                    .next()
                    .ok_or("--dense-weight needs a number, e.g. --dense-weight 2")?;
                let weight: f32 = value
                    .parse()
                    .map_err(|_| format!("invalid --dense-weight {value:?}: expected a number"))?;
                dense_weights.push(weight);
            } else {
                data = Some(PathBuf::from(argument));
            }
        }
        let data = data.unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/scifact")
        });
        Ok(Arguments {
            data,
            dense_weights,
        })
    }
}

/// The local all-MiniLM-L6-v2 embedder, as in the sentence-transformers
/// baseline; `LLMOPS_RAG_EMBEDDER=hash` swaps in the model-free
/// `HashEmbedder` for a quick run.
async fn embedder() -> Result<Arc<dyn Embedder>, BoxError> {
    if std::env::var("LLMOPS_RAG_EMBEDDER").as_deref() == Ok("hash") {
        return Ok(Arc::new(HashEmbedder::new(384)));
    }
    let config = EmbedderConfig::default().with_truncation(true);
    Ok(Arc::new(MiniLmEmbedder::load(config).await?))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let arguments = Arguments::parse()?;
    let data = arguments.data;
    let corpus = read_corpus(&data.join("corpus.jsonl"))?;
    let queries = read_queries(&data.join("queries.jsonl"))?;
    let qrels = read_qrels(&data.join("qrels/test.tsv"))?;

    let sources: Vec<SourceText> = corpus
        .iter()
        .map(|document| SourceText {
            id: document.id.clone(),
            format: Format::Text,
            content_hash: String::new(),
            metadata: Default::default(),
            text: format!("{} {}", document.title, document.text),
        })
        .collect();
    // One chunk per document: no SciFact abstract comes near 100,000 tokens.
    let settings = IndexSettings {
        chunking: ChunkingConfig {
            max_tokens: 100_000,
            overlap_tokens: 0,
            ..ChunkingConfig::default()
        },
        ..IndexSettings::default()
    };
    let embedder = embedder().await?;
    let started = Instant::now();
    let index =
        SearchIndex::build(&sources, embedder.as_ref(), &settings, &TokenCounter::new()).await?;
    let build_s = started.elapsed().as_secs_f64();
    let chunks = index.manifest().chunks;
    let retriever = Retriever::new(Arc::new(index), embedder.clone())?;

    let mut report = serde_json::Map::new();
    report.insert("embedder".into(), embedder.model().into());
    report.insert("documents".into(), sources.len().into());
    report.insert("chunks".into(), chunks.into());
    report.insert("build_s".into(), format!("{build_s:.3}").into());
    let mut runs = vec![
        ("bm25".to_string(), RetrievalMode::Keyword, 1.0),
        ("dense".to_string(), RetrievalMode::Dense, 1.0),
        ("hybrid".to_string(), RetrievalMode::Hybrid, 1.0),
    ];
    for weight in &arguments.dense_weights {
        runs.push((
            format!("hybrid_dense_{weight}"),
            RetrievalMode::Hybrid,
            *weight,
        ));
    }
    for (name, mode, dense_weight) in runs {
        let options = RetrievalOptions {
            k: 100,
            mode,
            dense_weight,
            max_query_tokens: 512,
            ..RetrievalOptions::default()
        };
        let started = Instant::now();
        let mut run: HashMap<String, Vec<String>> = HashMap::new();
        for query in &queries {
            let hits = retriever.retrieve(&query.text, &options).await?;
            run.insert(
                query.id.clone(),
                hits.into_iter().map(|hit| hit.document_id).collect(),
            );
        }
        let query_s = started.elapsed().as_secs_f64();
        let at_10 = evaluate(&run, &qrels, 10);
        let at_100 = evaluate(&run, &qrels, 100);
        report.insert(
            name.into(),
            serde_json::json!({
                "ndcg@10": (at_10.ndcg * 1e4).round() / 1e4,
                "recall@100": (at_100.recall * 1e4).round() / 1e4,
                "mrr": (at_10.mrr * 1e4).round() / 1e4,
                "query_s": (query_s * 1e3).round() / 1e3,
            }),
        );
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
