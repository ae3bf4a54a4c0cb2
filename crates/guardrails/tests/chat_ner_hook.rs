//! The gateway hook with a chat-model entity recognizer: names redacted
//! before the provider call, and fail-closed or fail-open on model
//! failures. The entity model and the chat model are both served by one mock
//! server on loopback.

use std::sync::Arc;
use std::time::Duration;

use llmops_core::providers::openai::{OpenAiBackend, OpenAiConfig};
use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_gateway::{
    CallContext, DeploymentConfig, Gateway, GatewayConfig, ModelConfig, RetryPolicy,
};
use llmops_guardrails::{Action, ChatEntityExtractor, FailurePolicy, GuardHook, Pipeline};
use llmops_testkit::{Fault, MockServer, Scenario};
use serde_json::json;

const NER_MODEL: &str = "ner-model";
const CHAT_MODEL: &str = "gpt-4o-mini";
const PROMPT: &str = "My name is Maria Lopez, mail maria.lopez@example.com, and I live in Busan.";

fn hook(mock: &MockServer, on_failure: FailurePolicy) -> Arc<GuardHook> {
    let backend = OpenAiBackend::new(OpenAiConfig::new().base_url(mock.openai_base_url())).unwrap();
    let extractor = ChatEntityExtractor::new(Arc::new(backend), NER_MODEL)
        .with_timeout(Duration::from_millis(300))
        .unwrap();
    let pipeline = Pipeline::from_toml("[injection]\n[pii]\n").unwrap();
    GuardHook::builder(pipeline)
        .entity_model(extractor, on_failure)
        .build()
}

fn gateway(mock: &MockServer, hook: Arc<GuardHook>) -> Gateway {
    let mut config = GatewayConfig::new().model(ModelConfig::new("chat").deployment(
        DeploymentConfig::new("chat-mock", "openai", CHAT_MODEL).base_url(mock.openai_base_url()),
    ));
    config.retry = RetryPolicy::single_attempt();
    Gateway::builder(config)
        .pre_call_hook(hook)
        .build()
        .unwrap()
}

fn request() -> ChatRequest {
    ChatRequest::new(
        "chat",
        vec![
            ChatMessage::system("Answer briefly."),
            ChatMessage::user(PROMPT),
        ],
    )
}

fn chat_bodies(mock: &MockServer) -> Vec<String> {
    mock.requests()
        .into_iter()
        .filter(|r| r.model() == Some(CHAT_MODEL))
        .map(|r| String::from_utf8(r.body.to_vec()).unwrap())
        .collect()
}

#[tokio::test]
async fn names_redacted_before_provider() {
    let mock = MockServer::start().await.unwrap();
    let reply = json!({"entities": [
        {"type": "PERSON", "text": "Maria Lopez"},
        {"type": "LOCATION", "text": "Busan"},
        {"type": "PERSON", "text": "Someone Else"}
    ]});
    mock.push_for_model(NER_MODEL, Scenario::text(reply.to_string()));
    mock.push_for_model(CHAT_MODEL, Scenario::text("Noted."));
    let hook = hook(&mock, FailurePolicy::FailClosed);
    gateway(&mock, hook.clone())
        .complete_with(request(), CallContext::new())
        .await
        .unwrap();

    let ner_requests: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.model() == Some(NER_MODEL))
        .collect();
    assert_eq!(ner_requests.len(), 1);
    let scanned = ner_requests[0].json.as_ref().unwrap()["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(scanned, format!("Answer briefly.\n\n{PROMPT}"));

    let bodies = chat_bodies(&mock);
    assert_eq!(bodies.len(), 1);
    let body = &bodies[0];
    for value in ["Maria Lopez", "maria.lopez@example.com", "Busan"] {
        assert!(!body.contains(value), "{body}");
    }
    assert!(
        body.contains("My name is <PERSON_1>, mail <EMAIL_ADDRESS_1>, and I live in <LOCATION_1>."),
        "{body}"
    );
    let events = hook.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, Action::Redact);
    assert_eq!(events[0].entities, ["PERSON", "EMAIL_ADDRESS", "LOCATION"]);
    assert!(!events[0].entity_model_failed);
}

#[tokio::test]
async fn fail_closed_rejects_on_model_error() {
    let mock = MockServer::start().await.unwrap();
    mock.push_for_model(
        NER_MODEL,
        Scenario::error(Fault::status(503, r#"{"error": {"message": "down"}}"#)),
    );
    let hook = hook(&mock, FailurePolicy::FailClosed);
    let error = gateway(&mock, hook.clone())
        .complete_with(request(), CallContext::new())
        .await
        .unwrap_err();

    let message = error.to_string();
    assert!(message.contains("entity model check failed"), "{message}");
    assert!(message.contains("fail_open"), "{message}");
    assert!(!message.contains("Maria"), "{message}");
    assert!(chat_bodies(&mock).is_empty());
    let events = hook.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, Action::Block);
    assert!(events[0].entity_model_failed);
}

#[tokio::test]
async fn fail_closed_rejects_on_timeout() {
    let mock = MockServer::start().await.unwrap();
    mock.push_for_model(NER_MODEL, Scenario::hang());
    let hook = hook(&mock, FailurePolicy::FailClosed);
    let error = gateway(&mock, hook)
        .complete_with(request(), CallContext::new())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("timed out after 300 ms"),
        "{error}"
    );
    assert!(chat_bodies(&mock).is_empty());
}

#[tokio::test]
async fn fail_open_falls_back_to_patterns() {
    let mock = MockServer::start().await.unwrap();
    mock.push_for_model(NER_MODEL, Scenario::text("no JSON here"));
    mock.push_for_model(CHAT_MODEL, Scenario::text("Noted."));
    let hook = hook(&mock, FailurePolicy::FailOpen);
    gateway(&mock, hook.clone())
        .complete_with(request(), CallContext::new())
        .await
        .unwrap();

    let bodies = chat_bodies(&mock);
    assert_eq!(bodies.len(), 1);
    assert!(bodies[0].contains("<EMAIL_ADDRESS_1>"), "{}", bodies[0]);
    // Without the model, the name is not found; the patterns still work.
    assert!(bodies[0].contains("Maria Lopez"), "{}", bodies[0]);
    let events = hook.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].entities, ["EMAIL_ADDRESS"]);
    assert!(events[0].entity_model_failed);
}
