//! `verify` reads a SQLite file natively or through the pool and reports
//! the same result either way; the native scan reads one snapshot.

use crate::common;

use common::{exec, fill, postgres_log, sqlite_log};
use llmops_compliance::{
    AuditLog, BreakReason, EventKind, NewEvent, ReadPath, VerifyOptions, VerifyReport,
};
use llmops_store::Store;
use serde_json::json;

/// Entries per page of the native scan and of the pool's queries.
const PAGE_ROWS: usize = 10_000;

async fn verify_on(log: &AuditLog, read_path: ReadPath) -> VerifyReport {
    log.verify(&VerifyOptions::default().read_path(read_path))
        .await
        .unwrap()
}

/// Verifies on both paths and checks that the reports agree, apart from
/// the wording of the detail.
async fn verify_both(log: &AuditLog) -> VerifyReport {
    let native = verify_on(log, ReadPath::Native).await;
    let pool = verify_on(log, ReadPath::Pool).await;
    assert_eq!(native.entries, pool.entries);
    assert_eq!(native.root, pool.root);
    assert_eq!(native.checkpoints_verified, pool.checkpoints_verified);
    let break_of = |report: &VerifyReport| {
        report
            .problem
            .as_ref()
            .map(|problem| (problem.seq, problem.reason))
    };
    assert_eq!(break_of(&native), break_of(&pool), "{native:?} vs {pool:?}");
    if let Some(problem) = &native.problem {
        assert_eq!(
            native.entries, problem.seq,
            "only the entries before {problem} count as checked"
        );
    }
    native
}

#[tokio::test]
async fn empty_log_verifies() {
    let (log, _db) = sqlite_log().await;
    let report = verify_both(&log).await;
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.entries, 0);
}

#[tokio::test]
async fn one_entry_log_verifies_and_edit_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 1).await;
    let report = verify_both(&log).await;
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.entries, 1);

    exec(
        &log,
        "UPDATE compliance_audit_log SET subject = 'request:other' WHERE seq = 0",
    )
    .await;
    let problem = verify_both(&log).await.problem.unwrap();
    assert_eq!(problem.seq, 0);
    assert_eq!(problem.reason, BreakReason::Edited);
}

#[tokio::test]
async fn edited_head_hash_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 3).await;
    exec(
        &log,
        "UPDATE compliance_audit_head SET head_hash = '1111111111111111111111111111111111111111111111111111111111111111'",
    )
    .await;
    let problem = verify_both(&log).await.problem.unwrap();
    assert_eq!(problem.seq, 2);
    assert_eq!(problem.reason, BreakReason::Edited);
}

#[tokio::test]
async fn breaks_across_pages_are_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 2 * PAGE_ROWS + 500).await;
    let report = verify_both(&log).await;
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.entries, (2 * PAGE_ROWS + 500) as u64);

    // The first row of the third page.
    let last_page = 2 * PAGE_ROWS;
    exec(
        &log,
        &format!(
            "UPDATE compliance_audit_log SET payload = '{{\"edited\":1}}' WHERE seq = {last_page}"
        ),
    )
    .await;
    let problem = verify_both(&log).await.problem.unwrap();
    assert_eq!(problem.seq, last_page as u64);
    assert_eq!(problem.reason, BreakReason::Edited);

    // The last row of the first page comes first.
    let first_page_end = PAGE_ROWS - 1;
    exec(
        &log,
        &format!("DELETE FROM compliance_audit_log WHERE seq = {first_page_end}"),
    )
    .await;
    let problem = verify_both(&log).await.problem.unwrap();
    assert_eq!(problem.seq, first_page_end as u64);
    assert_eq!(problem.reason, BreakReason::Deleted);
}

#[tokio::test]
async fn rows_swapped_across_pages_are_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, PAGE_ROWS + 10).await;
    let (a, b) = (PAGE_ROWS - 2, PAGE_ROWS + 3);
    for sql in [
        format!("UPDATE compliance_audit_log SET seq = -1 WHERE seq = {a}"),
        format!("UPDATE compliance_audit_log SET seq = {a} WHERE seq = {b}"),
        format!("UPDATE compliance_audit_log SET seq = {b} WHERE seq = -1"),
    ] {
        exec(&log, &sql).await;
    }
    let problem = verify_both(&log).await.problem.unwrap();
    assert_eq!(problem.seq, a as u64);
    assert_eq!(problem.reason, BreakReason::Reordered);
}

