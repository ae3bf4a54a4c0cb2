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

/// Parses an Ed25519 public key written as 64 hex digits; `source` names
/// where it came from in messages.
///
/// The messages never contain the value: a user who passes the signing
/// key file by mistake would otherwise see the secret printed.
pub(crate) fn parse_public_key(text: &str, source: &str) -> Result<VerifyingKey, Failure> {
    const FIX: &str = "pass the 64 hex digits that `llmops audit keygen` printed, not the key file it wrote, which holds the secret key";
    let bytes = parse_key_bytes(text.trim()).map_err(|reason| {
        Failure::Usage(format!(
            "the public key in {source} is invalid: {reason}; {FIX}"
        ))
    })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| {
        Failure::Usage(format!(
            "the public key in {source} is not an Ed25519 public key; {FIX}"
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
    for (index, key) in keys.iter().enumerate() {
        trusted.push(parse_public_key(
            key,
            &format!("--public-key number {}", index + 1),
        )?);
    }
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|error| {
            Failure::Usage(format!(
                "cannot read the public key file {}: {error}; check --public-key-file",
                file.display()
            ))
        })?;
        let before = trusted.len();
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let source = format!("line {} of {}", number + 1, file.display());
            trusted.push(parse_public_key(line, &source)?);
        }
        // An empty file would otherwise leave no trusted key, which
        // accepts a signature by any key.
        if trusted.len() == before {
            return Err(Failure::Usage(format!(
                "the public key file {} holds no key; write one public key of 64 hex digits per line",
                file.display()
            )));
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
        let parsed = parse_public_key(&hex::encode(key.as_bytes()), "--public-key").unwrap();
        assert_eq!(parsed, key);
    }

    #[test]
    fn malformed_public_key_is_usage_error() {
        for text in ["", "abcd", &"zz".repeat(32)] {
            let error = parse_public_key(text, "--public-key").unwrap_err();
            assert!(matches!(error, Failure::Usage(_)), "{text:?}");
            assert!(error.to_string().contains("64 hex digits"), "{error}");
        }
    }

    #[test]
    fn rejected_key_is_never_echoed() {
        // Seeds whose bytes do not decode to a curve point, which holds for
        // about half of all random 32-byte values, and a malformed value.
        let mut rejected = 0;
        for seed in 0_u8..64 {
            let secret = hex::encode([seed; 32]);
            if let Err(error) = parse_public_key(&secret, "line 1 of audit.key") {
                rejected += 1;
                let message = error.to_string();
                assert!(!message.contains(&secret), "{message}");
                assert!(message.contains("line 1 of audit.key"), "{message}");
                assert!(message.contains("secret key"), "{message}");
            }
        }
        assert!(rejected > 0, "no test seed was rejected");
        let error = parse_public_key("0123abcz", "--public-key").unwrap_err();
        assert!(!error.to_string().contains("0123abcz"), "{error}");
    }
}
