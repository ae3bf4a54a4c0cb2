//! The output guards as a gateway output hook, against a mock provider on
//! loopback: redacted and blocked completions, redacted streams, and the
//! events a listener receives.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use llmops_core::Error;
use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_gateway::{
    CallContext, DeploymentConfig, Gateway, GatewayConfig, ModelConfig, RetryPolicy,
};
use llmops_guardrails::{Action, GuardEvent, OutputGuardHook, PipelineConfig};
use llmops_testkit::{MockServer, Scenario};

const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

fn settings(toml: &str) -> PipelineConfig {
    toml::from_str(toml).unwrap()
}

fn gateway(mock: &MockServer, hook: OutputGuardHook) -> Gateway {
    let mut config = GatewayConfig::new().model(
        ModelConfig::new("chat").deployment(
            DeploymentConfig::new("chat-mock", "openai", "gpt-4o-mini")
                .base_url(mock.openai_base_url()),
        ),
    );
    config.retry = RetryPolicy::single_attempt();
    Gateway::builder(config)
        .output_hook(Arc::new(hook))
        .build()
        .unwrap()
}

fn ask() -> ChatRequest {
    ChatRequest::new("chat", vec![ChatMessage::user("Tell me something")])
}

/// Returns a listener that keeps every event it receives, and the events.
fn collecting() -> (
    llmops_guardrails::GuardListener,
    Arc<Mutex<Vec<GuardEvent>>>,
) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let listener: llmops_guardrails::GuardListener =
        Arc::new(move |event: &GuardEvent| sink.lock().unwrap().push(event.clone()));
    (listener, events)
}

async fn streamed_text(gateway: &Gateway) -> String {
    let mut stream = gateway
        .stream_with(ask(), CallContext::new())
        .await
        .unwrap();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        for choice in &chunk.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
        }
    }
    text
}

#[tokio::test]
async fn completion_pii_is_redacted() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("메일은 kim@example.com 입니다"));
    let hook = OutputGuardHook::from_config(&settings("[pii]\n")).unwrap();
    let gateway = gateway(&mock, hook);
    let completion = gateway
        .complete_with(ask(), CallContext::new())
        .await
        .unwrap();
    let text = completion.choices[0].message.text();
    assert!(!text.contains("kim@example.com"), "{text}");
    assert!(text.contains("<EMAIL_ADDRESS_1>"), "{text}");
    assert!(text.starts_with("메일은 "), "{text}");
}

#[tokio::test]
async fn banned_term_blocks_completion() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("This is internal only material"));
    let (listener, events) = collecting();
    let hook =
        OutputGuardHook::from_config(&settings("[output]\nbanned_terms = [\"internal only\"]\n"))
            .unwrap()
            .with_listener(listener);
    let gateway = gateway(&mock, hook);
    let error = gateway
        .complete_with(ask(), CallContext::new())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ContentPolicy { ref provider, .. } if provider == "guardrails"),
        "{error:?}"
    );
    assert!(!error.to_string().contains("material"), "{error}");
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, Action::Block);
    assert_eq!(events[0].guards, ["banned_terms"]);
}

#[tokio::test]
async fn clean_completion_sends_no_event() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("Nothing personal here"));
    let (listener, events) = collecting();
    let hook = OutputGuardHook::from_config(&settings("[pii]\n"))
        .unwrap()
        .with_listener(listener);
    let gateway = gateway(&mock, hook);
    let completion = gateway
        .complete_with(ask(), CallContext::new())
        .await
        .unwrap();
    assert_eq!(
        completion.choices[0].message.text(),
        "Nothing personal here"
    );
    assert!(events.lock().unwrap().is_empty());
}

#[tokio::test]
async fn stream_secret_split_across_chunks_is_redacted() {
    let mock = MockServer::start().await.unwrap();
    // The key arrives in three pieces, so no single chunk contains it.
    mock.push(Scenario::text_chunks([
        "The key is AKIA",
        "IOSFODNN",
        "7EXAMPLE, keep it safe. 안녕히 가세요",
    ]));
    let (listener, events) = collecting();
    let hook = OutputGuardHook::from_config(&settings(
        "[pii]\nactions = { AWS_ACCESS_KEY = \"block\" }\n",
    ))
    .unwrap()
    .with_window_chars(64)
    .with_listener(listener);
    let gateway = gateway(&mock, hook);
    let text = streamed_text(&gateway).await;
    assert!(!text.contains(AWS_KEY), "{text}");
    assert!(!text.contains("AKIA"), "{text}");
    assert_eq!(
        text,
        "The key is <AWS_ACCESS_KEY_1>, keep it safe. 안녕히 가세요"
    );
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1, "one event per stream");
    assert_eq!(events[0].entities, ["AWS_ACCESS_KEY"]);
    assert_eq!(events[0].action, Action::Redact);
}

#[tokio::test]
async fn stream_without_pii_guard_passes_through() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text_chunks(["mail kim@", "example.com"]));
    let hook = OutputGuardHook::from_config(&settings("[output]\nmax_chars = 10\n")).unwrap();
    let gateway = gateway(&mock, hook);
    assert_eq!(streamed_text(&gateway).await, "mail kim@example.com");
}

#[tokio::test]
async fn empty_stream_text_stays_empty() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text_chunks(["", " "]));
    let (listener, events) = collecting();
    let hook = OutputGuardHook::from_config(&settings("[pii]\n"))
        .unwrap()
        .with_listener(listener);
    let gateway = gateway(&mock, hook);
    assert_eq!(streamed_text(&gateway).await, " ");
    assert!(events.lock().unwrap().is_empty());
}
