//! `POST /v1/embeddings` with a registered embedder, and without one.

#![cfg(feature = "server")]
use crate::server_support;

use std::sync::Arc;

use async_trait::async_trait;
use llmops_core::Embedder;
use llmops_gateway::server::Server;
use llmops_testkit::MockServer;
use serde_json::{Value, json};
use server_support::{Running, gateway_on, start};

/// Embeds a text as `[characters, first code point, 1]`.
struct ShapeEmbedder;

#[async_trait]
impl Embedder for ShapeEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|text| {
                let first = text.chars().next().map_or(0, u32::from);
                vec![text.chars().count() as f32, first as f32, 1.0]
            })
            .collect())
    }

    fn dimensions(&self) -> usize {
        3
    }

    fn model(&self) -> &str {
        "shape-embedder"
    }
}

async fn embed(server: &Running, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.url("/v1/embeddings"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn registered_embedder_serves_floats_and_base64() {
    let mock = MockServer::start().await.unwrap();
    let server =
        start(Server::builder(gateway_on(&mock)).embedder("shapes", Arc::new(ShapeEmbedder))).await;

    let (status, reply) = embed(&server, json!({"model": "shapes", "input": ["ab", "é✓"]})).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["object"], "list");
    assert_eq!(reply["model"], "shapes");
    assert_eq!(reply["data"][0]["embedding"], json!([2.0, 97.0, 1.0]));
    assert_eq!(reply["data"][1]["index"], 1);
    assert_eq!(reply["data"][1]["embedding"], json!([2.0, 233.0, 1.0]));
    assert!(reply["usage"]["prompt_tokens"].as_u64().unwrap() > 0);

    let (status, reply) = embed(
        &server,
        json!({"model": "shapes", "input": "a", "encoding_format": "base64"}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    // [1.0, 97.0, 1.0] as little-endian f32: 0000803f 0000c242 0000803f.
    assert_eq!(reply["data"][0]["embedding"], "AACAPwAAwkIAAIA/");

    let models: Value = reqwest::get(server.url("/v1/models"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][1]["id"], "shapes");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn chat_model_without_embedder_is_clear_404() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock))).await;
    let (status, reply) = embed(&server, json!({"model": "chat", "input": "hello"})).await;
    assert_eq!(status, 404, "{reply}");
    assert_eq!(reply["error"]["code"], "model_not_found");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(message.contains("embedding deployment"), "{message}");
    assert_eq!(mock.request_count(), 0);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn bad_embedding_requests_name_field() {
    let mock = MockServer::start().await.unwrap();
    let server =
        start(Server::builder(gateway_on(&mock)).embedder("shapes", Arc::new(ShapeEmbedder))).await;
    let cases = [
        (json!({"input": "x"}), "model"),
        (json!({"model": "shapes"}), "input"),
        (json!({"model": "shapes", "input": []}), "input"),
        (json!({"model": "shapes", "input": [[1, 2]]}), "input[0]"),
        (
            json!({"model": "shapes", "input": "x", "encoding_format": "hex"}),
            "encoding_format",
        ),
        (
            json!({"model": "shapes", "input": "x", "dimensions": 8}),
            "dimensions",
        ),
    ];
    for (body, param) in cases {
        let (status, reply) = embed(&server, body.clone()).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert_eq!(reply["error"]["param"], param, "{body}: {reply}");
    }
    server.stop().await.unwrap();
}
