//! `verify` places a break at the tail of the log or in its head row at
//! the first entry that is wrong. It counts only the entries before the
//! break as checked, and reports a missing or damaged head row as a break.
//!
//! Each case runs on a SQLite file through both read paths, and on
//! PostgreSQL when `LLMOPS_TEST_POSTGRES_URL` is set.

use crate::common;

use common::{exec, fill, postgres_log, sqlite_log};
use llmops_compliance::ed25519_dalek::SigningKey;
use llmops_compliance::{
    AuditLog, BreakReason, ChainBreak, Checkpoint, ReadPath, VerifyOptions, VerifyReport,
};
use llmops_store::testing::TestDatabase;

/// Opens a SQLite log, and a PostgreSQL log when a server is configured.
async fn logs(test_name: &str) -> Vec<(AuditLog, TestDatabase)> {
    let mut logs = vec![sqlite_log().await];
    if let Some(postgres) = postgres_log(test_name).await {
        logs.push(postgres);
    }
    logs
}

/// Verifies with `options` on both read paths, checks that the reports
/// agree apart from the wording of the detail, and returns the native one.
async fn verify_both_with(log: &AuditLog, options: VerifyOptions) -> VerifyReport {
    let native = log
        .verify(&options.clone().read_path(ReadPath::Native))
        .await
        .unwrap();
    let pool = log
        .verify(&options.read_path(ReadPath::Pool))
        .await
        .unwrap();
    let break_of = |report: &VerifyReport| {
        report
            .problem
            .as_ref()
            .map(|problem| (problem.seq, problem.reason))
    };
    assert_eq!(break_of(&native), break_of(&pool), "{native:?} vs {pool:?}");
    assert_eq!(native.entries, pool.entries, "{native:?} vs {pool:?}");
    assert_eq!(native.root, pool.root);
    assert_eq!(native.checkpoints_verified, pool.checkpoints_verified);
    native
}

async fn verify_both(log: &AuditLog) -> VerifyReport {
    verify_both_with(log, VerifyOptions::default()).await
}

/// Returns the break of `report`, and checks that the entries counted as
/// checked are exactly those before it.
fn broken(report: VerifyReport) -> ChainBreak {
    let problem = report.problem.expect("verify found no problem");
    assert_eq!(report.entries, problem.seq, "checked count of {problem}");
    problem
}

#[tokio::test]
async fn copied_last_row_is_beyond_head() {
    for (log, _db) in logs("copied_last_row_is_beyond_head").await {
        fill(&log, 6).await;
        exec(
            &log,
            "INSERT INTO compliance_audit_log
                 (seq, kind, actor, subject, at_ms, payload, sealed, content_digest, prev_hash, hash)
             SELECT seq + 1, kind, actor, subject, at_ms, payload, sealed, content_digest, prev_hash, hash
             FROM compliance_audit_log WHERE seq = 5",
        )
        .await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 6, "{problem}");
        assert_eq!(problem.reason, BreakReason::Inserted, "{problem}");
        assert!(problem.detail.contains("beyond"), "{}", problem.detail);
        assert!(problem.detail.contains("6 entries"), "{}", problem.detail);
    }
}

#[tokio::test]
async fn edited_row_beyond_head_is_inserted() {
    for (log, _db) in logs("edited_row_beyond_head_is_inserted").await {
        fill(&log, 6).await;
        exec(
            &log,
            "INSERT INTO compliance_audit_log
                 (seq, kind, actor, subject, at_ms, payload, sealed, content_digest, prev_hash, hash)
             SELECT seq + 3, kind, 'forger', subject, at_ms, payload, sealed, content_digest, prev_hash, hash
             FROM compliance_audit_log WHERE seq = 5",
        )
        .await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 6, "{problem}");
        assert_eq!(problem.reason, BreakReason::Inserted, "{problem}");
    }
}

/// Fills 10 entries, signs a checkpoint over them (recorded as entry 10),
/// and returns the checkpoint.
async fn fill_and_sign(log: &AuditLog) -> Checkpoint {
    fill(log, 10).await;
    let key = SigningKey::from_bytes(&[7; 32]);
    log.sign_checkpoint(&key).await.unwrap()
}

/// Deletes entries from `first` on and sets the head row to match.
async fn truncate(log: &AuditLog, first: u64) {
    exec(
        log,
        &format!("DELETE FROM compliance_audit_log WHERE seq >= {first}"),
    )
    .await;
    exec(
        log,
        &format!(
            "UPDATE compliance_audit_head SET size = {first}, head_hash =
                 (SELECT hash FROM compliance_audit_log WHERE seq = {})",
            first - 1
        ),
    )
    .await;
}

