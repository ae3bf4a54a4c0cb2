//! Graceful shutdown that drains running streams, and configuration reload
//! that swaps the gateway without dropping open connections.

#![cfg(feature = "server")]
use crate::server_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use llmops_gateway::server::{Server, ServerError};
use llmops_gateway::{Gateway, GatewayConfig};
use llmops_testkit::{MockServer, Scenario};
use serde_json::{Value, json};
use server_support::{Running, chat_body, gateway_on, start};

const MASTER: &str = "master-secret-for-tests";

fn stream_body(model: &str) -> Value {
    let mut body = chat_body(model, "tell me slowly");
    body["stream"] = json!(true);
    body
}

/// Waits until nothing accepts connections on the server's port.
async fn wait_until_closed(server: &Running) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while tokio::net::TcpStream::connect(server.addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the server kept accepting connections after the shutdown signal");
}

#[tokio::test]
async fn shutdown_drains_running_stream() {
    let mock = MockServer::start().await.unwrap();
    mock.push(
        Scenario::text("one two three four five six seven eight")
            .chunk_delay(Duration::from_millis(150)),
    );
    let mut server = start(Server::builder(gateway_on(&mock))).await;

    let mut response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .json(&stream_body("chat"))
        .send()
        .await
        .unwrap();
    let mut text = String::from_utf8(response.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    server.signal_shutdown();
    wait_until_closed(&server).await;

    while let Some(bytes) = response.chunk().await.unwrap() {
        text.push_str(std::str::from_utf8(&bytes).unwrap());
    }
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    assert!(text.contains(" eight"), "{text}");
    server.join().await.unwrap();
}

#[tokio::test]
async fn drain_timeout_cuts_hung_stream() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("one two three").stall_after(2));
    let mut server =
        start(Server::builder(gateway_on(&mock)).drain_timeout(Duration::from_millis(300))).await;

    let mut response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .json(&stream_body("chat"))
        .send()
        .await
        .unwrap();
    response.chunk().await.unwrap().unwrap();
    server.signal_shutdown();
    tokio::time::timeout(Duration::from_secs(10), server.join())
        .await
        .expect("the server did not stop after its drain timeout")
        .unwrap();
    let mut rest = String::new();
    while let Ok(Some(bytes)) = response.chunk().await {
        rest.push_str(&String::from_utf8_lossy(&bytes));
    }
    assert!(!rest.contains("[DONE]"), "{rest}");
    assert!(rest.contains("event: error\ndata: "), "{rest}");
    assert!(rest.contains("server_shutdown"), "{rest}");
}

fn write_config(path: &Path, mock: &MockServer, model: &str) {
    let text = format!(
        "[[models]]\nname = \"{model}\"\n\n[[models.deployments]]\nid = \"{model}-mock\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{}\"\n",
        mock.openai_base_url()
    );
    std::fs::write(path, text).unwrap();
}

fn reloadable(path: PathBuf) -> impl Fn() -> Result<Gateway, llmops_gateway::GatewayError> {
    move || Gateway::builder(GatewayConfig::load(&path)?).build()
}

async fn model_ids(server: &Running) -> Vec<String> {
    let models: Value = reqwest::Client::new()
        .get(server.url("/v1/models"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|model| model["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn reload_over_http(server: &Running) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.url("/admin/reload"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn reload_swaps_gateway_and_keeps_open_stream() {
    let mock = MockServer::start().await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    write_config(&path, &mock, "alpha");
    let gateway = reloadable(path.clone())().unwrap();
    let server = start(
        Server::builder(gateway)
            .master_key(MASTER)
            .reload_with(reloadable(path.clone())),
    )
    .await;
    let client = reqwest::Client::new();

    mock.push(
        Scenario::text("slow words keep coming after the reload")
            .chunk_delay(Duration::from_millis(100)),
    );
    let mut open_stream = client
        .post(server.url("/v1/chat/completions"))
        .bearer_auth(MASTER)
        .json(&stream_body("alpha"))
        .send()
        .await
        .unwrap();
    let mut text = String::from_utf8(open_stream.chunk().await.unwrap().unwrap().to_vec()).unwrap();

    write_config(&path, &mock, "beta");
    let (status, reply) = reload_over_http(&server).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["models"], json!(["beta"]));
    assert_eq!(model_ids(&server).await, ["beta"]);
    let alpha = client
        .post(server.url("/v1/chat/completions"))
        .bearer_auth(MASTER)
        .json(&chat_body("alpha", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(alpha.status(), 404);

    while let Some(bytes) = open_stream.chunk().await.unwrap() {
        text.push_str(std::str::from_utf8(&bytes).unwrap());
    }
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    assert!(text.contains(" reload"), "{text}");

    std::fs::write(&path, "[[models]]\nname = ").unwrap();
    let (status, reply) = reload_over_http(&server).await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["error"]["code"], "invalid_configuration");
    assert!(matches!(
        server.handle.reload().await,
        Err(ServerError::Gateway(_))
    ));
    assert_eq!(
        model_ids(&server).await,
        ["beta"],
        "the old gateway keeps serving"
    );
    let beta = client
        .post(server.url("/v1/chat/completions"))
        .bearer_auth(MASTER)
        .json(&chat_body("beta", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(beta.status(), 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn reload_without_source_is_rejected() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock)).master_key(MASTER)).await;
    let (status, reply) = reload_over_http(&server).await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--config")
    );
    assert!(matches!(
        server.handle.reload().await,
        Err(ServerError::ReloadUnavailable)
    ));
    server.stop().await.unwrap();
}
