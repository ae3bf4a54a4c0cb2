//! Hybrid retrieval, filters, re-ranking, embedding cache and bad queries.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use llmops_core::Embedder;
use llmops_core::tokens::TokenCounter;
use llmops_rag::{
    CachedEmbedder, Document, HashEmbedder, Hit, IndexSettings, IngestLimits, MetadataFilter,
    RagError, Reranker, RetrievalMode, RetrievalOptions, Retriever, SearchIndex, SourceText,
    extract_text,
};

fn sources(documents: &[Document]) -> Vec<SourceText> {
    documents
        .iter()
        .map(|document| SourceText {
            id: document.id.clone(),
            format: document.format,
            content_hash: document.content_hash(),
            metadata: document.metadata.clone(),
            text: extract_text(document, IngestLimits::default()).unwrap(),
        })
        .collect()
}

fn corpus() -> Vec<Document> {
    vec![
        Document::text("cats", "Cats sleep sixteen hours a day.").with_metadata("topic", "animals"),
        Document::text("dogs", "Dogs need daily walks and play.").with_metadata("topic", "animals"),
        Document::text("rust", "Rust checks memory safety at compile time.")
            .with_metadata("topic", "code"),
        Document::text("go", "Go has a garbage collector and goroutines.")
            .with_metadata("topic", "code"),
    ]
}

async fn retriever(embedder: Arc<dyn Embedder>) -> Retriever {
    let index = SearchIndex::build(
        &sources(&corpus()),
        embedder.as_ref(),
        &IndexSettings::default(),
        &TokenCounter::new(),
    )
    .await
    .unwrap();
    Retriever::new(Arc::new(index), embedder).unwrap()
}

#[tokio::test]
async fn every_mode_finds_the_keyword_match() {
    let retriever = retriever(Arc::new(HashEmbedder::new(64))).await;
    for mode in [
        RetrievalMode::Keyword,
        RetrievalMode::Dense,
        RetrievalMode::Hybrid,
    ] {
        let options = RetrievalOptions {
            mode,
            ..Default::default()
        };
        let hits = retriever.retrieve("memory safety", &options).await.unwrap();
        assert_eq!(hits[0].document_id, "rust", "{mode:?}");
        let chunk = &retriever.index().chunks()[hits[0].chunk];
        assert_eq!(chunk.text, hits[0].text);
    }
}

#[tokio::test]
async fn filter_limits_documents() {
    let retriever = retriever(Arc::new(HashEmbedder::new(64))).await;
    let options = RetrievalOptions {
        filter: MetadataFilter::new().equals("topic", "animals"),
        ..Default::default()
    };
    let hits = retriever
        .retrieve("memory safety garbage", &options)
        .await
        .unwrap();
    assert!(
        hits.iter()
            .all(|hit| hit.document_id == "cats" || hit.document_id == "dogs")
    );
    let none = RetrievalOptions {
        filter: MetadataFilter::new().equals("topic", "missing"),
        ..Default::default()
    };
    assert!(retriever.retrieve("cats", &none).await.unwrap().is_empty());
}

#[tokio::test]
async fn k_limits_hits() {
    let retriever = retriever(Arc::new(HashEmbedder::new(64))).await;
    let options = RetrievalOptions {
        k: 2,
        mode: RetrievalMode::Dense,
        ..Default::default()
    };
    assert_eq!(retriever.retrieve("cats", &options).await.unwrap().len(), 2);
}

struct Reverse;

#[async_trait]
impl Reranker for Reverse {
    async fn rerank(&self, _query: &str, mut hits: Vec<Hit>) -> llmops_rag::Result<Vec<Hit>> {
        hits.reverse();
        Ok(hits)
    }
}

#[tokio::test]
async fn reranker_reorders_hits() {
    let plain = retriever(Arc::new(HashEmbedder::new(64))).await;
    let options = RetrievalOptions {
        k: 3,
        ..Default::default()
    };
    let before = plain.retrieve("cats sleep", &options).await.unwrap();
    let reranked = retriever(Arc::new(HashEmbedder::new(64)))
        .await
        .with_reranker(Arc::new(Reverse));
    let after = reranked.retrieve("cats sleep", &options).await.unwrap();
    let mut expected: Vec<String> = before.iter().map(|hit| hit.document_id.clone()).collect();
    expected.reverse();
    let actual: Vec<String> = after.iter().map(|hit| hit.document_id.clone()).collect();
    assert_eq!(actual, expected);
}

