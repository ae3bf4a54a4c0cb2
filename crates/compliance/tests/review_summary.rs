//! The queue summary and the dashboard's oversight panel, on SQLite and
//! PostgreSQL.

use crate::common;

use common::{postgres_log, sqlite_log};
use llmops_compliance::{AuditLog, Decision, NewReview, ReviewQueue, ReviewState};
use llmops_monitor::source::OversightSource;
use serde_json::json;

async fn summary_counts_waiting_items(log: AuditLog) {
    let queue = ReviewQueue::new(log);
    let empty = queue.summary(20).await.unwrap();
    assert_eq!(empty.waiting, 0);
    assert_eq!(empty.oldest_waiting_ms, None);
    assert!(empty.recent.is_empty());
    let panel = queue.queue().await.unwrap();
    assert_eq!(panel.pending, 0);
    assert_eq!(panel.oldest_pending_age_s, None);

    let mut ids = Vec::new();
    for n in 0..4 {
        let item = queue
            .enqueue(
                &NewReview::new(format!("request:{n}"), "출력 가드 <b>"),
                "guardrails",
            )
            .await
            .unwrap();
        ids.push(item.id);
    }
    // One decided and closed, one escalated: three still wait.
    queue.assign(ids[0], "rita", "lead").await.unwrap();
    queue.start(ids[0], "rita").await.unwrap();
    queue
        .decide(ids[0], "rita", Decision::Approve, json!({}))
        .await
        .unwrap();
    queue.close(ids[0], "rita").await.unwrap();
    queue.assign(ids[1], "rita", "lead").await.unwrap();
    queue.start(ids[1], "rita").await.unwrap();
    queue
        .decide(ids[1], "rita", Decision::Escalate, json!({}))
        .await
        .unwrap();

    let summary = queue.summary(2).await.unwrap();
    assert_eq!(summary.waiting, 3);
    let first = queue.get(ids[0]).await.unwrap();
    assert_eq!(
        summary.oldest_waiting_ms,
        Some(queue.get(ids[1]).await.unwrap().created_at_ms)
    );
    assert!(first.created_at_ms > 0);
    let recent: Vec<i64> = summary.recent.iter().map(|item| item.id).collect();
    assert_eq!(recent, vec![ids[3], ids[2]]);

    let panel = queue.queue().await.unwrap();
    assert_eq!(panel.pending, 3);
    assert!(panel.oldest_pending_age_s.is_some());
    assert_eq!(panel.items.len(), 4);
    assert_eq!(panel.items[0].id, ids[3].to_string());
    assert_eq!(panel.items[3].status, ReviewState::Closed.as_str());
    assert_eq!(panel.items[2].status, ReviewState::Escalated.as_str());
    assert_eq!(panel.items[0].kind, "request:3");
}

#[tokio::test]
async fn summary_on_sqlite() {
    let (log, _db) = sqlite_log().await;
    summary_counts_waiting_items(log).await;
}

#[tokio::test]
async fn summary_on_postgres() {
    let Some((log, _db)) = postgres_log("summary_on_postgres").await else {
        return;
    };
    summary_counts_waiting_items(log).await;
}
