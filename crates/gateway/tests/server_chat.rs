//! The chat endpoint over loopback HTTP: JSON, SSE streams, task routing,
//! mid-stream failures, client disconnects and metrics.

#![cfg(feature = "server")]
use crate::server_support;

use std::time::Duration;

use llmops_gateway::server::Server;
use llmops_gateway::{Gateway, RouteConfig};
use llmops_testkit::{MockServer, Scenario};
use serde_json::{Value, json};
use server_support::{chat_body, config_on, gateway_on, sse_events, start};

#[tokio::test]
async fn non_stream_returns_completion() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("Paris is the capital.").with_usage(11, 5));
    let server = start(Server::builder(gateway_on(&mock))).await;

    let response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .json(&chat_body("chat", "Capital of France?"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Paris is the capital."
    );
    assert_eq!(body["usage"]["prompt_tokens"], 11);
    assert_eq!(
        mock.last_request().unwrap().json.unwrap()["model"],
        "gpt-4o-mini"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn stream_is_openai_sse_with_usage_last() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("Bonjour à tous 👋").with_usage(7, 4));
    let server = start(Server::builder(gateway_on(&mock))).await;

    let mut body = chat_body("chat", "Greet");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let events = sse_events(&text);
    assert!(events.len() >= 3, "{text}");
    let mut content = String::new();
    let mut chunks = Vec::new();
    for event in &events[..events.len() - 1] {
        let json = event
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("not a data event: {event:?}"));
        assert!(!json.contains('\n'), "{event:?}");
        let chunk: Value = serde_json::from_str(json).unwrap();
        assert_eq!(chunk["object"], "chat.completion.chunk");
        if let Some(piece) = chunk["choices"][0]["delta"]["content"].as_str() {
            content.push_str(piece);
        }
        chunks.push(chunk);
    }
    assert_eq!(content, "Bonjour à tous 👋");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 7);
    assert_eq!(last["usage"]["completion_tokens"], 4);
    for chunk in &chunks[..chunks.len() - 1] {
        assert!(chunk["usage"].is_null(), "{chunk}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn stream_without_usage_option_has_no_usage_chunk() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("one two"));
    let server = start(Server::builder(gateway_on(&mock))).await;

    let mut body = chat_body("chat", "count");
    body["stream"] = json!(true);
    let text = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = sse_events(&text);
    assert_eq!(events.last().unwrap(), "data: [DONE]");
    for event in &events[..events.len() - 1] {
        let chunk: Value = serde_json::from_str(event.strip_prefix("data: ").unwrap()).unwrap();
        assert!(chunk.get("usage").is_none_or(Value::is_null), "{chunk}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn failure_after_first_bytes_ends_with_error_event() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("one two three four").stream_error_after(2));
    let server = start(Server::builder(gateway_on(&mock))).await;

    let mut body = chat_body("chat", "count");
    body["stream"] = json!(true);
    let response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains("[DONE]"), "{text}");
    let events = sse_events(&text);
    let last = events.last().unwrap();
    let data = last
        .strip_prefix("event: error\ndata: ")
        .unwrap_or_else(|| panic!("not an error event: {last:?}"));
    let error: Value = serde_json::from_str(data).unwrap();
    assert!(
        error["error"]["message"].as_str().unwrap().len() > 5,
        "{error}"
    );
    assert!(error["error"]["type"].is_string(), "{error}");
    assert!(events.len() >= 2, "content came before the error: {text}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn failure_before_first_chunk_is_http_error() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::error(llmops_testkit::Fault::status(
        500,
        r#"{"error":{"message":"boom","type":"server_error"}}"#,
    )));
    let server = start(Server::builder(gateway_on(&mock))).await;

    let mut body = chat_body("chat", "x");
    body["stream"] = json!(true);
    let response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "server_error");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn task_header_routes_to_task_model() {
    let mock = MockServer::start().await.unwrap();
    let mut config = config_on(&mock, &[("chat", "gpt-4o-mini"), ("coder", "gpt-4.1")]);
    config.routes.push(RouteConfig {
        task: "code".to_owned(),
        model: "coder".to_owned(),
        examples: Vec::new(),
    });
    let gateway = Gateway::builder(config).build().unwrap();
    let server = start(Server::builder(gateway)).await;

    let response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .header("x-llmops-task", "code")
        .json(&chat_body("chat", "write a loop"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        mock.last_request().unwrap().json.unwrap()["model"],
        "gpt-4.1"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn client_disconnect_cancels_upstream() {
    let mock = MockServer::start().await.unwrap();
    mock.push(
        Scenario::text("a b c d e f g h i j k l m n o p").chunk_delay(Duration::from_millis(200)),
    );
    let server = start(Server::builder(gateway_on(&mock))).await;

    let mut body = chat_body("chat", "slow");
    body["stream"] = json!(true);
    let mut response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let first = response.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    drop(response);

    // The mock counts a disconnect when its stream is dropped before the end.
    tokio::time::timeout(Duration::from_secs(10), mock.wait_for_disconnects(1))
        .await
        .expect("the upstream connection was not closed after the client left");
    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "llmops_server_requests_total{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"chat\",http_response_status_code=\"499\"} 1"
        ),
        "{metrics}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn metrics_count_requests_tokens_and_first_token() {
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("x y").with_usage(10, 2));
    mock.push(Scenario::text("x y").with_usage(20, 2));
    let server = start(Server::builder(gateway_on(&mock))).await;
    let client = reqwest::Client::new();

    client
        .post(server.url("/v1/chat/completions"))
        .json(&chat_body("chat", "a"))
        .send()
        .await
        .unwrap();
    let mut body = chat_body("chat", "b");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    client
        .post(server.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    client
        .post(server.url("/v1/chat/completions"))
        .json(&chat_body("no-such-model", "c"))
        .send()
        .await
        .unwrap();

    let response = client.get(server.url("/metrics")).send().await.unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let metrics = response.text().await.unwrap();
    let expected = [
        "llmops_server_requests_total{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"chat\",http_response_status_code=\"200\"} 2",
        "llmops_server_requests_total{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"unknown\",http_response_status_code=\"404\"} 1",
        "gen_ai_client_token_usage_sum{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"chat\",gen_ai_token_type=\"input\"} 30",
        "gen_ai_client_token_usage_sum{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"chat\",gen_ai_token_type=\"output\"} 4",
        "gen_ai_server_time_to_first_token_seconds_count{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"chat\"} 1",
        "gen_ai_client_operation_duration_seconds_count{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"chat\"} 2",
        "gen_ai_client_operation_duration_seconds_count{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"unknown\",error_type=\"unknown_model\"} 1",
        "# TYPE gen_ai_client_operation_duration_seconds histogram",
    ];
    for line in expected {
        assert!(metrics.contains(line), "missing {line:?} in\n{metrics}");
    }
    assert!(!metrics.contains("no-such-model"), "{metrics}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn models_and_health_list_served_models() {
    let mock = MockServer::start().await.unwrap();
    let config = config_on(&mock, &[("chat", "gpt-4o-mini"), ("big", "gpt-4.1")]);
    let server = start(Server::builder(Gateway::builder(config).build().unwrap())).await;

    let models: Value = reqwest::get(server.url("/v1/models"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|model| model["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["chat", "big"]);
    assert_eq!(models["data"][0]["object"], "model");
    assert_eq!(models["data"][0]["owned_by"], "llmops");

    let health: Value = reqwest::get(server.url("/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["deployments"][0]["state"], "healthy");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn concurrent_streams_each_complete() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock))).await;
    let client = reqwest::Client::new();

    let mut tasks = Vec::new();
    for index in 0..8 {
        let client = client.clone();
        let url = server.url("/v1/chat/completions");
        tasks.push(tokio::spawn(async move {
            let mut body = chat_body("chat", &format!("request {index}"));
            body["stream"] = json!(true);
            let text = client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            (index, text)
        }));
    }
    for task in tasks {
        let (index, text) = task.await.unwrap();
        assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
        // The mock's default scenario echoes the prompt.
        assert!(text.contains(&format!("{index}")), "{text}");
    }
    server.stop().await.unwrap();
}
