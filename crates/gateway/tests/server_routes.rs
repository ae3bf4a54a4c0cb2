//! Routes an application mounts on the server, who may call them, and the
//! request id header that ties a response to its record.

#![cfg(feature = "server")]
use crate::server_support;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use llmops_gateway::server::{REQUEST_ID_HEADER, Server, ServerBuilder};
use llmops_gateway::{Gateway, MemorySink};
use llmops_testkit::{MockServer, Scenario};
use serde_json::{Value, json};
use server_support::{chat_body, config_on, gateway_on, start};

const MASTER: &str = "master-secret-for-tests";

fn mounted(builder: ServerBuilder) -> ServerBuilder {
    builder
        .routes(Router::new().route("/page", get(|| async { "page" })))
        .authenticated_routes(Router::new().route("/v1/write", post(|| async { "written" })))
}

async fn status(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn request_id_header_matches_record() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("one"));
    mock.push(Scenario::text("two"));
    let records = Arc::new(MemorySink::new());
    let gateway = Gateway::builder(config_on(&mock, &[("chat", "gpt-4o-mini")]))
        .record_sink(records.clone())
        .build()
        .unwrap();
    let server = start(Server::builder(gateway)).await;
    let client = reqwest::Client::new();

    let response = client
        .post(server.url("/v1/chat/completions"))
        .json(&chat_body("chat", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let json_id = response.headers()[REQUEST_ID_HEADER]
        .to_str()
        .unwrap()
        .to_owned();
    response.bytes().await.unwrap();

    let mut body = chat_body("chat", "hi");
    body["stream"] = json!(true);
    let response = client
        .post(server.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let stream_id = response.headers()[REQUEST_ID_HEADER]
        .to_str()
        .unwrap()
        .to_owned();
    response.text().await.unwrap();

    assert!(json_id.starts_with("gw-"), "{json_id}");
    assert_ne!(json_id, stream_id);
    // A stream's record is written when the stream ends, just after the
    // last byte.
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids = records
            .records()
            .into_iter()
            .map(|record| record.id)
            .collect();
        if ids.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ids, vec![json_id, stream_id]);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn failed_request_has_no_header() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock))).await;
    let response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .json(&chat_body("no-such-model", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.headers().get(REQUEST_ID_HEADER).is_none());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn mounted_routes_follow_access_rules() {
    let mock = MockServer::start().await.unwrap();
    let server = start(mounted(
        Server::builder(gateway_on(&mock)).master_key(MASTER),
    ))
    .await;
    let client = reqwest::Client::new();

    let page = client.get(server.url("/page")).send().await.unwrap();
    assert_eq!(page.status(), 200, "loopback reads without a key");
    assert_eq!(page.text().await.unwrap(), "page");

    let write = server.url("/v1/write");
    assert_eq!(status(client.post(&write)).await, 401);
    assert_eq!(
        status(client.post(&write).bearer_auth("sk-llmops-bogus")).await,
        401
    );
    assert_eq!(status(client.post(&write).bearer_auth(MASTER)).await, 200);

    let missing = client.get(server.url("/nowhere")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("routes the application mounted"),
        "{message}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn router_without_peer_address_asks_for_key() {
    let mock = MockServer::start().await.unwrap();
    let server = mounted(Server::builder(gateway_on(&mock)).master_key(MASTER))
        .build()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(axum::serve(listener, server.router()).into_future());
    let client = reqwest::Client::new();
    let page = format!("http://{addr}/page");

    assert_eq!(status(client.get(&page)).await, 401);
    assert_eq!(status(client.get(&page).bearer_auth(MASTER)).await, 200);
    task.abort();
}

#[tokio::test]
async fn open_server_serves_mounted_routes() {
    let mock = MockServer::start().await.unwrap();
    let server = start(mounted(Server::builder(gateway_on(&mock)))).await;
    let client = reqwest::Client::new();
    assert_eq!(status(client.get(server.url("/page"))).await, 200);
    assert_eq!(status(client.post(server.url("/v1/write"))).await, 200);
    server.stop().await.unwrap();
}
