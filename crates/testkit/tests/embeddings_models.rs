//! `POST /v1/embeddings` and `GET /v1/models`.
use crate::common;

use common::{client, post};
use llmops_testkit::{Fault, MockServer, Route, Scenario, embedding_for};
use serde_json::{Value, json};

fn url(server: &MockServer) -> String {
    format!("{}/embeddings", server.openai_base_url())
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |symbol: u8| -> u32 {
        match symbol {
            b'A'..=b'Z' => u32::from(symbol - b'A'),
            b'a'..=b'z' => u32::from(symbol - b'a') + 26,
            b'0'..=b'9' => u32::from(symbol - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad symbol {symbol}"),
        }
    };
    let mut bytes = Vec::new();
    for group in text.as_bytes().chunks(4) {
        let symbols: Vec<u8> = group
            .iter()
            .copied()
            .filter(|symbol| *symbol != b'=')
            .collect();
        let mut triple = 0u32;
        for (position, symbol) in symbols.iter().enumerate() {
            triple |= value(*symbol) << (18 - 6 * position);
        }
        let count = symbols.len() - 1;
        bytes.extend_from_slice(&triple.to_be_bytes()[1..=count]);
    }
    bytes
}

#[tokio::test]
async fn embeddings_are_deterministic_per_input() {
    let server = MockServer::builder()
        .embedding_dimension(16)
        .start()
        .await
        .unwrap();
    let request =
        json!({"model": "text-embedding-3-small", "input": ["alpha beta", "감마", "alpha beta"]});
    let reply = post(&url(&server), &request).await;

    assert_eq!(reply.status, 200);
    let body: Value = serde_json::from_slice(&reply.bytes()).unwrap();
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], "text-embedding-3-small");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 5, "total_tokens": 5})
    );
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);

    let vectors: Vec<Vec<f32>> = data
        .iter()
        .enumerate()
        .map(|(index, item)| {
            assert_eq!(item["object"], "embedding");
            assert_eq!(item["index"], index);
            item["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    assert_eq!(vectors[0].len(), 16);
    assert_eq!(vectors[0], vectors[2]);
    assert_ne!(vectors[0], vectors[1]);
    assert_eq!(vectors[1], embedding_for("감마", 16));
}

#[tokio::test]
async fn embeddings_honour_dimensions_and_base64() {
    let server = MockServer::start().await.unwrap();
    let request =
        json!({"model": "e", "input": "hello", "dimensions": 8, "encoding_format": "base64"});
    let reply = post(&url(&server), &request).await;
    let body: Value = serde_json::from_slice(&reply.bytes()).unwrap();
    let encoded = body["data"][0]["embedding"].as_str().unwrap();
    let bytes = decode_base64(encoded);
    assert_eq!(bytes.len(), 32);
    let floats: Vec<f32> = bytes
        .chunks(4)
        .map(|chunk| f32::from_le_bytes(chunk.try_into().unwrap()))
        .collect();
    assert_eq!(floats, embedding_for("hello", 8));
}

#[tokio::test]
async fn embeddings_fault_only_when_routed() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::error(Fault::Unauthorized));
    let request = json!({"model": "e", "input": "x"});
    assert_eq!(post(&url(&server), &request).await.status, 200);
    assert_eq!(
        server.pending_scenarios(),
        1,
        "chat scenarios are not taken by embeddings"
    );

    server.push_for_route(
        Route::Embeddings,
        Scenario::error(Fault::OpenAiRateLimit {
            retry_after_s: Some(1),
        }),
    );
    let reply = post(&url(&server), &request).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("1"));
}

#[tokio::test]
async fn models_lists_configured_ids() {
    let server = MockServer::builder()
        .models(["a-model", "b-model"])
        .start()
        .await
        .unwrap();
    let body: Value = client()
        .get(format!("{}/models", server.openai_base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["object"], "list");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a-model", "b-model"]);
    assert_eq!(body["data"][0]["object"], "model");
}
