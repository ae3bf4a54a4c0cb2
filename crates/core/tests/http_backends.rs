//! The HTTP backends against scripted loopback servers: headers and bodies
//! sent, response conversion, timeouts per phase, faults and cancellation.

use crate::common;

use std::time::Duration;

use common::fixture;
use common::loopback::{Step, chunk, chunked_sse_head, json_response, serve_once, sse_head};
use futures::StreamExt;
use llmops_core::providers::anthropic::{AnthropicBackend, AnthropicConfig};
use llmops_core::providers::openai::{OpenAiBackend, OpenAiConfig};
use llmops_core::types::{ChatMessage, ChatRequest, StreamOptions};
use llmops_core::{Error, ModelBackend, TimeoutPhase};

/// A guard so a broken test fails instead of hanging; not a timing check.
const GUARD: Duration = Duration::from_secs(20);

fn openai(base_url: &str) -> OpenAiBackend {
    OpenAiBackend::new(
        OpenAiConfig::new()
            .base_url(format!("{base_url}/v1"))
            .api_key("sk-test-secret-0001")
            .header("OpenAI-Organization", "org-test"),
    )
    .unwrap()
}

fn anthropic(base_url: &str) -> AnthropicBackend {
    AnthropicBackend::new(
        AnthropicConfig::new()
            .base_url(base_url)
            .api_key("sk-ant-secret-0002"),
    )
    .unwrap()
}

fn request(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![ChatMessage::user("Hello")])
}

fn streaming_request(model: &str) -> ChatRequest {
    let mut request = request(model);
    request.stream_options = Some(StreamOptions {
        include_usage: Some(true),
        ..StreamOptions::default()
    });
    request
}

fn body_of(request: &str) -> serde_json::Value {
    let (_, body) = request.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn openai_stream_sends_headers_and_options() {
    let mut steps = vec![sse_head()];
    steps.push(Step::Write(fixture(
        "openai/chat_stream_text_include_usage.sse",
    )));
    let (base_url, observed) = serve_once(steps).await;

    let stream = openai(&base_url)
        .stream(streaming_request("gpt-4o-mini"))
        .await
        .unwrap();
    let chunks: Vec<_> = stream.collect().await;
    let chunks: Vec<_> = chunks.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        chunks.last().unwrap().usage.as_ref().unwrap().total_tokens,
        87
    );

    let sent = observed.request.await.unwrap();
    let head = sent.to_ascii_lowercase();
    assert!(
        head.starts_with("post /v1/chat/completions http/1.1"),
        "{sent}"
    );
    assert!(
        head.contains("authorization: bearer sk-test-secret-0001"),
        "{sent}"
    );
    assert!(head.contains("openai-organization: org-test"), "{sent}");
    let body = body_of(&sent);
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["model"], "gpt-4o-mini");
}

#[tokio::test]
async fn openai_complete_parses_body() {
    let body = fixture("openai/chat_completion_cached_tokens.json");
    let (base_url, observed) = serve_once(vec![json_response(200, "", &body)]).await;

    let mut call = request("gpt-4o");
    call.stream = Some(true);
    let completion = openai(&base_url).complete(call).await.unwrap();
    assert_eq!(completion.usage.as_ref().unwrap().cached_tokens(), 1152);
    let sent = body_of(&observed.request.await.unwrap());
    assert!(
        sent.get("stream").is_none(),
        "complete must not ask for a stream"
    );
}

#[tokio::test]
async fn anthropic_stream_sends_headers_and_converts() {
    let mut steps = vec![sse_head()];
    steps.push(Step::Write(fixture(
        "anthropic/messages_stream_cache_write.sse",
    )));
    let (base_url, observed) = serve_once(steps).await;

    let mut call = streaming_request("claude-sonnet-4-20250514");
    call.messages.insert(0, ChatMessage::system("Be brief."));
    let stream = anthropic(&base_url).stream(call).await.unwrap();
    let chunks: Vec<_> = stream.map(Result::unwrap).collect().await;
    let usage = chunks.last().unwrap().usage.clone().unwrap();
    assert_eq!(usage.prompt_tokens, 1049);
    assert_eq!(usage.cache_creation_tokens(), 1031);

    let sent = observed.request.await.unwrap();
    let head = sent.to_ascii_lowercase();
    assert!(head.starts_with("post /v1/messages http/1.1"), "{sent}");
    assert!(head.contains("x-api-key: sk-ant-secret-0002"), "{sent}");
    assert!(head.contains("anthropic-version: 2023-06-01"), "{sent}");
    assert!(!head.contains("authorization:"), "{sent}");
    let body = body_of(&sent);
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(body["max_tokens"], 4096);
    assert_eq!(body["stream"], true);
}

