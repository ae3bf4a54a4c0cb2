//! The official OpenAI Python client (`openai==1.99.0`) against the server:
//! a completion, a stream with usage, the model list and a bad request.
//! Skips when the package is missing, unless `CI=true`.

#![cfg(feature = "server")]
use crate::server_support;

use std::process::Command;

use llmops_gateway::server::Server;
use llmops_testkit::{MockServer, Scenario};
use server_support::{gateway_on, start};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/openai_client.py");

fn openai_importable() -> bool {
    Command::new("python3")
        .args(["-c", "import openai"])
        .output()
        .is_ok_and(|output| output.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_client_round_trip() {
    if !openai_importable() {
        let reason = "skipped: the Python package `openai` is not importable; install it with `python3 -m pip install 'openai==1.99.0'`";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{reason}");
        eprintln!("{reason}");
        return;
    }
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("Hello from the mock").with_usage(9, 4));
    mock.push(Scenario::text("streamed ünïcode ✓").with_usage(6, 3));
    let server = start(Server::builder(gateway_on(&mock))).await;

    let base_url = server.base_url();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([SCRIPT, &base_url, "chat"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );

    let expected = [
        "complete_content: Hello from the mock",
        "complete_finish: stop",
        "complete_prompt_tokens: 9",
        "stream_content: streamed ünïcode ✓",
        "stream_usage_total: 9",
        "stream_last_chunk_has_choices: False",
        "models: chat",
        "bad_request: 400 temperature",
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    for line in expected {
        assert!(
            lines.contains(&line),
            "missing {line:?} in\n{stdout}\nstderr:\n{stderr}"
        );
    }
    server.stop().await.unwrap();
}
