//! Recorded provider bodies replay over HTTP byte for byte.
use crate::common;

use common::{chat_request, data_json, post, sse_events};
use llmops_testkit::recorded::{anthropic, openai};
use llmops_testkit::{MockServer, Scenario};

const STREAMS: [&[u8]; 13] = [
    openai::CHAT_STREAM_TOOL_CALLS,
    openai::CHAT_STREAM_TEXT,
    openai::CHAT_STREAM_TOOL_CALLS_2025_05,
    openai::CHAT_STREAM_TEXT_2025_05,
    openai::CHAT_STREAM_CACHED_TOKENS,
    openai::AZURE_CHAT_STREAM,
    openai::RESPONSES_STREAM_TEXT,
    anthropic::MESSAGES_STREAM_TEXT,
    anthropic::MESSAGES_STREAM_TOOL_USE,
    anthropic::MESSAGES_STREAM_THINKING,
    anthropic::MESSAGES_STREAM_CACHE_WRITE,
    anthropic::MESSAGES_STREAM_CACHE_READ,
    anthropic::MESSAGES_STREAM_TEXT_THEN_TOOL_USE,
];

#[tokio::test]
async fn every_recorded_stream_replays_exactly() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/chat/completions", server.openai_base_url());
    for (index, recording) in STREAMS.iter().enumerate() {
        server.push(Scenario::replay_sse(*recording));
        let reply = post(&url, &chat_request("m", "q", false, false)).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("content-type"),
            Some("text/event-stream; charset=utf-8")
        );
        assert_eq!(reply.bytes(), *recording, "recording {index}");
    }
}

#[tokio::test]
async fn replay_disconnect_counts_recorded_events() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/chat/completions", server.openai_base_url());
    server.push(Scenario::replay_sse(openai::CHAT_STREAM_TEXT).disconnect_after(4));
    let reply = post(&url, &chat_request("m", "q", true, true)).await;
    assert!(reply.error.is_some());
    let recorded_events = sse_events(std::str::from_utf8(openai::CHAT_STREAM_TEXT).unwrap());
    assert_eq!(reply.text(), recorded_events[..4].concat());
    assert_eq!(
        data_json(&reply.text())[0]["choices"][0]["delta"]["role"],
        "assistant"
    );
}

#[tokio::test]
async fn replay_json_sends_recorded_body() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/chat/completions", server.openai_base_url());
    server.push(Scenario::replay_json(openai::CHAT_COMPLETION_CACHED_TOKENS));
    let reply = post(&url, &chat_request("m", "q", true, false)).await;
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.bytes(), openai::CHAT_COMPLETION_CACHED_TOKENS);
}
