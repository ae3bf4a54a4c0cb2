//! `SemanticResponseCache` in a real gateway over loopback HTTP, against
//! the testkit mock provider: paraphrases served without an upstream call,
//! scope by model and prompt version, threshold, streaming, opt-out,
//! temperature rule, expiry and size bound.

#![cfg(feature = "gateway")]
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use llmops_core::types::{ChatMessage, ChatRequest, StreamAccumulator};
use llmops_core::{Embedder, ModelBackend};
use llmops_gateway::{
    CacheKind, CallContext, DeploymentConfig, Gateway, GatewayConfig, HealthPolicy, ManualClock,
    MemorySink, ModelConfig, RetryPolicy,
};
use llmops_rag::{
    PROMPT_METADATA_KEY, PROMPT_VERSION_METADATA_KEY, SemanticCacheConfig, SemanticResponseCache,
};
use llmops_testkit::{MockServer, Scenario};

/// A bag-of-concepts embedder: lowercased words, synonyms folded to one
/// concept, each concept one fixed dimension, other words ignored.
/// "What is the capital of France?" and "Tell me France's capital city"
/// both embed as {capital, france}, so their cosine similarity is 1; with
/// Germany in place of France it is 0.5.
struct ConceptEmbedder;

const CONCEPTS: [&str; 8] = [
    "capital",
    "france",
    "germany",
    "population",
    "weather",
    "paris",
    "berlin",
    "river",
];

fn concept(word: &str) -> Option<usize> {
    let word = match word {
        "french" | "france's" => "france",
        "german" | "germany's" => "germany",
        other => other,
    };
    CONCEPTS.iter().position(|known| *known == word)
}

#[async_trait]
impl Embedder for ConceptEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|text| {
                let mut vector = vec![0.0; CONCEPTS.len()];
                for word in text
                    .to_lowercase()
                    .split(|c: char| !(c.is_alphanumeric() || c == '\''))
                {
                    if let Some(index) = concept(word) {
                        vector[index] = 1.0;
                    }
                }
                vector
            })
            .collect())
    }

    fn dimensions(&self) -> usize {
        CONCEPTS.len()
    }

    fn model(&self) -> &str {
        "concepts"
    }
}

const NOON_MS: u64 = 1_796_385_600_000;

struct Setup {
    mock: MockServer,
    gateway: Gateway,
    records: Arc<MemorySink>,
    clock: Arc<ManualClock>,
    cache: Arc<SemanticResponseCache<ConceptEmbedder>>,
}

async fn setup(config: SemanticCacheConfig) -> Setup {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::text("Paris.").with_usage(20, 2));
    mock.always_for_model(
        "model-b",
        Scenario::text("Paris, France.").with_usage(20, 3),
    );
    let deployment = |id: &str, model: &str| {
        DeploymentConfig::new(id, "openai", model).base_url(mock.openai_base_url())
    };
    let gateway_config = GatewayConfig::new()
        .retry(RetryPolicy {
            retries: 0,
            max_attempts: 1,
            base_delay_ms: 0,
            max_delay_ms: 0,
            max_retry_after_ms: 0,
        })
        .health(HealthPolicy {
            min_requests: 1_000,
            ..HealthPolicy::default()
        })
        .model(ModelConfig::new("chat").deployment(deployment("a", "model-a")))
        .model(ModelConfig::new("chat-b").deployment(deployment("b", "model-b")));
    let clock = Arc::new(ManualClock::new(NOON_MS));
    let cache =
        Arc::new(SemanticResponseCache::new(ConceptEmbedder, config).with_clock(clock.clone()));
    let records = Arc::new(MemorySink::new());
    let gateway = Gateway::builder(gateway_config)
        .record_sink(records.clone())
        .clock(clock.clone())
        .semantic_cache(cache.clone())
        .build()
        .unwrap();
    Setup {
        mock,
        gateway,
        records,
        clock,
        cache,
    }
}

/// Builds a deterministic request (temperature 0) to `model`.
fn ask(model: &str, text: &str) -> ChatRequest {
    let mut request = ChatRequest::new(
        model,
        vec![
            ChatMessage::system("Answer in one line."),
            ChatMessage::user(text),
        ],
    );
    request.temperature = Some(0.0);
    request
}

fn with_prompt(mut request: ChatRequest, name: &str, version: &str) -> ChatRequest {
    let mut metadata = serde_json::Map::new();
    metadata.insert(PROMPT_METADATA_KEY.to_owned(), name.into());
    metadata.insert(PROMPT_VERSION_METADATA_KEY.to_owned(), version.into());
    request.metadata = Some(metadata);
    request
}

