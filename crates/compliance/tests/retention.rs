//! Retention purges keep the chain valid, and legal holds stop them.

use crate::common;

use common::{event, exec, sqlite_log};
use llmops_compliance::ed25519_dalek::SigningKey;
use llmops_compliance::{
    BreakReason, ComplianceError, PURGE_KIND, PersonalData, VerifyOptions, verify_extract,
};
use serde_json::{Value, json};

#[tokio::test]
async fn purge_keeps_chain_and_proofs_valid() {
    let (log, _db) = sqlite_log().await;
    let events: Vec<_> = (0..6).map(event).collect();
    log.append_batch(&events).await.unwrap();
    let key = SigningKey::from_bytes(&[8; 32]);
    let checkpoint = log.sign_checkpoint(&key).await.unwrap();

    // Events 0..=2 are older than the cut-off.
    let report = log
        .purge_payloads(1_700_000_000_003, "retention-job")
        .await
        .unwrap();
    assert_eq!(report.purged, 3);
    let purged = log.entry(1).await.unwrap();
    assert!(purged.purged);
    assert_eq!(purged.payload, Value::Null);
    assert_eq!(
        log.personal_data(&purged).await.unwrap(),
        PersonalData::Purged
    );
    assert!(!log.entry(3).await.unwrap().purged);
    let record = log.entry(report.audit_seq).await.unwrap();
    assert_eq!(record.kind, PURGE_KIND);
    assert_eq!(record.payload["purged"], json!(3));

    let verified = log
        .verify(&VerifyOptions::default().trusted_keys([key.verifying_key()]))
        .await
        .unwrap();
    assert!(verified.is_valid(), "{:?}", verified.problem);
    assert_eq!(verified.checkpoints_verified, 1);

    let mut extract = Vec::new();
    log.export_extract(&mut extract, [0, 4], &checkpoint)
        .await
        .unwrap();
    let checked = verify_extract(&extract[..], &[key.verifying_key()]).unwrap();
    assert_eq!(checked.entries, vec![0, 4]);
}

#[tokio::test]
async fn legal_hold_rejects_purge() {
    let (log, _db) = sqlite_log().await;
    log.append(event(0)).await.unwrap();
    log.place_legal_hold("case-2024-17", "litigation", "legal")
        .await
        .unwrap();
    log.place_legal_hold("audit-q3", "regulator audit", "legal")
        .await
        .unwrap();

    let error = log
        .purge_payloads(i64::MAX, "retention-job")
        .await
        .unwrap_err();
    assert!(
        matches!(error, ComplianceError::LegalHoldActive { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("audit-q3, case-2024-17"),
        "{error}"
    );
    assert!(!log.entry(0).await.unwrap().purged);

    assert!(
        log.release_legal_hold("case-2024-17", "legal")
            .await
            .unwrap()
    );
    assert!(log.purge_payloads(i64::MAX, "retention-job").await.is_err());
    assert!(log.release_legal_hold("audit-q3", "legal").await.unwrap());
    assert!(!log.release_legal_hold("audit-q3", "legal").await.unwrap());
    assert!(log.legal_holds().await.unwrap().is_empty());

    let report = log.purge_payloads(i64::MAX, "retention-job").await.unwrap();
    assert!(log.entry(0).await.unwrap().purged);
    // The hold entries are older than the cut-off too; earlier purge records are kept.
    assert_eq!(report.purged, 5);
    assert!(
        log.verify(&VerifyOptions::default())
            .await
            .unwrap()
            .is_valid()
    );
}

#[tokio::test]
async fn duplicate_hold_is_rejected() {
    let (log, _db) = sqlite_log().await;
    log.place_legal_hold("case-1", "litigation", "legal")
        .await
        .unwrap();
    let error = log
        .place_legal_hold("case-1", "again", "legal")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("unique"), "{error}");
    assert_eq!(log.legal_holds().await.unwrap().len(), 1);
    assert!(log.place_legal_hold("", "x", "legal").await.is_err());
}

#[tokio::test]
async fn removal_beyond_cutoff_is_found() {
    let (log, _db) = sqlite_log().await;
    let events: Vec<_> = (0..4).map(event).collect();
    log.append_batch(&events).await.unwrap();
    log.purge_payloads(1_700_000_000_001, "retention-job")
        .await
        .unwrap();
    assert!(
        log.verify(&VerifyOptions::default())
            .await
            .unwrap()
            .is_valid()
    );

    exec(
        &log,
        "UPDATE compliance_audit_log SET payload = NULL WHERE seq = 3",
    )
    .await;
    let report = log.verify(&VerifyOptions::default()).await.unwrap();
    let problem = report.problem.unwrap();
    assert_eq!(problem.seq, 3);
    assert_eq!(problem.reason, BreakReason::UnrecordedPurge);
}

#[tokio::test]
async fn forged_purge_record_is_rejected() {
    let (log, _db) = sqlite_log().await;
    for kind in llmops_compliance::RESERVED_KINDS {
        let forged = llmops_compliance::NewEvent::new(
            llmops_compliance::EventKind::Custom((*kind).to_owned()),
            "attacker",
            "audit_log",
        )
        .payload(json!({"cutoff_ms": i64::MAX}));
        let error = log.append(forged).await.unwrap_err();
        assert!(
            matches!(error, ComplianceError::InvalidEvent { field: "kind", .. }),
            "{kind}: {error}"
        );
    }
    assert_eq!(log.head().await.unwrap().size, 0);
}
