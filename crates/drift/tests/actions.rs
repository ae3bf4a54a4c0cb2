//! Actions run for reports at or above their severity.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use llmops_compliance::{AuditLog, ReviewQueue, ReviewState};
use llmops_drift::action::{
    EvaluationRequest, EvaluationScheduler, JsonlExport, OpenReview, ScheduleEvaluation, Webhook,
};
use llmops_drift::{
    Actions, CheckOutcome, DriftReport, DriftedInput, Measure, MeasureResult, Measurement,
    Severity, TopicShare,
};
use serde_json::Value;

fn outcome(severity: Severity) -> CheckOutcome {
    let share = |topic: Option<usize>, label: &str, reference: f64, current: f64| TopicShare {
        topic,
        label: label.to_string(),
        reference_count: reference,
        current_count: current,
        reference_share: reference / 100.0,
        current_share: current / 100.0,
    };
    let report = DriftReport {
        embedding_model: "hash-bow".to_string(),
        reference_inputs: 100,
        current_inputs: 100,
        severity,
        measures: vec![MeasureResult {
            measure: Measure::TopicPsi,
            measurement: Measurement::Value {
                statistic: 0.4,
                p_value: None,
            },
            severity,
            thresholds: None,
        }],
        topic_shares: vec![
            share(Some(0), "flight, book", 80.0, 20.0),
            share(Some(1), "card, lost", 20.0, 50.0),
            share(None, "new topic", 0.0, 30.0),
        ],
        new_topics: Vec::new(),
        vanished_topics: Vec::new(),
    };
    CheckOutcome {
        report,
        drifted_inputs: vec![
            DriftedInput {
                text: "what is a 401k \"match\"".to_string(),
                topic: None,
            },
            DriftedInput {
                text: "내 카드 분실".to_string(),
                topic: Some(1),
            },
        ],
    }
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}/hook")
}

#[tokio::test]
async fn webhook_posts_summary_without_inputs() {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let router = Router::new()
        .route(
            "/hook",
            post(
                |State(store): State<Arc<Mutex<Vec<Value>>>>, body: axum::Json<Value>| async move {
                    store.lock().unwrap().push(body.0);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(received.clone());
    let url = serve(router).await;

    let records = Actions::new()
        .on(Severity::Alert, Webhook::new(url))
        .run(&outcome(Severity::Alert))
        .await;
    assert!(records[0].ok, "{records:?}");

    let bodies = received.lock().unwrap();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["severity"], "alert");
    assert_eq!(bodies[0]["measures"][0]["measure"], "topic_psi");
    let text = bodies[0].to_string();
    assert!(!text.contains("401k"), "webhook leaked an input: {text}");
}

#[tokio::test]
async fn webhook_error_status_is_recorded() {
    let router = Router::new().route(
        "/hook",
        post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
    );
    let url = serve(router).await;
    let records = Actions::new()
        .on(
            Severity::Warning,
            Webhook::new(format!("{url}?token=secret")),
        )
        .on(
            Severity::Warning,
            JsonlExport::new(std::env::temp_dir().join("unused-dir-404/x.jsonl")),
        )
        .run(&outcome(Severity::Alert))
        .await;
    assert_eq!(records.len(), 2);
    assert!(!records[0].ok);
    assert!(records[0].detail.contains("500"), "{}", records[0].detail);
    assert!(
        !records[0].detail.contains("secret"),
        "{}",
        records[0].detail
    );
    assert!(!records[1].ok);
}

#[tokio::test]
async fn actions_below_severity_do_not_run() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("drifted.jsonl");
    let records = Actions::new()
        .on(Severity::Alert, JsonlExport::new(&path))
        .run(&outcome(Severity::Warning))
        .await;
    assert!(records.is_empty());
    assert!(!path.exists());
}

#[tokio::test]
async fn jsonl_export_writes_one_line_per_input() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("drifted.jsonl");
    let records = Actions::new()
        .on(Severity::Warning, JsonlExport::new(&path))
        .run(&outcome(Severity::Alert))
        .await;
    assert!(records[0].ok, "{records:?}");

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["text"], "what is a 401k \"match\"");
    assert_eq!(lines[0]["topic"], Value::Null);
    assert_eq!(lines[0]["label"], "new topic");
    assert_eq!(lines[1]["text"], "내 카드 분실");
    assert_eq!(lines[1]["label"], "card, lost");
}

struct RecordingScheduler(Arc<Mutex<Vec<EvaluationRequest>>>);

#[async_trait]
impl EvaluationScheduler for RecordingScheduler {
    async fn schedule(&self, request: EvaluationRequest) -> llmops_drift::Result<String> {
        self.0.lock().unwrap().push(request);
        Ok("eval-1".to_string())
    }
}

#[tokio::test]
async fn evaluation_hook_receives_grown_topics() {
    let requests: Arc<Mutex<Vec<EvaluationRequest>>> = Arc::default();
    let records = Actions::new()
        .on(
            Severity::Alert,
            ScheduleEvaluation::new(RecordingScheduler(requests.clone())),
        )
        .run(&outcome(Severity::Alert))
        .await;
    assert_eq!(records[0].detail, "scheduled evaluation eval-1");

    let requests = requests.lock().unwrap();
    assert_eq!(requests[0].grown_topics, ["card, lost"]);
    assert_eq!(requests[0].new_topic_inputs, 1);
    assert_eq!(requests[0].inputs.len(), 2);
}

#[tokio::test]
async fn review_item_is_opened() {
    let database = llmops_store::testing::sqlite_file().await.unwrap();
    let queue = ReviewQueue::new(AuditLog::open(database.store.clone()).await.unwrap());
    let action = OpenReview::new(queue.clone(), "drift:support-bot", "drift-monitor");
    let records = Actions::new()
        .on(Severity::Alert, action)
        .run(&outcome(Severity::Alert))
        .await;
    assert!(records[0].ok, "{records:?}");

    let items = queue.list(Some(ReviewState::Queued)).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].subject, "drift:support-bot");
    assert!(
        items[0].reason.contains("topic shares: PSI"),
        "{}",
        items[0].reason
    );
}