#[tokio::test]
async fn bad_queries_are_rejected() {
    let retriever = retriever(Arc::new(HashEmbedder::new(64))).await;
    let options = RetrievalOptions {
        max_query_tokens: 5,
        ..Default::default()
    };
    let error = retriever.retrieve("  ", &options).await.unwrap_err();
    assert!(matches!(error, RagError::EmptyQuery), "{error}");
    let long = "word ".repeat(50);
    let error = retriever.retrieve(&long, &options).await.unwrap_err();
    assert!(
        matches!(error, RagError::QueryTooLong { limit: 5, .. }),
        "{error}"
    );
    // Keyword search embeds nothing, so the embedder's limit does not apply.
    let keyword = RetrievalOptions {
        mode: RetrievalMode::Keyword,
        ..options
    };
    assert!(retriever.retrieve(&long, &keyword).await.is_ok());
}

#[tokio::test]
async fn embedder_mismatch_is_rejected() {
    let retriever = retriever(Arc::new(HashEmbedder::new(64))).await;
    let index = SearchIndex::build(
        &sources(&corpus()),
        &HashEmbedder::new(64),
        &IndexSettings::default(),
        &TokenCounter::new(),
    )
    .await
    .unwrap();
    drop(retriever);
    let error = Retriever::new(Arc::new(index), Arc::new(HashEmbedder::new(32))).err();
    assert!(
        matches!(error, Some(RagError::EmbedderMismatch { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn wrong_vector_length_fails_the_build() {
    let error = SearchIndex::build(
        &sources(&corpus()),
        &common::WrongLengthEmbedder,
        &IndexSettings::default(),
        &TokenCounter::new(),
    )
    .await
    .err();
    assert!(
        matches!(
            error,
            Some(RagError::DimensionMismatch {
                index_dimensions: 8,
                embedder_dimensions: 3,
                ..
            })
        ),
        "{:?}",
        error.map(|error| error.to_string())
    );
}

#[tokio::test]
async fn cache_sends_each_text_once() {
    let counting = common::CountingEmbedder::new(32);
    let cached = CachedEmbedder::new(counting.clone(), 100);
    let texts: Vec<String> = ["a b", "c d", "a b"]
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    let first = cached.embed(&texts).await.unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(first[0], first[2]);
    let again = cached.embed(&texts[..2]).await.unwrap();
    assert_eq!(again[1], first[1]);
    // "a b" twice in the first batch is sent twice; the second batch is cached.
    assert_eq!(counting.texts.load(Ordering::SeqCst), 3);
    assert_eq!(cached.hits(), 2);
}

#[tokio::test]
async fn cache_evicts_oldest_at_capacity() {
    let counting = common::CountingEmbedder::new(8);
    let cached = CachedEmbedder::new(counting.clone(), 1);
    let a = vec!["aa".to_owned()];
    let b = vec!["bb".to_owned()];
    cached.embed(&a).await.unwrap();
    cached.embed(&b).await.unwrap();
    cached.embed(&a).await.unwrap();
    assert_eq!(counting.texts.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn index_round_trips_through_a_file() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("v.index");
    let embedder = HashEmbedder::new(32);
    let index = SearchIndex::build(
        &sources(&corpus()),
        &embedder,
        &IndexSettings::default(),
        &TokenCounter::new(),
    )
    .await
    .unwrap();
    index.save(&path).unwrap();
    let loaded = SearchIndex::load(&path).unwrap();
    assert_eq!(loaded.manifest(), index.manifest());
    assert_eq!(loaded.chunks(), index.chunks());

    std::fs::write(&path, b"LLMRAGIX short").unwrap();
    let error = SearchIndex::load(&path).err();
    assert!(matches!(error, Some(RagError::CorruptIndex { .. })));
    let error = SearchIndex::load(&folder.path().join("missing")).err();
    assert!(matches!(error, Some(RagError::Io { .. })));
}
