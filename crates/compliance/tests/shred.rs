//! Crypto-shredding: personal fields are encrypted per data subject and erased by destroying the key.

use crate::common;

use common::{event, exec, postgres_log, sqlite_log};
use llmops_compliance::{
    AuditLog, ComplianceError, EventKind, NewEvent, PersonalData, VerifyOptions,
};
use serde_json::{Map, Value, json};

fn fields(value: Value) -> PersonalData {
    let Value::Object(map) = value else {
        panic!("not an object")
    };
    PersonalData::Fields(map)
}

fn call(data_subject: &str, personal: Value) -> NewEvent {
    NewEvent::new(EventKind::ModelCall, "gateway", "request:1")
        .payload(json!({"model": "m"}))
        .personal(data_subject, personal)
}

async fn erase_and_check(log: &AuditLog) {
    let ana = log
        .append(call(
            "user-ana",
            json!({"email": "ana@example.com", "name": "Ana Müller 🌍"}),
        ))
        .await
        .unwrap();
    let bo = log
        .append(call("user-bo", json!({"email": "bo@example.com"})))
        .await
        .unwrap();
    let ana_again = log
        .append(call("user-ana", json!({"phone": "+49 30 1234"})))
        .await
        .unwrap();
    log.append(event(3)).await.unwrap();

    // The stored row holds only ciphertext.
    let sealed = ana.sealed.clone().unwrap();
    assert!(!sealed.ciphertext.contains("ana@example.com"));
    assert_eq!(sealed.key_id, ana_again.sealed.clone().unwrap().key_id);
    assert_eq!(
        log.personal_data(&ana).await.unwrap(),
        fields(json!({"email": "ana@example.com", "name": "Ana Müller 🌍"}))
    );

    let report = log
        .erase_data_subject("user-ana", "privacy-team")
        .await
        .unwrap();
    assert_eq!(report.keys_destroyed, 1);
    assert_eq!(log.personal_data(&ana).await.unwrap(), PersonalData::Erased);
    assert_eq!(
        log.personal_data(&ana_again).await.unwrap(),
        PersonalData::Erased
    );
    assert_eq!(
        log.personal_data(&bo).await.unwrap(),
        fields(json!({"email": "bo@example.com"}))
    );

    let erasure = log.entry(report.audit_seq).await.unwrap();
    assert_eq!(erasure.kind, "data_subject_request");
    assert_eq!(erasure.payload["keys_destroyed"], json!(1));
    let verified = log.verify(&VerifyOptions::default()).await.unwrap();
    assert!(verified.is_valid(), "{:?}", verified.problem);
    assert_eq!(verified.entries, 5);
}

#[tokio::test]
async fn erasure_keeps_chain_valid_on_sqlite() {
    let (log, _db) = sqlite_log().await;
    erase_and_check(&log).await;
}

#[tokio::test]
async fn erasure_keeps_chain_valid_on_postgres() {
    let Some((log, _db)) = postgres_log("erasure_keeps_chain_valid_on_postgres").await else {
        return;
    };
    erase_and_check(&log).await;
}

#[tokio::test]
async fn new_data_after_erasure_gets_new_key() {
    let (log, _db) = sqlite_log().await;
    let before = log.append(call("user-ana", json!({"a": 1}))).await.unwrap();
    log.erase_data_subject("user-ana", "privacy-team")
        .await
        .unwrap();
    let after = log.append(call("user-ana", json!({"a": 2}))).await.unwrap();
    assert_ne!(
        before.sealed.unwrap().key_id,
        after.sealed.clone().unwrap().key_id
    );
    assert_eq!(
        log.personal_data(&after).await.unwrap(),
        fields(json!({"a": 2}))
    );
}

#[tokio::test]
async fn erasing_unknown_subject_destroys_nothing() {
    let (log, _db) = sqlite_log().await;
    let report = log
        .erase_data_subject("user-nobody", "privacy-team")
        .await
        .unwrap();
    assert_eq!(report.keys_destroyed, 0);
    assert_eq!(log.head().await.unwrap().size, 1);
}

#[tokio::test]
async fn ciphertext_moved_to_other_subject_fails() {
    let (log, _db) = sqlite_log().await;
    let ana = log.append(call("user-ana", json!({"a": 1}))).await.unwrap();
    log.append(call("user-bo", json!({"b": 1}))).await.unwrap();
    let mut moved = ana.clone();
    if let Some(sealed) = moved.sealed.as_mut() {
        sealed.data_subject = "user-bo".into();
    }
    let error = log.personal_data(&moved).await.unwrap_err();
    assert!(
        matches!(
            error,
            ComplianceError::Crypto {
                operation: "decrypt",
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn entry_without_personal_data_reads_none() {
    let (log, _db) = sqlite_log().await;
    let plain = log.append(event(0)).await.unwrap();
    assert_eq!(log.personal_data(&plain).await.unwrap(), PersonalData::None);
    let empty = log.append(call("user-ana", json!({}))).await.unwrap();
    assert_eq!(
        log.personal_data(&empty).await.unwrap(),
        PersonalData::Fields(Map::new())
    );
}

#[tokio::test]
async fn edited_ciphertext_breaks_chain() {
    let (log, _db) = sqlite_log().await;
    log.append(call("user-ana", json!({"a": 1}))).await.unwrap();
    exec(
        &log,
        "UPDATE compliance_audit_log SET sealed = NULL WHERE seq = 0",
    )
    .await;
    let report = log.verify(&VerifyOptions::default()).await.unwrap();
    assert_eq!(report.problem.unwrap().seq, 0);
}

#[tokio::test]
async fn invalid_personal_data_is_rejected() {
    let (log, _db) = sqlite_log().await;
    let error = log.append(call("", json!({"a": 1}))).await.unwrap_err();
    assert!(
        matches!(
            error,
            ComplianceError::InvalidEvent {
                field: "data_subject",
                ..
            }
        ),
        "{error}"
    );
    let error = log
        .erase_data_subject("", "privacy-team")
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ComplianceError::InvalidEvent {
                field: "data_subject",
                ..
            }
        ),
        "{error}"
    );
    let error = log
        .append(call("user-ana", json!("text")))
        .await
        .unwrap_err();
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
}
