//! Byte-level checks of the OpenAI Chat Completions replies.
use crate::common;

use common::{chat_request, data_json, post, sse_events};
use llmops_testkit::{MockServer, Scenario};
use serde_json::{Value, json};

fn url(server: &MockServer) -> String {
    format!("{}/chat/completions", server.openai_base_url())
}

#[tokio::test]
async fn non_stream_text_reply_shape() {
    let server = MockServer::start().await.unwrap();
    server.push(
        Scenario::text("Hello there")
            .with_usage(10, 2)
            .with_cached_tokens(4),
    );

    let reply = post(
        &url(&server),
        &chat_request("gpt-4o-mini", "hi", false, false),
    )
    .await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let text = reply.text();
    assert!(text.starts_with("{\n  \"id\": \"chatcmpl-"), "{text}");
    assert!(text.ends_with("}\n"));
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(body["choices"][0]["message"]["content"], "Hello there");
    assert_eq!(body["choices"][0]["message"]["refusal"], Value::Null);
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 10);
    assert_eq!(body["usage"]["completion_tokens"], 2);
    assert_eq!(body["usage"]["total_tokens"], 12);
    assert_eq!(body["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
    assert_eq!(
        body["usage"]["completion_tokens_details"]["reasoning_tokens"],
        0
    );
    assert!(
        body["system_fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("fp_")
    );
}

#[tokio::test]
async fn key_order_matches_recording() {
    let server = MockServer::start().await.unwrap();
    let reply = post(
        &url(&server),
        &chat_request("gpt-4o-mini", "hi", false, false),
    )
    .await;
    let recorded =
        String::from_utf8(llmops_testkit::recorded::openai::CHAT_COMPLETION_TEXT.to_vec()).unwrap();
    let keys = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|line| {
                line.trim_start()
                    .split_once("\":")
                    .map(|(key, _)| key.trim_start_matches('"').to_owned())
            })
            .collect()
    };
    assert_eq!(keys(&reply.text()), keys(&recorded));
}

#[tokio::test]
async fn default_reply_echoes_and_counts_words() {
    let server = MockServer::start().await.unwrap();
    let reply = post(
        &url(&server),
        &chat_request("m", "three word prompt", false, false),
    )
    .await;
    let body: Value = serde_json::from_str(&reply.text()).unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "You said: three word prompt"
    );
    assert_eq!(body["usage"]["prompt_tokens"], 3);
    // "You", " said:", " three", " word", " prompt"
    assert_eq!(body["usage"]["completion_tokens"], 5);
}

#[tokio::test]
async fn stream_with_usage_exact_sequence() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("The capital").with_usage(7, 2));

    let reply = post(&url(&server), &chat_request("gpt-4o-mini", "q", true, true)).await;

    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert!(reply.error.is_none());
    let text = reply.text();
    let events = sse_events(&text);
    assert_eq!(events.len(), 6, "{text}");
    assert!(
        events
            .iter()
            .all(|event| event.starts_with("data: ") && event.ends_with("\n\n"))
    );
    assert_eq!(events[5], "data: [DONE]\n\n");

    let chunks = data_json(&text);
    assert_eq!(chunks.len(), 5);
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "", "refusal": null})
    );
    assert_eq!(chunks[1]["choices"][0]["delta"], json!({"content": "The"}));
    assert_eq!(
        chunks[2]["choices"][0]["delta"],
        json!({"content": " capital"})
    );
    assert_eq!(chunks[3]["choices"][0]["delta"], json!({}));
    assert_eq!(chunks[3]["choices"][0]["finish_reason"], "stop");
    for chunk in &chunks[..4] {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["usage"], Value::Null);
        assert!(chunk.as_object().unwrap().contains_key("usage"));
        assert_eq!(chunk["id"], chunks[0]["id"]);
    }
    assert_eq!(chunks[4]["choices"], json!([]));
    assert_eq!(chunks[4]["usage"]["prompt_tokens"], 7);
    assert_eq!(chunks[4]["usage"]["completion_tokens"], 2);
    assert_eq!(chunks[4]["usage"]["total_tokens"], 9);
}

