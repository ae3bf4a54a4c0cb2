//! `OpenAiEmbedder` against the llmops-testkit mock server: request shape,
//! batching, ordering, encodings, retries and malformed responses.

use std::time::Duration;

use llmops_core::providers::openai::{
    EmbeddingEncoding, EmbeddingOptions, OpenAiConfig, OpenAiEmbedder,
};
use llmops_core::{Embedder, Error};
use llmops_testkit::{Fault, MockServer, Route, Scenario, embedding_for};

const KEY: &str = "sk-embed-test-77";

async fn server(dimension: usize) -> MockServer {
    MockServer::builder()
        .embedding_dimension(dimension)
        .require_api_key(KEY)
        .start()
        .await
        .unwrap()
}

fn embedder(server: &MockServer, options: EmbeddingOptions) -> OpenAiEmbedder {
    let options = options.initial_backoff(Duration::from_millis(1));
    OpenAiEmbedder::new(
        OpenAiConfig::new()
            .base_url(server.openai_base_url())
            .api_key(KEY)
            .provider("mock"),
        options,
    )
    .unwrap()
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

#[tokio::test]
async fn vectors_match_inputs_in_order() {
    let server = server(8).await;
    let embedder = embedder(&server, EmbeddingOptions::new("embed-small", 8));
    let input = texts(&["Grüße", "世界", "a longer sentence about cats"]);

    let vectors = embedder.embed(&input).await.unwrap();

    assert_eq!(vectors.len(), 3);
    for (text, vector) in input.iter().zip(&vectors) {
        assert_eq!(vector, &embedding_for(text, 8), "{text}");
    }
    let request = server.last_request().unwrap();
    assert_eq!(request.path, "/v1/embeddings");
    let json = request.json.unwrap();
    assert_eq!(json["model"], "embed-small");
    assert_eq!(json["encoding_format"], "float");
    assert_eq!(json["input"].as_array().unwrap().len(), 3);
    assert!(json.get("dimensions").is_none());
}

#[tokio::test]
async fn batches_split_by_max_inputs() {
    let server = server(4).await;
    let embedder = embedder(
        &server,
        EmbeddingOptions::new("m", 4).max_inputs_per_request(2),
    );
    let input: Vec<String> = (0..5).map(|i| format!("text {i}")).collect();

    let vectors = embedder.embed(&input).await.unwrap();

    assert_eq!(server.request_count(), 3);
    let sizes: Vec<usize> = server
        .requests()
        .iter()
        .map(|request| {
            request.json.as_ref().unwrap()["input"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
    for (text, vector) in input.iter().zip(&vectors) {
        assert_eq!(vector, &embedding_for(text, 4), "{text}");
    }
}

#[tokio::test]
async fn empty_batch_sends_nothing() {
    let server = server(4).await;
    let embedder = embedder(&server, EmbeddingOptions::new("m", 4));
    assert!(embedder.embed(&[]).await.unwrap().is_empty());
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn empty_text_rejected_locally() {
    let server = server(4).await;
    let embedder = embedder(&server, EmbeddingOptions::new("m", 4));
    let error = embedder.embed(&texts(&["a", ""])).await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error}");
    assert!(error.to_string().contains("input[1]"), "{error}");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn base64_and_dimensions_requested() {
    let server = server(16).await;
    let embedder = embedder(
        &server,
        EmbeddingOptions::new("m", 6)
            .request_dimensions(true)
            .encoding(EmbeddingEncoding::Base64),
    );
    let vectors = embedder.embed(&texts(&["x", "y"])).await.unwrap();
    assert_eq!(vectors, vec![embedding_for("x", 6), embedding_for("y", 6)]);
    let json = server.last_request().unwrap().json.unwrap();
    assert_eq!(json["dimensions"], 6);
    assert_eq!(json["encoding_format"], "base64");
}

#[tokio::test]
async fn items_sorted_by_index() {
    let server = server(2).await;
    server.push_for_route(
        Route::Embeddings,
        Scenario::replay_json(
            r#"{"object":"list","data":[
                {"object":"embedding","index":1,"embedding":[0.0,1.0]},
                {"object":"embedding","index":0,"embedding":[1.0,0.0]}],
              "model":"m","usage":{"prompt_tokens":2,"total_tokens":2}}"#,
        ),
    );
    let embedder = embedder(&server, EmbeddingOptions::new("m", 2));
    let vectors = embedder.embed(&texts(&["first", "second"])).await.unwrap();
    assert_eq!(vectors, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
}

#[tokio::test]
async fn rate_limit_then_success_retries() {
    let server = server(4).await;
    server.push_for_route(
        Route::Embeddings,
        Scenario::error(Fault::RateLimit {
            retry_after_s: Some(0),
        }),
    );
    let embedder = embedder(&server, EmbeddingOptions::new("m", 4));
    let vectors = embedder.embed(&texts(&["hello"])).await.unwrap();
    assert_eq!(vectors, vec![embedding_for("hello", 4)]);
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn long_retry_after_not_waited() {
    let server = server(4).await;
    server.push_for_route(
        Route::Embeddings,
        Scenario::error(Fault::RateLimit {
            retry_after_s: Some(120),
        }),
    );
    let embedder = embedder(
        &server,
        EmbeddingOptions::new("m", 4).max_retry_after(Duration::from_secs(5)),
    );
    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();
    assert!(matches!(error, Error::RateLimited { .. }), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn server_error_after_retries() {
    let server = server(4).await;
    server.always_for_route(
        Route::Embeddings,
        Scenario::error(Fault::status(
            500,
            r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#,
        )),
    );
    let embedder = embedder(&server, EmbeddingOptions::new("m", 4).max_retries(2));
    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();
    assert!(
        matches!(error, Error::UpstreamServer { status: 500, .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("had an error while processing"),
        "{error}"
    );
    assert_eq!(server.request_count(), 3, "first call and two retries");
}

#[tokio::test]
async fn invalid_request_not_retried() {
    let server = server(4).await;
    server.push_for_route(
        Route::Embeddings,
        Scenario::error(Fault::OpenAiModelNotFound),
    );
    let embedder = embedder(&server, EmbeddingOptions::new("m", 4));
    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();
    assert_eq!(server.request_count(), 1);
    assert!(
        matches!(error.fallback(), llmops_core::Fallback::None),
        "{error}"
    );
}

#[tokio::test]
async fn wrong_key_is_authentication_error() {
    let server = server(4).await;
    let embedder = OpenAiEmbedder::new(
        OpenAiConfig::new()
            .base_url(server.openai_base_url())
            .api_key("sk-wrong"),
        EmbeddingOptions::new("m", 4),
    )
    .unwrap();
    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();
    assert!(matches!(error, Error::Authentication { .. }), "{error}");
    assert!(!error.to_string().contains("sk-wrong"), "{error}");
}

#[tokio::test]
async fn malformed_json_is_malformed_response() {
    let server = server(4).await;
    server.push_for_route(
        Route::Embeddings,
        Scenario::replay_json(r#"{"object":"list","data":[{"index":0,"embedding":[0.1,"#),
    );
    let embedder = embedder(&server, EmbeddingOptions::new("m", 4));
    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();
    assert!(matches!(error, Error::MalformedResponse { .. }), "{error}");
    assert!(error.to_string().contains("truncated JSON"), "{error}");
    assert_eq!(server.request_count(), 1, "not retried");
}

#[tokio::test]
async fn wrong_vector_count_rejected() {
    let server = server(2).await;
    server.push_for_route(
        Route::Embeddings,
        Scenario::replay_json(r#"{"data":[{"index":0,"embedding":[1.0,0.0]}]}"#),
    );
    let embedder = embedder(&server, EmbeddingOptions::new("m", 2));
    let error = embedder.embed(&texts(&["a", "b"])).await.unwrap_err();
    assert!(matches!(error, Error::MalformedResponse { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("1 vectors returned for 2 inputs"),
        "{error}"
    );
}

#[tokio::test]
async fn dimension_mismatch_names_both_lengths() {
    let server = server(8).await;
    let embedder = embedder(&server, EmbeddingOptions::new("m", 4));
    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();
    assert!(matches!(error, Error::MalformedResponse { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("has 8 values"), "{message}");
    assert!(message.contains("configured for 4"), "{message}");
}