#[tokio::test]
async fn paraphrase_served_without_upstream_call() {
    let setup = setup(SemanticCacheConfig::default()).await;
    let first = setup
        .gateway
        .complete(ask("chat", "What is the capital of France?"))
        .await
        .unwrap();
    let second = setup
        .gateway
        .complete(ask("chat", "Tell me France's capital city, please"))
        .await
        .unwrap();

    assert_eq!(second, first);
    assert_eq!(setup.mock.request_count(), 1);
    let records = setup.records.records();
    assert_eq!(records.len(), 2);
    assert!(!records[0].cache_hit);
    assert_eq!(records[0].cache_kind, None);
    assert!(records[1].cache_hit);
    assert_eq!(records[1].cache_kind, Some(CacheKind::Semantic));
    assert_eq!(records[1].deployment, None);
    assert_eq!(records[1].usage, None);
    assert_eq!((setup.cache.hits(), setup.cache.misses()), (1, 1));
}

#[tokio::test]
async fn below_threshold_misses() {
    let setup = setup(SemanticCacheConfig::default()).await;
    setup
        .gateway
        .complete(ask("chat", "What is the capital of France?"))
        .await
        .unwrap();
    setup
        .gateway
        .complete(ask("chat", "What is the capital of Germany?"))
        .await
        .unwrap();
    assert_eq!(
        setup.mock.request_count(),
        2,
        "similarity 0.5 is below 0.95"
    );
    assert!(!setup.records.records()[1].cache_hit);
}

#[tokio::test]
async fn lower_threshold_serves_partial_match() {
    let config = SemanticCacheConfig {
        // The cosine of the two questions is 0.5, give or take f32 rounding.
        threshold: 0.49,
        ..SemanticCacheConfig::default()
    };
    let setup = setup(config).await;
    setup
        .gateway
        .complete(ask("chat", "What is the capital of France?"))
        .await
        .unwrap();
    setup
        .gateway
        .complete(ask("chat", "What is the capital of Germany?"))
        .await
        .unwrap();
    assert_eq!(setup.mock.request_count(), 1, "similarity 0.5 meets 0.49");
}

#[tokio::test]
async fn other_model_misses() {
    let setup = setup(SemanticCacheConfig::default()).await;
    setup
        .gateway
        .complete(ask("chat", "What is the capital of France?"))
        .await
        .unwrap();
    let other = setup
        .gateway
        .complete(ask("chat-b", "What is the capital of France?"))
        .await
        .unwrap();
    assert_eq!(other.text(), "Paris, France.");
    assert_eq!(setup.mock.request_count(), 2);
}

#[tokio::test]
async fn other_prompt_version_misses() {
    let setup = setup(SemanticCacheConfig::default()).await;
    let question = "What is the capital of France?";
    let gateway = &setup.gateway;
    gateway
        .complete(with_prompt(ask("chat", question), "geo", "1"))
        .await
        .unwrap();
    gateway
        .complete(with_prompt(ask("chat", question), "geo", "2"))
        .await
        .unwrap();
    assert_eq!(
        setup.mock.request_count(),
        2,
        "version 2 does not read version 1"
    );
    gateway
        .complete(with_prompt(
            ask("chat", "Tell me France's capital"),
            "geo",
            "2",
        ))
        .await
        .unwrap();
    assert_eq!(
        setup.mock.request_count(),
        2,
        "version 2 reads its own entry"
    );
    gateway
        .complete(with_prompt(ask("chat", question), "other-prompt", "2"))
        .await
        .unwrap();
    assert_eq!(setup.mock.request_count(), 3, "another prompt name misses");
}

#[tokio::test]
async fn other_system_prompt_misses() {
    let setup = setup(SemanticCacheConfig::default()).await;
    setup
        .gateway
        .complete(ask("chat", "What is the capital of France?"))
        .await
        .unwrap();
    let mut request = ask("chat", "What is the capital of France?");
    request.messages[0] = ChatMessage::system("Answer in French.");
    setup.gateway.complete(request).await.unwrap();
    assert_eq!(setup.mock.request_count(), 2);
}

#[tokio::test]
async fn stream_served_from_cache() {
    let setup = setup(SemanticCacheConfig::default()).await;
    setup
        .gateway
        .complete(ask("chat", "What is the capital of France?"))
        .await
        .unwrap();
    let mut request = ask("chat", "Tell me the French capital");
    request.stream = Some(true);
    let stream = setup.gateway.stream(request).await.unwrap();
    let chunks: Vec<_> = tokio::time::timeout(Duration::from_secs(20), stream.collect::<Vec<_>>())
        .await
        .unwrap();
    let mut accumulator = StreamAccumulator::default();
    for chunk in &chunks {
        accumulator.push(chunk.as_ref().unwrap());
    }
    assert_eq!(accumulator.finish().text(), "Paris.");
    assert_eq!(setup.mock.request_count(), 1);
    let records = setup.records.records();
    assert!(records[1].stream);
    assert_eq!(records[1].cache_kind, Some(CacheKind::Semantic));
}

