//! Appends: linking, batches, rollback and concurrent writers on SQLite and PostgreSQL.

use crate::common;

use common::{event, fill, postgres_log, sqlite_log};
use llmops_compliance::ed25519_dalek::SigningKey;
use llmops_compliance::{
    AuditLog, ComplianceError, EventKind, Hash, MAX_PAYLOAD_DEPTH, NewEvent, VerifyOptions,
    verify_extract,
};
use llmops_store::{Store, StoreOptions};
use serde_json::json;

#[tokio::test]
async fn append_links_each_entry_to_previous() {
    let (log, _db) = sqlite_log().await;
    let first = log.append(event(0)).await.unwrap();
    let second = log.append(event(1)).await.unwrap();
    assert_eq!(first.seq, 0);
    assert_eq!(second.seq, 1);
    assert_eq!(first.prev_hash, Hash::ZERO);
    assert_eq!(second.prev_hash, first.hash);
    assert_eq!(first.compute_hash().unwrap(), first.hash);

    let stored = log.entry(1).await.unwrap();
    assert_eq!(stored, second);
    let head = log.head().await.unwrap();
    assert_eq!(head.size, 2);
    assert_eq!(head.head_hash, second.hash);
}

#[tokio::test]
async fn batch_matches_single_appends() {
    let (single, _a) = sqlite_log().await;
    for n in 0..5 {
        single.append(event(n)).await.unwrap();
    }
    let (batched, _b) = sqlite_log().await;
    let events: Vec<NewEvent> = (0..5).map(event).collect();
    let entries = batched.append_batch(&events).await.unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(
        single.head().await.unwrap().head_hash,
        batched.head().await.unwrap().head_hash
    );
}

#[tokio::test]
async fn large_batch_spans_insert_chunks() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 1_234).await;
    let report = log.verify(&VerifyOptions::default()).await.unwrap();
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.entries, 1_234);
}

#[tokio::test]
async fn empty_batch_writes_nothing() {
    let (log, _db) = sqlite_log().await;
    assert!(log.append_batch(&[]).await.unwrap().is_empty());
    assert_eq!(log.head().await.unwrap().size, 0);
    let report = log.verify(&VerifyOptions::default()).await.unwrap();
    assert!(report.is_valid());
    assert_eq!(report.entries, 0);
}

#[tokio::test]
async fn invalid_event_in_batch_writes_none() {
    let (log, _db) = sqlite_log().await;
    let bad = NewEvent::new(EventKind::ModelCall, "gateway", "").payload(json!({}));
    let error = log.append_batch(&[event(0), bad]).await.unwrap_err();
    assert!(
        matches!(
            error,
            ComplianceError::InvalidEvent {
                field: "subject",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(log.head().await.unwrap().size, 0);
}

#[tokio::test]
async fn missing_entry_names_log_size() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 2).await;
    let error = log.entry(5).await.unwrap_err();
    assert!(
        matches!(error, ComplianceError::EntryNotFound { seq: 5, size: 2 }),
        "{error}"
    );
}

#[tokio::test]
async fn uncommitted_append_leaves_chain_valid() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 3).await;

    let mut transaction = log.store().begin().await.unwrap();
    let pending = log
        .append_in(&mut transaction, &[event(10), event(11)])
        .await
        .unwrap();
    assert_eq!(pending[0].seq, 3);
    drop(transaction);

    assert_eq!(log.head().await.unwrap().size, 3);
    let next = log.append(event(12)).await.unwrap();
    assert_eq!(next.seq, 3);
    let report = log.verify(&VerifyOptions::default()).await.unwrap();
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.entries, 4);
}

