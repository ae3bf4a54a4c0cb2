//! The server records every request for assertions.
use crate::common;

use common::{chat_request, client, messages_request};
use llmops_testkit::{MockServer, Route, Scenario};
use serde_json::json;

#[tokio::test]
async fn records_method_path_headers_and_body() {
    let server = MockServer::start().await.unwrap();
    let request = chat_request("gpt-4o-mini", "기록 📝", true, true);
    client()
        .post(format!(
            "{}/chat/completions?trace=1",
            server.openai_base_url()
        ))
        .bearer_auth("sk-test")
        .json(&request)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    client()
        .post(format!("{}/v1/messages", server.anthropic_base_url()))
        .header("x-api-key", "anthropic-test")
        .header("anthropic-version", "2023-06-01")
        .json(&messages_request("claude", "hi", false))
        .send()
        .await
        .unwrap();

    let recorded = server.requests();
    assert_eq!(recorded.len(), 2);
    let first = &recorded[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/v1/chat/completions?trace=1");
    assert_eq!(first.route, Some(Route::ChatCompletions));
    assert_eq!(first.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(first.json.as_ref(), Some(&request));
    assert_eq!(first.model(), Some("gpt-4o-mini"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&first.body).unwrap(),
        request
    );

    let second = server.last_request().unwrap();
    assert_eq!(second.route, Some(Route::Messages));
    assert_eq!(second.header("x-api-key"), Some("anthropic-test"));
    assert_eq!(second.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn records_requests_that_fail() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::error(llmops_testkit::Fault::Unauthorized));
    client()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .body("not json")
        .send()
        .await
        .unwrap();
    let recorded = server.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(&recorded[0].body[..], b"not json");
    assert!(recorded[0].json.is_none());
}

#[tokio::test]
async fn reset_clears_scenarios_and_log() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("queued"));
    server.always_for_model("m", Scenario::text("sticky"));
    client()
        .get(format!("{}/models", server.openai_base_url()))
        .send()
        .await
        .unwrap();
    server.reset();
    assert!(server.requests().is_empty());
    assert_eq!(server.pending_scenarios(), 0);
    assert_eq!(server.request_count(), 1);

    let body: serde_json::Value = client()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "echo me"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "You said: echo me"
    );
}
