//! A folder to hand to a regulator or auditor: the AI system register,
//! impact assessments, incidents, the transparency report and an audit
//! log extract with inclusion proofs, listed with their SHA-256 digests in
//! `manifest.json`.
//!
//! The extract verifies on its own against the signed checkpoint (see
//! [`verify_extract`]), and the manifest's digests show whether any other
//! file changed after export. The log records each export with the
//! manifest's digest, and the bundle carries that entry's proof against a
//! checkpoint signed after it, so the manifest itself is signed too.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use llmops_store::now_ms;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row as _;

use crate::assessment::StoredAssessment;
use crate::checkpoint::{Checkpoint, TreeHead};
use crate::error::{ComplianceError, Result};
use crate::event::{EventKind, NewEvent};
use crate::export::{verify_extract, verify_extract_entries};
use crate::log::AuditLog;

/// The audit log kind that records each bundle export.
pub const BUNDLE_KIND: &str = "bundle_exported";

/// The audit log kind that records an export whose `bundle_exported` entry
/// was appended but whose folder was never published.
pub const BUNDLE_FAILED_KIND: &str = "bundle_export_failed";

/// The file that lists the others.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The audit log extract inside a bundle.
pub const EXTRACT_FILE: &str = "audit-extract.jsonl";

/// The extract that proves the bundle's `bundle_exported` entry, which
/// records the SHA-256 of the manifest. The manifest does not list it,
/// because the entry is written after the manifest.
pub const EXPORT_RECORD_FILE: &str = "export-record.jsonl";

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleFile {
    /// The file name inside the bundle folder.
    pub name: String,
    /// SHA-256 of its bytes, in hex.
    pub sha256: String,
    /// Its length in bytes.
    pub bytes: u64,
}

/// The contents of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    /// Start of the period, in milliseconds since the Unix epoch.
    pub from_ms: i64,
    /// End of the period, exclusive.
    pub to_ms: i64,
    /// When the bundle was written.
    pub created_at_ms: i64,
    /// The signed tree head the extract's proofs lead to.
    pub checkpoint: TreeHead,
    /// Audit log entries in the extract.
    pub extract_entries: u64,
    /// Every other file, with its digest.
    pub files: Vec<BundleFile>,
    /// What the bundle is and is not.
    pub notice: String,
}

/// What [`verify_bundle`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleCheck {
    /// The manifest read.
    pub manifest: BundleManifest,
    /// Entries whose inclusion proofs verified.
    pub verified_entries: usize,
}

const NOTICE: &str = "Records kept by llmops for the period. They are evidence for the operator's own compliance work, not legal advice, and do not state whether any obligation is met.";

impl AuditLog {
    /// Writes a bundle for entries with `from_ms <= at_ms < to_ms` to the
    /// new folder `dir`, with an extract whose proofs lead to
    /// `checkpoint`, and records the export in the log.
    ///
    /// The `bundle_exported` entry records the SHA-256 of `manifest.json`.
    /// After appending it, this signs a new checkpoint with `key` and
    /// writes [`EXPORT_RECORD_FILE`]: an extract of that one entry with its
    /// proof against the new checkpoint. [`verify_bundle`] checks the
    /// manifest against it, so an edited manifest fails even when its
    /// file digests were updated to match.
    ///
    /// The files are written to a sibling temporary folder that is renamed
    /// to `dir` at the end, so `dir` never contains a partial bundle. When a
    /// step after the `bundle_exported` entry fails (signing, writing the
    /// proof, or the rename), the log appends a [`BUNDLE_FAILED_KIND`]
    /// entry that names that entry and the failed step, because the log
    /// cannot drop the record of an export that was never published.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidPeriod`], [`ComplianceError::File`] when
    /// `dir` exists or a file cannot be written, the errors of
    /// [`AuditLog::export_extract`], and [`ComplianceError::Store`].
    pub async fn write_bundle(
        &self,
        dir: &Path,
        from_ms: i64,
        to_ms: i64,
        checkpoint: &Checkpoint,
        key: &SigningKey,
        actor: &str,
    ) -> Result<BundleManifest> {
        let request = BundleRequest {
            dir,
            from_ms,
            to_ms,
            checkpoint,
            key,
            actor,
        };
        self.write_bundle_with(&request, |from, to| std::fs::rename(from, to))
            .await
    }

