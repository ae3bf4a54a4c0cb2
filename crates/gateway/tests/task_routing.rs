//! Routing by the nearest task in meaning, with a deterministic keyword
//! embedder, over the mock provider on loopback. The reason names the task
//! and similarity. Low similarity and embedder failures fall back to the
//! rule classifier, and task examples are embedded once.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use common::*;
use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_core::{Embedder, Error, ModelBackend};
use llmops_gateway::{CallContext, Gateway, GatewayConfig, MemorySink};
use llmops_testkit::MockServer;

/// The words the test embedder counts, one dimension each.
const VOCABULARY: [&str; 8] = [
    "function",
    "bug",
    "compile",
    "rust",
    "translate",
    "french",
    "english",
    "번역",
];

const CODE_EXAMPLES: [&str; 2] = [
    "fix this bug in my function",
    "why does this rust function not compile",
];
const TRANSLATE_EXAMPLES: [&str; 3] = [
    "translate this to french",
    "translate into english",
    "이 문장을 영어로 번역",
];

/// Counts vocabulary words in the lowercased text: a fixed, exact
/// embedding whose similarities the tests can compute by hand.
fn keyword_vector(text: &str) -> Vec<f32> {
    let lower = text.to_lowercase();
    VOCABULARY
        .iter()
        .map(|word| lower.matches(word).count() as f32)
        .collect()
}

#[derive(Default)]
struct KeywordEmbedder {
    texts: AtomicUsize,
    calls: AtomicUsize,
    failing: AtomicBool,
}

#[async_trait]
impl Embedder for KeywordEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::Backend {
                provider: "keywords".to_owned(),
                message: "embedding service down".to_owned(),
            });
        }
        self.texts.fetch_add(texts.len(), Ordering::SeqCst);
        Ok(texts.iter().map(|text| keyword_vector(text)).collect())
    }

    fn dimensions(&self) -> usize {
        VOCABULARY.len()
    }

    fn model(&self) -> &str {
        "keywords"
    }
}

/// Computes the cosine similarity of `query` to the mean of the unit
/// vectors of `examples`, in f64 and apart from the gateway's code.
fn expected_similarity(query: &str, examples: &[&str]) -> f64 {
    let unit = |text: &str| {
        let vector: Vec<f64> = keyword_vector(text).into_iter().map(f64::from).collect();
        let norm = vector.iter().map(|value| value * value).sum::<f64>().sqrt();
        vector
            .into_iter()
            .map(|value| value / norm)
            .collect::<Vec<_>>()
    };
    let mut centroid = vec![0.0; VOCABULARY.len()];
    for example in examples {
        for (total, value) in centroid.iter_mut().zip(unit(example)) {
            *total += value / examples.len() as f64;
        }
    }
    let query = unit(query);
    let dot: f64 = query.iter().zip(&centroid).map(|(a, b)| a * b).sum();
    let norm = centroid
        .iter()
        .map(|value| value * value)
        .sum::<f64>()
        .sqrt();
    dot / norm
}

fn config(mock: &MockServer) -> GatewayConfig {
    let mut config = GatewayConfig::new()
        .retry(quick_retry(0, 1))
        .health(lenient_health())
        .model(single_model(
            "chat",
            vec![openai_on(mock, "chat-a", "model-chat")],
        ))
        .model(single_model(
            "coder",
            vec![openai_on(mock, "coder-a", "model-code")],
        ))
        .model(single_model(
            "translator",
            vec![openai_on(mock, "translator-a", "model-translate")],
        ))
        .route_with_examples("code", "coder", CODE_EXAMPLES)
        .route_with_examples("translate", "translator", TRANSLATE_EXAMPLES)
        .route("summarize", "chat")
        .default_model("chat");
    config.defaults.min_task_similarity = 0.4;
    config
}

fn build_embedded(mock: &MockServer, embedder: Arc<KeywordEmbedder>) -> (Gateway, Arc<MemorySink>) {
    build_with(config(mock), move |builder| builder.task_embedder(embedder))
}

fn auto(text: &str) -> ChatRequest {
    ChatRequest::new("auto", vec![ChatMessage::user(text)])
}

async fn route_of(
    gateway: &Gateway,
    records: &MemorySink,
    request: ChatRequest,
) -> (String, String) {
    gateway.complete(request).await.unwrap();
    let record = records.records().pop().unwrap();
    (record.route.model, record.route.reason)
}

#[tokio::test]
async fn nearest_task_routes_and_names_its_similarity() {
    let mock = MockServer::start().await.unwrap();
    let (gateway, records) = build_embedded(&mock, Arc::default());
    let cases = [
        (
            "This function has a bug",
            "coder",
            "code",
            &CODE_EXAMPLES[..],
        ),
        (
            "Please translate this paragraph to French",
            "translator",
            "translate",
            &TRANSLATE_EXAMPLES[..],
        ),
        (
            "이 글을 번역해 주세요",
            "translator",
            "translate",
            &TRANSLATE_EXAMPLES[..],
        ),
    ];
    for (text, model, task, examples) in cases {
        let similarity = expected_similarity(text, examples);
        assert!(similarity >= 0.4, "{text}: the case needs a match");
        let (routed, reason) = route_of(&gateway, &records, auto(text)).await;
        assert_eq!(routed, model, "{text}");
        assert_eq!(
            reason,
            format!("nearest task \"{task}\" by embedding, similarity {similarity:.2}"),
            "{text}"
        );
    }
    assert_eq!(
        mock.requests()
            .iter()
            .map(|request| request.json.as_ref().unwrap()["model"]
                .as_str()
                .unwrap()
                .to_owned())
            .collect::<Vec<_>>(),
        ["model-code", "model-translate", "model-translate"]
    );
}

