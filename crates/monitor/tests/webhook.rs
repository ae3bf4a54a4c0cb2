//! The webhook notifier against an HTTP server on loopback.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use llmops_monitor::{AlertEvent, AlertStatus, Notifier, WebhookNotifier, Window};

type Received = Arc<Mutex<Vec<AlertEvent>>>;

async fn serve(status: StatusCode) -> (String, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(
                move |State(received): State<Received>, Json(event): Json<AlertEvent>| async move {
                    received.lock().unwrap().push(event);
                    status
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/hook"), received)
}

fn event() -> AlertEvent {
    AlertEvent {
        rule: "errors \"prod\" ✓".into(),
        metric: "error_ratio".into(),
        window: Window::Minute,
        status: AlertStatus::Firing,
        value: 0.42,
        threshold: 0.2,
        at_ms: 1_700_000_000_000,
    }
}

#[tokio::test]
async fn webhook_posts_event_json() {
    let (url, received) = serve(StatusCode::NO_CONTENT).await;
    let notifier = WebhookNotifier::new(&url).unwrap();
    notifier.notify(&event()).await.unwrap();
    let received = received.lock().unwrap();
    assert_eq!(received.as_slice(), &[event()]);
}

#[tokio::test]
async fn webhook_reports_http_error() {
    let (url, received) = serve(StatusCode::INTERNAL_SERVER_ERROR).await;
    let notifier = WebhookNotifier::new(&url).unwrap();
    let error = notifier.notify(&event()).await.unwrap_err();
    assert!(error.to_string().contains("500"), "{error}");
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn webhook_reports_unreachable_server() {
    // Bind and drop a listener so the port is very likely closed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let notifier = WebhookNotifier::new(&format!("http://{address}/hook")).unwrap();
    let error = notifier.notify(&event()).await.unwrap_err();
    assert!(error.to_string().contains("webhook"), "{error}");
}