#[tokio::test]
async fn values_of_wrong_type_are_unreadable() {
    // TEXT columns turn numbers into text and NOT NULL rejects NULL, so
    // blobs stand for values of the wrong type there.
    let cases = [
        ("kind", "x'6b'"),
        ("actor", "x'00'"),
        ("at_ms", "'yesterday'"),
        ("at_ms", "1.5"),
        ("hash", "x'00ff'"),
        ("sealed", "7"),
    ];
    for (column, value) in cases {
        let (log, _db) = sqlite_log().await;
        fill(&log, 4).await;
        exec(
            &log,
            &format!("UPDATE compliance_audit_log SET {column} = {value} WHERE seq = 2"),
        )
        .await;
        let problem = verify_both(&log).await.problem.unwrap();
        assert_eq!(problem.seq, 2, "{column} = {value}: {problem}");
        assert_eq!(
            problem.reason,
            BreakReason::Unreadable,
            "{column} = {value}: {problem}"
        );
    }
}

#[tokio::test]
async fn text_that_is_not_utf8_is_unreadable() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 3).await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET actor = CAST(x'67617465ff' AS TEXT) WHERE seq = 1",
    )
    .await;
    let report = verify_on(&log, ReadPath::Native).await;
    let problem = report.problem.unwrap();
    assert_eq!(problem.seq, 1);
    assert_eq!(problem.reason, BreakReason::Unreadable);
    assert!(problem.detail.contains("actor"), "{}", problem.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_during_appends_sees_one_snapshot() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 3 * PAGE_ROWS).await;
    let appender = {
        let log = log.clone();
        tokio::spawn(async move {
            let batch: Vec<NewEvent> = (0..50).map(common::event).collect();
            for _ in 0..40 {
                log.append_batch(&batch).await.unwrap();
            }
        })
    };
    let mut runs = 0;
    while !appender.is_finished() || runs == 0 {
        let report = verify_on(&log, ReadPath::Native).await;
        assert!(report.is_valid(), "{:?}", report.problem);
        assert!(report.entries >= (3 * PAGE_ROWS) as u64);
        runs += 1;
    }
    appender.await.unwrap();
    let report = verify_on(&log, ReadPath::Native).await;
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.entries, (3 * PAGE_ROWS + 2_000) as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_paths_read_checkpoints_in_snapshot() {
    let (log, _db) = sqlite_log().await;
    fill(&log, PAGE_ROWS).await;
    let key = llmops_compliance::ed25519_dalek::SigningKey::from_bytes(&[6; 32]);
    let writer = {
        let log = log.clone();
        let key = key.clone();
        tokio::spawn(async move {
            let batch: Vec<NewEvent> = (0..50).map(common::event).collect();
            for _ in 0..20 {
                log.append_batch(&batch).await.unwrap();
                log.sign_checkpoint(&key).await.unwrap();
            }
        })
    };
    let mut runs = 0;
    while !writer.is_finished() || runs == 0 {
        for read_path in [ReadPath::Native, ReadPath::Pool] {
            let report = verify_on(&log, read_path).await;
            assert!(report.is_valid(), "{read_path:?}: {:?}", report.problem);
        }
        runs += 1;
    }
    writer.await.unwrap();
    let report = verify_both(&log).await;
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.checkpoints_verified, 20);
}

#[tokio::test]
async fn memory_store_falls_back_to_pool() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let log = AuditLog::open(store).await.unwrap();
    fill(&log, 5).await;
    let report = verify_on(&log, ReadPath::Native).await;
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.entries, 5);

    exec(&log, "DELETE FROM compliance_audit_log WHERE seq = 1").await;
    let problem = verify_on(&log, ReadPath::Native).await.problem.unwrap();
    assert_eq!(problem.seq, 1);
    assert_eq!(problem.reason, BreakReason::Deleted);
}

#[tokio::test]
async fn postgres_falls_back_to_pool() {
    let Some((log, _db)) = postgres_log("postgres_falls_back_to_pool").await else {
        return;
    };
    let event = NewEvent::new(EventKind::ModelCall, "gateway", "request:pg")
        .payload(json!({"model": "m", "text": "héllo ✓"}));
    log.append(event).await.unwrap();
    fill(&log, 4).await;
    let report = verify_on(&log, ReadPath::Native).await;
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.entries, 5);

    exec(
        &log,
        "UPDATE compliance_audit_log SET actor = 'someone else' WHERE seq = 3",
    )
    .await;
    let problem = verify_on(&log, ReadPath::Native).await.problem.unwrap();
    assert_eq!(problem.seq, 3);
    assert_eq!(problem.reason, BreakReason::Edited);
}
