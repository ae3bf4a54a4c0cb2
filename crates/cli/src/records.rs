//! Opening the compliance records and mapping their errors to failures,
//! shared by `llmops audit` and `llmops compliance`.

use std::path::Path;

use anyhow::Context;
use llmops_compliance::ed25519_dalek::{SigningKey, VerifyingKey};
use llmops_compliance::{AuditLog, ComplianceError};
use llmops_store::{Store, StoreError, StoreOptions};

use crate::failure::Failure;
use crate::prompt::usage_or_other;

/// Starts a single-threaded runtime and runs `work` on it.
pub(crate) fn block_on<F>(work: F) -> Result<F::Output, Failure>
where
    F: std::future::Future,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    Ok(runtime.block_on(work))
}

/// Connects to `db` and opens the audit log, creating its tables if needed.
pub(crate) async fn open_log(db: &str) -> Result<AuditLog, Failure> {
    let store = Store::connect(db).await.map_err(usage_or_other)?;
    AuditLog::open(store).await.map_err(compliance_failure)
}

/// Opens the audit log that `db` already holds, connecting with
/// `options`: no migration runs and a missing SQLite file is not created,
/// whichever URL form names it, because an empty new log would verify as
/// intact. Fails when the database has no audit log.
pub(crate) async fn open_existing_log(
    db: &str,
    options: StoreOptions,
) -> Result<AuditLog, Failure> {
    let store = options
        .create_missing(false)
        .connect(db)
        .await
        .map_err(|error| match error {
            StoreError::SqliteFileNotFound { path, .. } => Failure::Usage(format!(
                "no database at {}; check --db or LLMOPS_DB",
                path.display()
            )),
            other => usage_or_other(other),
        })?;
    AuditLog::open_existing(store)
        .await
        .map_err(|error| match error {
            ComplianceError::NoAuditLog { url } => Failure::Usage(format!(
                "no audit log in {url}: its tables are missing; point --db at the database the log was written to"
            )),
            other => compliance_failure(other),
        })
}

/// Maps bad input the user can fix to a usage error (exit 2), and
/// everything else, such as an invalid review transition, to exit 1.
pub(crate) fn compliance_failure(error: ComplianceError) -> Failure {
    match error {
        ComplianceError::Store(store) => usage_or_other(store),
        ComplianceError::InvalidEvent { .. }
        | ComplianceError::InvalidKey { .. }
        | ComplianceError::InvalidReview { .. }
        | ComplianceError::InvalidAssessment { .. }
        | ComplianceError::InvalidIncident { .. }
        | ComplianceError::InvalidPeriod { .. } => Failure::Usage(error.to_string()),
        other => Failure::Other(other.into()),
    }
}

/// Parses an Ed25519 public key written as 64 hex digits.
pub(crate) fn parse_public_key(text: &str) -> Result<VerifyingKey, Failure> {
    let bytes = parse_key_bytes(text.trim()).map_err(|reason| {
        Failure::Usage(format!(
            "public key {text:?} is invalid: {reason}; pass the 64 hex digits that `llmops audit keygen` printed"
        ))
    })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| {
        Failure::Usage(format!(
            "public key {text:?} is not an Ed25519 public key; pass the 64 hex digits that `llmops audit keygen` printed"
        ))
    })
}

/// Reads the trusted public keys from `--public-key` values and key files,
/// one key per line in a file.
pub(crate) fn trusted_keys(
    keys: &[String],
    files: &[std::path::PathBuf],
) -> Result<Vec<VerifyingKey>, Failure> {
    let mut trusted = Vec::new();
    for key in keys {
        trusted.push(parse_public_key(key)?);
    }
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("failed to read the public key file {}", file.display()))?;
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            trusted.push(parse_public_key(line)?);
        }
    }
    Ok(trusted)
}

/// Reads an Ed25519 signing key file: the 32-byte secret seed as 64 hex
/// digits, as `llmops audit keygen` writes it.
pub(crate) fn read_signing_key(path: &Path) -> Result<SigningKey, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the signing key {}", path.display()))?;
    // The message never contains the file's content, which is a secret.
    let bytes = parse_key_bytes(text.trim()).map_err(|reason| {
        Failure::Usage(format!(
            "signing key file {} is invalid: {reason}; create one with `llmops audit keygen --out {}`",
            path.display(),
            path.display()
        ))
    })?;
    Ok(SigningKey::from_bytes(&bytes))
}

fn parse_key_bytes(hex_text: &str) -> Result<[u8; 32], String> {
    let mut bytes = [0_u8; 32];
    hex::decode_to_slice(hex_text, &mut bytes).map_err(|error| match error {
        hex::FromHexError::InvalidStringLength | hex::FromHexError::OddLength => {
            format!("expected 64 hex digits, found {}", hex_text.len())
        }
        other => other.to_string(),
    })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_round_trips_through_hex() {
        let key = SigningKey::from_bytes(&[9; 32]).verifying_key();
        let parsed = parse_public_key(&hex::encode(key.as_bytes())).unwrap();
        assert_eq!(parsed, key);
    }

    #[test]
    fn malformed_public_key_is_usage_error() {
        for text in ["", "abcd", &"zz".repeat(32)] {
            let error = parse_public_key(text).unwrap_err();
            assert!(matches!(error, Failure::Usage(_)), "{text:?}");
            assert!(error.to_string().contains("64 hex digits"), "{error}");
        }
    }
}
