//! `AuditLog::open_existing` opens a log without migrating, and names a
//! database that contains no audit log or only part of one.

use crate::common;

use common::{fill, sqlite_log};
use llmops_compliance::{AuditLog, ComplianceError, VerifyOptions};
use llmops_store::{Store, StoreOptions};

#[tokio::test]
async fn database_without_log_is_no_audit_log() {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("other.db").display());
    let store = Store::connect(&url).await.unwrap();
    sqlx::query("CREATE TABLE notes (body TEXT)")
        .execute(store.pool())
        .await
        .unwrap();

    let error = AuditLog::open_existing(store.clone()).await.unwrap_err();
    assert!(
        matches!(error, ComplianceError::NoAuditLog { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("other.db"), "{error}");
    for table in ["compliance_audit_log", "llmops_migrations"] {
        assert!(!store.table_exists(table).await.unwrap(), "{table} created");
    }
}

#[tokio::test]
async fn partial_log_names_missing_tables() {
    let (log, _db) = sqlite_log().await;
    sqlx::query("DROP TABLE compliance_checkpoints")
        .execute(log.store().pool())
        .await
        .unwrap();
    let error = AuditLog::open_existing(log.store().clone())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ComplianceError::AuditTablesMissing { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("compliance_checkpoints"),
        "{error}"
    );
}

#[tokio::test]
async fn existing_log_verifies_on_read_only_store() {
    let (log, db) = sqlite_log().await;
    fill(&log, 5).await;
    let store = StoreOptions::default()
        .read_only(true)
        .connect(&db.url)
        .await
        .unwrap();
    let reader = AuditLog::open_existing(store).await.unwrap();
    let report = reader.verify(&VerifyOptions::default()).await.unwrap();
    assert!(report.is_valid(), "{:?}", report.problem);
    assert_eq!(report.entries, 5);
}

#[tokio::test]
async fn postgres_database_without_log_is_no_audit_log() {
    let Some(database) =
        llmops_store::testing::postgres("postgres_database_without_log_is_no_audit_log").await
    else {
        return;
    };
    let error = AuditLog::open_existing(database.store.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ComplianceError::NoAuditLog { .. }),
        "{error}"
    );
    let log = AuditLog::open(database.store.clone()).await.unwrap();
    fill(&log, 2).await;
    let reopened = AuditLog::open_existing(database.store.clone())
        .await
        .unwrap();
    assert_eq!(reopened.head().await.unwrap().size, 2);
}
