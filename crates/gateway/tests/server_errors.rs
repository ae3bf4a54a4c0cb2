//! Error replies of the server: OpenAI-shaped bodies that name the field,
//! and upstream error classes mapped to HTTP statuses.

#![cfg(feature = "server")]
use crate::server_support;

use llmops_gateway::server::Server;
use llmops_testkit::{Fault, MockServer, Scenario};
use proptest::prelude::*;
use serde_json::Value;
use server_support::{Running, chat_body, gateway_on, start};

async fn post_raw(server: &Running, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap();
    (status, body)
}

fn assert_openai_error(body: &Value) {
    let error = body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("{body}"));
    for field in ["message", "type", "param", "code"] {
        assert!(error.contains_key(field), "missing {field} in {body}");
    }
    assert!(!error["message"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn bad_requests_are_400_naming_the_field() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock))).await;
    let messages = r#""messages":[{"role":"user","content":"hi"}]"#;
    let cases = [
        ("{not json".to_owned(), None),
        (r#"{"model":"chat"}"#.to_owned(), Some("messages")),
        (format!(r#"{{{messages}}}"#), Some("model")),
        (format!(r#"{{"model":"chat",{messages},"n":0}}"#), Some("n")),
        (
            format!(r#"{{"model":"chat",{messages},"max_tokens":0}}"#),
            Some("max_tokens"),
        ),
        (
            format!(r#"{{"model":"chat",{messages},"temperature":3}}"#),
            Some("temperature"),
        ),
    ];
    for (body, param) in cases {
        let (status, reply) = post_raw(&server, body.clone()).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert_openai_error(&reply);
        assert_eq!(reply["error"]["type"], "invalid_request_error", "{body}");
        assert_eq!(reply["error"]["param"].as_str(), param, "{body}: {reply}");
        if let Some(param) = param {
            let message = reply["error"]["message"].as_str().unwrap();
            assert!(message.contains(param), "{message}");
        }
    }
    assert_eq!(
        mock.request_count(),
        0,
        "no bad request reached the provider"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_model_is_404_model_not_found() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock))).await;
    let (status, reply) = post_raw(&server, chat_body("gpt-9", "hi").to_string()).await;
    assert_eq!(status, 404);
    assert_openai_error(&reply);
    assert_eq!(reply["error"]["code"], "model_not_found");
    assert_eq!(reply["error"]["param"], "model");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gpt-9")
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn oversized_body_is_413() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock)).max_body_bytes(1_024)).await;
    let body = chat_body("chat", &"x".repeat(4_096)).to_string();
    let (status, reply) = post_raw(&server, body).await;
    assert_eq!(status, 413);
    assert_openai_error(&reply);
    assert!(reply["error"]["message"].as_str().unwrap().contains("1024"));

    let (status, _) = post_raw(&server, chat_body("chat", "short").to_string()).await;
    assert_eq!(status, 200, "a body under the limit is served");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn upstream_errors_map_to_statuses() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock))).await;
    let cases = [
        (
            Fault::OpenAiRateLimit {
                retry_after_s: Some(3),
            },
            429,
            Some("rate_limit_exceeded"),
        ),
        (
            Fault::OpenAiContextLengthExceeded,
            400,
            Some("context_length_exceeded"),
        ),
        (
            Fault::OpenAiInvalidApiKey,
            401,
            Some("upstream_authentication_failed"),
        ),
        (
            Fault::status(500, r#"{"error":{"message":"boom"}}"#),
            502,
            Some("upstream_error"),
        ),
        (
            Fault::status(503, r#"{"error":{"message":"busy"}}"#),
            503,
            Some("overloaded"),
        ),
    ];
    for (fault, status, code) in cases {
        let name = format!("{fault:?}");
        mock.push(Scenario::error(fault));
        let response = reqwest::Client::new()
            .post(server.url("/v1/chat/completions"))
            .json(&chat_body("chat", "hi"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{name}");
        if status == 429 {
            assert_eq!(response.headers()["retry-after"], "3", "{name}");
        }
        let reply: Value = response.json().await.unwrap();
        assert_openai_error(&reply);
        assert_eq!(reply["error"]["code"].as_str(), code, "{name}: {reply}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_path_is_openai_404() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock))).await;
    let response = reqwest::get(server.url("/v1/completions")).await.unwrap();
    assert_eq!(response.status(), 404);
    let reply: Value = response.json().await.unwrap();
    assert_openai_error(&reply);
    server.stop().await.unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn arbitrary_bodies_get_json_4xx(body in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "\\PC{0,120}".prop_map(String::into_bytes),
        (any::<i64>(), any::<f64>(), "[a-z]{0,8}").prop_map(|(n, t, model)| format!(
            r#"{{"model":"m-{model}","messages":[{{"role":"user","content":"x"}}],"n":{n},"temperature":{t}}}"#
        ).into_bytes()),
    ]) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mock = MockServer::start().await.unwrap();
            let server = start(Server::builder(gateway_on(&mock))).await;
            let response = reqwest::Client::new()
                .post(server.url("/v1/chat/completions"))
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let reply: Value = response.json().await.unwrap();
            assert!((400..500).contains(&status), "status {status}: {reply}");
            assert_openai_error(&reply);
            server.stop().await.unwrap();
        });
    }
}
