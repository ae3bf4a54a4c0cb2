//! Stream faults: disconnects, malformed JSON, mid-stream errors, stalls,
//! hangs and delays, observed by a raw HTTP client.
use crate::common;

use std::time::Duration;

use common::{
    chat_request, client, data_json, event_names, messages_request, post, read_frames, sse_events,
};
use futures::StreamExt;
use llmops_testkit::recorded::anthropic::STREAM_ERROR_OVERLOADED_REPORTED;
use llmops_testkit::{MockServer, Scenario};
use serde_json::Value;

/// Generous bound for waits that must end. No test asserts on timing.
const WAIT: Duration = Duration::from_secs(10);

fn chat_url(server: &MockServer) -> String {
    format!("{}/chat/completions", server.openai_base_url())
}

fn messages_url(server: &MockServer) -> String {
    format!("{}/v1/messages", server.anthropic_base_url())
}

#[tokio::test]
async fn disconnect_after_cuts_before_done() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("one two three four").disconnect_after(3));

    let reply = post(&chat_url(&server), &chat_request("m", "q", true, true)).await;

    assert_eq!(reply.status, 200);
    assert!(reply.error.is_some(), "the body must end with a read error");
    let text = reply.text();
    assert_eq!(sse_events(&text).len(), 3, "{text}");
    assert!(!text.contains("[DONE]"));
    let chunks = data_json(&text);
    assert_eq!(chunks[2]["choices"][0]["delta"]["content"], " two");
    assert_eq!(
        server.disconnects(),
        0,
        "server-side aborts are not client disconnects"
    );
}

#[tokio::test]
async fn disconnect_after_zero_sends_only_head() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("x").disconnect_after(0));
    let reply = post(&messages_url(&server), &messages_request("c", "q", true)).await;
    assert_eq!(reply.status, 200);
    assert!(reply.error.is_some());
    assert!(reply.bytes().is_empty());
}

#[tokio::test]
async fn disconnect_on_non_stream_body() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("x").disconnect_after(0));
    let reply = post(&chat_url(&server), &chat_request("m", "q", false, false)).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap()
            > 0
    );
    assert!(reply.error.is_some());
}

#[tokio::test]
async fn malformed_at_breaks_one_event() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("alpha beta gamma").malformed_at(2));

    let reply = post(&chat_url(&server), &chat_request("m", "q", true, false)).await;

    assert!(reply.error.is_none());
    let text = reply.text();
    let events = sse_events(&text);
    assert_eq!(events.len(), 6);
    for (index, event) in events.iter().enumerate() {
        assert!(
            event.starts_with("data: ") && event.ends_with("\n\n"),
            "{event:?}"
        );
        let data = event.trim_end().strip_prefix("data: ").unwrap();
        if data == "[DONE]" {
            continue;
        }
        let parsed = serde_json::from_str::<Value>(data);
        assert_eq!(parsed.is_err(), index == 2, "event {index}: {data}");
    }
}

#[tokio::test]
async fn malformed_non_stream_body() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("hello").malformed_at(0));
    let reply = post(&chat_url(&server), &chat_request("m", "q", false, false)).await;
    assert_eq!(reply.status, 200);
    assert!(reply.error.is_none());
    assert_eq!(
        reply.header("content-length"),
        Some(reply.bytes().len().to_string().as_str())
    );
    assert!(serde_json::from_slice::<Value>(&reply.bytes()).is_err());
}

#[tokio::test]
async fn anthropic_stream_error_event() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("a b c").stream_error_after(4));

    let reply = post(&messages_url(&server), &messages_request("c", "q", true)).await;

    assert!(reply.error.is_none());
    let text = reply.text();
    assert_eq!(
        event_names(&text),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "error"
        ]
    );
    let last = sse_events(&text).pop().unwrap();
    let mut expected = b"event: error\ndata: ".to_vec();
    expected.extend_from_slice(STREAM_ERROR_OVERLOADED_REPORTED);
    expected.extend_from_slice(b"\n\n");
    assert_eq!(last.as_bytes(), expected.as_slice());
}

#[tokio::test]
async fn openai_stream_error_event() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("a b c").stream_error_after(2));
    let reply = post(&chat_url(&server), &chat_request("m", "q", true, true)).await;
    let chunks = data_json(&reply.text());
    assert_eq!(chunks.len(), 3);
    assert_eq!(chunks[2]["error"]["type"], "server_error");
    assert!(!reply.text().contains("[DONE]"));
}