    /// Writes a bundle as [`AuditLog::write_bundle`] does, publishing the
    /// staged folder with `publish(staging, dir)`.
    async fn write_bundle_with(
        &self,
        request: &BundleRequest<'_>,
        publish: impl FnOnce(&Path, &Path) -> std::io::Result<()>,
    ) -> Result<BundleManifest> {
        let dir = request.dir;
        let report = self
            .transparency_report(request.from_ms, request.to_ms)
            .await?;
        if dir.exists() {
            return Err(io_error(
                "create",
                dir,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "it exists; choose a new folder so no earlier bundle is overwritten",
                ),
            ));
        }
        let staging = staging_dir(dir);
        std::fs::create_dir_all(&staging).map_err(|e| io_error("create", &staging, e))?;
        let recorded: Result<(BundleManifest, u64)> = async {
            let manifest = self
                .fill_bundle(
                    &staging,
                    request.from_ms,
                    request.to_ms,
                    request.checkpoint,
                    request.key,
                    &report,
                )
                .await?;
            let seq = self
                .record_export(&staging, &manifest, request.actor)
                .await?;
            Ok((manifest, seq))
        }
        .await;
        let (manifest, export_seq) = match recorded {
            Ok(recorded) => recorded,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(error);
            }
        };

        let published = match self
            .write_export_proof(&staging, export_seq, request.key)
            .await
        {
            Ok(()) => publish(&staging, dir)
                .map_err(|e| (PublishStep::Rename, io_error("rename", dir, e))),
            Err(error) => Err((PublishStep::Proof, error)),
        };
        if let Err((step, error)) = published {
            let _ = std::fs::remove_dir_all(&staging);
            self.record_export_failure(export_seq, step, &error, request.actor)
                .await;
            return Err(error);
        }
        tracing::info!(dir = %dir.display(), entries = manifest.extract_entries, "bundle written");
        Ok(manifest)
    }

    /// Appends the `bundle_exported` entry for the manifest in `staging` and
    /// returns its sequence number.
    async fn record_export(
        &self,
        staging: &Path,
        manifest: &BundleManifest,
        actor: &str,
    ) -> Result<u64> {
        let manifest_path = staging.join(MANIFEST_FILE);
        let manifest_bytes =
            std::fs::read(&manifest_path).map_err(|e| io_error("read", &manifest_path, e))?;
        let event = NewEvent::new(
            EventKind::Custom(BUNDLE_KIND.to_owned()),
            actor,
            format!("period:{}-{}", manifest.from_ms, manifest.to_ms),
        )
        .payload(json!({
            "manifest_sha256": hex::encode(Sha256::digest(&manifest_bytes)),
            "checkpoint_size": manifest.checkpoint.size,
            "checkpoint_root": manifest.checkpoint.root,
            "extract_entries": manifest.extract_entries,
        }));
        let entry = self.append_trusted(event).await?;
        Ok(entry.seq)
    }

    /// Signs a checkpoint that covers entry `export_seq` and writes the
    /// entry's proof to [`EXPORT_RECORD_FILE`].
    async fn write_export_proof(
        &self,
        staging: &Path,
        export_seq: u64,
        key: &SigningKey,
    ) -> Result<()> {
        let record_checkpoint = self.sign_checkpoint(key).await?;
        let mut record = Vec::new();
        self.export_signed_extract(&mut record, vec![export_seq], &record_checkpoint, key)
            .await?;
        write_file(staging, EXPORT_RECORD_FILE, &record)?;
        Ok(())
    }

    /// Appends the [`BUNDLE_FAILED_KIND`] entry for the export recorded at
    /// `export_seq`. A failure to append is logged, not returned, so the
    /// caller sees the error that stopped the export.
    async fn record_export_failure(
        &self,
        export_seq: u64,
        step: PublishStep,
        error: &ComplianceError,
        actor: &str,
    ) {
        let io_kind = match error {
            ComplianceError::File { source, .. } => Some(format!("{:?}", source.kind())),
            _ => None,
        };
        let event = NewEvent::new(
            EventKind::Custom(BUNDLE_FAILED_KIND.to_owned()),
            actor,
            format!("audit_entry:{export_seq}"),
        )
        .payload(json!({
            "export_seq": export_seq,
            "step": step.name(),
            "io_error_kind": io_kind,
        }));
        match self.append_trusted(event).await {
            Ok(entry) => tracing::warn!(
                export_seq,
                failure_seq = entry.seq,
                step = step.name(),
                "bundle export failed after it was recorded; the failure is recorded too"
            ),
            Err(append_error) => tracing::error!(
                export_seq,
                step = step.name(),
                error = %append_error,
                "bundle export failed after it was recorded, and recording the failure failed"
            ),
        }
    }

    /// Appends one entry of a kind only the crate writes, in its own transaction.
    async fn append_trusted(&self, event: NewEvent) -> Result<crate::event::AuditEntry> {
        let store = self.store();
        let mut transaction = store.begin().await?;
        let mut appended = self.append_trusted_in(&mut transaction, &[event]).await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        appended.pop().ok_or_else(|| ComplianceError::InvalidEvent {
            field: "events",
            reason: "the append wrote no entry".to_owned(),
        })
    }

    async fn fill_bundle(
        &self,
        staging: &Path,
        from_ms: i64,
        to_ms: i64,
        checkpoint: &Checkpoint,
        key: &SigningKey,
        report: &crate::report::TransparencyReport,
    ) -> Result<BundleManifest> {
        let mut files = Vec::new();
        let systems = self.systems().await?;
        let mut assessments: Vec<StoredAssessment> = Vec::new();
        for system in &systems {
            assessments.extend(self.assessment_history(&system.name).await?);
        }
        let incidents = self.incidents(from_ms, to_ms).await?;
        files.push(write_json(staging, "register.json", &systems)?);
        files.push(write_json(staging, "assessments.json", &assessments)?);
        files.push(write_json(staging, "incidents.json", &incidents)?);
        files.push(write_json(staging, "transparency-report.json", report)?);
        files.push(write_file(
            staging,
            "transparency-report.md",
            report.to_markdown().as_bytes(),
        )?);

        let seqs = self.seqs_in_period(from_ms, to_ms, checkpoint.size).await?;
        let mut extract = Vec::new();
        let extract_entries = self
            .export_signed_extract(&mut extract, seqs, checkpoint, key)
            .await?;
        files.push(write_file(staging, EXTRACT_FILE, &extract)?);

        let manifest = BundleManifest {
            from_ms,
            to_ms,
            created_at_ms: now_ms(),
            checkpoint: checkpoint.tree_head(),
            extract_entries,
            files,
            notice: NOTICE.to_owned(),
        };
        write_json(staging, MANIFEST_FILE, &manifest)?;
        Ok(manifest)
    }

    /// Sequence numbers of entries in the period that the checkpoint covers.
    async fn seqs_in_period(&self, from_ms: i64, to_ms: i64, size: u64) -> Result<Vec<u64>> {
        let store = self.store();
        let rows = sqlx::query(
            "SELECT seq FROM compliance_audit_log
             WHERE at_ms >= $1 AND at_ms < $2 AND seq < $3 ORDER BY seq",
        )
        .bind(from_ms)
        .bind(to_ms)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .fetch_all(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get(0).map_err(|source| store.error(source))?;
                Ok(u64::try_from(seq).unwrap_or(0))
            })
            .collect()
    }
}