#[tokio::test]
async fn truncation_under_checkpoint_names_first_missing() {
    for (log, _db) in logs("truncation_under_checkpoint_names_first_missing").await {
        fill_and_sign(&log).await;
        truncate(&log, 6).await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 6, "{problem}");
        assert_eq!(problem.reason, BreakReason::Deleted, "{problem}");
        assert!(
            problem.detail.contains("checkpoint of size 10"),
            "{}",
            problem.detail
        );
        assert!(problem.detail.contains("missing"), "{}", problem.detail);
    }
}

#[tokio::test]
async fn missing_head_row_is_a_break() {
    for (log, _db) in logs("missing_head_row_is_a_break").await {
        fill(&log, 4).await;
        exec(&log, "DELETE FROM compliance_audit_head").await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 4, "{problem}");
        assert_eq!(problem.reason, BreakReason::HeadMissing, "{problem}");
    }
}

#[tokio::test]
async fn missing_head_row_still_checks_chain() {
    for (log, _db) in logs("missing_head_row_still_checks_chain").await {
        fill(&log, 4).await;
        exec(&log, "DELETE FROM compliance_audit_head").await;
        exec(
            &log,
            "UPDATE compliance_audit_log SET actor = 'someone else' WHERE seq = 2",
        )
        .await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 2, "{problem}");
        assert_eq!(problem.reason, BreakReason::Edited, "{problem}");
        assert!(
            problem.detail.contains("head row is missing"),
            "{}",
            problem.detail
        );
    }
}

#[tokio::test]
async fn negative_head_size_is_damaged() {
    for (log, _db) in logs("negative_head_size_is_damaged").await {
        fill(&log, 4).await;
        exec(&log, "UPDATE compliance_audit_head SET size = -1").await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 4, "{problem}");
        assert_eq!(problem.reason, BreakReason::HeadDamaged, "{problem}");
        assert!(problem.detail.contains("-1"), "{}", problem.detail);
    }
}

#[tokio::test]
async fn head_size_of_wrong_type_is_damaged() {
    // SQLite keeps text and real numbers that a BIGINT column cannot
    // convert; PostgreSQL rejects them on write.
    for value in ["'many'", "2.5", "x'04'"] {
        let (log, _db) = sqlite_log().await;
        fill(&log, 4).await;
        exec(
            &log,
            &format!("UPDATE compliance_audit_head SET size = {value}"),
        )
        .await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 4, "{value}: {problem}");
        assert_eq!(
            problem.reason,
            BreakReason::HeadDamaged,
            "{value}: {problem}"
        );
        let shown = value.trim_matches('\'');
        if !shown.starts_with("x'") {
            assert!(problem.detail.contains(shown), "{value}: {problem}");
        }
    }
}

#[tokio::test]
async fn unreadable_head_hash_is_damaged() {
    for (log, _db) in logs("unreadable_head_hash_is_damaged").await {
        fill(&log, 4).await;
        exec(&log, "UPDATE compliance_audit_head SET head_hash = 'xyz'").await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 4, "{problem}");
        assert_eq!(problem.reason, BreakReason::HeadDamaged, "{problem}");
        assert!(problem.detail.contains("xyz"), "{}", problem.detail);
    }
}

#[tokio::test]
async fn empty_log_without_head_is_a_break() {
    let (log, _db) = sqlite_log().await;
    exec(&log, "DELETE FROM compliance_audit_head").await;
    let problem = broken(verify_both(&log).await);
    assert_eq!(problem.seq, 0, "{problem}");
    assert_eq!(problem.reason, BreakReason::HeadMissing, "{problem}");
}

#[tokio::test]
async fn negative_seq_row_is_inserted() {
    for (log, _db) in logs("negative_seq_row_is_inserted").await {
        fill(&log, 6).await;
        exec(
            &log,
            "INSERT INTO compliance_audit_log
                 (seq, kind, actor, subject, at_ms, payload, sealed, content_digest, prev_hash, hash)
             SELECT -3, kind, actor, subject, at_ms, payload, sealed, content_digest, prev_hash, hash
             FROM compliance_audit_log WHERE seq = 2",
        )
        .await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 0, "{problem}");
        assert_eq!(problem.reason, BreakReason::Inserted, "{problem}");
        assert!(problem.detail.contains("-3"), "{}", problem.detail);
    }
}

