//! `verify` finds tampering done with raw SQL and names the first broken entry.

use crate::common;

use common::{exec, fill, rewrite_from, sqlite_log};
use llmops_compliance::ed25519_dalek::SigningKey;
use llmops_compliance::{
    AuditLog, BreakReason, ChainBreak, ComplianceError, Hash, ReadPath, VerifyOptions,
    content_digest, entry_hash,
};
use serde_json::json;

/// Verifies on both read paths, checks that they report the same break,
/// and returns the native path's.
async fn first_break(log: &AuditLog) -> ChainBreak {
    let native = VerifyOptions::default().read_path(ReadPath::Native);
    let pool = VerifyOptions::default().read_path(ReadPath::Pool);
    let native = log.verify(&native).await.unwrap();
    let pool = log.verify(&pool).await.unwrap();
    let problem = native.problem.expect("verify found no problem");
    let pool_problem = pool
        .problem
        .expect("verify through the pool found no problem");
    assert_eq!(problem.seq, pool_problem.seq, "{problem} vs {pool_problem}");
    assert_eq!(
        problem.reason, pool_problem.reason,
        "{problem} vs {pool_problem}"
    );
    assert_eq!(native.entries, pool.entries);
    assert_eq!(native.root, pool.root);
    assert_eq!(
        native.entries, problem.seq,
        "only the entries before {problem} count as checked"
    );
    problem
}

#[tokio::test]
async fn edited_payload_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 6).await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET payload = '{\"model\":\"other\"}' WHERE seq = 2",
    )
    .await;
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 2);
    assert_eq!(problem.reason, BreakReason::Edited);
}

#[tokio::test]
async fn edited_payload_with_new_digest_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 4).await;
    let payload = json!({"model": "other"});
    let digest = content_digest(&payload, None).unwrap();
    sqlx::query("UPDATE compliance_audit_log SET payload = $1, content_digest = $2 WHERE seq = 1")
        .bind(payload.to_string())
        .bind(digest.to_hex())
        .execute(log.store().pool())
        .await
        .unwrap();
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 1);
    assert_eq!(problem.reason, BreakReason::Edited);
    assert!(
        problem.detail.contains("the fields hash to"),
        "{}",
        problem.detail
    );
}

#[tokio::test]
async fn removed_payload_without_purge_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 4).await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET payload = NULL WHERE seq = 2",
    )
    .await;
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 2);
    assert_eq!(problem.reason, BreakReason::UnrecordedPurge);
}

#[tokio::test]
async fn edited_actor_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 3).await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET actor = 'someone else' WHERE seq = 0",
    )
    .await;
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 0);
    assert_eq!(problem.reason, BreakReason::Edited);
}

#[tokio::test]
async fn deleted_entry_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 6).await;
    exec(&log, "DELETE FROM compliance_audit_log WHERE seq = 3").await;
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 3);
    assert_eq!(problem.reason, BreakReason::Deleted);
    assert!(
        problem.detail.contains("next stored entry is 4"),
        "{}",
        problem.detail
    );
}

#[tokio::test]
async fn deleted_last_entry_is_found_by_head() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 4).await;
    exec(&log, "DELETE FROM compliance_audit_log WHERE seq = 3").await;
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 3);
    assert_eq!(problem.reason, BreakReason::Deleted);
}

#[tokio::test]
async fn deleted_and_renumbered_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 6).await;
    exec(&log, "DELETE FROM compliance_audit_log WHERE seq = 3").await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET seq = seq + 100 WHERE seq > 3",
    )
    .await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET seq = seq - 101 WHERE seq > 100",
    )
    .await;
    exec(&log, "UPDATE compliance_audit_head SET size = 5").await;
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 3);
    assert_eq!(problem.reason, BreakReason::Unlinked);
}

#[tokio::test]
async fn reordered_entries_are_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 6).await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET seq = -1 WHERE seq = 2",
    )
    .await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET seq = 2 WHERE seq = 3",
    )
    .await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET seq = 3 WHERE seq = -1",
    )
    .await;
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 2);
    assert_eq!(problem.reason, BreakReason::Reordered);
    assert!(problem.detail.contains("stored at 3"), "{}", problem.detail);
}

