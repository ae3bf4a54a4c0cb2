//! Maps every recorded error body onto its `Error` class.

use crate::common;

use std::time::Duration;

use common::{fixture, fixture_path};
use llmops_core::providers::{anthropic, openai};
use llmops_core::{Error, Fallback};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

fn github_rows() -> Vec<Value> {
    std::fs::read_to_string(fixture_path("errors_from_github_issues.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn headers_of(row: &Value) -> HeaderMap {
    let mut map = HeaderMap::new();
    if let Some(headers) = row["headers"].as_object() {
        for (name, value) in headers {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
            );
        }
    }
    map
}

fn class(error: &Error) -> &'static str {
    match error {
        Error::RateLimited { .. } => "rate_limited",
        Error::Overloaded { .. } => "overloaded",
        Error::ContextLengthExceeded { .. } => "context_length",
        Error::ContentPolicy { .. } => "content_policy",
        Error::Authentication { .. } => "authentication",
        Error::InvalidRequest { .. } => "invalid_request",
        Error::UpstreamServer { .. } => "upstream",
        _ => "other",
    }
}

#[test]
fn github_issue_bodies_map_to_classes() {
    let rows = github_rows();
    assert_eq!(rows.len(), 13);
    let mut checked = 0;
    for row in rows.iter().filter(|row| row["transport"] == "http_error") {
        let status = u16::try_from(row["http_status"].as_u64().unwrap()).unwrap();
        let body = row["body"].as_str().unwrap().as_bytes();
        let error = match row["provider"].as_str().unwrap() {
            "openai" => openai::error_from_response("openai", status, &headers_of(row), body),
            _ => anthropic::error_from_response("anthropic", status, &headers_of(row), body),
        };
        let expected = match status {
            429 => "rate_limited",
            529 | 500 => "overloaded",
            400 => "context_length",
            other => panic!("unexpected status {other} in {}", row["source"]),
        };
        assert_eq!(class(&error), expected, "{} -> {error}", row["source"]);
        checked += 1;
    }
    assert_eq!(checked, 12);
}

#[test]
fn openai_context_length_keeps_message() {
    let row = github_rows()
        .into_iter()
        .find(|row| row["provider"] == "openai" && row["http_status"] == 400)
        .unwrap();
    let error = openai::error_from_response(
        "openai",
        400,
        &HeaderMap::new(),
        row["body"].as_str().unwrap().as_bytes(),
    );
    assert!(
        error
            .to_string()
            .contains("maximum context length is 4097 tokens"),
        "{error}"
    );
    assert_eq!(error.fallback(), Fallback::LargerContextWindow);
}

#[test]
fn anthropic_prompt_too_long_both_sizes() {
    let messages: Vec<String> = github_rows()
        .into_iter()
        .filter(|row| row["provider"] == "anthropic" && row["http_status"] == 400)
        .map(|row| {
            let body = row["body"].as_str().unwrap().as_bytes().to_vec();
            let error = anthropic::error_from_response("anthropic", 400, &HeaderMap::new(), &body);
            assert!(
                matches!(error, Error::ContextLengthExceeded { .. }),
                "{error}"
            );
            error.to_string()
        })
        .collect();
    assert_eq!(messages.len(), 2);
    assert!(messages[0].contains("208310 tokens > 200000 maximum"));
    assert!(messages[1].contains("1520294 tokens > 1000000 maximum"));
}

#[test]
fn openai_rate_limit_with_retry_after() {
    let body = br#"{"error":{"message":"Rate limit reached","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#;
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from_static("3"));
    let error = openai::error_from_response("openai", 429, &headers, body);
    assert!(matches!(error, Error::RateLimited { .. }), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));

    headers.insert("retry-after-ms", HeaderValue::from_static("1574"));
    let error = openai::error_from_response("openai", 429, &headers, body);
    assert_eq!(error.retry_after(), Some(Duration::from_millis(1574)));
}

#[test]
fn anthropic_529_with_recorded_headers() {
    let row = github_rows()
        .into_iter()
        .find(|row| row["headers"].is_object())
        .unwrap();
    let mut headers = headers_of(&row);
    headers.insert("retry-after", HeaderValue::from_static("12"));
    let error = anthropic::error_from_response(
        "anthropic",
        529,
        &headers,
        row["body"].as_str().unwrap().as_bytes(),
    );
    assert!(matches!(error, Error::Overloaded { .. }), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(12)));
    assert!(error.retry_may_help());
}

#[test]
fn openai_recorded_error_files() {
    let error = openai::error_from_response(
        "openai",
        401,
        &HeaderMap::new(),
        &fixture("openai/error_401_invalid_api_key.json"),
    );
    assert!(matches!(error, Error::Authentication { .. }), "{error}");
    assert!(
        error.to_string().contains("Incorrect API key provided"),
        "{error}"
    );

    let error = openai::error_from_response(
        "openai",
        400,
        &HeaderMap::new(),
        &fixture("openai/error_400_model_not_found_responses_api.json"),
    );
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error}");

    let error = openai::error_from_response(
        "openai",
        400,
        &HeaderMap::new(),
        &fixture("openai/error_400_unsupported_value.reserialized.json"),
    );
    match &error {
        Error::InvalidRequest { param, .. } => {
            assert_eq!(param.as_deref(), Some("messages[0].role"))
        }
        other => panic!("expected InvalidRequest, got {other}"),
    }
    assert!(
        error.to_string().contains("(field `messages[0].role`)"),
        "{error}"
    );
}

#[test]
fn anthropic_recorded_error_files() {
    let error = anthropic::error_from_response(
        "anthropic",
        401,
        &HeaderMap::new(),
        &fixture("anthropic/error_401_authentication.json"),
    );
    assert!(matches!(error, Error::Authentication { .. }), "{error}");

    for name in [
        "anthropic/error_400_invalid_request.json",
        "anthropic/error_400_with_request_id.reserialized.json",
    ] {
        let error =
            anthropic::error_from_response("anthropic", 400, &HeaderMap::new(), &fixture(name));
        assert!(
            matches!(error, Error::InvalidRequest { .. }),
            "{name}: {error}"
        );
        assert_eq!(error.fallback(), Fallback::None);
    }
}

#[test]
fn openai_status_classes() {
    let body = br#"{"error":{"message":"m","type":"t","param":null,"code":null}}"#;
    let cases = [
        (401, "authentication"),
        (403, "authentication"),
        (404, "invalid_request"),
        (422, "invalid_request"),
        (503, "overloaded"),
        (500, "upstream"),
        (502, "upstream"),
    ];
    for (status, expected) in cases {
        let error = openai::error_from_response("openai", status, &HeaderMap::new(), body);
        assert_eq!(class(&error), expected, "status {status}: {error}");
    }
}

#[test]
fn non_json_bodies_name_status() {
    for status in [400, 429, 500, 529] {
        let error = anthropic::error_from_response(
            "anthropic",
            status,
            &HeaderMap::new(),
            b"<html>nope</html>",
        );
        assert!(
            error.to_string().contains(&format!("HTTP {status}")),
            "{error}"
        );
        let error = openai::error_from_response("openai", status, &HeaderMap::new(), b"");
        assert!(
            error
                .to_string()
                .contains(&format!("HTTP {status}: (empty body)")),
            "{error}"
        );
    }
}