#[tokio::test]
async fn cut_to_checkpoint_size_is_deleted() {
    for (log, _db) in logs("cut_to_checkpoint_size_is_deleted").await {
        fill_and_sign(&log).await;
        truncate(&log, 10).await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 10, "{problem}");
        assert_eq!(problem.reason, BreakReason::Deleted, "{problem}");
        assert!(
            problem.detail.contains("checkpoint of size 10"),
            "{}",
            problem.detail
        );
    }
}

#[tokio::test]
async fn cut_to_kept_head_size_is_deleted() {
    for (log, _db) in logs("cut_to_kept_head_size_is_deleted").await {
        let kept = fill_and_sign(&log).await;
        truncate(&log, 10).await;
        exec(&log, "DELETE FROM compliance_checkpoints").await;
        let options = VerifyOptions::default().tree_heads([kept]);
        let problem = broken(verify_both_with(&log, options).await);
        assert_eq!(problem.seq, 10, "{problem}");
        assert_eq!(problem.reason, BreakReason::Deleted, "{problem}");
        assert!(
            problem.detail.contains("kept tree head of size 10"),
            "{}",
            problem.detail
        );
    }
}

#[tokio::test]
async fn duplicated_last_row_is_blamed() {
    for (log, _db) in logs("duplicated_last_row_is_blamed").await {
        fill(&log, 15).await;
        exec(
            &log,
            "INSERT INTO compliance_audit_log
                 (seq, kind, actor, subject, at_ms, payload, sealed, content_digest, prev_hash, hash)
             SELECT seq + 1, kind, actor, subject, at_ms, payload, sealed, content_digest, prev_hash, hash
             FROM compliance_audit_log WHERE seq = 14",
        )
        .await;
        exec(&log, "UPDATE compliance_audit_head SET size = 16").await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 15, "{problem}");
        assert_eq!(problem.reason, BreakReason::Inserted, "{problem}");
        assert!(
            problem.detail.contains("entry 15 duplicates entry 14"),
            "{}",
            problem.detail
        );
    }
}

#[tokio::test]
async fn lowered_head_size_is_damaged() {
    for (log, _db) in logs("lowered_head_size_is_damaged").await {
        fill(&log, 15).await;
        exec(&log, "UPDATE compliance_audit_head SET size = 3").await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 3, "{problem}");
        assert_eq!(problem.reason, BreakReason::HeadDamaged, "{problem}");
        assert!(
            problem.detail.contains("records 3 entries"),
            "{}",
            problem.detail
        );
        assert!(
            problem.detail.contains("entries 3 to 14"),
            "{}",
            problem.detail
        );
    }
}

#[tokio::test]
async fn damaged_checkpoint_row_is_a_break() {
    // SQLite keeps values that the column types cannot convert;
    // PostgreSQL rejects them on write.
    let cases = [
        ("size = 'ten'", "column size is \"ten\""),
        ("at_ms = 'x'", "column at_ms is \"x\""),
        ("root = 'zz'", "column root is \"zz\""),
        ("size = 2.5", "column size is \"2.5\""),
    ];
    for (assignment, expected) in cases {
        let (log, _db) = sqlite_log().await;
        fill_and_sign(&log).await;
        exec(
            &log,
            &format!("UPDATE compliance_checkpoints SET {assignment}"),
        )
        .await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 11, "{assignment}: {problem}");
        assert_eq!(
            problem.reason,
            BreakReason::CheckpointDamaged,
            "{assignment}: {problem}"
        );
        assert!(
            problem.detail.contains("compliance_checkpoints"),
            "{assignment}: {problem}"
        );
        assert!(problem.detail.contains(expected), "{assignment}: {problem}");
    }
}

#[tokio::test]
async fn checkpoint_key_id_must_match_key() {
    for (log, _db) in logs("checkpoint_key_id_must_match_key").await {
        fill_and_sign(&log).await;
        exec(
            &log,
            "INSERT INTO compliance_checkpoints (size, key_id, root, at_ms, public_key, signature)
             SELECT size, 'other', root, at_ms, public_key, signature FROM compliance_checkpoints",
        )
        .await;
        let problem = broken(verify_both(&log).await);
        assert_eq!(problem.seq, 9, "{problem}");
        assert_eq!(problem.reason, BreakReason::CheckpointDamaged, "{problem}");
        assert!(problem.detail.contains("names key other"), "{problem}");
    }
}
