//! Helpers shared by the integration tests.
#![allow(dead_code)]

use llmops_compliance::{AuditLog, EventKind, NewEvent};
use llmops_store::testing::{self, TestDatabase};
use serde_json::json;

/// Opens a log on a fresh SQLite file. Keep the database alive for the test.
pub(crate) async fn sqlite_log() -> (AuditLog, TestDatabase) {
    let database = testing::sqlite_file().await.unwrap();
    let log = AuditLog::open(database.store.clone()).await.unwrap();
    (log, database)
}

/// Opens a log on a fresh PostgreSQL database, or returns `None` when no server is configured.
pub(crate) async fn postgres_log(test_name: &str) -> Option<(AuditLog, TestDatabase)> {
    let database = testing::postgres(test_name).await?;
    let log = AuditLog::open(database.store.clone()).await.unwrap();
    Some((log, database))
}

/// Builds model-call event `n`, with a fixed time so hashes repeat.
pub(crate) fn event(n: usize) -> NewEvent {
    NewEvent::new(EventKind::ModelCall, "gateway", format!("request:{n}"))
        .payload(json!({"model": "m", "n": n, "text": "héllo ✓"}))
        .at_ms(1_700_000_000_000 + n as i64)
}

/// Appends `count` events one batch at a time.
pub(crate) async fn fill(log: &AuditLog, count: usize) {
    let events: Vec<NewEvent> = (0..count).map(event).collect();
    log.append_batch(&events).await.unwrap();
}

/// Runs one raw statement on the log's database.
pub(crate) async fn exec(log: &AuditLog, sql: &str) {
    sqlx::query(sql).execute(log.store().pool()).await.unwrap();
}
