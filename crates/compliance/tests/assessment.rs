//! Impact assessments, incidents and the regulator bundle, on SQLite and
//! PostgreSQL, with every change in a log that still verifies.

use crate::common;

use common::{postgres_log, sqlite_log};
use llmops_compliance::ed25519_dalek::SigningKey;
use llmops_compliance::{
    AiSystem, AuditLog, BundleManifest, ComplianceError, EXPORT_RECORD_FILE, EXTRACT_FILE,
    EventKind, Evidence, EvidenceKind, HighImpactDomain, ImpactAssessment, IncidentSeverity,
    IncidentStatus, MANIFEST_FILE, NewEvent, NewIncident, Risk, RiskLevel, VerifyOptions,
    verify_bundle,
};

fn loan_assessment() -> ImpactAssessment {
    ImpactAssessment {
        system: "loan-assist".into(),
        scope: "Drafts loan decisions; a loan officer approves each one.".into(),
        affected_rights: vec!["non-discrimination".into(), "privacy".into()],
        affected_groups: vec!["loan applicants".into()],
        risks: vec![Risk {
            description: "Lower approval rates for applicants over 60".into(),
            likelihood: 3,
            severity: 5,
            mitigations: vec!["Monthly evaluation by age band".into()],
            residual_likelihood: 2,
            residual_severity: 5,
        }],
        evidence: vec![Evidence {
            kind: EvidenceKind::Evaluation,
            reference: "eval-run:2026-11-30".into(),
            summary: "approval gap 1.2 points, within tolerance".into(),
        }],
        oversight: "Officers see every draft before it is sent.".into(),
    }
}

async fn register(log: &AuditLog) {
    let system = AiSystem::new("loan-assist", "drafts loan decisions", "credit team")
        .answer_questionnaire(|domain| domain == HighImpactDomain::HiringOrLoanScreening);
    log.register_system(&system, "ops").await.unwrap();
}

async fn assessments_are_versioned_and_signed(log: AuditLog) {
    let unregistered = log
        .save_assessment(&loan_assessment(), "analyst")
        .await
        .unwrap_err();
    assert!(
        unregistered.to_string().contains("register it first"),
        "{unregistered}"
    );
    register(&log).await;

    let first = log
        .save_assessment(&loan_assessment(), "analyst")
        .await
        .unwrap();
    assert_eq!(first.version, 1);
    assert_eq!(first.assessment.residual_level(), RiskLevel::High);
    let same = log
        .save_assessment(&loan_assessment(), "analyst")
        .await
        .unwrap();
    assert_eq!(same, first, "unchanged content makes no new version");

    let mut revised = loan_assessment();
    revised.risks[0].residual_likelihood = 1;
    let second = log.save_assessment(&revised, "analyst").await.unwrap();
    assert_eq!(second.version, 2);
    assert_eq!(second.assessment.residual_level(), RiskLevel::Medium);

    let own = log
        .sign_off_assessment("loan-assist", 2, "analyst", "")
        .await
        .unwrap_err();
    assert!(own.to_string().contains("another person"), "{own}");
    let old = log
        .sign_off_assessment("loan-assist", 1, "dpo", "")
        .await
        .unwrap_err();
    assert!(old.to_string().contains("superseded by version 2"), "{old}");
    let missing = log
        .sign_off_assessment("loan-assist", 9, "dpo", "")
        .await
        .unwrap_err();
    assert!(
        matches!(missing, ComplianceError::AssessmentNotFound { .. }),
        "{missing}"
    );
    let signed = log
        .sign_off_assessment("loan-assist", 2, "dpo", "residual risk accepted")
        .await
        .unwrap();
    assert_eq!(signed.signed_off_by.as_deref(), Some("dpo"));
    let twice = log
        .sign_off_assessment("loan-assist", 2, "ceo", "")
        .await
        .unwrap_err();
    assert!(twice.to_string().contains("signed off by dpo"), "{twice}");

    let history = log.assessment_history("loan-assist").await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1], signed);
    assert_eq!(
        log.assessment("loan-assist", None).await.unwrap(),
        Some(signed)
    );
    assert_eq!(log.assessment("other", None).await.unwrap(), None);

    // Two saves, one sign-off, the register entry; callers cannot forge them.
    let kinds: Vec<String> = log
        .entries(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "config_change",
            "impact_assessment",
            "impact_assessment",
            "impact_assessment"
        ]
    );
    let forged = log
        .append(NewEvent::new(
            EventKind::Custom("impact_assessment".into()),
            "mallory",
            "ai_system:loan-assist",
        ))
        .await
        .unwrap_err();
    assert!(
        forged
            .to_string()
            .contains("written only by the log itself"),
        "{forged}"
    );
    assert!(
        log.verify(&VerifyOptions::default())
            .await
            .unwrap()
            .is_valid()
    );
}

#[tokio::test]
async fn assessments_on_sqlite() {
    let (log, _db) = sqlite_log().await;
    assessments_are_versioned_and_signed(log).await;
}

