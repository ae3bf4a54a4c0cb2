//! `llmops serve` with a `[guardrails]` section, in front of a mock
//! provider: redaction before the provider, blocks, streamed output,
//! findings on the dashboard, reload and bad sections.
#![cfg(unix)]
use crate::serve_support;

use std::process::Command;
use std::time::Duration;

use llmops_testkit::{MockServer, Scenario};
use serde_json::{Value, json};
use serve_support::{
    assert_start_fails, listening_url, spawn_serve, stop, wait_for_line, write_config,
};

const RRN: &str = "900101-1234568";
const EMAIL: &str = "kim@example.com";
const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

/// Sends a chat request and returns the status and the body as text.
fn chat(runtime: &tokio::runtime::Runtime, api: &str, body: Value) -> (u16, String) {
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{api}/chat/completions"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    })
}

fn ask(text: &str) -> Value {
    json!({"model": "chat", "messages": [{"role": "user", "content": text}]})
}

fn root_of(api: &str) -> String {
    api.trim_end_matches("/v1").to_owned()
}

/// Reads the guard-findings panel of the dashboard once `expected` names
/// show, since findings are recorded as requests finish.
fn guard_panel(runtime: &tokio::runtime::Runtime, root: &str, expected: &[&str]) -> Value {
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut panel = Value::Null;
        for _ in 0..100 {
            let snapshot: Value = client
                .get(format!("{root}/dashboard/api/snapshot?window=1h"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            panel = snapshot["guard_findings"].clone();
            let names: Vec<&str> = panel
                .as_array()
                .map(|rows| rows.iter().filter_map(|row| row["name"].as_str()).collect())
                .unwrap_or_default();
            if expected.iter().all(|name| names.contains(name)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panel
    })
}

fn count_of(panel: &Value, name: &str) -> u64 {
    panel
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["name"] == name))
        .and_then(|row| row["count"].as_u64())
        .unwrap_or(0)
}

fn monitor_metrics(runtime: &tokio::runtime::Runtime, root: &str) -> String {
    runtime.block_on(async {
        reqwest::get(format!("{root}/metrics/monitor"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    })
}

#[test]
fn pii_is_redacted_before_provider() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    mock.push(Scenario::text("확인했습니다"));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    write_config(&path, &mock, "[guardrails.pii]\n");
    let (child, lines) = spawn_serve(&path);
    let api = listening_url(&lines);

    let prompt = format!("제 주민번호는 {RRN}이고 메일은 {EMAIL} 입니다");
    let (status, body) = chat(&runtime, &api, ask(&prompt));
    assert_eq!(status, 200, "{body}");

    let sent = mock.last_request().expect("the provider got the request");
    let sent = String::from_utf8(sent.body.to_vec()).unwrap();
    assert!(!sent.contains(RRN), "{sent}");
    assert!(!sent.contains(EMAIL), "{sent}");
    assert!(sent.contains("<KR_RRN_1>"), "{sent}");
    assert!(sent.contains("<EMAIL_ADDRESS_1>"), "{sent}");
    assert!(sent.contains("제 주민번호는"), "{sent}");

    let root = root_of(&api);
    let panel = guard_panel(&runtime, &root, &["KR_RRN", "EMAIL_ADDRESS"]);
    assert_eq!(count_of(&panel, "KR_RRN"), 1, "{panel}");
    assert_eq!(count_of(&panel, "EMAIL_ADDRESS"), 1, "{panel}");
    let panel_text = panel.to_string();
    assert!(!panel_text.contains(RRN), "{panel_text}");
    assert!(!panel_text.contains(EMAIL), "{panel_text}");

    let metrics = monitor_metrics(&runtime, &root);
    assert!(
        metrics.contains("llmops_guard_findings_total{llmops_finding=\"KR_RRN\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("llmops_guard_findings_total{llmops_finding=\"EMAIL_ADDRESS\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains(RRN), "{metrics}");
    assert!(!metrics.contains(EMAIL), "{metrics}");
    stop(child);
}

#[test]
fn blocked_request_gets_openai_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    write_config(
        &path,
        &mock,
        "[guardrails.pii]\nactions = { KR_RRN = \"block\" }\n",
    );
    let (child, lines) = spawn_serve(&path);
    let api = listening_url(&lines);

    let (status, body) = chat(&runtime, &api, ask(&format!("주민번호 {RRN} 조회")));
    assert_eq!(status, 400, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["type"], "invalid_request_error", "{body}");
    assert_eq!(error["error"]["code"], "content_policy_violation", "{body}");
    assert!(error["error"]["message"].is_string(), "{body}");
    assert!(!body.contains(RRN), "{body}");
    assert_eq!(mock.request_count(), 0, "no model was called");

    let panel = guard_panel(&runtime, &root_of(&api), &["KR_RRN"]);
    assert_eq!(count_of(&panel, "KR_RRN"), 1, "{panel}");
    stop(child);
}

#[test]
fn streamed_secret_is_redacted() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    // The key is cut into three deltas, so no single chunk contains it.
    mock.push(Scenario::text_chunks([
        "Use the key AKIA",
        "IOSFODNN",
        "7EXAMPLE for the test account.",
    ]));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    write_config(
        &path,
        &mock,
        "[guardrails]\nstream_window_chars = 64\n\n[guardrails.pii]\n",
    );
    let (child, lines) = spawn_serve(&path);
    let api = listening_url(&lines);

    let mut request = ask("What is the key?");
    request["stream"] = json!(true);
    let (status, body) = chat(&runtime, &api, request);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("data: [DONE]"), "{body}");
    let mut text = String::new();
    for line in body.lines() {
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            continue;
        };
        if let Some(piece) = chunk["choices"][0]["delta"]["content"].as_str() {
            text.push_str(piece);
        }
    }
    assert!(!body.contains(AWS_KEY), "{body}");
    assert!(!body.contains("AKIA"), "{body}");
    assert_eq!(text, "Use the key <AWS_ACCESS_KEY_1> for the test account.");

    let panel = guard_panel(&runtime, &root_of(&api), &["AWS_ACCESS_KEY"]);
    assert_eq!(count_of(&panel, "AWS_ACCESS_KEY"), 1, "{panel}");
    stop(child);
}

