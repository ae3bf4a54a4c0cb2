//! Output hooks over real loopback HTTP: rewritten completions and
//! streams, cached responses checked again, order of hooks, and a
//! rejected response.

use crate::common;

use std::sync::Arc;

use async_trait::async_trait;
use common::*;
use futures::StreamExt;
use llmops_core::types::{ChatCompletion, ChatRequest, MessageContent};
use llmops_core::{ChatStream, Error};
use llmops_gateway::{CacheConfig, CallContext, Gateway, GatewayConfig, OutputHook};
use llmops_testkit::{MockServer, Scenario};

/// Appends its tag to every completion and to every streamed content
/// delta, and rejects completions that contain `forbidden`.
struct Tagging {
    tag: &'static str,
}

#[async_trait]
impl OutputHook for Tagging {
    fn name(&self) -> &str {
        "tagging"
    }

    async fn check_completion(
        &self,
        _request: &ChatRequest,
        _context: &CallContext,
        completion: &mut ChatCompletion,
    ) -> Result<(), Error> {
        for choice in &mut completion.choices {
            if let Some(MessageContent::Text(text)) = &mut choice.message.content {
                if text.contains("forbidden") {
                    return Err(Error::ContentPolicy {
                        provider: "tagging".to_owned(),
                        message: "the response was blocked".to_owned(),
                    });
                }
                text.push_str(self.tag);
            }
        }
        Ok(())
    }

    fn wrap_stream(
        &self,
        _request: &ChatRequest,
        _context: &CallContext,
        stream: ChatStream,
    ) -> ChatStream {
        let tag = self.tag;
        Box::pin(stream.map(move |chunk| {
            let mut chunk = chunk?;
            for choice in &mut chunk.choices {
                if let Some(content) = &mut choice.delta.content {
                    content.push_str(tag);
                }
            }
            Ok(chunk)
        }))
    }
}

fn start(mock: &MockServer, cache: bool) -> (Gateway, Arc<llmops_gateway::MemorySink>) {
    let config = GatewayConfig::new()
        .retry(quick_retry(0, 1))
        .health(lenient_health())
        .model(single_model("chat", vec![openai_on(mock, "a", "model-a")]))
        .cache(CacheConfig {
            enabled: cache,
            ..CacheConfig::default()
        });
    build_with(config, |builder| {
        builder
            .output_hook(Arc::new(Tagging { tag: "[1]" }))
            .output_hook(Arc::new(Tagging { tag: "[2]" }))
    })
}

fn cold(text: &str) -> ChatRequest {
    let mut request = ChatRequest::new("chat", vec![llmops_core::types::ChatMessage::user(text)]);
    request.temperature = Some(0.0);
    request
}

#[tokio::test]
async fn hooks_rewrite_completion_in_order() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("hello"));
    let (gateway, _) = start(&mock, false);
    let completion = gateway
        .complete_with(cold("hi"), CallContext::new())
        .await
        .unwrap();
    assert_eq!(completion.choices[0].message.text(), "hello[1][2]");
}

#[tokio::test]
async fn cached_response_is_checked_again() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("hello"));
    let (gateway, records) = start(&mock, true);
    for _ in 0..2 {
        let completion = gateway
            .complete_with(cold("hi"), CallContext::new())
            .await
            .unwrap();
        assert_eq!(completion.choices[0].message.text(), "hello[1][2]");
    }
    assert_eq!(
        mock.request_count(),
        1,
        "the second answer came from the cache"
    );
    assert!(records.records()[1].cache_hit);
}

#[tokio::test]
async fn hooks_wrap_stream_in_order() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text_chunks(["a", "b"]));
    let (gateway, _) = start(&mock, false);
    let mut stream = gateway
        .stream_with(cold("hi"), CallContext::new())
        .await
        .unwrap();
    let mut pieces = Vec::new();
    while let Some(chunk) = stream.next().await {
        for choice in &chunk.unwrap().choices {
            if let Some(content) = &choice.delta.content {
                if !content.is_empty() {
                    pieces.push(content.clone());
                }
            }
        }
    }
    assert!(pieces.contains(&"a[1][2]".to_owned()), "{pieces:?}");
    assert!(pieces.contains(&"b[1][2]".to_owned()), "{pieces:?}");
}

#[tokio::test]
async fn rejected_response_reaches_caller_as_error() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("a forbidden answer"));
    let (gateway, records) = start(&mock, false);
    let error = gateway
        .complete_with(cold("hi"), CallContext::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ContentPolicy { .. }), "{error:?}");
    let records = records.records();
    assert_eq!(records.len(), 1);
    assert!(records[0].succeeded(), "the upstream call itself succeeded");
}
