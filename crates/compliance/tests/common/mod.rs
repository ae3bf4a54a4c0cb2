//! Helpers shared by the integration tests.
#![allow(dead_code)]

use llmops_compliance::{AuditLog, EventKind, NewEvent, content_digest};
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

/// Rewrites entry `first`'s payload and recomputes the hashes and links of
/// every entry from it on and the head row, as someone with write access
/// and the code could: the chain verifies, only signed tree heads differ.
pub(crate) async fn rewrite_from(log: &AuditLog, first: u64) {
    let mut entries = log.entries(0, 1_000).await.unwrap();
    let first = first as usize;
    entries[first].payload = json!({"model": "rewritten"});
    entries[first].content_digest = content_digest(&entries[first].payload, None).unwrap();
    let mut prev = entries[first - 1].hash;
    for entry in entries.iter_mut().skip(first) {
        entry.prev_hash = prev;
        entry.hash = entry.compute_hash().unwrap();
        prev = entry.hash;
        sqlx::query(
            "UPDATE compliance_audit_log SET payload = $1, content_digest = $2, prev_hash = $3, hash = $4
             WHERE seq = $5",
        )
        .bind(entry.payload.to_string())
        .bind(entry.content_digest.to_hex())
        .bind(entry.prev_hash.to_hex())
        .bind(entry.hash.to_hex())
        .bind(entry.seq as i64)
        .execute(log.store().pool())
        .await
        .unwrap();
    }
    sqlx::query("UPDATE compliance_audit_head SET head_hash = $1")
        .bind(prev.to_hex())
        .execute(log.store().pool())
        .await
        .unwrap();
}