#[test]
fn output_banned_term_blocks_response() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    mock.push(Scenario::text("Project falcon is internal only"));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    write_config(
        &path,
        &mock,
        "[guardrails.output]\nbanned_terms = [\"internal only\"]\n",
    );
    let (child, lines) = spawn_serve(&path);
    let api = listening_url(&lines);

    let (status, body) = chat(&runtime, &api, ask("Tell me about falcon"));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("content_policy_violation"), "{body}");
    assert!(!body.contains("Project falcon"), "{body}");
    let panel = guard_panel(&runtime, &root_of(&api), &["banned_terms"]);
    assert_eq!(count_of(&panel, "banned_terms"), 1, "{panel}");
    stop(child);
}

#[test]
fn reload_changes_guard_config() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    mock.set_default(Scenario::text("ok"));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    write_config(&path, &mock, "[guardrails.pii]\n");
    let (child, lines) = spawn_serve(&path);
    let api = listening_url(&lines);
    let prompt = format!("mail {EMAIL}");
    assert_eq!(chat(&runtime, &api, ask(&prompt)).0, 200);

    write_config(
        &path,
        &mock,
        "[guardrails.pii]\nactions = { EMAIL_ADDRESS = \"block\" }\n",
    );
    let reload = || {
        let signalled = Command::new("kill")
            .args(["-HUP", &child.0.id().to_string()])
            .status()
            .unwrap();
        assert!(signalled.success());
    };
    reload();
    wait_for_line(&lines, "configuration reloaded");
    let (status, body) = chat(&runtime, &api, ask(&prompt));
    assert_eq!(status, 400, "the reloaded section blocks e-mail: {body}");

    // A bad section is rejected and the blocking guards keep serving.
    write_config(&path, &mock, "[guardrails.pii]\nmin_score = 7\n");
    reload();
    let rejected = wait_for_line(&lines, "configuration reload rejected");
    assert!(rejected.contains("min_score"), "{rejected}");
    assert_eq!(chat(&runtime, &api, ask(&prompt)).0, 400);

    // Without the section the request passes unchanged.
    write_config(&path, &mock, "");
    reload();
    wait_for_line(&lines, "configuration reloaded");
    assert_eq!(chat(&runtime, &api, ask(&prompt)).0, 200);
    let sent = String::from_utf8(mock.last_request().unwrap().body.to_vec()).unwrap();
    assert!(sent.contains(EMAIL), "{sent}");
    stop(child);
}

#[test]
fn bad_guard_section_names_key() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    let cases = [
        ("[guardrails.pii]\nmin_score = 1.5\n", "pii.min_score"),
        ("[guardrails]\nredact = true\n", "unknown field `redact`"),
        ("[guardrails]\n", "enables no guard"),
        (
            "[guardrails.pii]\nactions = { KR_RRN = \"shred\" }\n",
            "shred",
        ),
    ];
    for (section, expected) in cases {
        write_config(&path, &mock, section);
        assert_start_fails(&path, expected);
    }
}