#[tokio::test]
async fn stream_without_usage_omits_field() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("a b"));
    let reply = post(&url(&server), &chat_request("m", "q", true, false)).await;
    let chunks = data_json(&reply.text());
    assert_eq!(chunks.len(), 4);
    for chunk in &chunks {
        assert!(!chunk.as_object().unwrap().contains_key("usage"), "{chunk}");
        assert_eq!(chunk["choices"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn stream_tool_call_fragments() {
    let server = MockServer::start().await.unwrap();
    server.push(
        Scenario::tool_call("get_capital", r#"{"country":"UK"}"#).and_tool_call("noop", "{}"),
    );

    let reply = post(&url(&server), &chat_request("m", "q", true, true)).await;
    let chunks = data_json(&reply.text());

    let first = &chunks[0]["choices"][0]["delta"];
    assert_eq!(first["role"], "assistant");
    assert_eq!(first["content"], Value::Null);
    assert_eq!(first["tool_calls"][0]["index"], 0);
    assert_eq!(first["tool_calls"][0]["type"], "function");
    assert_eq!(first["tool_calls"][0]["function"]["name"], "get_capital");
    assert_eq!(first["tool_calls"][0]["function"]["arguments"], "");
    assert!(
        first["tool_calls"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("call_")
    );

    let mut arguments = [String::new(), String::new()];
    let mut ids = Vec::new();
    for chunk in &chunks {
        let Some(calls) = chunk["choices"][0]["delta"]["tool_calls"].as_array() else {
            continue;
        };
        let call = &calls[0];
        let index = call["index"].as_u64().unwrap() as usize;
        if let Some(id) = call["id"].as_str() {
            ids.push(id.to_owned());
        }
        arguments[index].push_str(call["function"]["arguments"].as_str().unwrap());
    }
    assert_eq!(
        arguments,
        [r#"{"country":"UK"}"#.to_owned(), "{}".to_owned()]
    );
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
    // Fragments as the recorded stream cuts them: {" country ":" UK "}
    assert_eq!(
        chunks[1]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"],
        "{\""
    );
}

#[tokio::test]
async fn non_stream_tool_call_reply() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::tool_call("lookup", r#"{"city":"서울"}"#));
    let reply = post(&url(&server), &chat_request("m", "q", false, false)).await;
    let body: Value = serde_json::from_str(&reply.text()).unwrap();
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], Value::Null);
    assert_eq!(message["tool_calls"][0]["function"]["name"], "lookup");
    assert_eq!(
        message["tool_calls"][0]["function"]["arguments"],
        r#"{"city":"서울"}"#
    );
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn with_model_overrides_echo() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("x").with_model("gpt-4o-mini-2024-07-18"));
    let reply = post(
        &url(&server),
        &chat_request("gpt-4o-mini", "q", false, false),
    )
    .await;
    let body: Value = serde_json::from_str(&reply.text()).unwrap();
    assert_eq!(body["model"], "gpt-4o-mini-2024-07-18");
}

#[tokio::test]
async fn empty_text_stream_still_finishes() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text(""));
    let reply = post(&url(&server), &chat_request("m", "", true, true)).await;
    let chunks = data_json(&reply.text());
    assert_eq!(chunks.len(), 3);
    assert_eq!(chunks[1]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[2]["usage"]["completion_tokens"], 0);
    assert_eq!(chunks[2]["usage"]["prompt_tokens"], 0);
}

#[tokio::test]
async fn truncated_reply_finishes_with_length() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("cut short").truncated());
    server.push(Scenario::text("cut short").truncated());

    let plain = post(&url(&server), &chat_request("m", "q", false, false)).await;
    let body: Value = serde_json::from_str(&plain.text()).unwrap();
    assert_eq!(body["choices"][0]["finish_reason"], "length");

    let streamed = post(&url(&server), &chat_request("m", "q", true, false)).await;
    let chunks = data_json(&streamed.text());
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "length"
    );
}

#[tokio::test]
async fn text_then_tool_call_reply() {
    let server = MockServer::start().await.unwrap();
    let scenario = Scenario::text("Let me check.").and_tool_call("lookup", r#"{"q":"x"}"#);
    server.push(scenario.clone());
    server.push(scenario);

    let plain = post(&url(&server), &chat_request("m", "q", false, false)).await;
    let body: Value = serde_json::from_str(&plain.text()).unwrap();
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], "Let me check.");
    assert_eq!(message["tool_calls"][0]["function"]["name"], "lookup");
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    // 3 text pieces and 5 argument fragments: {" q ":" x "}
    assert_eq!(body["usage"]["completion_tokens"], 8);

    let streamed = post(&url(&server), &chat_request("m", "q", true, false)).await;
    let chunks = data_json(&streamed.text());
    let roles = chunks
        .iter()
        .filter(|chunk| chunk["choices"][0]["delta"].get("role").is_some())
        .count();
    assert_eq!(roles, 1, "only the first chunk carries the role");
    assert_eq!(chunks[1]["choices"][0]["delta"], json!({"content": "Let"}));
    let head = &chunks[4]["choices"][0]["delta"];
    assert_eq!(head["tool_calls"][0]["function"]["name"], "lookup");
    assert!(head.get("content").is_none());
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}