#[tokio::test]
async fn anthropic_complete_converts_cache_usage() {
    let cases = [
        ("anthropic/messages_cache_write.json", 18 + 2055, 0, 2055),
        ("anthropic/messages_cache_read.json", 11 + 2055, 2055, 0),
        (
            "anthropic/messages_cache_read_sonnet45.reserialized.json",
            3 + 418 + 1111,
            1111,
            418,
        ),
    ];
    for (name, prompt, cached, written) in cases {
        let (base_url, _) = serve_once(vec![json_response(200, "", &fixture(name))]).await;
        let completion = anthropic(&base_url)
            .complete(request("claude"))
            .await
            .unwrap();
        let usage = completion.usage.unwrap();
        assert_eq!(usage.prompt_tokens, prompt, "{name}");
        assert_eq!(usage.cached_tokens(), cached, "{name}");
        assert_eq!(usage.cache_creation_tokens(), written, "{name}");
        assert_eq!(
            usage.total_tokens,
            usage.prompt_tokens + usage.completion_tokens,
            "{name}"
        );
    }
}

#[tokio::test]
async fn anthropic_complete_converts_tool_use() {
    let (base_url, _) = serve_once(vec![json_response(
        200,
        "",
        &fixture("anthropic/messages_tool_use.json"),
    )])
    .await;
    let completion = anthropic(&base_url)
        .complete(request("claude"))
        .await
        .unwrap();
    let choice = &completion.choices[0];
    assert_eq!(
        choice.finish_reason,
        Some(llmops_core::types::FinishReason::ToolCalls)
    );
    let calls = choice.message.tool_calls.as_ref().unwrap();
    assert_eq!(calls[0].function.name, "get_weather");
    let arguments: serde_json::Value = serde_json::from_str(&calls[0].function.arguments).unwrap();
    assert!(arguments.get("location").is_some(), "{arguments}");
    assert!(!choice.message.text().is_empty());
    let usage = completion.usage.unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (599, 152));
}

fn json_schema_request(model: &str, name: &str) -> ChatRequest {
    let mut call = request(model);
    call.response_format = Some(
        serde_json::from_value(serde_json::json!({
            "type": "json_schema",
            "json_schema": {
                "name": name,
                "schema": {
                    "type": "object",
                    "properties": { "location": { "type": "string" } },
                },
            },
        }))
        .unwrap(),
    );
    call
}

#[tokio::test]
async fn anthropic_json_schema_travels_as_forced_tool() {
    let (base_url, observed) = serve_once(vec![json_response(
        200,
        "",
        &fixture("anthropic/messages_tool_use.json"),
    )])
    .await;
    let completion = anthropic(&base_url)
        .complete(json_schema_request("claude", "get_weather"))
        .await
        .unwrap();

    let sent = body_of(&observed.request.await.unwrap());
    assert_eq!(sent["tools"][0]["name"], "get_weather");
    assert_eq!(sent["tools"][0]["input_schema"]["type"], "object");
    assert_eq!(
        sent["tool_choice"],
        serde_json::json!({ "type": "tool", "name": "get_weather" })
    );
    assert!(sent.get("response_format").is_none(), "{sent}");

    let choice = &completion.choices[0];
    assert_eq!(
        choice.finish_reason,
        Some(llmops_core::types::FinishReason::Stop)
    );
    assert!(choice.message.tool_calls.is_none());
    let text = choice.message.text();
    let json_start = text.rfind("{\"location\"").unwrap();
    let answer: serde_json::Value = serde_json::from_str(&text[json_start..]).unwrap();
    assert_eq!(answer["location"], "San Francisco, CA");
}

