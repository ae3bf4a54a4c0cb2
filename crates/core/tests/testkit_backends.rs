//! The HTTP backends against the llmops-testkit mock server: streamed
//! replies split across writes, recorded error bodies, stream faults,
//! timeouts per phase and cancellation.

use crate::common;

use std::time::Duration;

use common::{assemble, fixture};
use futures::StreamExt;
use llmops_core::providers::anthropic::{AnthropicBackend, AnthropicConfig};
use llmops_core::providers::openai::{OpenAiBackend, OpenAiConfig};
use llmops_core::types::{
    ChatCompletionChunk, ChatMessage, ChatRequest, FinishReason, StreamOptions,
};
use llmops_core::{Error, ModelBackend, Result, TimeoutPhase};
use llmops_testkit::{Fault, MockServer, Scenario};

/// A guard so a broken test fails instead of hanging; not a timing check.
const GUARD: Duration = Duration::from_secs(20);

fn openai(server: &MockServer) -> OpenAiBackend {
    OpenAiBackend::new(
        OpenAiConfig::new()
            .base_url(server.openai_base_url())
            .api_key("sk-mock-key-1"),
    )
    .unwrap()
}

fn anthropic(server: &MockServer) -> AnthropicBackend {
    AnthropicBackend::new(
        AnthropicConfig::new()
            .base_url(server.anthropic_base_url())
            .api_key("sk-ant-mock-2"),
    )
    .unwrap()
}

/// Both backends against one server, with a label for assertion messages.
fn both(server: &MockServer) -> Vec<(&'static str, Box<dyn ModelBackend>)> {
    vec![
        ("openai", Box::new(openai(server))),
        ("anthropic", Box::new(anthropic(server))),
    ]
}

fn request() -> ChatRequest {
    let mut request = ChatRequest::new("mock-model", vec![ChatMessage::user("Hello there")]);
    request.stream_options = Some(StreamOptions {
        include_usage: Some(true),
        ..StreamOptions::default()
    });
    request
}

async fn collect(backend: &dyn ModelBackend) -> Vec<Result<ChatCompletionChunk>> {
    let stream = backend.stream(request()).await.unwrap();
    tokio::time::timeout(GUARD, stream.collect()).await.unwrap()
}

#[tokio::test]
async fn split_text_stream_assembles() {
    let server = MockServer::start().await.unwrap();
    for (label, backend) in both(&server) {
        server.push(
            Scenario::text("Grüße, 世界! 👋 done")
                .with_usage(7, 5)
                .split_every(3),
        );
        let chunks: Vec<_> = collect(backend.as_ref())
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let completion = assemble(&chunks);
        assert_eq!(completion.text(), "Grüße, 世界! 👋 done", "{label}");
        let usage = completion.usage.unwrap();
        assert_eq!(
            (usage.prompt_tokens, usage.completion_tokens),
            (7, 5),
            "{label}"
        );
    }
}