#[tokio::test]
async fn inserted_entry_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 6).await;
    let before = log.entry(2).await.unwrap();

    // A forged entry with a correct hash that links to entry 2, placed at 3.
    let payload = json!({"model": "forged"});
    let content = content_digest(&payload, None).unwrap();
    let forged_hash = entry_hash(
        "model_call",
        "gateway",
        "request:x",
        1,
        &content,
        &before.hash,
    )
    .unwrap();
    exec(
        &log,
        "UPDATE compliance_audit_log SET seq = seq + 100 WHERE seq >= 3",
    )
    .await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET seq = seq - 99 WHERE seq >= 100",
    )
    .await;
    sqlx::query(
        "INSERT INTO compliance_audit_log
             (seq, kind, actor, subject, at_ms, payload, sealed, content_digest, prev_hash, hash)
         VALUES (3, 'model_call', 'gateway', 'request:x', 1, $1, NULL, $2, $3, $4)",
    )
    .bind(payload.to_string())
    .bind(content.to_hex())
    .bind(before.hash.to_hex())
    .bind(forged_hash.to_hex())
    .execute(log.store().pool())
    .await
    .unwrap();
    exec(&log, "UPDATE compliance_audit_head SET size = 7").await;

    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 3);
    assert_eq!(problem.reason, BreakReason::Inserted);
}

#[tokio::test]
async fn appended_row_without_head_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 2).await;
    let last = log.entry(1).await.unwrap();
    let content = content_digest(&json!({}), None).unwrap();
    let hash = entry_hash("model_call", "x", "y", 1, &content, &last.hash).unwrap();
    sqlx::query(
        "INSERT INTO compliance_audit_log
             (seq, kind, actor, subject, at_ms, payload, sealed, content_digest, prev_hash, hash)
         VALUES (2, 'model_call', 'x', 'y', 1, '{}', NULL, $1, $2, $3)",
    )
    .bind(content.to_hex())
    .bind(last.hash.to_hex())
    .bind(hash.to_hex())
    .execute(log.store().pool())
    .await
    .unwrap();
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 2);
    assert_eq!(problem.reason, BreakReason::Inserted);
}

#[tokio::test]
async fn unreadable_payload_is_reported_not_an_error() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 3).await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET payload = 'not json' WHERE seq = 1",
    )
    .await;
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 1);
    assert_eq!(problem.reason, BreakReason::Unreadable);
}

#[tokio::test]
async fn rewritten_history_is_found_only_by_checkpoint() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 5).await;
    let key = SigningKey::from_bytes(&[3; 32]);
    log.sign_checkpoint(&key).await.unwrap();
    assert!(
        log.verify(&VerifyOptions::default())
            .await
            .unwrap()
            .is_valid()
    );

    rewrite_from(&log, 1).await;
    let problem = first_break(&log).await;
    assert_eq!(problem.reason, BreakReason::CheckpointMismatch);
    // The tree cannot tell which entry changed, so no entry counts as
    // verified and the detail names the range.
    assert_eq!(problem.seq, 0, "{problem}");
    assert!(
        problem.detail.contains("one of entries 0 to 4"),
        "{}",
        problem.detail
    );
    let report = log.verify(&VerifyOptions::default()).await.unwrap();
    assert_eq!(report.entries, 0);
}

#[tokio::test]
async fn rewrite_after_matching_checkpoint() {
    let (log, _db) = sqlite_log().await;
    let key = SigningKey::from_bytes(&[3; 32]);
    fill(&log, 2).await;
    log.sign_checkpoint(&key).await.unwrap();
    fill(&log, 3).await;
    log.sign_checkpoint(&key).await.unwrap();

    rewrite_from(&log, 3).await;

    // The checkpoint of size 2 still matches, so the break is placed at
    // entry 2, the first that only the second checkpoint covers.
    let problem = first_break(&log).await;
    assert_eq!(problem.reason, BreakReason::CheckpointMismatch, "{problem}");
    assert_eq!(problem.seq, 2, "{problem}");
    assert!(
        problem.detail.contains("one of entries 2 to 5"),
        "{problem}"
    );
}

#[tokio::test]
async fn broken_chain_is_never_signed() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 4).await;
    exec(
        &log,
        "UPDATE compliance_audit_log SET payload = '{\"model\":\"x\"}' WHERE seq = 1",
    )
    .await;
    let key = SigningKey::from_bytes(&[3; 32]);
    let error = log.sign_checkpoint(&key).await.unwrap_err();
    match &error {
        ComplianceError::ChainBroken { problem } => {
            assert_eq!(problem.seq, 1, "{problem}");
            assert_eq!(problem.reason, BreakReason::Edited, "{problem}");
        }
        other => panic!("expected ChainBroken, got {other}"),
    }
    assert!(error.to_string().contains("llmops audit verify"), "{error}");
    assert!(log.checkpoints().await.unwrap().is_empty());
    // Nothing was appended either: the log still ends at entry 3.
    assert_eq!(log.head().await.unwrap().size, 4);
}

