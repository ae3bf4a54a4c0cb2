//! `llmops serve` as a process: argument checks, a configuration in front
//! of a mock provider, and shutdown on SIGTERM.
use crate::serve_support;

use std::process::Command;
use std::time::Duration;

use llmops_testkit::{MockServer, Scenario};
use serve_support::{
    listening_url, llmops, spawn_serve, spawn_serve_with, wait_for_line, wait_for_line_within,
};

#[test]
fn serve_rejects_bad_host() {
    let output = llmops()
        .args(["serve", "--host", "not an address"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("invalid --host"), "{stderr}");
}

#[test]
fn serve_names_missing_config_file() {
    let output = llmops()
        .args(["serve", "--config", "/nonexistent/llmops-gateway.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("/nonexistent/llmops-gateway.toml"),
        "{stderr}"
    );
}

#[test]
fn serve_rejects_invalid_config() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    std::fs::write(
        &path,
        "[[models]]\nname = \"chat\"\nstrategy = \"fastest\"\n",
    )
    .unwrap();
    let output = llmops()
        .args(["serve", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("invalid gateway configuration"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn serve_config_answers_then_stops_on_sigterm() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    mock.push(Scenario::text("served by the mock"));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            "[[models]]\nname = \"chat\"\n\n[[models.deployments]]\nid = \"mock\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{}\"\n",
            mock.openai_base_url()
        ),
    )
    .unwrap();

    let (mut child, lines_rx) = spawn_serve(&path);
    let mut log = Vec::new();
    let base_url = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no listening line; stderr so far: {log:#?}"));
        if let Some(url) = line.strip_prefix("Listening on ") {
            break url.trim().to_owned();
        }
        log.push(line);
    };
    assert!(
        log.iter().any(|line| line.contains("server is open")),
        "the open mode is logged: {log:#?}"
    );

    let reply: serde_json::Value = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{base_url}/chat/completions"))
            .json(&serde_json::json!({
                "model": "chat",
                "messages": [{"role": "user", "content": "hi"}],
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        "served by the mock"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.0.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[cfg(unix)]
#[test]
fn reload_keeps_rate_limit_windows() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            "[[models]]\nname = \"chat\"\n\n[[models.deployments]]\nid = \"mock\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{}\"\n\n[[limits]]\nscope = \"user\"\nid = \"alice\"\nrpm = 2\n",
            mock.openai_base_url()
        ),
    )
    .unwrap();

    let (mut child, lines_rx) = spawn_serve(&path);
    let listening = wait_for_line(&lines_rx, "Listening on ");
    let base_url = listening
        .split("Listening on ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    let status = |runtime: &tokio::runtime::Runtime| {
        runtime.block_on(async {
            reqwest::Client::new()
                .post(format!("{base_url}/chat/completions"))
                .json(&serde_json::json!({
                    "model": "chat",
                    "user": "alice",
                    "messages": [{"role": "user", "content": "hi"}],
                }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    assert_eq!(status(&runtime), 200);
    assert_eq!(status(&runtime), 200);

    let reloaded = Command::new("kill")
        .args(["-HUP", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(reloaded.success());
    wait_for_line(&lines_rx, "configuration reloaded");
    assert_eq!(
        status(&runtime),
        429,
        "the reloaded gateway must keep alice's window of 2 requests"
    );

    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(child.0.wait().unwrap().success());
}

/// A reload may add the first deployment on the embedded model: the server
/// loads the model then, instead of rejecting the configuration.
#[cfg(unix)]
#[test]
fn reload_adds_local_model() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    let mock_model = format!(
        "[[models]]\nname = \"chat\"\n\n[[models.deployments]]\nid = \"mock\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{}\"\n",
        mock.openai_base_url()
    );
    std::fs::write(&path, &mock_model).unwrap();
    let (mut child, lines_rx) = spawn_serve(&path);
    let base_url = listening_url(&lines_rx);
    let ask = |model: &str| {
        runtime.block_on(async {
            let response = reqwest::Client::new()
                .post(format!("{base_url}/chat/completions"))
                .json(&serde_json::json!({
                    "model": model,
                    "max_tokens": 3,
                    "temperature": 0,
                    "messages": [{"role": "user", "content": "Say hi"}],
                }))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        })
    };
    assert_eq!(ask("tiny").0, 404, "no model `tiny` before the reload");

    let with_local = format!(
        "{mock_model}\n[[models]]\nname = \"tiny\"\n\n[[models.deployments]]\nid = \"embedded\"\nprovider = \"local\"\nmodel = \"smollm2-135m-instruct\"\n"
    );
    std::fs::write(&path, with_local).unwrap();
    let reloaded = Command::new("kill")
        .args(["-HUP", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(reloaded.success());
    // Loading the model (and fetching it into an empty cache) takes a while.
    wait_for_line_within(&lines_rx, "configuration reloaded", 600);

    let (status, body) = ask("tiny");
    assert_eq!(status, 200, "{body}");
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!content.is_empty(), "{body}");
    assert_eq!(ask("chat").0, 200, "the mock model keeps serving");

    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(child.0.wait().unwrap().success());
}

#[cfg(unix)]
#[test]
fn serve_dashboard_shows_requests_and_feedback() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    mock.push(Scenario::text("감사합니다, served by the mock"));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            "[transparency]\nnotice = \"AI가 생성한 답변입니다.\"\n\n[[models]]\nname = \"chat\"\n\n[[models.deployments]]\nid = \"mock\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{}\"\n",
            mock.openai_base_url()
        ),
    )
    .unwrap();
    let database = format!("sqlite://{}", folder.path().join("llmops.db").display());
    let (mut child, lines_rx) = spawn_serve_with(&path, &["--database", &database]);
    let api = listening_url(&lines_rx);
    let root = api.trim_end_matches("/v1").to_owned();
    let dashboard_line = wait_for_line(&lines_rx, "Dashboard: ");
    assert!(dashboard_line.ends_with("/dashboard"), "{dashboard_line}");

    runtime.block_on(async {
        let client = reqwest::Client::new();
        let response = client
            .post(format!("{api}/chat/completions"))
            .json(&serde_json::json!({
                "model": "chat",
                "messages": [{"role": "user", "content": "hi"}],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-llmops-ai-generated"], "true");
        let request_id = response.headers()["x-llmops-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let reply: serde_json::Value = response.json().await.unwrap();
        assert_eq!(reply["llmops"]["notice"], "AI가 생성한 답변입니다.");

        let page = client
            .get(format!("{root}/dashboard"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("<html"));

        // The hook records the request on a spawned task after the reply.
        let mut snapshot = serde_json::Value::Null;
        for _ in 0..100 {
            snapshot = client
                .get(format!("{root}/dashboard/api/snapshot?window=1m"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if snapshot["traffic"]["requests"] == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(snapshot["traffic"]["requests"], 1, "{snapshot}");
        assert_eq!(snapshot["traffic"]["errors"], 0);
        assert_eq!(snapshot["cost"]["by_model"][0]["key"], "chat");
        // The database gives the quality, drift and oversight panels a
        // source; nothing was evaluated or checked yet.
        assert_eq!(snapshot["quality"]["status"], "ok", "{snapshot}");
        assert_eq!(snapshot["drift"]["status"], "absent", "{snapshot}");
        assert_eq!(snapshot["oversight"]["status"], "ok", "{snapshot}");
        assert_eq!(snapshot["oversight"]["data"]["pending"], 0);

        let feedback = client
            .post(format!("{api}/feedback"))
            .json(&serde_json::json!({
                "request_id": request_id,
                "rating": 5,
                "comment": "정확해요 <b>great</b>",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(feedback.status(), 201, "{:?}", feedback.text().await);
        let bad = client
            .post(format!("{api}/feedback"))
            .json(&serde_json::json!({"request_id": request_id, "rating": 9}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        let snapshot: serde_json::Value = client
            .get(format!("{root}/dashboard/api/snapshot?window=1h"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(snapshot["feedback"]["data"]["count"], 1, "{snapshot}");
        assert_eq!(
            snapshot["feedback"]["data"]["recent"][0]["comment"],
            "정확해요 <b>great</b>"
        );

        let metrics = client
            .get(format!("{root}/metrics/monitor"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("gen_ai_client_operation_duration_seconds_bucket"),
            "{metrics}"
        );
    });

    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.0.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
}

/// Reads the dashboard's budget rows as (scope, period, limit) triples.
fn monitor_budgets(runtime: &tokio::runtime::Runtime, root: &str) -> Vec<(String, String, f64)> {
    let snapshot: serde_json::Value = runtime.block_on(async {
        reqwest::get(format!("{root}/dashboard/api/snapshot?window=1m"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let mut budgets: Vec<(String, String, f64)> = snapshot["cost"]["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|budget| {
            (
                budget["scope"].as_str().unwrap().to_owned(),
                budget["period"].as_str().unwrap().to_owned(),
                budget["limit_usd"].as_f64().unwrap(),
            )
        })
        .collect();
    budgets.sort_by(|left, right| left.0.cmp(&right.0));
    budgets
}

#[cfg(unix)]
#[test]
fn reload_replaces_monitor_budgets() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    let models = format!(
        "[[models]]\nname = \"chat\"\n\n[[models.deployments]]\nid = \"mock\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{}\"\n",
        mock.openai_base_url()
    );
    let budget = |scope: &str, id: &str, limit: &str, period: &str| {
        format!(
            "\n[[budgets]]\nscope = \"{scope}\"\nid = \"{id}\"\nlimit_usd = \"{limit}\"\nperiod = \"{period}\"\n"
        )
    };
    let first = format!(
        "{models}{}{}",
        budget("team", "search", "10", "day"),
        budget("key", "k-old", "3", "month")
    );
    std::fs::write(&path, first).unwrap();

    let (mut child, lines_rx) = spawn_serve(&path);
    let api = listening_url(&lines_rx);
    let root = api.trim_end_matches("/v1").to_owned();
    assert_eq!(
        monitor_budgets(&runtime, &root),
        vec![
            ("key:k-old".to_owned(), "month".to_owned(), 3.0),
            ("team:search".to_owned(), "day".to_owned(), 10.0),
        ]
    );

    // The team budget's limit changes, the key budget goes, a model
    // budget arrives.
    let second = format!(
        "{models}{}{}",
        budget("team", "search", "25.5", "day"),
        budget("model", "chat", "7", "month")
    );
    std::fs::write(&path, second).unwrap();
    let reloaded = Command::new("kill")
        .args(["-HUP", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(reloaded.success());
    wait_for_line(&lines_rx, "configuration reloaded");
    assert_eq!(
        monitor_budgets(&runtime, &root),
        vec![
            ("model:chat".to_owned(), "month".to_owned(), 7.0),
            ("team:search".to_owned(), "day".to_owned(), 25.5),
        ],
        "budgets replaced, neither stale nor duplicated"
    );

    // A file the gateway rejects leaves the monitor's budgets as they are.
    std::fs::write(
        &path,
        format!("{models}{}", budget("team", "search", "-1", "day")),
    )
    .unwrap();
    Command::new("kill")
        .args(["-HUP", &child.0.id().to_string()])
        .status()
        .unwrap();
    wait_for_line(&lines_rx, "reload rejected");
    assert_eq!(monitor_budgets(&runtime, &root).len(), 2);

    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(child.0.wait().unwrap().success());
}

/// Bodies of `POST /v1/metrics` that a fake collector received.
type MetricBodies = std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>;

/// Starts a fake OTLP/HTTP collector on loopback; returns its base URL.
async fn start_collector(bodies: MetricBodies) -> String {
    let app = axum::Router::new().route(
        "/v1/metrics",
        axum::routing::post(move |body: axum::body::Bytes| {
            let bodies = bodies.clone();
            async move {
                bodies.lock().unwrap().push(body.to_vec());
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[cfg(unix)]
#[test]
fn serve_exports_metrics_over_otlp() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    let bodies = MetricBodies::default();
    let collector = runtime.block_on(start_collector(bodies.clone()));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            "[[models]]\nname = \"chat\"\n\n[[models.deployments]]\nid = \"mock\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{}\"\n",
            mock.openai_base_url()
        ),
    )
    .unwrap();
    let (mut child, lines_rx) = spawn_serve_with(
        &path,
        &["--otlp-endpoint", &collector, "--otlp-interval-secs", "1"],
    );
    let api = listening_url(&lines_rx);
    let exporting = wait_for_line(&lines_rx, "Exporting metrics over OTLP");
    assert!(
        exporting.ends_with(&format!("{collector}/v1/metrics")),
        "{exporting}"
    );

    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{api}/chat/completions"))
            .json(&serde_json::json!({
                "model": "chat",
                "messages": [{"role": "user", "content": "hi"}],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    });

    // Protobuf stores strings as raw bytes, so names show in the body. The
    // token type attribute is only sent with a token usage data point, and
    // the model is recorded under its public name.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let exported = loop {
        let found = bodies.lock().unwrap().iter().any(|body| {
            contains(body, "gen_ai.client.token.usage")
                && contains(body, "gen_ai.token.type")
                && contains(body, "gen_ai.request.model")
        });
        if found || std::time::Instant::now() > deadline {
            break found;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let received = bodies.lock().unwrap().len();
    assert!(
        exported,
        "none of {received} OTLP exports carried the request's token usage"
    );

    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(child.0.wait().unwrap().success());
}

#[test]
fn serve_rejects_bad_otlp_endpoint() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    std::fs::write(
        &path,
        "[[models]]\nname = \"chat\"\n\n[[models.deployments]]\nid = \"mock\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let output = llmops()
        .args(["serve", "--config", path.to_str().unwrap(), "--port", "0"])
        .args(["--otlp-endpoint", "127.0.0.1:4318"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--otlp-endpoint"), "{stderr}");
    assert!(stderr.contains("http://127.0.0.1:4318"), "{stderr}");
}