#[tokio::test]
async fn low_similarity_falls_back_to_rules() {
    let mock = MockServer::start().await.unwrap();
    let (gateway, records) = build_embedded(&mock, Arc::default());

    // "compile" alone is near code, but under the threshold.
    assert!(expected_similarity("compile", &CODE_EXAMPLES) < 0.4);
    let (model, reason) = route_of(&gateway, &records, auto("compile")).await;
    assert_eq!((model.as_str(), reason.as_str()), ("chat", "default model"));

    // Under the threshold too, but the rule classifier detects code.
    let fenced = "```\nrust\n```";
    assert!(expected_similarity(fenced, &CODE_EXAMPLES) < 0.4);
    let (model, reason) = route_of(&gateway, &records, auto(fenced)).await;
    assert_eq!(
        (model.as_str(), reason.as_str()),
        ("coder", "classifier: code")
    );

    // No vocabulary word: a zero vector matches nothing.
    let (model, reason) = route_of(&gateway, &records, auto("bonjour")).await;
    assert_eq!((model.as_str(), reason.as_str()), ("chat", "default model"));
}

#[tokio::test]
async fn examples_are_embedded_once_and_only_when_needed() {
    let mock = MockServer::start().await.unwrap();
    let embedder = Arc::new(KeywordEmbedder::default());
    let (gateway, records) = build_embedded(&mock, embedder.clone());

    // A configured model name and a routed task tag need no embedding.
    gateway.complete(ask("coder")).await.unwrap();
    gateway
        .complete_with(
            auto("translate this"),
            CallContext::new().with_task("summarize"),
        )
        .await
        .unwrap();
    assert_eq!(embedder.calls.load(Ordering::SeqCst), 0);
    assert_eq!(records.records()[1].route.reason, "task tag \"summarize\"");

    gateway.embed_task_examples().await.unwrap();
    let examples = CODE_EXAMPLES.len() + TRANSLATE_EXAMPLES.len();
    assert_eq!(embedder.texts.load(Ordering::SeqCst), examples);
    for text in ["fix the bug", "translate to english", "한국어로 번역"] {
        gateway.complete(auto(text)).await.unwrap();
    }
    gateway.embed_task_examples().await.unwrap();
    assert_eq!(
        embedder.texts.load(Ordering::SeqCst),
        examples + 3,
        "one text per request, examples once"
    );

    // A request without user text is not embedded.
    let system_only = ChatRequest::new("auto", vec![ChatMessage::system("be brief")]);
    let calls = embedder.calls.load(Ordering::SeqCst);
    gateway.complete(system_only).await.unwrap();
    assert_eq!(embedder.calls.load(Ordering::SeqCst), calls);
}

#[tokio::test]
async fn failing_embedder_falls_back_then_recovers() {
    let mock = MockServer::start().await.unwrap();
    let embedder = Arc::new(KeywordEmbedder::default());
    embedder.failing.store(true, Ordering::SeqCst);
    let (gateway, records) = build_embedded(&mock, embedder.clone());
    assert!(gateway.embed_task_examples().await.is_err());

    let (model, reason) = route_of(&gateway, &records, auto("This function has a bug")).await;
    assert_eq!((model.as_str(), reason.as_str()), ("chat", "default model"));

    embedder.failing.store(false, Ordering::SeqCst);
    let (model, reason) = route_of(&gateway, &records, auto("This function has a bug")).await;
    assert_eq!(model, "coder");
    assert!(reason.starts_with("nearest task \"code\""), "{reason}");
}

#[tokio::test]
async fn concurrent_first_requests_embed_examples_once() {
    let mock = MockServer::start().await.unwrap();
    let embedder = Arc::new(KeywordEmbedder::default());
    let (gateway, _) = build_embedded(&mock, embedder.clone());
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let gateway = gateway.clone();
            tokio::spawn(async move { gateway.complete(auto("rust function")).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let examples = CODE_EXAMPLES.len() + TRANSLATE_EXAMPLES.len();
    assert_eq!(embedder.texts.load(Ordering::SeqCst), examples + 16);
}

#[test]
fn empty_example_and_bad_threshold_are_rejected() {
    let text = r#"
        [defaults]
        min_task_similarity = 1.5

        [[models]]
        name = "chat"

        [[models.deployments]]
        id = "a"
        provider = "openai"
        model = "m"
    "#;
    let error = GatewayConfig::from_toml_str(text).unwrap_err().to_string();
    assert!(error.contains("defaults.min_task_similarity"), "{error}");

    let text = r#"
        [[models]]
        name = "chat"

        [[models.deployments]]
        id = "a"
        provider = "openai"
        model = "m"

        [[routes]]
        task = "code"
        model = "chat"
        examples = ["write a function", "  "]
    "#;
    let error = GatewayConfig::from_toml_str(text).unwrap_err().to_string();
    assert!(error.contains("routes[0].examples[1]"), "{error}");
}