#[tokio::test]
async fn split_tool_call_stream_assembles() {
    let server = MockServer::start().await.unwrap();
    for (label, backend) in both(&server) {
        server.push(
            Scenario::tool_call("get_weather", r#"{"city":"Paris","days":3}"#)
                .and_tool_call("get_time", r#"{"zone":"CET"}"#)
                .split_every(1),
        );
        let chunks: Vec<_> = collect(backend.as_ref())
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let completion = assemble(&chunks);
        let calls = completion.choices[0].message.tool_calls.clone().unwrap();
        assert_eq!(calls.len(), 2, "{label}");
        assert_eq!(calls[0].function.name, "get_weather", "{label}");
        assert_eq!(
            calls[0].function.arguments, r#"{"city":"Paris","days":3}"#,
            "{label}"
        );
        assert_eq!(calls[1].function.name, "get_time", "{label}");
        assert_eq!(calls[1].function.arguments, r#"{"zone":"CET"}"#, "{label}");
        assert!(!calls[0].id.is_empty(), "{label}");
    }
}

#[tokio::test]
async fn recorded_anthropic_stream_split_replays() {
    let server = MockServer::start().await.unwrap();
    server.push(
        Scenario::replay_sse(fixture("anthropic/messages_stream_cache_read.sse")).split_every(7),
    );
    let chunks: Vec<_> = collect(&anthropic(&server))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let usage = assemble(&chunks).usage.unwrap();
    assert_eq!(usage.prompt_tokens, 11 + 1031);
    assert_eq!(usage.cached_tokens(), 1031);
    assert_eq!(usage.completion_tokens, 100);
}

#[tokio::test]
async fn auth_headers_sent() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("a"));
    openai(&server).complete(request()).await.unwrap();
    let sent = server.last_request().unwrap();
    assert_eq!(sent.header("authorization"), Some("Bearer sk-mock-key-1"));
    assert_eq!(sent.path, "/v1/chat/completions");

    server.push(Scenario::text("a"));
    anthropic(&server).complete(request()).await.unwrap();
    let sent = server.last_request().unwrap();
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-mock-2"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.json.unwrap()["max_tokens"], 4096);
}

#[tokio::test]
async fn rate_limit_with_retry_after() {
    let server = MockServer::start().await.unwrap();
    for (label, backend) in both(&server) {
        server.push(Scenario::error(Fault::RateLimit {
            retry_after_s: Some(2),
        }));
        let error = backend.complete(request()).await.unwrap_err();
        assert!(
            matches!(error, Error::RateLimited { .. }),
            "{label}: {error}"
        );
        assert_eq!(error.retry_after(), Some(Duration::from_secs(2)), "{label}");
    }
}

#[tokio::test]
async fn recorded_faults_map_to_classes() {
    let server = MockServer::start().await.unwrap();
    let backend = anthropic(&server);
    let cases = [
        (Fault::AnthropicOverloaded, "overloaded"),
        (Fault::AnthropicOverloadedAs500, "overloaded"),
        (Fault::AnthropicPromptTooLong, "context"),
        (Fault::AnthropicAuthentication, "auth"),
        (Fault::AnthropicInvalidRequest, "invalid"),
    ];
    for (fault, expected) in cases {
        server.push(Scenario::error(fault.clone()));
        let error = backend.stream(request()).await.err().unwrap();
        let class = match error {
            Error::Overloaded { .. } => "overloaded",
            Error::ContextLengthExceeded { .. } => "context",
            Error::Authentication { .. } => "auth",
            Error::InvalidRequest { .. } => "invalid",
            _ => "other",
        };
        assert_eq!(class, expected, "{fault:?}: {error}");
    }

    let backend = openai(&server);
    let cases = [
        (Fault::OpenAiContextLengthExceeded, "context"),
        (Fault::OpenAiInvalidApiKey, "auth"),
        (Fault::OpenAiModelNotFound, "invalid"),
        (Fault::OpenAiInsufficientQuota, "rate"),
        (Fault::status(503, "<html>unavailable</html>"), "overloaded"),
    ];
    for (fault, expected) in cases {
        server.push(Scenario::error(fault.clone()));
        let error = backend.complete(request()).await.unwrap_err();
        let class = match error {
            Error::Overloaded { .. } => "overloaded",
            Error::ContextLengthExceeded { .. } => "context",
            Error::Authentication { .. } => "auth",
            Error::InvalidRequest { .. } => "invalid",
            Error::RateLimited { .. } => "rate",
            _ => "other",
        };
        assert_eq!(class, expected, "{fault:?}: {error}");
    }
}

#[tokio::test]
async fn disconnect_mid_stream_is_network_error() {
    let server = MockServer::start().await.unwrap();
    for (label, backend) in both(&server) {
        server.push(Scenario::text("one two three four five").disconnect_after(2));
        // The mock aborts the connection right after its writes, and the
        // response head does not always reach the client first, so the
        // error may come from `stream` itself or as the last stream item.
        let error = match backend.stream(request()).await {
            Err(error) => error,
            Ok(stream) => {
                let items: Vec<_> = tokio::time::timeout(GUARD, stream.collect()).await.unwrap();
                assert!(
                    items[..items.len() - 1].iter().all(Result::is_ok),
                    "{label}"
                );
                items.into_iter().last().unwrap().unwrap_err()
            }
        };
        assert!(matches!(error, Error::Network { .. }), "{label}: {error}");
    }
}

#[tokio::test]
async fn malformed_json_is_malformed_response() {
    let server = MockServer::start().await.unwrap();
    for (label, backend) in both(&server) {
        server.push(Scenario::text("one two three").malformed_at(1));
        let items = collect(backend.as_ref()).await;
        let error = items.last().unwrap().as_ref().unwrap_err();
        assert!(
            matches!(error, Error::MalformedResponse { .. }),
            "{label}: {error}"
        );
    }
}

#[tokio::test]
async fn stream_error_event_is_mapped() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("one two three").stream_error_after(2));
    let items = collect(&anthropic(&server)).await;
    let error = items.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(error, Error::Overloaded { .. }), "{error}");

    server.push(Scenario::text("one two three").stream_error_after(2));
    let items = collect(&openai(&server)).await;
    let error = items.last().unwrap().as_ref().unwrap_err();
    assert!(error.retry_may_help(), "{error}");
}