/// Checks a bundle folder: the manifest's SHA-256 against the
/// `bundle_exported` entry in [`EXPORT_RECORD_FILE`], every file in the
/// manifest against its digest and length, and the proofs of both extracts
/// against their checkpoints, signed by one of `trusted` (any key when
/// empty).
///
/// # Errors
///
/// [`ComplianceError::InvalidBundle`] naming the file that differs, is
/// missing or is not recorded, [`ComplianceError::InvalidExtract`] when an
/// extract fails to verify, and [`ComplianceError::File`].
pub fn verify_bundle(dir: &Path, trusted: &[VerifyingKey]) -> Result<BundleCheck> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let manifest_bytes =
        std::fs::read(&manifest_path).map_err(|e| io_error("read", &manifest_path, e))?;
    verify_export_record(dir, &manifest_bytes, trusted)?;
    let manifest: BundleManifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|error| invalid_bundle(MANIFEST_FILE, format!("does not parse: {error}")))?;
    let mut saw_extract = false;
    for file in &manifest.files {
        if file.name.contains(['/', '\\']) || file.name.starts_with('.') {
            return Err(invalid_bundle(
                MANIFEST_FILE,
                format!("lists `{}`, outside the folder", file.name),
            ));
        }
        let path = dir.join(&file.name);
        let bytes = std::fs::read(&path).map_err(|e| io_error("read", &path, e))?;
        let digest = hex::encode(Sha256::digest(&bytes));
        if digest != file.sha256 || bytes.len() as u64 != file.bytes {
            return Err(invalid_bundle(
                &file.name,
                format!(
                    "changed after export: SHA-256 {digest}, the manifest lists {}",
                    file.sha256
                ),
            ));
        }
        saw_extract |= file.name == EXTRACT_FILE;
    }
    if !saw_extract {
        return Err(invalid_bundle(
            MANIFEST_FILE,
            format!("does not list {EXTRACT_FILE}"),
        ));
    }
    let extract_path = dir.join(EXTRACT_FILE);
    let extract = std::fs::read(&extract_path).map_err(|e| io_error("read", &extract_path, e))?;
    let report = verify_extract(&extract[..], trusted)?;
    if report.checkpoint.tree_head() != manifest.checkpoint {
        return Err(invalid_bundle(
            EXTRACT_FILE,
            format!(
                "its checkpoint of size {} differs from the manifest's of size {}",
                report.checkpoint.size, manifest.checkpoint.size
            ),
        ));
    }
    Ok(BundleCheck {
        verified_entries: report.entries.len(),
        manifest,
    })
}