#[tokio::test]
async fn forged_checkpoint_signature_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 3).await;
    let key = SigningKey::from_bytes(&[3; 32]);
    let checkpoint = log.sign_checkpoint(&key).await.unwrap();
    let other_root = Hash([9; 32]).to_hex();
    sqlx::query("UPDATE compliance_checkpoints SET root = $1 WHERE size = $2")
        .bind(other_root)
        .bind(checkpoint.size as i64)
        .execute(log.store().pool())
        .await
        .unwrap();
    let problem = first_break(&log).await;
    assert_eq!(problem.reason, BreakReason::BadCheckpointSignature);
}

#[tokio::test]
async fn untrusted_checkpoint_key_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 3).await;
    let signer = SigningKey::from_bytes(&[3; 32]);
    let trusted = SigningKey::from_bytes(&[4; 32]);
    log.sign_checkpoint(&signer).await.unwrap();

    let any_key = log.verify(&VerifyOptions::default()).await.unwrap();
    assert!(any_key.is_valid());
    assert_eq!(any_key.checkpoints_verified, 1);

    let options = VerifyOptions::default().trusted_keys([trusted.verifying_key()]);
    let report = log.verify(&options).await.unwrap();
    let problem = report.problem.unwrap();
    assert_eq!(problem.reason, BreakReason::UntrustedCheckpointKey);
    assert!(
        problem.detail.contains("not among the trusted keys"),
        "{}",
        problem.detail
    );
}

#[tokio::test]
async fn deleted_checkpoint_row_is_found() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 4).await;
    let key = SigningKey::from_bytes(&[3; 32]);
    log.sign_checkpoint(&key).await.unwrap();
    exec(&log, "DELETE FROM compliance_checkpoints").await;
    let problem = first_break(&log).await;
    assert_eq!(problem.reason, BreakReason::CheckpointMismatch);
    assert_eq!(problem.seq, 4);
    assert!(
        problem.detail.contains("missing from the checkpoint table"),
        "{}",
        problem.detail
    );
}

#[tokio::test]
async fn reformatted_payload_text_still_verifies() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 4).await;
    // The same JSON value in other bytes, as logs from before payloads were
    // stored canonically hold: verify parses it and compares the digest.
    exec(
        &log,
        "UPDATE compliance_audit_log SET payload = '{ \"text\": \"h\\u00e9llo ✓\", \"n\": 2.0, \"model\": \"m\" }' WHERE seq = 2",
    )
    .await;
    let report = log.verify(&VerifyOptions::default()).await.unwrap();
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.entries, 4);
}

#[tokio::test]
async fn bytes_moved_into_sealed_column_are_found() {
    let (log, _db) = sqlite_log().await;
    let event = llmops_compliance::NewEvent::new(
        llmops_compliance::EventKind::ModelCall,
        "gateway",
        "request:seam",
    )
    .payload(json!({"a": 1, "sealed": 2}));
    log.append(event).await.unwrap();
    // The digest covers `{"payload":` + payload + `,"sealed":` + sealed +
    // `}`; these two columns give the same bytes but are not JSON values.
    exec(
        &log,
        r#"UPDATE compliance_audit_log SET payload = '{"a":1', sealed = '2},"sealed":null' WHERE seq = 0"#,
    )
    .await;
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 0);
    assert_eq!(problem.reason, BreakReason::Unreadable);
}

#[tokio::test]
async fn large_integers_keep_their_digits() {
    let (log, _db) = sqlite_log().await;
    let event = llmops_compliance::NewEvent::new(
        llmops_compliance::EventKind::ModelCall,
        "gateway",
        "request:big",
    )
    .payload(json!({"id": 9_007_199_254_740_993_u64, "ratio": 0.1}));
    log.append(event).await.unwrap();
    let entry = log.entry(0).await.unwrap();
    assert_eq!(entry.payload["id"].as_u64(), Some(9_007_199_254_740_993));
    assert!(
        log.verify(&VerifyOptions::default())
            .await
            .unwrap()
            .is_valid()
    );
}

#[tokio::test]
async fn negative_checkpoint_size_is_a_break() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 3).await;
    let key = SigningKey::from_bytes(&[3; 32]);
    log.sign_checkpoint(&key).await.unwrap();
    exec(&log, "UPDATE compliance_checkpoints SET size = -1").await;
    // The entry that records the checkpoint of size 3 finds no such row.
    let problem = first_break(&log).await;
    assert_eq!(problem.seq, 3, "{problem}");
    assert_eq!(problem.reason, BreakReason::CheckpointMismatch, "{problem}");
}