#[tokio::test]
async fn streamed_response_is_stored() {
    let setup = setup(SemanticCacheConfig::default()).await;
    let mut request = ask("chat", "What is the capital of France?");
    request.stream = Some(true);
    let stream = setup.gateway.stream(request).await.unwrap();
    let chunks: Vec<_> = tokio::time::timeout(Duration::from_secs(20), stream.collect::<Vec<_>>())
        .await
        .unwrap();
    assert!(chunks.iter().all(Result::is_ok));
    // The stream's settlement stores the response after the last chunk.
    for _ in 0..200 {
        if !setup.cache.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let answer = setup
        .gateway
        .complete(ask("chat", "Tell me France's capital"))
        .await
        .unwrap();
    assert_eq!(answer.text(), "Paris.");
    assert_eq!(setup.mock.request_count(), 1);
}

#[tokio::test]
async fn opt_out_and_warm_requests_skip() {
    let setup = setup(SemanticCacheConfig::default()).await;
    let gateway = &setup.gateway;
    gateway
        .complete(ask("chat", "What is the capital of France?"))
        .await
        .unwrap();
    gateway
        .complete_with(
            ask("chat", "What is the capital of France?"),
            CallContext::new().without_cache(),
        )
        .await
        .unwrap();
    assert_eq!(setup.mock.request_count(), 2, "no_cache skips the lookup");

    let mut warm = ask("chat", "What is the capital of France?");
    warm.temperature = Some(0.7);
    gateway.complete(warm).await.unwrap();
    assert_eq!(
        setup.mock.request_count(),
        3,
        "sampling requests are not cached"
    );
    assert_eq!(setup.cache.len(), 1, "neither was stored");
}

#[tokio::test]
async fn expired_response_misses() {
    let config = SemanticCacheConfig {
        ttl: Duration::from_secs(60),
        ..SemanticCacheConfig::default()
    };
    let setup = setup(config).await;
    setup
        .gateway
        .complete(ask("chat", "What is the capital of France?"))
        .await
        .unwrap();
    setup.clock.advance(Duration::from_secs(59));
    setup
        .gateway
        .complete(ask("chat", "Tell me France's capital"))
        .await
        .unwrap();
    assert_eq!(setup.mock.request_count(), 1, "59 s old is served");
    setup.clock.advance(Duration::from_secs(1));
    setup
        .gateway
        .complete(ask("chat", "Tell me France's capital"))
        .await
        .unwrap();
    assert_eq!(setup.mock.request_count(), 2, "60 s old has expired");
}

#[tokio::test]
async fn capacity_evicts_oldest() {
    let config = SemanticCacheConfig {
        capacity: 2,
        ..SemanticCacheConfig::default()
    };
    let setup = setup(config).await;
    let gateway = &setup.gateway;
    for question in [
        "What is the capital of France?",
        "What is the population of Germany?",
        "What is the weather in Berlin?",
    ] {
        gateway.complete(ask("chat", question)).await.unwrap();
    }
    assert_eq!(setup.cache.len(), 2);
    gateway
        .complete(ask("chat", "What is the weather in Berlin?"))
        .await
        .unwrap();
    assert_eq!(setup.mock.request_count(), 3, "newest entry kept");
    gateway
        .complete(ask("chat", "What is the capital of France?"))
        .await
        .unwrap();
    assert_eq!(setup.mock.request_count(), 4, "oldest entry evicted");
}

#[tokio::test]
async fn concurrent_lookups_and_stores() {
    let setup = setup(SemanticCacheConfig::default()).await;
    let mut tasks = Vec::new();
    for index in 0..16 {
        let gateway = setup.gateway.clone();
        let question = if index % 2 == 0 {
            "What is the capital of France?"
        } else {
            "What is the population of Germany?"
        };
        tasks.push(tokio::spawn(async move {
            gateway.complete(ask("chat", question)).await.unwrap()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().text(), "Paris.");
    }
    let upstream = setup.mock.request_count();
    assert!((2..=16).contains(&upstream), "{upstream} upstream calls");
    setup
        .gateway
        .complete(ask("chat", "Tell me France's capital"))
        .await
        .unwrap();
    assert_eq!(
        setup.mock.request_count(),
        upstream,
        "served after the burst"
    );
}