/// Checks that [`EXPORT_RECORD_FILE`] proves a `bundle_exported` entry that
/// records the SHA-256 of `manifest_bytes`.
fn verify_export_record(dir: &Path, manifest_bytes: &[u8], trusted: &[VerifyingKey]) -> Result<()> {
    let record_path = dir.join(EXPORT_RECORD_FILE);
    let record = std::fs::read(&record_path).map_err(|e| io_error("read", &record_path, e))?;
    let (_, entries) = verify_extract_entries(&record[..], trusted)?;
    let [entry] = entries.as_slice() else {
        return Err(invalid_bundle(
            EXPORT_RECORD_FILE,
            format!(
                "holds {} entries; it must hold the one `{BUNDLE_KIND}` entry of this export",
                entries.len()
            ),
        ));
    };
    if entry.kind != BUNDLE_KIND {
        return Err(invalid_bundle(
            EXPORT_RECORD_FILE,
            format!(
                "entry {} is a `{}` entry, not `{BUNDLE_KIND}`",
                entry.seq, entry.kind
            ),
        ));
    }
    let recorded = entry
        .payload
        .get("manifest_sha256")
        .and_then(|value| value.as_str())
        .unwrap_or("none");
    let digest = hex::encode(Sha256::digest(manifest_bytes));
    if digest != recorded {
        return Err(invalid_bundle(
            MANIFEST_FILE,
            format!(
                "does not match the signed export record: SHA-256 {digest}, audit entry {} records {recorded}; the manifest changed after export",
                entry.seq
            ),
        ));
    }
    Ok(())
}