#[tokio::test]
async fn anthropic_json_schema_streams_as_content() {
    let mut steps = vec![sse_head()];
    steps.push(Step::Write(fixture(
        "anthropic/messages_stream_text_then_tool_use_claude3opus.sse",
    )));
    let (base_url, _) = serve_once(steps).await;
    let stream = anthropic(&base_url)
        .stream(json_schema_request("claude", "get_weather"))
        .await
        .unwrap();
    let chunks: Vec<_> = stream.map(Result::unwrap).collect().await;
    assert!(
        chunks
            .iter()
            .flat_map(|chunk| &chunk.choices)
            .all(|choice| choice.delta.tool_calls.is_none())
    );
    let text: String = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .filter_map(|choice| choice.delta.content.as_deref())
        .collect();
    let json_start = text.rfind("{\"location\"").unwrap();
    let answer: serde_json::Value = serde_json::from_str(&text[json_start..]).unwrap();
    assert_eq!(answer["location"], "San Francisco, CA");
    let finish = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .find_map(|choice| choice.finish_reason.clone());
    assert_eq!(finish, Some(llmops_core::types::FinishReason::Stop));
}

#[tokio::test]
async fn anthropic_rejects_logprobs_before_sending() {
    let mut call = request("claude");
    call.extra
        .insert("logprobs".to_owned(), serde_json::Value::Bool(true));
    let error = anthropic("http://127.0.0.1:9")
        .complete(call)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error}");
    assert!(error.to_string().contains("logprobs"), "{error}");
}

#[tokio::test]
async fn dropping_stream_closes_connection() {
    let first_event =
        b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n";
    let steps = vec![
        chunked_sse_head(),
        chunk(first_event),
        Step::AwaitClientClose,
    ];
    let (base_url, observed) = serve_once(steps).await;

    let mut stream = openai(&base_url)
        .stream(request("gpt-4o-mini"))
        .await
        .unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.delta_text(), Some("hi"));
    drop(stream);

    let closed = tokio::time::timeout(GUARD, observed.client_closed).await;
    assert!(
        matches!(closed, Ok(Ok(()))),
        "the server did not see the connection close"
    );
}

#[tokio::test]
async fn clean_close_without_done_is_network_error() {
    let event =
        b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n"
            .to_vec();
    let (base_url, _) = serve_once(vec![sse_head(), Step::Write(event)]).await;

    let items: Vec<_> = openai(&base_url)
        .stream(request("m"))
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let error = items[1].as_ref().unwrap_err();
    assert!(matches!(error, Error::Network { .. }), "{error}");
    assert!(
        error.to_string().contains("stream ended before [DONE]"),
        "{error}"
    );
}

#[tokio::test]
async fn abrupt_disconnect_mid_chunk_is_network_error() {
    // The chunk header promises 100 bytes, but the connection closes after 19.
    let steps = vec![
        chunked_sse_head(),
        Step::Write(b"64\r\ndata: {\"id\":\"c\",\"ch".to_vec()),
    ];
    let (base_url, _) = serve_once(steps).await;

    let items: Vec<_> = anthropic(&base_url)
        .stream(request("m"))
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    let error = items[0].as_ref().unwrap_err();
    assert!(matches!(error, Error::Network { .. }), "{error}");
}

#[tokio::test]
async fn malformed_json_is_malformed_response() {
    let event = b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\n\n".to_vec();
    let (base_url, _) = serve_once(vec![sse_head(), Step::Write(event)]).await;

    let items: Vec<_> = openai(&base_url)
        .stream(request("m"))
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 1, "the stream ends after the error");
    let error = items[0].as_ref().unwrap_err();
    assert!(matches!(error, Error::MalformedResponse { .. }), "{error}");
}