#[tokio::test]
async fn assessments_on_postgres() {
    let Some((log, _db)) = postgres_log("assessments_on_postgres").await else {
        return;
    };
    assessments_are_versioned_and_signed(log).await;
}

async fn incidents_follow_their_life_cycle(log: AuditLog) {
    register(&log).await;
    let new = NewIncident {
        system: "loan-assist".into(),
        title: "Drafts cited a repealed regulation".into(),
        severity: IncidentSeverity::High,
        description: "Found in review; 14 drafts affected, none sent.".into(),
        occurred_at_ms: None,
    };
    let opened = log.open_incident(&new, "officer").await.unwrap();
    assert_eq!(opened.status, IncidentStatus::Open);
    let mitigated = log
        .update_incident(
            opened.id,
            IncidentStatus::Mitigated,
            "prompt v7 rolled back",
            "ops",
        )
        .await
        .unwrap();
    assert_eq!(mitigated.updates.len(), 2);
    let backwards = log
        .update_incident(opened.id, IncidentStatus::Open, "reopen", "ops")
        .await
        .unwrap_err();
    assert!(
        backwards.to_string().contains("allowed: closed"),
        "{backwards}"
    );
    let empty_note = log
        .update_incident(opened.id, IncidentStatus::Closed, " ", "ops")
        .await
        .unwrap_err();
    assert!(empty_note.to_string().contains("note"), "{empty_note}");
    let closed = log
        .update_incident(
            opened.id,
            IncidentStatus::Closed,
            "regulation list updated",
            "ops",
        )
        .await
        .unwrap();
    assert_eq!(closed.status, IncidentStatus::Closed);
    assert_eq!(log.incident(opened.id).await.unwrap(), closed);
    let none_left = log
        .update_incident(opened.id, IncidentStatus::Mitigated, "x", "ops")
        .await
        .unwrap_err();
    assert!(
        none_left.to_string().contains("it is closed"),
        "{none_left}"
    );
    assert!(matches!(
        log.incident(404).await.unwrap_err(),
        ComplianceError::IncidentNotFound { id: 404 }
    ));

    let unknown = NewIncident {
        system: "nope".into(),
        ..new.clone()
    };
    assert!(log.open_incident(&unknown, "x").await.is_err());
    let report = log.transparency_report(0, i64::MAX).await.unwrap();
    assert_eq!(report.incidents_by_severity["high"], 1);
    assert_eq!(report.incidents_not_closed, 0);
    assert!(report.to_markdown().contains("| high | 1 |"));
}

#[tokio::test]
async fn incidents_on_sqlite() {
    let (log, _db) = sqlite_log().await;
    incidents_follow_their_life_cycle(log).await;
}

#[tokio::test]
async fn incidents_on_postgres() {
    let Some((log, _db)) = postgres_log("incidents_on_postgres").await else {
        return;
    };
    incidents_follow_their_life_cycle(log).await;
}

#[tokio::test]
async fn bundle_verifies_and_detects_changed_files() {
    let (log, _db) = sqlite_log().await;
    register(&log).await;
    log.save_assessment(&loan_assessment(), "analyst")
        .await
        .unwrap();
    common::fill(&log, 5).await;
    let key = SigningKey::from_bytes(&[9; 32]);
    let checkpoint = log.sign_checkpoint(&key).await.unwrap();

    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join("bundle-2026-11");
    let manifest = log
        .write_bundle(&dir, 0, i64::MAX, &checkpoint, &key, "ops")
        .await
        .unwrap();
    assert_eq!(manifest.extract_entries, checkpoint.size);
    let names: Vec<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
    for name in [
        "register.json",
        "assessments.json",
        "incidents.json",
        EXTRACT_FILE,
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    let check = verify_bundle(&dir, &[key.verifying_key()]).unwrap();
    assert_eq!(check.verified_entries as u64, checkpoint.size);
    assert_eq!(check.manifest, manifest);
    // The bundle's extracts sign the entries they list.
    for file in [EXTRACT_FILE, EXPORT_RECORD_FILE] {
        let text = std::fs::read(dir.join(file)).unwrap();
        let report = llmops_compliance::verify_extract(&text[..], &[key.verifying_key()]).unwrap();
        assert!(report.selection_signed_by.is_some(), "{file}");
    }
    // The export is recorded after the checkpoint it used, and a second
    // checkpoint signs the record.
    let size = log.head().await.unwrap().size;
    let record = log.entry(size - 2).await.unwrap();
    assert_eq!(record.kind, "bundle_exported");
    let last = log.entry(size - 1).await.unwrap();
    assert_eq!(last.kind, "checkpoint_signed");

    // Writing over an existing bundle is refused and changes nothing.
    let again = log
        .write_bundle(&dir, 0, i64::MAX, &checkpoint, &key, "ops")
        .await
        .unwrap_err();
    assert!(again.to_string().contains("exists"), "{again}");
    assert!(verify_bundle(&dir, &[key.verifying_key()]).is_ok());
    let leftovers: Vec<_> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no partial folder is left: {leftovers:?}"
    );

    let other_key = SigningKey::from_bytes(&[8; 32]);
    assert!(verify_bundle(&dir, &[other_key.verifying_key()]).is_err());

    let register_file = dir.join("register.json");
    let text = std::fs::read_to_string(&register_file).unwrap();
    std::fs::write(&register_file, text.replace("credit team", "credit teem")).unwrap();
    let changed = verify_bundle(&dir, &[]).unwrap_err();
    assert!(
        changed
            .to_string()
            .contains("register.json: changed after export"),
        "{changed}"
    );
}

