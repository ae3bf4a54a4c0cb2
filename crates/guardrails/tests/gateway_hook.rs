//! The input guards as a gateway pre-call hook, against a mock provider on
//! loopback: what the provider receives, blocks and routing by tag.

use llmops_core::Error;
use llmops_core::types::{ChatMessage, ChatRequest, ContentPart, MessageContent};
use llmops_gateway::{
    CallContext, DeploymentConfig, Gateway, GatewayConfig, ModelConfig, RetryPolicy,
};
use llmops_guardrails::{Action, GuardHook, Pipeline};
use llmops_testkit::MockServer;

const RRN: &str = "900101-1234568";
const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

fn gateway(mock: &MockServer, hook: std::sync::Arc<GuardHook>) -> Gateway {
    let mut config = GatewayConfig::new().model(
        ModelConfig::new("chat").deployment(
            DeploymentConfig::new("chat-mock", "openai", "gpt-4o-mini")
                .base_url(mock.openai_base_url())
                .tags(["on_prem"]),
        ),
    );
    config.retry = RetryPolicy::single_attempt();
    Gateway::builder(config)
        .pre_call_hook(hook)
        .build()
        .unwrap()
}

fn redacting() -> Pipeline {
    Pipeline::from_toml(
        "[pii]\ndefault_action = \"redact\"\nactions = { AWS_ACCESS_KEY = \"redact\" }\n",
    )
    .unwrap()
}

fn sent_body(mock: &MockServer) -> String {
    let request = mock.last_request().expect("the provider got a request");
    String::from_utf8(request.body.to_vec()).unwrap()
}

#[tokio::test]
async fn provider_never_sees_redacted_values() {
    let mock = MockServer::start().await.unwrap();
    let hook = GuardHook::new(redacting());
    let gateway = gateway(&mock, hook.clone());
    let mut parts = ChatMessage::user("");
    parts.content = Some(MessageContent::Parts(vec![
        ContentPart::text(format!("키는 {AWS_KEY} 입니다")),
        ContentPart::text("no personal data here"),
    ]));
    let request = ChatRequest::new(
        "chat",
        vec![
            ChatMessage::system("Answer briefly."),
            ChatMessage::user(format!("제 주민번호는 {RRN}이고 메일은 kim@example.com")),
            parts,
        ],
    );
    gateway
        .complete_with(request, CallContext::new())
        .await
        .unwrap();

    let body = sent_body(&mock);
    assert!(!body.contains(RRN), "{body}");
    assert!(!body.contains(AWS_KEY), "{body}");
    assert!(!body.contains("kim@example.com"), "{body}");
    assert!(body.contains("<KR_RRN_1>"), "{body}");
    assert!(body.contains("<AWS_ACCESS_KEY_1>"), "{body}");
    assert!(body.contains("no personal data here"), "{body}");

    let events = hook.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, Action::Redact);
    for entity in ["KR_RRN", "EMAIL_ADDRESS", "AWS_ACCESS_KEY"] {
        assert!(
            events[0].entities.iter().any(|found| found == entity),
            "{entity} missing from {:?}",
            events[0].entities
        );
    }
    let logged = format!("{events:?}");
    assert!(
        !logged.contains(RRN) && !logged.contains(AWS_KEY),
        "{logged}"
    );
    assert!(hook.take_events().is_empty(), "events are taken once");
}

#[tokio::test]
async fn clean_request_passes_unchanged() {
    let mock = MockServer::start().await.unwrap();
    let hook = GuardHook::new(redacting());
    let gateway = gateway(&mock, hook.clone());
    let text = "What is the capital of France? 🇫🇷 Order 1700000000000.";
    gateway
        .complete_with(
            ChatRequest::new("chat", vec![ChatMessage::user(text)]),
            CallContext::new(),
        )
        .await
        .unwrap();
    let sent: serde_json::Value = serde_json::from_str(&sent_body(&mock)).unwrap();
    assert_eq!(sent["messages"][0]["content"], text);
    assert!(hook.take_events().is_empty());
}

#[tokio::test]
async fn blocked_secret_never_reaches_the_provider() {
    let mock = MockServer::start().await.unwrap();
    // Secrets block by default.
    let hook = GuardHook::new(Pipeline::from_toml("[pii]\n").unwrap());
    let gateway = gateway(&mock, hook.clone());
    let request = ChatRequest::new(
        "chat",
        vec![ChatMessage::user(format!("deploy with {AWS_KEY}"))],
    );
    let error = gateway
        .complete_with(request, CallContext::new())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ContentPolicy { ref provider, .. } if provider == "guardrails"),
        "{error}"
    );
    assert!(!error.to_string().contains(AWS_KEY), "{error}");
    assert_eq!(mock.request_count(), 0);
    assert_eq!(hook.take_events()[0].action, Action::Block);
}

#[tokio::test]
async fn findings_restrict_routing_to_tagged_deployments() {
    let mock = MockServer::start().await.unwrap();
    let hook = GuardHook::with_tag_on_findings(redacting(), "on_prem");
    let gateway = gateway(&mock, hook);
    let request = ChatRequest::new("chat", vec![ChatMessage::user(format!("RRN {RRN}"))]);
    // The only deployment carries `on_prem`, so the request goes through.
    gateway
        .complete_with(request.clone(), CallContext::new())
        .await
        .unwrap();
    // A tag no deployment carries fails the request instead of sending it.
    let hook = GuardHook::with_tag_on_findings(redacting(), "eu_only");
    let strict = self::gateway(&mock, hook);
    let error = strict
        .complete_with(request, CallContext::new())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("eu_only"), "{error}");
    assert_eq!(mock.request_count(), 1);
}