#[tokio::test]
async fn delayed_first_token_times_out() {
    let server = MockServer::start().await.unwrap();
    let timeouts = |first_token_ms| llmops_core::providers::Timeouts {
        first_token: Duration::from_millis(first_token_ms),
        ..llmops_core::providers::Timeouts::default()
    };
    let backends: Vec<(&str, Box<dyn ModelBackend>)> = vec![
        (
            "openai",
            Box::new(
                OpenAiBackend::new(
                    OpenAiConfig::new()
                        .base_url(server.openai_base_url())
                        .timeouts(timeouts(300)),
                )
                .unwrap(),
            ),
        ),
        (
            "anthropic",
            Box::new(
                AnthropicBackend::new(
                    AnthropicConfig::new()
                        .base_url(server.anthropic_base_url())
                        .timeouts(timeouts(300)),
                )
                .unwrap(),
            ),
        ),
    ];
    for (label, backend) in backends {
        server.push(Scenario::text("late words").first_token_delay(Duration::from_secs(30)));
        let items = collect(backend.as_ref()).await;
        let error = items.last().unwrap().as_ref().unwrap_err();
        assert!(
            matches!(
                error,
                Error::Timeout {
                    phase: TimeoutPhase::FirstToken,
                    ..
                }
            ),
            "{label}: {error}"
        );

        server.push(Scenario::text("late head").latency(Duration::from_secs(30)));
        let error = tokio::time::timeout(GUARD, backend.complete(request()))
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Timeout {
                    phase: TimeoutPhase::FirstToken,
                    ..
                }
            ),
            "{label}: {error}"
        );
    }
}

#[tokio::test]
async fn stall_after_output_hits_total_timeout() {
    let server = MockServer::start().await.unwrap();
    let backend = OpenAiBackend::new(
        OpenAiConfig::new()
            .base_url(server.openai_base_url())
            .first_token_timeout(Duration::from_secs(30))
            .total_timeout(Duration::from_millis(500)),
    )
    .unwrap();
    server.push(Scenario::text("one two three four").stall_after(3));
    let items = collect(&backend).await;
    assert!(items[0].is_ok());
    let error = items.last().unwrap().as_ref().unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                phase: TimeoutPhase::Total,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn dropping_stream_disconnects_upstream() {
    let server = MockServer::start().await.unwrap();
    for (count, (label, backend)) in (1..).zip(both(&server)) {
        let words = vec!["word"; 200].join(" ");
        server.push(Scenario::text(words).chunk_delay(Duration::from_millis(20)));
        let mut stream = backend.stream(request()).await.unwrap();
        let first = tokio::time::timeout(GUARD, stream.next()).await.unwrap();
        assert!(first.unwrap().is_ok(), "{label}");
        drop(stream);
        let waited = tokio::time::timeout(GUARD, server.wait_for_disconnects(count)).await;
        assert!(waited.is_ok(), "{label}: the server saw no disconnect");
    }
}

#[tokio::test]
async fn required_key_accepted_or_rejected() {
    let server = MockServer::builder()
        .require_api_key("sk-right")
        .start()
        .await
        .unwrap();
    let right: Vec<(&str, Box<dyn ModelBackend>)> = vec![
        (
            "openai",
            Box::new(
                OpenAiBackend::new(
                    OpenAiConfig::new()
                        .base_url(server.openai_base_url())
                        .api_key("sk-right"),
                )
                .unwrap(),
            ),
        ),
        (
            "anthropic",
            Box::new(
                AnthropicBackend::new(
                    AnthropicConfig::new()
                        .base_url(server.anthropic_base_url())
                        .api_key("sk-right"),
                )
                .unwrap(),
            ),
        ),
    ];
    for (label, backend) in right {
        server.push(Scenario::text("welcome"));
        let completion = backend.complete(request()).await.unwrap();
        assert_eq!(completion.text(), "welcome", "{label}");
    }

    for (label, backend) in both(&server) {
        let error = backend.complete(request()).await.unwrap_err();
        assert!(
            matches!(error, Error::Authentication { .. }),
            "{label}: {error}"
        );
        let rendered = format!("{error} {error:?}");
        assert!(
            !rendered.contains("sk-mock-key-1") && !rendered.contains("sk-ant-mock-2"),
            "{rendered}"
        );
    }
}

#[tokio::test]
async fn truncated_reply_finishes_with_length() {
    let server = MockServer::start().await.unwrap();
    for (label, backend) in both(&server) {
        server.push(Scenario::text("cut short").truncated());
        let completion = backend.complete(request()).await.unwrap();
        assert_eq!(
            completion.choices[0].finish_reason,
            Some(FinishReason::Length),
            "{label}"
        );

        server.push(Scenario::text("cut short").truncated());
        let chunks: Vec<_> = collect(backend.as_ref())
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let finish = assemble(&chunks).choices[0].finish_reason.clone();
        assert_eq!(finish, Some(FinishReason::Length), "{label}");
    }
}
