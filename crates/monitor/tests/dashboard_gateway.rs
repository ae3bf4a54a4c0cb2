//! The dashboard mounted on the gateway server, end to end in headless
//! Chromium: a chat request sent to the gateway shows in the page within
//! 2 s, and feedback posted from the page for its `x-llmops-request-id`
//! reaches the sink. The snapshot source here only counts the gateway's
//! records, standing in for the monitor's aggregates.
//!
//! Skips like `dashboard_browser.rs` when Chromium or chromedriver is
//! missing, and fails then when `CI` is set.

#![cfg(feature = "dashboard")]
use crate::support;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use fantoccini::Client;
use futures::FutureExt;
use llmops_gateway::server::{REQUEST_ID_HEADER, Server};
use llmops_gateway::{
    DeploymentConfig, Gateway, GatewayConfig, MemorySink, ModelConfig, RetryPolicy,
};
use llmops_monitor::dashboard::{DashboardState, feedback_router, pages_router};
use llmops_monitor::{Feedback, FeedbackSink, MonitorError, Snapshot, SnapshotSource, Window};
use llmops_testkit::{MockServer, Scenario};
use serde_json::json;
use support::browser::{LIVE_DEADLINE, START_DEADLINE, fill_feedback, launch, wait_for};
use support::full_snapshot;
use tokio::sync::oneshot;

/// Counts the gateway's records as the traffic panel's requests.
struct RecordCount {
    records: Arc<MemorySink>,
}

#[async_trait]
impl SnapshotSource for RecordCount {
    async fn snapshot(&self, window: Window) -> Snapshot {
        full_snapshot(window, self.records.records().len() as u64)
    }
}

/// Accepts feedback only for request ids the gateway recorded.
struct RecordedFeedback {
    records: Arc<MemorySink>,
    stored: std::sync::Mutex<Vec<Feedback>>,
}

#[async_trait]
impl FeedbackSink for RecordedFeedback {
    async fn submit(&self, feedback: Feedback) -> Result<Feedback, MonitorError> {
        let known = self
            .records
            .records()
            .iter()
            .any(|record| record.id == feedback.request_id);
        if !known {
            return Err(MonitorError::Invalid {
                field: "request_id",
                value: feedback.request_id,
                fix: "use the id of a recorded request".into(),
            });
        }
        self.stored.lock().unwrap().push(feedback.clone());
        Ok(feedback)
    }
}

fn gateway_on(mock: &MockServer, records: Arc<MemorySink>) -> Gateway {
    let mut config = GatewayConfig::new();
    config.retry = RetryPolicy::single_attempt();
    config = config.model(
        ModelConfig::new("chat").deployment(
            DeploymentConfig::new("chat-mock", "openai", "gpt-4o-mini")
                .base_url(mock.openai_base_url()),
        ),
    );
    Gateway::builder(config)
        .record_sink(records)
        .build()
        .unwrap()
}

#[tokio::test]
async fn gateway_request_appears_in_dashboard() {
    let Some((driver, browser)) = launch().await else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    mock.push(Scenario::text("Paris."));
    let records = Arc::new(MemorySink::new());
    let sink = Arc::new(RecordedFeedback {
        records: records.clone(),
        stored: std::sync::Mutex::new(Vec::new()),
    });
    let state = DashboardState::new(Arc::new(RecordCount {
        records: records.clone(),
    }))
    .with_feedback(sink.clone())
    .with_interval(std::time::Duration::from_millis(200))
    .unwrap();
    let server = Server::builder(gateway_on(&mock, records))
        .routes(pages_router(state.clone()))
        .authenticated_routes(feedback_router(state.clone()))
        .build()
        .await
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let closer = state.clone();
    let serving = tokio::spawn(server.serve(listener, async move {
        let _ = stopped.await;
        closer.close_streams();
    }));

    let checks = check_request_and_feedback(&browser, &base, &sink);
    let outcome = AssertUnwindSafe(checks).catch_unwind().await;
    let closed = browser.close().await;
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    closed.unwrap();
}

async fn check_request_and_feedback(browser: &Client, base: &str, sink: &RecordedFeedback) {
    browser.goto(&format!("{base}/dashboard")).await.unwrap();
    wait_for(
        browser,
        "return document.getElementById('traffic-requests').dataset.value;",
        json!("0"),
        START_DEADLINE,
    )
    .await;

    let response = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({"model": "chat", "messages": [{"role": "user", "content": "Capital?"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let request_id = response.headers()[REQUEST_ID_HEADER]
        .to_str()
        .unwrap()
        .to_owned();
    response.bytes().await.unwrap();
    wait_for(
        browser,
        "return document.getElementById('traffic-requests').dataset.value;",
        json!("1"),
        LIVE_DEADLINE,
    )
    .await;

    fill_feedback(browser, &request_id, "4", "right answer").await;
    wait_for(
        browser,
        "return document.getElementById('fb-result').dataset.state;",
        json!("ok"),
        LIVE_DEADLINE,
    )
    .await;
    let stored = sink.stored.lock().unwrap().clone();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].request_id, request_id);
    assert_eq!(stored[0].rating, 4);
}
