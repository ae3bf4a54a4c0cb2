//! The dashboard routes over loopback HTTP: status codes, content types,
//! error bodies, feedback and the framing of the event stream.

#![cfg(feature = "dashboard")]
use crate::support;

use std::time::Duration;

use futures::StreamExt;
use llmops_monitor::dashboard::DashboardState;
use llmops_monitor::{Snapshot, Window};
use serde_json::{Value, json};
use support::{TestSink, TestSource, full_snapshot, serve};

/// Bounds every wait, so that a hang fails the test instead of stalling it.
const HANG_GUARD: Duration = Duration::from_secs(10);

fn fast(state: DashboardState) -> DashboardState {
    state.with_interval(Duration::from_millis(50)).unwrap()
}

#[tokio::test]
async fn page_and_assets_have_content_types() {
    let source = TestSource::new(full_snapshot(Window::Minute, 10));
    let server = serve(DashboardState::new(source)).await;
    let client = reqwest::Client::new();

    let page = client.get(server.url("/dashboard")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"chart-traffic\""));

    let cases = [
        ("dashboard.css", "text/css; charset=utf-8"),
        ("charts.js", "text/javascript; charset=utf-8"),
        ("panels.js", "text/javascript; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
    ];
    for (name, content_type) in cases {
        let response = client
            .get(server.url(&format!("/dashboard/assets/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(response.headers()["content-type"], content_type, "{name}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{name}");
        let tag = response.headers()["etag"].clone();
        assert!(!response.bytes().await.unwrap().is_empty(), "{name}");

        let again = client
            .get(server.url(&format!("/dashboard/assets/{name}")))
            .header("if-none-match", tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{name}");
    }

    let missing = client
        .get(server.url("/dashboard/assets/jquery.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("app.js")
    );
    server.stop().await;
}

#[tokio::test]
async fn trailing_slash_redirects_to_page() {
    let source = TestSource::new(full_snapshot(Window::Minute, 10));
    let server = serve(DashboardState::new(source)).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(server.url("/dashboard/")).send().await.unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "../dashboard");
    server.stop().await;
}

#[tokio::test]
async fn snapshot_returns_json_per_window() {
    let source = TestSource::new(full_snapshot(Window::Minute, 1234));
    let server = serve(DashboardState::new(source)).await;
    let client = reqwest::Client::new();
    for window in ["1m", "1h", "1d"] {
        let response = client
            .get(server.url(&format!("/dashboard/api/snapshot?window={window}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{window}");
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let snapshot: Snapshot = response.json().await.unwrap();
        assert_eq!(snapshot.window.as_str(), window);
        assert_eq!(snapshot.traffic.requests, 1234);
    }
    let default = client
        .get(server.url("/dashboard/api/snapshot"))
        .send()
        .await
        .unwrap();
    let snapshot: Snapshot = default.json().await.unwrap();
    assert_eq!(snapshot.window, Window::Minute);
    server.stop().await;
}

#[tokio::test]
async fn bad_window_is_400_naming_value() {
    let source = TestSource::new(full_snapshot(Window::Minute, 10));
    let server = serve(DashboardState::new(source)).await;
    let client = reqwest::Client::new();
    for path in ["snapshot", "stream"] {
        let response = client
            .get(server.url(&format!("/dashboard/api/{path}?window=5m")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("\"5m\""), "{message}");
        assert!(message.contains("1m, 1h or 1d"), "{message}");
        assert_eq!(body["error"]["param"], "window");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
    server.stop().await;
}

/// Reads SSE events off `response` until `count` have arrived.
async fn read_events(response: &mut reqwest::Response, count: usize) -> Vec<String> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = tokio::time::timeout(HANG_GUARD, response.chunk())
            .await
            .expect("no event within the hang guard")
            .unwrap()
            .expect("the stream ended early");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            events.push(event);
        }
    }
    events
}

#[tokio::test]
async fn stream_sends_snapshot_events() {
    let source = TestSource::new(full_snapshot(Window::Hour, 5));
    let server = serve(fast(DashboardState::new(source.clone()))).await;
    let mut response = reqwest::Client::new()
        .get(server.url("/dashboard/api/stream?window=1h"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");

    let first = read_events(&mut response, 1).await;
    source.set(full_snapshot(Window::Hour, 777));
    let mut seen_update = false;
    for event in first
        .into_iter()
        .chain(read_events(&mut response, 10).await)
    {
        let framed = event.strip_suffix("\n\n").unwrap();
        let mut lines = framed.lines();
        assert_eq!(lines.next(), Some("event: snapshot"), "{event:?}");
        let data = lines.next().unwrap().strip_prefix("data: ").unwrap();
        assert_eq!(lines.next(), None, "{event:?}");
        let snapshot: Snapshot = serde_json::from_str(data).unwrap();
        assert_eq!(snapshot.window, Window::Hour);
        seen_update |= snapshot.traffic.requests == 777;
    }
    assert!(seen_update, "the changed snapshot never arrived");
    drop(response);
    server.stop().await;
}

#[tokio::test]
async fn stream_stops_after_client_disconnects() {
    let source = TestSource::new(full_snapshot(Window::Minute, 5));
    let server = serve(fast(DashboardState::new(source.clone()))).await;
    let mut response = reqwest::Client::new()
        .get(server.url("/dashboard/api/stream"))
        .send()
        .await
        .unwrap();
    read_events(&mut response, 2).await;
    drop(response);

    // The server notices on its next failed write; once it has, the count
    // of snapshots taken stays put.
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    loop {
        let before = source.calls();
        tokio::time::sleep(Duration::from_millis(300)).await;
        if source.calls() == before {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream kept taking snapshots after the client left"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn shutdown_ends_open_streams() {
    let source = TestSource::new(full_snapshot(Window::Minute, 5));
    let server = serve(fast(DashboardState::new(source))).await;
    let response = reqwest::Client::new()
        .get(server.url("/dashboard/api/stream"))
        .send()
        .await
        .unwrap();
    let mut body = response.bytes_stream();
    body.next().await.unwrap().unwrap();

    tokio::time::timeout(HANG_GUARD, server.stop())
        .await
        .expect("the server did not stop with a stream open");
    let rest = tokio::time::timeout(HANG_GUARD, async {
        while let Some(chunk) = body.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(rest.is_ok(), "the stream did not end after shutdown");
}

#[tokio::test]
async fn stream_interval_rejects_too_short() {
    let source = TestSource::new(full_snapshot(Window::Minute, 5));
    let error = DashboardState::new(source)
        .with_interval(Duration::from_millis(0))
        .unwrap_err();
    assert!(error.to_string().contains("interval"), "{error}");
}

async fn post_feedback(url: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn feedback_statuses() {
    let source = TestSource::new(full_snapshot(Window::Minute, 5));
    let sink = TestSink::new(&["gw-1"]);
    let state = DashboardState::new(source).with_feedback(sink.clone());
    let server = serve(state).await;
    let url = server.url("/v1/feedback");

    let (status, body) = post_feedback(
        &url,
        &json!({"request_id": "gw-1", "rating": 5, "comment": "<script>x</script> ok ✓"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["prompt"], "faq");
    assert_eq!(body["prompt_version"], 3);
    assert!(body["created_at_ms"].as_u64().unwrap() > 0);
    let stored = sink.stored.lock().unwrap().clone();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].comment.as_deref(),
        Some("<script>x</script> ok ✓")
    );

    let (status, body) = post_feedback(&url, &json!({"request_id": "gw-1", "rating": 9})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "rating");

    let (status, body) = post_feedback(&url, &json!({"request_id": "  ", "rating": 3})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "request_id");

    let long = "é".repeat(llmops_monitor::MAX_COMMENT_CHARS + 1);
    let (status, body) = post_feedback(
        &url,
        &json!({"request_id": "gw-1", "rating": 3, "comment": long}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "comment");

    let (status, body) = post_feedback(&url, &json!({"request_id": "gw-404", "rating": 3})).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["param"], "request_id");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gw-404")
    );

    // Over axum's default body limit of 2 MB.
    let huge = "x".repeat(3 * 1024 * 1024);
    let (status, body) = post_feedback(
        &url,
        &json!({"request_id": "gw-1", "rating": 3, "comment": huge}),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "body_too_large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 4000 characters"),
        "{body}"
    );

    let not_json = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body("{rating: 5")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    assert_eq!(sink.stored.lock().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn feedback_without_sink_is_503() {
    let source = TestSource::new(full_snapshot(Window::Minute, 5));
    let server = serve(DashboardState::new(source)).await;
    let (status, body) = post_feedback(
        &server.url("/v1/feedback"),
        &json!({"request_id": "gw-1", "rating": 5}),
    )
    .await;
    assert_eq!(status, 503);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("feedback store")
    );
    server.stop().await;
}

#[tokio::test]
async fn concurrent_feedback_is_all_stored() {
    let source = TestSource::new(full_snapshot(Window::Minute, 5));
    let sink = TestSink::new(&["gw-1"]);
    let server = serve(DashboardState::new(source).with_feedback(sink.clone())).await;
    let url = server.url("/v1/feedback");
    let posts = (0..20).map(|index| {
        let url = url.clone();
        async move {
            let body = json!({"request_id": "gw-1", "rating": index % 5 + 1});
            post_feedback(&url, &body).await.0
        }
    });
    let statuses = futures::future::join_all(posts).await;
    assert!(statuses.iter().all(|status| *status == 201), "{statuses:?}");
    assert_eq!(sink.stored.lock().unwrap().len(), 20);
    server.stop().await;
}