/// The arguments of [`AuditLog::write_bundle`].
#[derive(Clone, Copy)]
struct BundleRequest<'a> {
    dir: &'a Path,
    from_ms: i64,
    to_ms: i64,
    checkpoint: &'a Checkpoint,
    key: &'a SigningKey,
    actor: &'a str,
}

/// The steps after the `bundle_exported` entry is appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PublishStep {
    /// Signing the checkpoint and writing [`EXPORT_RECORD_FILE`].
    Proof,
    /// Renaming the staged folder to the bundle folder.
    Rename,
}

impl PublishStep {
    fn name(self) -> &'static str {
        match self {
            PublishStep::Proof => "export_proof",
            PublishStep::Rename => "rename",
        }
    }
}

fn invalid_bundle(file: &str, reason: String) -> ComplianceError {
    ComplianceError::InvalidBundle {
        file: file.to_owned(),
        reason,
    }
}

fn staging_dir(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".to_owned());
    dir.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

fn write_json<T: Serialize + ?Sized>(dir: &Path, name: &str, value: &T) -> Result<BundleFile> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|error| ComplianceError::Canonical {
            reason: error.to_string(),
        })?;
    bytes.push(b'\n');
    write_file(dir, name, &bytes)
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<BundleFile> {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).map_err(|e| io_error("create", &path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("write", &path, e))?;
    Ok(BundleFile {
        name: name.to_owned(),
        sha256: hex::encode(Sha256::digest(bytes)),
        bytes: bytes.len() as u64,
    })
}

fn io_error(operation: &'static str, path: &Path, source: std::io::Error) -> ComplianceError {
    ComplianceError::File {
        operation,
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::verify::VerifyOptions;

    #[tokio::test]
    async fn failed_rename_is_recorded() {
        let database = llmops_store::testing::sqlite_file().await.unwrap();
        let log = AuditLog::open(database.store.clone()).await.unwrap();
        log.append(NewEvent::new(EventKind::ModelCall, "gateway", "request:1"))
            .await
            .unwrap();
        let key = SigningKey::from_bytes(&[7; 32]);
        let checkpoint = log.sign_checkpoint(&key).await.unwrap();
        let folder = tempfile::tempdir().unwrap();
        let dir = folder.path().join("bundle");
        let request = BundleRequest {
            dir: &dir,
            from_ms: 0,
            to_ms: i64::MAX,
            checkpoint: &checkpoint,
            key: &key,
            actor: "ops",
        };

        // Another process creates the folder after the existence check, so
        // the real rename fails.
        let error = log
            .write_bundle_with(&request, |staging, dir| {
                std::fs::create_dir(dir)?;
                std::fs::write(dir.join("other.txt"), b"not a bundle")?;
                std::fs::rename(staging, dir)
            })
            .await
            .expect_err("the rename onto a non-empty folder must fail");
        assert!(
            matches!(
                error,
                ComplianceError::File {
                    operation: "rename",
                    ..
                }
            ),
            "{error:?}"
        );

        let size = log.head().await.unwrap().size;
        let exported = log.entry(size - 3).await.unwrap();
        assert_eq!(exported.kind, BUNDLE_KIND);
        let failed = log.entry(size - 1).await.unwrap();
        assert_eq!(failed.kind, BUNDLE_FAILED_KIND);
        assert_eq!(failed.payload["export_seq"], json!(exported.seq));
        assert_eq!(failed.payload["step"], json!("rename"));
        assert!(
            failed.payload["io_error_kind"].is_string(),
            "{}",
            failed.payload
        );

        let left: Vec<_> = std::fs::read_dir(folder.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("bundle")],
            "staging removed"
        );
        assert!(!dir.join(MANIFEST_FILE).exists());
        let report = log.verify(&VerifyOptions::default()).await.unwrap();
        assert!(report.is_valid(), "{:?}", report.problem);
    }
}