#[tokio::test]
async fn first_token_timeout_while_no_output() {
    // message_start and ping carry no output, so the first-token deadline applies.
    let start = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":1}}}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n";
    let steps = vec![chunked_sse_head(), chunk(start), Step::AwaitClientClose];
    let (base_url, _) = serve_once(steps).await;

    let backend = AnthropicBackend::new(
        AnthropicConfig::new()
            .base_url(&base_url)
            .api_key("k")
            .first_token_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let items: Vec<_> =
        tokio::time::timeout(GUARD, backend.stream(request("c")).await.unwrap().collect())
            .await
            .unwrap();
    let error = items.last().unwrap().as_ref().unwrap_err();
    match error {
        Error::Timeout { phase, after, .. } => {
            assert_eq!(*phase, TimeoutPhase::FirstToken);
            assert_eq!(*after, Duration::from_millis(300));
        }
        other => panic!("expected a first-token timeout, got {other}"),
    }
}

#[tokio::test]
async fn total_timeout_after_output() {
    let event =
        b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n";
    let steps = vec![chunked_sse_head(), chunk(event), Step::AwaitClientClose];
    let (base_url, _) = serve_once(steps).await;

    let backend = OpenAiBackend::new(
        OpenAiConfig::new()
            .base_url(&base_url)
            .first_token_timeout(Duration::from_secs(30))
            .total_timeout(Duration::from_millis(400)),
    )
    .unwrap();
    let items: Vec<_> =
        tokio::time::timeout(GUARD, backend.stream(request("m")).await.unwrap().collect())
            .await
            .unwrap();
    assert_eq!(items[0].as_ref().unwrap().delta_text(), Some("hi"));
    let error = items.last().unwrap().as_ref().unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                phase: TimeoutPhase::Total,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn response_head_timeout_is_first_token() {
    let (base_url, _) = serve_once(vec![Step::AwaitClientClose]).await;
    let backend = OpenAiBackend::new(
        OpenAiConfig::new()
            .base_url(&base_url)
            .first_token_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let error = tokio::time::timeout(GUARD, backend.complete(request("m")))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                phase: TimeoutPhase::FirstToken,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn rate_limit_status_with_retry_after() {
    let body = br#"{"error":{"message":"Rate limit reached","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#;
    let (base_url, _) = serve_once(vec![json_response(429, "retry-after: 2\r\n", body)]).await;
    let error = openai(&base_url).stream(request("m")).await.err().unwrap();
    assert!(matches!(error, Error::RateLimited { .. }), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
}

#[tokio::test]
async fn anthropic_529_is_overloaded() {
    let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let (base_url, _) =
        serve_once(vec![json_response(529, "x-should-retry: true\r\n", body)]).await;
    let error = anthropic(&base_url)
        .complete(request("c"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Overloaded { .. }), "{error}");
}

#[tokio::test]
async fn errors_never_contain_the_key() {
    let body = fixture("openai/error_401_invalid_api_key.json");
    let (base_url, _) = serve_once(vec![json_response(401, "", &body)]).await;
    let error = openai(&base_url).complete(request("m")).await.unwrap_err();
    assert!(matches!(error, Error::Authentication { .. }), "{error}");
    let rendered = format!("{error} {error:?}");
    assert!(!rendered.contains("sk-test-secret-0001"), "{rendered}");
}

#[tokio::test]
async fn connection_refused_is_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let error = openai(&format!("http://{address}"))
        .complete(request("m"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Network { .. }), "{error}");
    assert!(error.to_string().contains("connection failed"), "{error}");
}

#[tokio::test]
async fn clones_share_one_connection_pool() {
    // A keep-alive server that responds to every request and counts the
    // connections it accepts.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let body = fixture("openai/chat_completion_text.json");
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                while !common::loopback::read_request(&mut socket).await.is_empty() {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    socket.write_all(head.as_bytes()).await.unwrap();
                    socket.write_all(&body).await.unwrap();
                }
            });
        }
    });

    let backend = openai(&format!("http://{address}"));
    let clone = backend.clone();
    backend.complete(request("m")).await.unwrap();
    clone.complete(request("m")).await.unwrap();
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn connect_timeout_when_backlog_full() {
    // A listener that never accepts, with its accept queue filled, drops
    // further connection attempts (Linux with the default
    // net.ipv4.tcp_abort_on_overflow = 0), so connecting hangs until the
    // deadline.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = socket.local_addr().unwrap();
    let _listener = socket.listen(1).unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let attempt = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(address),
        );
        if let Ok(Ok(stream)) = attempt.await {
            fillers.push(stream);
        }
    }

    let backend = OpenAiBackend::new(
        OpenAiConfig::new()
            .base_url(format!("http://{address}"))
            .connect_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let error = tokio::time::timeout(GUARD, backend.complete(request("m")))
        .await
        .unwrap()
        .unwrap_err();
    match error {
        Error::Timeout { phase, after, .. } => {
            assert_eq!(phase, TimeoutPhase::Connect);
            assert_eq!(after, Duration::from_millis(300));
        }
        other => panic!("expected a connect timeout, got {other}"),
    }
}