/// Writes a bundle of a small log and returns the folder, its parent and the key.
async fn written_bundle() -> (std::path::PathBuf, tempfile::TempDir, SigningKey) {
    let (log, _db) = sqlite_log().await;
    register(&log).await;
    common::fill(&log, 3).await;
    let key = SigningKey::from_bytes(&[7; 32]);
    let checkpoint = log.sign_checkpoint(&key).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join("bundle");
    log.write_bundle(&dir, 0, i64::MAX, &checkpoint, &key, "ops")
        .await
        .unwrap();
    verify_bundle(&dir, &[key.verifying_key()]).unwrap();
    (dir, folder, key)
}

#[tokio::test]
async fn bundle_rejects_manifest_with_one_byte_changed() {
    let (dir, _folder, key) = written_bundle().await;
    let manifest_file = dir.join(MANIFEST_FILE);
    let mut bytes = std::fs::read(&manifest_file).unwrap();
    // The notice is free text, so the changed manifest still parses and
    // lists the same file digests.
    let at = bytes.windows(7).position(|w| w == b"Records").unwrap();
    bytes[at] = b'r';
    std::fs::write(&manifest_file, &bytes).unwrap();

    let error = verify_bundle(&dir, &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(&error, ComplianceError::InvalidBundle { file, .. } if file == MANIFEST_FILE),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("does not match the signed export record"),
        "{error}"
    );
}

#[tokio::test]
async fn bundle_rejects_swapped_file_with_updated_manifest() {
    let (dir, _folder, key) = written_bundle().await;
    let forged = b"[]\n";
    std::fs::write(dir.join("register.json"), forged).unwrap();
    let manifest_file = dir.join(MANIFEST_FILE);
    let mut manifest: BundleManifest =
        serde_json::from_slice(&std::fs::read(&manifest_file).unwrap()).unwrap();
    let listed = manifest
        .files
        .iter_mut()
        .find(|file| file.name == "register.json")
        .unwrap();
    listed.sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(forged));
    listed.bytes = forged.len() as u64;
    let mut bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    bytes.push(b'\n');
    std::fs::write(&manifest_file, bytes).unwrap();

    let error = verify_bundle(&dir, &[key.verifying_key()]).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("manifest.json: does not match the signed export record"),
        "{error}"
    );
}

#[tokio::test]
async fn bundle_rejects_missing_or_foreign_export_record() {
    let (dir, _folder, key) = written_bundle().await;
    let record_file = dir.join(EXPORT_RECORD_FILE);
    let record = std::fs::read(&record_file).unwrap();

    // The main extract is a valid extract too, but not of the export entry.
    std::fs::copy(dir.join(EXTRACT_FILE), &record_file).unwrap();
    let foreign = verify_bundle(&dir, &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(&foreign, ComplianceError::InvalidBundle { file, .. } if file == EXPORT_RECORD_FILE),
        "{foreign}"
    );

    std::fs::remove_file(&record_file).unwrap();
    let missing = verify_bundle(&dir, &[key.verifying_key()]).unwrap_err();
    assert!(
        missing.to_string().contains(EXPORT_RECORD_FILE),
        "{missing}"
    );

    std::fs::write(&record_file, record).unwrap();
    assert!(verify_bundle(&dir, &[key.verifying_key()]).is_ok());
}

#[tokio::test]
async fn bundle_period_selects_entries() {
    let (log, _db) = sqlite_log().await;
    common::fill(&log, 10).await;
    let key = SigningKey::from_bytes(&[3; 32]);
    let checkpoint = log.sign_checkpoint(&key).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join("b");
    // Events 2..5 of `common::event`, by their fixed times.
    let from = 1_700_000_000_002;
    let manifest = log
        .write_bundle(&dir, from, from + 3, &checkpoint, &key, "ops")
        .await
        .unwrap();
    assert_eq!(manifest.extract_entries, 3);
    assert_eq!(verify_bundle(&dir, &[]).unwrap().verified_entries, 3);
    let empty_period = log
        .write_bundle(&folder.path().join("c"), 5, 5, &checkpoint, &key, "ops")
        .await
        .unwrap_err();
    assert!(
        matches!(empty_period, ComplianceError::InvalidPeriod { .. }),
        "{empty_period}"
    );
}
