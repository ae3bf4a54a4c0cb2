//! Error faults send the recorded provider bodies and headers.
use crate::common;

use common::{chat_request, messages_request, post};
use llmops_testkit::recorded::{anthropic, openai};
use llmops_testkit::{Fault, MockServer, Scenario};

#[tokio::test]
async fn openai_faults_send_recorded_bodies() {
    let cases: [(Fault, u16, &[u8]); 5] = [
        (
            Fault::OpenAiInvalidApiKey,
            401,
            openai::ERROR_401_INVALID_API_KEY,
        ),
        (
            Fault::OpenAiModelNotFound,
            400,
            openai::ERROR_400_MODEL_NOT_FOUND,
        ),
        (
            Fault::OpenAiContextLengthExceeded,
            400,
            openai::ERROR_400_CONTEXT_LENGTH_REPORTED,
        ),
        (
            Fault::OpenAiRateLimit {
                retry_after_s: None,
            },
            429,
            openai::ERROR_429_RATE_LIMIT_REPORTED,
        ),
        (
            Fault::OpenAiInsufficientQuota,
            429,
            openai::ERROR_429_INSUFFICIENT_QUOTA_REPORTED,
        ),
    ];
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/chat/completions", server.openai_base_url());
    for (fault, status, body) in cases {
        server.push(Scenario::error(fault.clone()));
        let reply = post(&url, &chat_request("m", "q", true, true)).await;
        assert_eq!(reply.status, status, "{fault:?}");
        assert_eq!(reply.bytes(), body, "{fault:?}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(
            reply.header("content-length"),
            Some(body.len().to_string().as_str())
        );
        assert!(reply.header("x-request-id").is_some());
        assert_eq!(reply.header("retry-after"), None);
    }
}

#[tokio::test]
async fn openai_401_body_is_pretty_with_newline() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::error(Fault::OpenAiInvalidApiKey));
    let url = format!("{}/chat/completions", server.openai_base_url());
    let reply = post(&url, &chat_request("m", "q", false, false)).await;
    let text = reply.text();
    assert!(
        text.starts_with("{\n    \"error\": {\n        \"message\""),
        "{text}"
    );
    assert!(text.ends_with("}\n"));
    assert_eq!(reply.bytes().len(), 276);
}

#[tokio::test]
async fn rate_limit_sends_retry_after() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::error(Fault::RateLimit {
        retry_after_s: Some(7),
    }));
    server.push(Scenario::error(Fault::RateLimit {
        retry_after_s: Some(3),
    }));

    let openai_reply = post(
        &format!("{}/chat/completions", server.openai_base_url()),
        &chat_request("m", "q", false, false),
    )
    .await;
    assert_eq!(openai_reply.status, 429);
    assert_eq!(openai_reply.header("retry-after"), Some("7"));
    assert_eq!(openai_reply.bytes(), openai::ERROR_429_RATE_LIMIT_REPORTED);

    let anthropic_reply = post(
        &format!("{}/v1/messages", server.anthropic_base_url()),
        &messages_request("c", "q", false),
    )
    .await;
    assert_eq!(anthropic_reply.status, 429);
    assert_eq!(anthropic_reply.header("retry-after"), Some("3"));
    assert_eq!(anthropic_reply.header("x-should-retry"), Some("true"));
    assert_eq!(
        anthropic_reply.bytes(),
        anthropic::ERROR_429_RATE_LIMIT_REPORTED
    );
}

