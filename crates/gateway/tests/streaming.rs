//! Streams through the gateway: fail-over before content, errors after it,
//! cancellation, and pass-through of recorded streams.

use crate::common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use llmops_core::types::StreamAccumulator;
use llmops_gateway::{CallContext, GatewayConfig, RequestStatus};
use llmops_testkit::{Fault, MockServer, Scenario, recorded};

fn two_deployments(mock: &MockServer) -> GatewayConfig {
    GatewayConfig::new()
        .retry(quick_retry(0, 4))
        .health(lenient_health())
        .model(single_model(
            "chat",
            vec![
                openai_on(mock, "a", "model-a").weight(1_000_000),
                openai_on(mock, "b", "model-b").weight(1),
            ],
        ))
}

fn streamed(model: &str) -> llmops_core::types::ChatRequest {
    let mut request = ask(model);
    request.stream = Some(true);
    request
}

#[tokio::test]
async fn stream_broken_before_content_fails_over() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::text("never shown").disconnect_after(1));
    mock.always_for_model("model-b", Scenario::text_chunks(["Par", "is."]));
    let (gateway, records) = build(two_deployments(&mock));
    let mut stream = gateway
        .stream_with(streamed("chat"), CallContext::new())
        .await
        .unwrap();
    let mut accumulator = StreamAccumulator::default();
    while let Some(chunk) = stream.next().await {
        accumulator.push(&chunk.unwrap());
    }
    assert_eq!(accumulator.text(), "Paris.");
    drop(stream);
    let record = &records.records()[0];
    assert!(record.succeeded(), "{record:?}");
    assert_eq!(record.deployment.as_deref(), Some("b"));
    assert_eq!(record.attempts.len(), 2);
    assert!(record.time_to_first_token_ms.is_some());
}

#[tokio::test]
async fn stream_broken_after_content_reaches_the_client_as_an_error() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model(
        "model-a",
        Scenario::text_chunks(["one ", "two ", "three"]).disconnect_after(3),
    );
    mock.always_for_model("model-b", Scenario::text("must not be used"));
    let (gateway, records) = build(two_deployments(&mock));
    let mut stream = gateway
        .stream_with(streamed("chat"), CallContext::new())
        .await
        .unwrap();
    let mut text = String::new();
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => text.push_str(chunk.delta_text().unwrap_or_default()),
            Err(failure) => {
                error = Some(failure);
                break;
            }
        }
    }
    let error = error.expect("the break reaches the client");
    assert!(!text.is_empty() && !text.contains("must not"), "{text:?}");
    assert!(
        matches!(error, llmops_core::Error::Network { .. }),
        "{error}"
    );
    drop(stream);
    let record = &records.records()[0];
    assert!(
        matches!(record.status, RequestStatus::Error { .. }),
        "{record:?}"
    );
    assert_eq!(record.attempts.len(), 1, "no fail-over after content");
    assert!(mock.requests().iter().all(|r| r.model() == Some("model-a")));
}

#[tokio::test]
async fn dropping_the_stream_cancels_upstream_and_records_it() {
    let mock = MockServer::start().await.unwrap();
    mock.set_default(
        Scenario::text_chunks(["a", "b", "c", "d", "e", "f"])
            .chunk_delay(Duration::from_millis(200)),
    );
    let config = GatewayConfig::new().model(single_model("chat", vec![openai_on(&mock, "a", "m")]));
    let (gateway, records) = build(config);
    let mut stream = gateway
        .stream_with(streamed("chat"), CallContext::new())
        .await
        .unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    mock.wait_for_disconnects(1).await;
    let record = &records.records()[0];
    assert_eq!(record.status, RequestStatus::Cancelled);
}

#[tokio::test]
async fn recorded_tool_call_stream_passes_through_intact() {
    let mock = MockServer::start().await.unwrap();
    let body = recorded::openai::CHAT_STREAM_TOOL_CALLS;
    mock.set_default(Scenario::replay_sse(body).split_every(7));
    let config = GatewayConfig::new().model(single_model(
        "chat",
        vec![openai_on(&mock, "a", "gpt-4o-mini")],
    ));
    let (gateway, records) = build(config);
    let mut request = streamed("chat");
    request.stream_options = Some(serde_json::from_str(r#"{"include_usage": true}"#).unwrap());
    let mut stream = gateway
        .stream_with(request, CallContext::new())
        .await
        .unwrap();
    let mut accumulator = StreamAccumulator::default();
    let mut last_was_usage = false;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        last_was_usage = chunk.usage.is_some() && chunk.choices.is_empty();
        accumulator.push(&chunk);
    }
    drop(stream);
    assert!(last_was_usage, "the usage chunk stays last");
    let usage = accumulator.usage().cloned().unwrap();
    let completion = accumulator.finish();
    let calls = completion.choices[0].message.tool_calls.as_ref().unwrap();
    assert!(!calls.is_empty());
    assert!(serde_json::from_str::<serde_json::Value>(&calls[0].function.arguments).is_ok());
    let record = &records.records()[0];
    assert_eq!(record.usage.as_ref(), Some(&usage));
    assert!(!record.usage_estimated);
}

#[tokio::test]
async fn stream_without_usage_is_counted_and_flagged() {
    let mock = MockServer::start().await.unwrap();
    mock.set_default(Scenario::text("Paris is the capital of France."));
    let config = GatewayConfig::new().model(single_model(
        "chat",
        vec![openai_on(&mock, "a", "gpt-4o-mini")],
    ));
    let (gateway, records) = build(config);
    let mut stream = gateway
        .stream_with(streamed("chat"), CallContext::new())
        .await
        .unwrap();
    while stream.next().await.is_some() {}
    drop(stream);
    let record = &records.records()[0];
    assert!(record.usage_estimated);
    let usage = record.usage.as_ref().unwrap();
    assert!(
        usage.prompt_tokens > 5 && usage.completion_tokens > 3,
        "{usage:?}"
    );
    assert!(record.cost_usd.is_some());
}

#[tokio::test]
async fn first_error_before_any_chunk_fails_over_on_anthropic_too() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("claude-a", Scenario::error(Fault::AnthropicOverloaded));
    mock.always_for_model("claude-b", Scenario::text("ok"));
    let config = GatewayConfig::new()
        .retry(quick_retry(0, 4))
        .health(lenient_health())
        .model(single_model(
            "chat",
            vec![
                anthropic_on(&mock, "a", "claude-a").weight(1_000_000),
                anthropic_on(&mock, "b", "claude-b").weight(1),
            ],
        ));
    let (gateway, records) = build(config);
    let mut stream = gateway
        .stream_with(streamed("chat"), CallContext::new())
        .await
        .unwrap();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        text.push_str(chunk.unwrap().delta_text().unwrap_or_default());
    }
    drop(stream);
    assert_eq!(text, "ok");
    assert_eq!(records.records()[0].deployment.as_deref(), Some("b"));
}