/// Writers on separate pools to one database; returns the expected size.
async fn write_concurrently(url: &str, writers: usize, batches: usize, per_batch: usize) -> u64 {
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let store = StoreOptions::default()
                .max_connections(2)
                .busy_timeout(std::time::Duration::from_secs(30))
                .connect(&url)
                .await
                .unwrap();
            let log = AuditLog::open(store).await.unwrap();
            for batch in 0..batches {
                let events: Vec<NewEvent> = (0..per_batch)
                    .map(|i| {
                        NewEvent::new(EventKind::EvalScore, format!("writer-{writer}"), "run")
                            .payload(json!({"batch": batch, "i": i}))
                    })
                    .collect();
                log.append_batch(&events).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    (writers * batches * per_batch) as u64
}

async fn assert_one_chain(log: &AuditLog, expected: u64) {
    let report = log.verify(&VerifyOptions::default()).await.unwrap();
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.entries, expected);
    assert_eq!(log.head().await.unwrap().size, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sqlite_writers_form_one_chain() {
    let (log, db) = sqlite_log().await;
    let expected = write_concurrently(&db.url, 6, 10, 7).await;
    assert_one_chain(&log, expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_postgres_writers_form_one_chain() {
    let Some((log, db)) = postgres_log("concurrent_postgres_writers_form_one_chain").await else {
        return;
    };
    let expected = write_concurrently(&db.url, 6, 10, 7).await;
    assert_one_chain(&log, expected).await;
}

#[tokio::test]
async fn postgres_uncommitted_append_leaves_chain_valid() {
    let Some((log, _db)) = postgres_log("postgres_uncommitted_append_leaves_chain_valid").await
    else {
        return;
    };
    fill(&log, 2).await;
    let mut transaction = log.store().begin().await.unwrap();
    log.append_in(&mut transaction, &[event(5)]).await.unwrap();
    drop(transaction);
    log.append(event(6)).await.unwrap();
    assert_one_chain(&log, 3).await;
}

#[tokio::test]
async fn reopening_keeps_the_chain() {
    let (log, db) = sqlite_log().await;
    fill(&log, 4).await;
    let head = log.head().await.unwrap();
    let reopened = AuditLog::open(Store::connect(&db.url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(reopened.head().await.unwrap(), head);
    let next = reopened.append(event(9)).await.unwrap();
    assert_eq!(next.prev_hash, head.head_hash);
}

/// Returns a payload of `depth` nested objects around one number.
fn nested(depth: usize) -> serde_json::Value {
    let mut value = json!(1);
    for _ in 0..depth {
        value = json!({ "a": value });
    }
    value
}

#[tokio::test]
async fn payload_nested_beyond_the_limit_is_refused() {
    let (log, _db) = sqlite_log().await;
    let deep = NewEvent::new(EventKind::ModelCall, "gateway", "request:deep")
        .payload(nested(MAX_PAYLOAD_DEPTH + 1));
    let error = log.append(deep).await.unwrap_err();
    assert!(
        matches!(
            error,
            ComplianceError::InvalidEvent {
                field: "payload",
                ..
            }
        ),
        "{error}"
    );
    let personal = NewEvent::new(EventKind::ModelCall, "gateway", "request:deep")
        .personal("subject-1", nested(MAX_PAYLOAD_DEPTH + 1));
    let error = log.append(personal).await.unwrap_err();
    assert!(
        matches!(
            error,
            ComplianceError::InvalidEvent {
                field: "personal",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(log.head().await.unwrap().size, 0);

    // The deepest payload allowed still goes through an extract.
    let deepest = NewEvent::new(EventKind::ModelCall, "gateway", "request:deepest")
        .payload(nested(MAX_PAYLOAD_DEPTH));
    log.append(deepest).await.unwrap();
    let key = SigningKey::from_bytes(&[2; 32]);
    let checkpoint = log.sign_checkpoint(&key).await.unwrap();
    let mut extract = Vec::new();
    log.export_extract(&mut extract, [0], &checkpoint)
        .await
        .unwrap();
    let report = verify_extract(&extract[..], &[key.verifying_key()]).unwrap();
    assert_eq!(report.entries, vec![0]);
}
