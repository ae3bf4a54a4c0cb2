//! A log cut back together with its later checkpoints and head row
//! verifies on its own, and fails against a signed tree head or a minimum
//! size kept outside the database.
//!
//! Each case runs on a SQLite file through both read paths, and on
//! PostgreSQL when `LLMOPS_TEST_POSTGRES_URL` is set.

use crate::common;

use common::{exec, fill, postgres_log, rewrite_from, sqlite_log};
use llmops_compliance::ed25519_dalek::SigningKey;
use llmops_compliance::{
    AuditLog, BreakReason, ComplianceError, ReadPath, VerifyOptions, VerifyReport, read_tree_head,
    verify_extract,
};
use llmops_store::testing::TestDatabase;

async fn logs(test_name: &str) -> Vec<(AuditLog, TestDatabase)> {
    let mut logs = vec![sqlite_log().await];
    if let Some(postgres) = postgres_log(test_name).await {
        logs.push(postgres);
    }
    logs
}

/// Verifies on both read paths, checks that they agree, and returns the
/// native path's report.
async fn verify_both(log: &AuditLog, options: &VerifyOptions) -> VerifyReport {
    let native = log
        .verify(&options.clone().read_path(ReadPath::Native))
        .await
        .unwrap();
    let pool = log
        .verify(&options.clone().read_path(ReadPath::Pool))
        .await
        .unwrap();
    assert_eq!(native, pool, "native vs pool");
    native
}

/// Deletes entries from `first` on and every stored checkpoint, and sets
/// the head row to match, as someone with write access could.
async fn cut_back(log: &AuditLog, first: u64) {
    exec(
        log,
        &format!("DELETE FROM compliance_audit_log WHERE seq >= {first}"),
    )
    .await;
    exec(log, "DELETE FROM compliance_checkpoints").await;
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
async fn cut_back_log_fails_against_kept_tree_head() {
    for (log, _db) in logs("cut_back_log_fails_against_kept_tree_head").await {
        let key = SigningKey::from_bytes(&[8; 32]);
        fill(&log, 10).await;
        let kept = log.sign_checkpoint(&key).await.unwrap();
        let trusted = VerifyOptions::default().trusted_keys([key.verifying_key()]);

        let report = verify_both(&log, &trusted).await;
        assert!(report.is_valid(), "{:?}", report.problem);
        assert_eq!(report.checkpoints_verified, 1);
        assert_eq!(report.max_checkpoint_size, Some(10));

        cut_back(&log, 6).await;
        let report = verify_both(&log, &trusted).await;
        assert!(report.is_valid(), "{:?}", report.problem);
        assert_eq!(report.checkpoints_verified, 0);
        assert_eq!(report.max_checkpoint_size, None);

        let with_head = trusted.clone().tree_heads([kept]);
        let report = verify_both(&log, &with_head).await;
        let problem = report.problem.expect("the cut was not found");
        assert_eq!(problem.seq, 6, "{problem}");
        assert_eq!(problem.reason, BreakReason::Deleted, "{problem}");
        assert!(problem.detail.contains("size 10"), "{problem}");
        assert_eq!(report.entries, 6);

        let with_minimum = trusted.min_size(11);
        let problem = verify_both(&log, &with_minimum).await.problem.unwrap();
        assert_eq!(problem.seq, 6, "{problem}");
        assert_eq!(problem.reason, BreakReason::Deleted, "{problem}");
    }
}

#[tokio::test]
async fn kept_tree_head_passes_on_grown_log() {
    let (log, _db) = sqlite_log().await;
    let key = SigningKey::from_bytes(&[8; 32]);
    fill(&log, 5).await;
    let kept = log.sign_checkpoint(&key).await.unwrap();
    fill(&log, 5).await;
    let options = VerifyOptions::default()
        .trusted_keys([key.verifying_key()])
        .tree_heads([kept])
        .min_size(11);
    let report = verify_both(&log, &options).await;
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.tree_heads_verified, 1);
    assert_eq!(report.entries, 11);
}

#[tokio::test]
async fn rewritten_entry_fails_against_kept_tree_head() {
    let (log, _db) = sqlite_log().await;
    let key = SigningKey::from_bytes(&[8; 32]);
    fill(&log, 5).await;
    let mut kept = log.sign_checkpoint(&key).await.unwrap();
    // A tree head over other entries, signed by the same key.
    kept.root = llmops_compliance::Hash([3; 32]);
    let resigned = llmops_compliance::Checkpoint::sign(kept.tree_head(), kept.at_ms, &key);
    let options = VerifyOptions::default().tree_heads([resigned]);
    let problem = verify_both(&log, &options).await.problem.unwrap();
    assert_eq!(problem.seq, 0, "{problem}");
    assert_eq!(problem.reason, BreakReason::CheckpointMismatch, "{problem}");
}

