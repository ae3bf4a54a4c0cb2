//! Byte-level checks of the Anthropic Messages replies.
use crate::common;

use common::{data_json, event_names, messages_request, post, sse_events};
use llmops_testkit::{MockServer, Scenario};
use serde_json::{Value, json};

fn url(server: &MockServer) -> String {
    format!("{}/v1/messages", server.anthropic_base_url())
}

#[tokio::test]
async fn non_stream_message_shape() {
    let server = MockServer::start().await.unwrap();
    server.push(
        Scenario::text("Hello")
            .with_usage(100, 3)
            .with_cached_tokens(60)
            .with_cache_creation_tokens(30),
    );

    let reply = post(
        &url(&server),
        &messages_request("claude-haiku-4-5", "hi", false),
    )
    .await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(reply.header("request-id").unwrap().starts_with("req_"));
    let text = reply.text();
    assert!(text.starts_with("{\"id\":\"msg_"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(body["model"], "claude-haiku-4-5");
    assert_eq!(body["content"], json!([{"type": "text", "text": "Hello"}]));
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(body["stop_sequence"], Value::Null);
    assert_eq!(body["usage"]["input_tokens"], 10);
    assert_eq!(body["usage"]["cache_read_input_tokens"], 60);
    assert_eq!(body["usage"]["cache_creation_input_tokens"], 30);
    assert_eq!(body["usage"]["output_tokens"], 3);
}

#[tokio::test]
async fn stream_event_order() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("Hello world").with_usage(10, 2));

    let reply = post(
        &url(&server),
        &messages_request("claude-haiku-4-5", "hi", true),
    )
    .await;

    assert_eq!(
        reply.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    let text = reply.text();
    assert_eq!(
        event_names(&text),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    for event in sse_events(&text) {
        let mut lines = event.lines();
        let name = lines.next().unwrap().strip_prefix("event: ").unwrap();
        let data: Value =
            serde_json::from_str(lines.next().unwrap().strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(
            data["type"], name,
            "event name and type differ in {event:?}"
        );
        assert!(event.ends_with("\n\n"));
    }
    assert!(text.contains("event: ping\ndata: {\"type\": \"ping\"}\n\n"));

    let data = data_json(&text);
    assert_eq!(data[0]["message"]["usage"]["input_tokens"], 10);
    assert_eq!(data[0]["message"]["usage"]["output_tokens"], 1);
    assert_eq!(data[0]["message"]["content"], json!([]));
    assert_eq!(
        data[3]["delta"],
        json!({"type": "text_delta", "text": "Hello"})
    );
    assert_eq!(
        data[4]["delta"],
        json!({"type": "text_delta", "text": " world"})
    );
    assert_eq!(data[6]["delta"]["stop_reason"], "end_turn");
    assert_eq!(data[6]["usage"], json!({"output_tokens": 2}));
}

#[tokio::test]
async fn stream_tool_use_blocks() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::tool_call(
        "get_weather",
        r#"{"location":"San Francisco, CA"}"#,
    ));

    let reply = post(
        &url(&server),
        &messages_request("claude-3-opus", "hi", true),
    )
    .await;
    let text = reply.text();
    let data = data_json(&text);

    let start = data
        .iter()
        .find(|event| event["type"] == "content_block_start")
        .unwrap();
    assert_eq!(start["content_block"]["type"], "tool_use");
    assert_eq!(start["content_block"]["name"], "get_weather");
    assert_eq!(start["content_block"]["input"], json!({}));
    assert!(
        start["content_block"]["id"]
            .as_str()
            .unwrap()
            .starts_with("toolu_")
    );

    let fragments: Vec<&str> = data
        .iter()
        .filter(|event| event["type"] == "content_block_delta")
        .map(|event| {
            assert_eq!(event["delta"]["type"], "input_json_delta");
            event["delta"]["partial_json"].as_str().unwrap()
        })
        .collect();
    assert_eq!(fragments[0], "");
    assert_eq!(fragments.concat(), r#"{"location":"San Francisco, CA"}"#);
    let message_delta = data
        .iter()
        .find(|event| event["type"] == "message_delta")
        .unwrap();
    assert_eq!(message_delta["delta"]["stop_reason"], "tool_use");
}

#[tokio::test]
async fn non_stream_tool_use_input_object() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::tool_call("a", r#"{"x":1}"#).and_tool_call("b", r#"{"y":[2]}"#));
    let reply = post(&url(&server), &messages_request("claude", "hi", false)).await;
    let body: Value = serde_json::from_str(&reply.text()).unwrap();
    assert_eq!(body["content"][0]["type"], "tool_use");
    assert_eq!(body["content"][0]["input"], json!({"x": 1}));
    assert_eq!(body["content"][1]["name"], "b");
    assert_eq!(body["content"][1]["input"], json!({"y": [2]}));
    assert_eq!(body["stop_reason"], "tool_use");
}

#[tokio::test]
async fn default_reply_counts_system_words() {
    let server = MockServer::start().await.unwrap();
    let request = json!({
        "model": "claude",
        "max_tokens": 10,
        "system": "You are terse.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "안녕하세요 👋"}]}]
    });
    let reply = post(&url(&server), &request).await;
    let body: Value = serde_json::from_str(&reply.text()).unwrap();
    assert_eq!(body["content"][0]["text"], "You said: 안녕하세요 👋");
    assert_eq!(body["usage"]["input_tokens"], 5);
    assert_eq!(body["usage"]["output_tokens"], 4);
}

#[tokio::test]
async fn truncated_reply_stops_at_max_tokens() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("cut short").truncated());
    server.push(Scenario::text("cut short").truncated());

    let plain = post(&url(&server), &messages_request("c", "q", false)).await;
    let body: Value = serde_json::from_str(&plain.text()).unwrap();
    assert_eq!(body["stop_reason"], "max_tokens");

    let streamed = post(&url(&server), &messages_request("c", "q", true)).await;
    let data = data_json(&streamed.text());
    let message_delta = data
        .iter()
        .find(|event| event["type"] == "message_delta")
        .unwrap();
    assert_eq!(message_delta["delta"]["stop_reason"], "max_tokens");
}

#[tokio::test]
async fn text_block_before_tool_use() {
    let server = MockServer::start().await.unwrap();
    let scenario = Scenario::text("Checking.").and_tool_call("lookup", r#"{"q":"x"}"#);
    server.push(scenario.clone());
    server.push(scenario);

    let plain = post(&url(&server), &messages_request("c", "q", false)).await;
    let body: Value = serde_json::from_str(&plain.text()).unwrap();
    assert_eq!(
        body["content"][0],
        json!({"type": "text", "text": "Checking."})
    );
    assert_eq!(body["content"][1]["type"], "tool_use");
    assert_eq!(body["content"][1]["input"], json!({"q": "x"}));
    assert_eq!(body["stop_reason"], "tool_use");

    let streamed = post(&url(&server), &messages_request("c", "q", true)).await;
    let text = streamed.text();
    assert_eq!(
        event_names(&text),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let data = data_json(&text);
    assert_eq!(data[5]["index"], 1);
    assert_eq!(data[5]["content_block"]["type"], "tool_use");
    assert_eq!(data[12]["index"], 1);
}
