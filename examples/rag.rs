//! Retrieval over a few SciFact abstracts: ingest into a collection,
//! chunk, index two versions, retrieve with hybrid search, pack cited
//! context for a prompt, score retrieval against labelled queries, and
//! roll the live index back.
//!
//! Run with `cargo run --example rag`.
//!
//! The documents, queries and relevance labels are the SciFact subset in
//! `crates/rag/tests/data/scifact` (CC BY-NC 2.0, see its README). The
//! embedder is `HashEmbedder`, a model-free stand-in for a real embedding
//! model, so the dense half of hybrid search matches words, not meaning.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::ensure;
use llmops_core::tokens::TokenCounter;
use llmops_rag::beir::{read_corpus, read_qrels, read_queries};
use llmops_rag::metrics::evaluate;
use llmops_rag::{
    ChunkingConfig, Collection, Document, Format, HashEmbedder, IndexSettings, IngestLimits,
    PackOrder, RetrievalMode, RetrievalOptions, Retriever, chunk_text, pack_context,
};
use llmops_store::Store;

/// Labelled queries scored.
const QUERIES: usize = 3;
/// Abstracts judged for none of the queries, indexed beside the judged ones.
const DISTRACTORS: usize = 20;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/rag/tests/data/scifact");
    let qrels = read_qrels(&data.join("qrels/test.tsv"))?;
    let mut queries = read_queries(&data.join("queries.jsonl"))?;
    queries.retain(|query| qrels.contains_key(&query.id));
    queries.truncate(QUERIES);
    let qrels: HashMap<_, _> = queries
        .iter()
        .map(|q| (q.id.clone(), qrels[&q.id].clone()))
        .collect();
    let judged = |id: &String| qrels.values().any(|docs| docs.contains_key(id));
    let corpus = read_corpus(&data.join("corpus.jsonl"))?;
    let (relevant, others): (Vec<_>, Vec<_>) = corpus.into_iter().partition(|row| judged(&row.id));
    let documents: Vec<Document> = others
        .into_iter()
        .take(DISTRACTORS)
        .chain(relevant)
        .map(|row| Document::text(row.id, format!("{}\n\n{}", row.title, row.text)))
        .collect();

    // Documents and index versions are rows in the store, index files sit in a folder.
    let folder = tempfile::tempdir()?;
    let url = format!("sqlite://{}", folder.path().join("rag.db").display());
    let collection =
        Collection::open(Store::connect(&url).await?, "scifact", folder.path()).await?;
    let (first, last) = documents.split_at(documents.len() - 1);
    for document in first {
        collection.ingest(document, IngestLimits::default()).await?;
    }
    let again = collection
        .ingest(&first[0], IngestLimits::default())
        .await?;
    println!(
        "Ingested {} abstracts; ingesting one again: {again:?}.",
        first.len()
    );

    let counter = TokenCounter::new();
    let chunking = ChunkingConfig {
        max_tokens: 200,
        overlap_tokens: 20,
        ..Default::default()
    };
    let text = String::from_utf8_lossy(&first[0].bytes);
    let chunks = chunk_text(&first[0].id, &text, Format::Text, &chunking, &counter)?;
    let sizes: Vec<u64> = chunks
        .iter()
        .map(|chunk| counter.count_text("gpt-4o", &chunk.text).tokens)
        .collect();
    println!(
        "Document {} cut into {} chunks of {sizes:?} tokens.",
        first[0].id,
        chunks.len()
    );

    // Version 1 without the last abstract, version 2 with it.
    let embedder = Arc::new(HashEmbedder::new(256));
    let settings = IndexSettings {
        chunking,
        ..IndexSettings::default()
    };
    let v1 = collection
        .build_version(embedder.as_ref(), &settings)
        .await?;
    collection.switch_to(v1.version).await?;
    collection.ingest(&last[0], IngestLimits::default()).await?;
    let v2 = collection
        .build_version(embedder.as_ref(), &settings)
        .await?;
    collection.switch_to(v2.version).await?;
    for version in [&v1, &v2] {
        let (number, documents, chunks) = (version.version, version.documents, version.chunks);
        println!("Index version {number}: {documents} documents, {chunks} chunks");
    }

    let retriever = Retriever::new(Arc::new(collection.load_live().await?), embedder.clone())?;
    let options = RetrievalOptions {
        k: 5,
        mode: RetrievalMode::Hybrid,
        ..Default::default()
    };
    let query = &queries[1];
    let hits = retriever.retrieve(&query.text, &options).await?;
    println!("\nQuery: {}", query.text);
    for hit in hits.iter().take(3) {
        let preview: String = hit.text.chars().take(60).collect();
        let mark = if qrels[&query.id].contains_key(&hit.document_id) {
            "relevant"
        } else {
            ""
        };
        println!(
            "  {:.4} doc {:<9} {mark:<8} {preview}...",
            hit.score, hit.document_id
        );
    }
    let packed = pack_context(&hits, 500, "gpt-4o", PackOrder::Relevance, &counter);
    println!(
        "Packed {} tokens of context for the prompt, citing:",
        packed.tokens
    );
    for citation in &packed.citations {
        let (marker, id) = (citation.marker, &citation.document_id);
        println!(
            "  [{marker}] doc {id}, bytes {}..{}",
            citation.start, citation.end
        );
    }
    ensure!(
        !packed.citations.is_empty() && packed.tokens <= 500,
        "context packing failed"
    );

    let mut run = HashMap::new();
    for query in &queries {
        let hits = retriever.retrieve(&query.text, &options).await?;
        let mut ranked: Vec<String> = Vec::new();
        for hit in hits {
            if !ranked.contains(&hit.document_id) {
                ranked.push(hit.document_id);
            }
        }
        run.insert(query.id.clone(), ranked);
    }
    let report = evaluate(&run, &qrels, 5);
    println!(
        "\nOn {} labelled queries: recall@5 {:.2}, MRR {:.2}, nDCG@5 {:.2}",
        report.queries, report.recall, report.mrr, report.ndcg
    );
    ensure!(
        report.queries == QUERIES && report.hit_rate > 0.5,
        "retrieval missed: {report:?}"
    );

    // A rollback makes the previously live version live again.
    let live = collection.rollback().await?;
    let index = collection.load_live().await?;
    println!(
        "\nRolled back: version {live} is live again ({} chunks).",
        index.chunks().len()
    );
    ensure!(
        live == v1.version && index.chunks().len() == v1.chunks,
        "the rollback failed"
    );
    let versions = collection.versions().await?;
    ensure!(
        versions.len() == 2,
        "expected 2 index versions, found {}",
        versions.len()
    );
    let numbers = versions
        .iter()
        .map(|v| v.version.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    println!("Versions kept: {numbers}.");
    Ok(())
}