#[tokio::test]
async fn forged_or_untrusted_tree_head_is_an_error() {
    let (log, _db) = sqlite_log().await;
    let key = SigningKey::from_bytes(&[8; 32]);
    let other = SigningKey::from_bytes(&[9; 32]);
    fill(&log, 3).await;
    let kept = log.sign_checkpoint(&key).await.unwrap();

    let untrusted = VerifyOptions::default()
        .trusted_keys([other.verifying_key()])
        .tree_heads([kept.clone()]);
    let error = log.verify(&untrusted).await.unwrap_err();
    assert!(
        matches!(error, ComplianceError::UntrustedKey { .. }),
        "{error}"
    );

    let mut forged = kept;
    forged.size = 2;
    let error = log
        .verify(&VerifyOptions::default().tree_heads([forged]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ComplianceError::BadSignature { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn tree_head_is_read_from_extract_or_json() {
    let (log, _db) = sqlite_log().await;
    let key = SigningKey::from_bytes(&[8; 32]);
    fill(&log, 4).await;
    let checkpoint = log.sign_checkpoint(&key).await.unwrap();
    let mut extract = Vec::new();
    log.export_extract(&mut extract, [1, 2], &checkpoint)
        .await
        .unwrap();
    assert_eq!(read_tree_head(&extract[..]).unwrap(), checkpoint);

    let pretty = serde_json::to_string_pretty(&checkpoint).unwrap();
    assert_eq!(read_tree_head(pretty.as_bytes()).unwrap(), checkpoint);

    for bad in ["", "not json", "{\"entry\": {}}", "[1, 2]"] {
        let error = read_tree_head(bad.as_bytes()).unwrap_err();
        assert!(
            matches!(error, ComplianceError::InvalidExtract { line: 1, .. }),
            "{bad:?}: {error}"
        );
    }
}

#[tokio::test]
async fn kept_extract_names_the_rewritten_entry() {
    for (log, _db) in logs("kept_extract_names_the_rewritten_entry").await {
        let key = SigningKey::from_bytes(&[8; 32]);
        fill(&log, 6).await;
        let kept = log.sign_checkpoint(&key).await.unwrap();
        let mut extract = Vec::new();
        log.export_extract(&mut extract, 0..kept.size, &kept)
            .await
            .unwrap();
        let leaves = verify_extract(&extract[..], &[key.verifying_key()])
            .unwrap()
            .leaves;
        assert_eq!(leaves.len(), 6);

        // The whole chain from entry 2 on is recomputed, and the stored
        // checkpoint goes, so only the kept material shows the rewrite.
        rewrite_from(&log, 2).await;
        exec(&log, "DELETE FROM compliance_checkpoints").await;
        exec(&log, "DELETE FROM compliance_audit_log WHERE seq >= 6").await;
        exec(
            &log,
            "UPDATE compliance_audit_head SET size = 6, head_hash =
                 (SELECT hash FROM compliance_audit_log WHERE seq = 5)",
        )
        .await;
        assert!(
            verify_both(&log, &VerifyOptions::default())
                .await
                .is_valid()
        );

        let head_only = VerifyOptions::default().tree_heads([kept.clone()]);
        let problem = verify_both(&log, &head_only).await.problem.unwrap();
        assert_eq!(problem.reason, BreakReason::CheckpointMismatch, "{problem}");
        assert_eq!(problem.seq, 0, "{problem}");

        let with_entries = head_only.kept_entries(leaves);
        let report = verify_both(&log, &with_entries).await;
        let problem = report.problem.unwrap();
        assert_eq!(problem.reason, BreakReason::Edited, "{problem}");
        assert_eq!(problem.seq, 2, "{problem}");
        assert!(problem.detail.contains("kept extract"), "{problem}");
        assert_eq!(report.entries, 2);
    }
}

#[tokio::test]
async fn partial_kept_extract_bounds_the_break() {
    let (log, _db) = sqlite_log().await;
    let key = SigningKey::from_bytes(&[8; 32]);
    fill(&log, 8).await;
    let kept = log.sign_checkpoint(&key).await.unwrap();
    let leaves_of = |seqs: Vec<u64>| {
        let log = &log;
        let kept = &kept;
        let key = &key;
        async move {
            let mut extract = Vec::new();
            log.export_extract(&mut extract, seqs, kept).await.unwrap();
            verify_extract(&extract[..], &[key.verifying_key()])
                .unwrap()
                .leaves
        }
    };
    let middle = leaves_of(vec![4, 5]).await;
    let start = leaves_of(vec![0, 1]).await;

    rewrite_from(&log, 2).await;
    let options = VerifyOptions::default().tree_heads([kept.clone()]);
    // Entries 4 and 5 differ, and nothing kept shows whether 2 or 3 do.
    let problem = verify_both(&log, &options.clone().kept_entries(middle))
        .await
        .problem
        .unwrap();
    assert_eq!(problem.reason, BreakReason::Edited, "{problem}");
    assert_eq!(problem.seq, 0, "{problem}");
    assert!(
        problem.detail.contains("one of entries 0 to 4"),
        "{problem}"
    );
    // Entries 0 and 1 match, so the tree head mismatch lies after them.
    let problem = verify_both(&log, &options.kept_entries(start))
        .await
        .problem
        .unwrap();
    assert_eq!(problem.reason, BreakReason::CheckpointMismatch, "{problem}");
    assert_eq!(problem.seq, 2, "{problem}");
}
