//! The quickstart's retrieval step: ingest the SciFact fixture corpus,
//! answer questions with retrieved context and citations through the local
//! model, and print retrieval metrics against the fixture's qrels.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use llmops_core::tokens::TokenCounter;
use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_core::{Embedder, ModelBackend};
use llmops_rag::beir::{read_corpus, read_qrels, read_queries};
use llmops_rag::metrics::evaluate;
use llmops_rag::{
    ChunkingConfig, Collection, Document, IndexSettings, IngestLimits, PackOrder, RetrievalOptions,
    Retriever, pack_context,
};
use llmops_store::Store;

/// Questions answered through the model.
const ANSWERED: usize = 3;
/// Queries scored; the corpus slice holds every document judged for them.
const SCORED: usize = 60;
/// Documents indexed besides the judged ones, so retrieval has to choose.
const DISTRACTORS: usize = 140;
/// Tokens of retrieved context given to the model per question.
const CONTEXT_TOKENS: u64 = 600;

/// Ingests `data` (a BEIR folder: corpus.jsonl, queries.jsonl,
/// qrels/test.tsv), builds and switches to an index version, answers the
/// first questions through `model` with cited context, and prints recall,
/// MRR and nDCG at 10 for hybrid retrieval.
pub(crate) async fn run(
    data: &Path,
    model: &dyn ModelBackend,
    model_name: &str,
    embedder: Arc<dyn Embedder>,
) -> anyhow::Result<()> {
    let store = Store::connect("sqlite::memory:").await?;
    let folder = tempfile::tempdir()?;
    let collection = Collection::open(store, "scifact", folder.path()).await?;
    // Embedding on a CPU takes a few seconds per hundred passages, so the
    // quickstart indexes a slice: the documents judged for the scored
    // queries plus the first distractors in corpus order.
    let queries = read_queries(&data.join("queries.jsonl"))?;
    let queries = &queries[..SCORED.min(queries.len())];
    let mut qrels = read_qrels(&data.join("qrels/test.tsv"))?;
    qrels.retain(|query, _| queries.iter().any(|q| &q.id == query));
    let judged: std::collections::HashSet<&String> =
        qrels.values().flat_map(|docs| docs.keys()).collect();
    let mut distractors = 0;
    for row in read_corpus(&data.join("corpus.jsonl"))? {
        if !judged.contains(&row.id) {
            if distractors == DISTRACTORS {
                continue;
            }
            distractors += 1;
        }
        let document = Document::text(row.id, format!("{} {}", row.title, row.text));
        collection
            .ingest(&document, IngestLimits::default())
            .await?;
    }
    let settings = IndexSettings {
        chunking: ChunkingConfig {
            max_tokens: 200,
            overlap_tokens: 20,
            ..ChunkingConfig::default()
        },
        ..IndexSettings::default()
    };
    let version = collection
        .build_version(embedder.as_ref(), &settings)
        .await?;
    collection.switch_to(version.version).await?;
    println!(
        "Indexed {} documents as {} chunks (version {}, embedder {}).\n",
        version.documents, version.chunks, version.version, version.embedder
    );
    let retriever = Retriever::new(Arc::new(collection.load_live().await?), embedder)?;

    let counter = TokenCounter::new();
    for query in queries.iter().take(ANSWERED) {
        let hits = retriever
            .retrieve(&query.text, &RetrievalOptions::default())
            .await?;
        let packed = pack_context(
            &hits,
            CONTEXT_TOKENS,
            model_name,
            PackOrder::Relevance,
            &counter,
        );
        let messages = vec![
            ChatMessage::system(
                "Answer using only the numbered context passages and cite them as [n].",
            ),
            ChatMessage::user(format!("Context:\n{}\nClaim: {}", packed.text, query.text)),
        ];
        let mut request = ChatRequest::new(model_name, messages);
        request.max_tokens = Some(80);
        request.temperature = Some(0.0);
        let reply = model.complete(request).await?;
        let answer = reply
            .choices
            .first()
            .map(|choice| choice.message.text())
            .unwrap_or_default();
        println!("Q: {}\nA: {}", query.text, answer.trim());
        for citation in &packed.citations {
            println!(
                "   [{}] {} bytes {}-{}",
                citation.marker, citation.document_id, citation.start, citation.end
            );
        }
        println!();
    }

    let mut run = HashMap::new();
    let options = RetrievalOptions {
        k: 10,
        ..RetrievalOptions::default()
    };
    for query in queries {
        let mut ranked: Vec<String> = Vec::new();
        for hit in retriever.retrieve(&query.text, &options).await? {
            if !ranked.contains(&hit.document_id) {
                ranked.push(hit.document_id);
            }
        }
        run.insert(query.id.clone(), ranked);
    }
    let report = evaluate(&run, &qrels, 10);
    println!(
        "Retrieval over {} judged queries: recall@10 {:.3}, MRR {:.3}, nDCG@10 {:.3}, hit rate {:.3}",
        report.queries, report.recall, report.mrr, report.ndcg, report.hit_rate
    );
    println!(
        "(a slice of the 1,000-document corpus; `cargo run --release -p llmops-rag --example scifact` scores all 300 queries)"
    );
    Ok(())
}