#[tokio::test]
async fn anthropic_faults_send_recorded_bodies() {
    let cases: [(Fault, u16, &[u8], &str); 6] = [
        (
            Fault::AnthropicInvalidRequest,
            400,
            anthropic::ERROR_400_INVALID_REQUEST,
            "false",
        ),
        (
            Fault::AnthropicAuthentication,
            401,
            anthropic::ERROR_401_AUTHENTICATION,
            "false",
        ),
        (
            Fault::AnthropicPromptTooLong,
            400,
            anthropic::ERROR_400_PROMPT_TOO_LONG_REPORTED,
            "false",
        ),
        (
            Fault::AnthropicRateLimit {
                retry_after_s: None,
            },
            429,
            anthropic::ERROR_429_RATE_LIMIT_REPORTED,
            "true",
        ),
        (
            Fault::AnthropicOverloaded,
            529,
            anthropic::ERROR_529_OVERLOADED_REPORTED,
            "true",
        ),
        (
            Fault::AnthropicOverloadedAs500,
            500,
            anthropic::ERROR_500_OVERLOADED_REPORTED,
            "true",
        ),
    ];
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/v1/messages", server.anthropic_base_url());
    for (fault, status, body, should_retry) in cases {
        server.push(Scenario::error(fault.clone()));
        let reply = post(&url, &messages_request("claude", "q", true)).await;
        assert_eq!(reply.status, status, "{fault:?}");
        assert_eq!(reply.bytes(), body, "{fault:?}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(
            reply.header("x-should-retry"),
            Some(should_retry),
            "{fault:?}"
        );
        assert!(reply.header("request-id").is_some());
    }
}

#[tokio::test]
async fn overloaded_529_matches_reported_headers() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::error(Fault::AnthropicOverloaded));
    let url = format!("{}/v1/messages", server.anthropic_base_url());
    let reply = post(&url, &messages_request("claude", "q", false)).await;
    assert_eq!(reply.status, 529);
    assert_eq!(reply.header("content-length"), Some("75"));
    assert_eq!(reply.header("cache-control"), Some("no-store, no-cache"));
    assert_eq!(
        reply.text(),
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
    );
}

#[tokio::test]
async fn protocol_neutral_faults_follow_route() {
    let server = MockServer::start().await.unwrap();
    let chat_url = format!("{}/chat/completions", server.openai_base_url());
    let messages_url = format!("{}/v1/messages", server.anthropic_base_url());

    server.push(Scenario::error(Fault::ContextLengthExceeded));
    let reply = post(&messages_url, &messages_request("c", "q", false)).await;
    assert_eq!(reply.bytes(), anthropic::ERROR_400_PROMPT_TOO_LONG_REPORTED);

    server.push(Scenario::error(Fault::ContextLengthExceeded));
    let reply = post(&chat_url, &chat_request("m", "q", false, false)).await;
    assert_eq!(reply.bytes(), openai::ERROR_400_CONTEXT_LENGTH_REPORTED);

    server.push(Scenario::error(Fault::Unauthorized));
    let reply = post(&messages_url, &messages_request("c", "q", false)).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.bytes(), anthropic::ERROR_401_AUTHENTICATION);
}

#[tokio::test]
async fn custom_status_fault() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::error(Fault::Status {
        status: 503,
        body: "upstream down".into(),
        content_type: "text/plain".to_owned(),
        headers: vec![("x-custom".to_owned(), "yes".to_owned())],
    }));
    let url = format!("{}/chat/completions", server.openai_base_url());
    let reply = post(&url, &chat_request("m", "q", false, false)).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.text(), "upstream down");
    assert_eq!(reply.header("content-type"), Some("text/plain"));
    assert_eq!(reply.header("x-custom"), Some("yes"));
}

#[tokio::test]
async fn model_a_fails_model_b_succeeds() {
    let server = MockServer::start().await.unwrap();
    server.always_for_model("model-a", Scenario::error(Fault::AnthropicOverloaded));
    let url = format!("{}/chat/completions", server.openai_base_url());
    for _ in 0..3 {
        let failed = post(&url, &chat_request("model-a", "q", false, false)).await;
        assert_eq!(failed.status, 529);
        let served = post(&url, &chat_request("model-b", "q", false, false)).await;
        assert_eq!(served.status, 200);
    }
}

#[tokio::test]
async fn invalid_json_body_gets_400() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/chat/completions", server.openai_base_url());
    let response = common::client()
        .post(&url)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn unknown_path_gets_404() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/v1/nope", server.base_url());
    let response = common::client().post(&url).body("{}").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Invalid URL (/v1/nope)");
    assert_eq!(server.request_count(), 1);
}