#[tokio::test]
async fn stall_after_sends_nothing_more() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("a b c").stall_after(2));

    let response = client()
        .post(chat_url(&server))
        .json(&chat_request("m", "q", true, false))
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let mut received = Vec::new();
    while received.windows(2).filter(|pair| pair == b"\n\n").count() < 2 {
        let frame = tokio::time::timeout(WAIT, stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        received.extend_from_slice(&frame);
    }
    let next = tokio::time::timeout(Duration::from_millis(200), stream.next()).await;
    assert!(next.is_err(), "a stalled stream must send nothing more");
    assert_eq!(sse_events(std::str::from_utf8(&received).unwrap()).len(), 2);
}

#[tokio::test]
async fn hang_never_sends_head() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::hang());
    let request = client()
        .post(chat_url(&server))
        .json(&chat_request("m", "q", false, false))
        .send();
    let outcome = tokio::time::timeout(Duration::from_millis(200), request).await;
    assert!(outcome.is_err(), "a hanging scenario must not answer");

    // Dropping the request closed the connection, which the server counts.
    tokio::time::timeout(WAIT, server.wait_for_disconnects(1))
        .await
        .unwrap();
    assert_eq!(server.disconnects(), 1);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn shutdown_ends_hanging_request() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::hang());
    let url = chat_url(&server);
    let request = tokio::spawn(async move {
        let response = client()
            .post(url)
            .json(&chat_request("m", "q", false, false))
            .send()
            .await;
        match response {
            Ok(response) => response.bytes().await.is_err(),
            Err(_) => true,
        }
    });
    tokio::time::timeout(WAIT, server.wait_for_requests(1))
        .await
        .unwrap();
    tokio::time::timeout(WAIT, server.shutdown()).await.unwrap();
    let failed = tokio::time::timeout(WAIT, request).await.unwrap().unwrap();
    assert!(
        failed,
        "the hanging request must fail once the server stops"
    );
}

#[tokio::test]
async fn client_drop_mid_stream_is_counted() {
    let server = MockServer::start().await.unwrap();
    let words: Vec<String> = (0..200).map(|index| format!("w{index}")).collect();
    server.push(Scenario::text(words.join(" ")).chunk_delay(Duration::from_millis(5)));

    let response = client()
        .post(chat_url(&server))
        .json(&chat_request("m", "q", true, false))
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let first = tokio::time::timeout(WAIT, stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(first.starts_with(b"data: "));
    assert_eq!(server.disconnects(), 0);
    drop(stream);

    tokio::time::timeout(WAIT, server.wait_for_disconnects(1))
        .await
        .unwrap();
    assert_eq!(server.disconnects(), 1);
}

#[tokio::test]
async fn delays_keep_content_identical() {
    let server = MockServer::start().await.unwrap();
    let text = "지연된 응답 🐢 slow reply";
    server.push(Scenario::text(text).with_usage(3, 5));
    server.push(
        Scenario::text(text)
            .with_usage(3, 5)
            .latency(Duration::from_millis(20))
            .first_token_delay(Duration::from_millis(20))
            .chunk_delay(Duration::from_millis(2)),
    );
    let fast = post(&chat_url(&server), &chat_request("m", "q", true, true)).await;
    let slow = post(&chat_url(&server), &chat_request("m", "q", true, true)).await;

    let content = |text: &str| -> String {
        data_json(text)
            .iter()
            .filter_map(|chunk| {
                chunk["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    };
    assert!(slow.error.is_none());
    assert_eq!(content(&slow.text()), text);
    assert_eq!(content(&fast.text()), text);
    assert_eq!(
        sse_events(&slow.text()).len(),
        sse_events(&fast.text()).len()
    );
    // Each delayed event is written on its own, so it arrives as its own frame.
    assert!(
        slow.frames.len() >= sse_events(&slow.text()).len(),
        "{} frames",
        slow.frames.len()
    );
}

#[tokio::test]
async fn read_frames_sees_whole_body_after_latency() {
    let server = MockServer::start().await.unwrap();
    server.push(Scenario::text("late").latency(Duration::from_millis(30)));
    let response = client()
        .post(messages_url(&server))
        .json(&messages_request("c", "q", false))
        .send()
        .await
        .unwrap();
    let reply = read_frames(response).await;
    let body: Value = serde_json::from_slice(&reply.bytes()).unwrap();
    assert_eq!(body["content"][0]["text"], "late");
}

#[tokio::test]
async fn client_drop_during_long_delay_is_counted() {
    let server = MockServer::start().await.unwrap();
    // The delay outlasts the wait below, so only the closed connection can
    // end the response in time.
    server.push(Scenario::text("late").first_token_delay(Duration::from_secs(60)));

    let response = client()
        .post(chat_url(&server))
        .json(&chat_request("m", "q", true, false))
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let first = tokio::time::timeout(WAIT, stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(first.starts_with(b"data: "));
    drop(stream);

    tokio::time::timeout(WAIT, server.wait_for_disconnects(1))
        .await
        .unwrap();
    assert_eq!(server.disconnects(), 1);
}
