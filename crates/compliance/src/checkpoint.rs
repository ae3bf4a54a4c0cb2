//! Signed tree heads (checkpoints) and proofs read from the log.
//!
//! A checkpoint commits to the Merkle tree head over the first `size`
//! entries with an Ed25519 signature. Anyone holding the public key can
//! later check that an entry was in the log (inclusion proof) and that a
//! later log extends the signed one unchanged (consistency proof).

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use llmops_store::now_ms;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use sqlx::Row as _;

use crate::error::{ComplianceError, Result};
use crate::event::{EventKind, NewEvent};
use crate::hash::Hash;
use crate::log::{AuditLog, to_i64};
use crate::merkle;
use crate::verify::VerifyOptions;

/// The event kind of the entry that records each signed checkpoint.
pub const CHECKPOINT_KIND: &str = "checkpoint_signed";

/// Reads the stored checkpoints, smallest size first.
pub(crate) const CHECKPOINTS_SQL: &str =
    "SELECT size, key_id, root, at_ms, public_key, signature FROM compliance_checkpoints
     ORDER BY size, key_id";

/// A Merkle tree head over the first `size` entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    /// The number of entries the tree covers.
    pub size: u64,
    /// The RFC 9162 Merkle tree hash.
    pub root: Hash,
}

/// A tree head signed with Ed25519. Reading one refuses fields it does
/// not have, which the signature would not cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The number of entries the tree covers.
    pub size: u64,
    /// The Merkle tree hash over those entries.
    pub root: Hash,
    /// When the checkpoint was signed, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The signer's Ed25519 public key, hex.
    pub public_key: String,
    /// The first 8 bytes of SHA-256 of the public key, hex.
    pub key_id: String,
    /// The Ed25519 signature of [`Checkpoint::signed_message`], hex.
    pub signature: String,
}

/// Returns the key id of `key`: the first 8 bytes of SHA-256 of the public key, hex.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..8])
}

impl Checkpoint {
    /// Returns the bytes that are signed: a versioned text line per field.
    pub fn signed_message(size: u64, root: &Hash, at_ms: i64) -> Vec<u8> {
        format!("llmops audit checkpoint v1\nsize {size}\nroot {root}\nat_ms {at_ms}\n")
            .into_bytes()
    }

    /// Signs the tree head `head` at time `at_ms` with `key`.
    pub fn sign(head: TreeHead, at_ms: i64, key: &SigningKey) -> Checkpoint {
        let signature = key.sign(&Checkpoint::signed_message(head.size, &head.root, at_ms));
        let public = key.verifying_key();
        Checkpoint {
            size: head.size,
            root: head.root,
            at_ms,
            public_key: hex::encode(public.as_bytes()),
            key_id: key_id(&public),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Checks that the key id is the public key's, the signature, and when
    /// `trusted` is not empty, that the signer is one of the trusted keys.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidKey`] for an unreadable public key,
    /// [`ComplianceError::KeyIdMismatch`] for a key id that is not the
    /// public key's,
    /// [`ComplianceError::UntrustedKey`] for a key outside `trusted` and
    /// [`ComplianceError::BadSignature`] for a signature that does not
    /// verify.
    pub fn verify_signature(&self, trusted: &[VerifyingKey]) -> Result<()> {
        let mut key_bytes = [0_u8; 32];
        hex::decode_to_slice(&self.public_key, &mut key_bytes).map_err(|error| {
            ComplianceError::InvalidKey {
                reason: format!("checkpoint public key is not 32 hex bytes: {error}"),
            }
        })?;
        let public =
            VerifyingKey::from_bytes(&key_bytes).map_err(|error| ComplianceError::InvalidKey {
                reason: format!("checkpoint public key is not an Ed25519 point: {error}"),
            })?;
        // The key id is not signed, so only this comparison ties it to
        // the key that made the signature.
        let expected = key_id(&public);
        if self.key_id != expected {
            return Err(ComplianceError::KeyIdMismatch {
                size: self.size,
                key_id: self.key_id.clone(),
                expected,
            });
        }
        if !trusted.is_empty() && !trusted.contains(&public) {
            return Err(ComplianceError::UntrustedKey {
                size: self.size,
                key_id: key_id(&public),
            });
        }
        let bad = || ComplianceError::BadSignature {
            size: self.size,
            key_id: self.key_id.clone(),
        };
        let mut signature_bytes = [0_u8; 64];
        hex::decode_to_slice(&self.signature, &mut signature_bytes).map_err(|_| bad())?;
        let signature = Signature::from_bytes(&signature_bytes);
        public
            .verify(
                &Checkpoint::signed_message(self.size, &self.root, self.at_ms),
                &signature,
            )
            .map_err(|_| bad())
    }

    /// Builds a checkpoint from the columns of a `compliance_checkpoints`
    /// row, in [`CHECKPOINTS_SQL`] order.
    pub(crate) fn from_columns(
        size: i64,
        key_id: String,
        root: &str,
        at_ms: i64,
        public_key: String,
        signature: String,
    ) -> Result<Checkpoint> {
        // A negative size reads as 0. The signature covers the size, so
        // verify reports such a row as a bad signature, not an error.
        let size = u64::try_from(size).unwrap_or(0);
        let root = root
            .parse()
            .map_err(|error: ComplianceError| ComplianceError::CorruptRow {
                seq: size,
                column: "compliance_checkpoints.root",
                reason: error.to_string(),
            })?;
        Ok(Checkpoint {
            size,
            root,
            at_ms,
            public_key,
            key_id,
            signature,
        })
    }

    /// Returns the tree head this checkpoint signs.
    pub fn tree_head(&self) -> TreeHead {
        TreeHead {
            size: self.size,
            root: self.root,
        }
    }
}

impl AuditLog {
    /// Computes the Merkle tree head over the first `size` entries, or over
    /// the whole log when `size` is `None`.
    ///
    /// NOTE: this reads all `size` stored hashes; the log keeps no
    /// precomputed subtree hashes yet.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidTreeSize`] when the log is shorter than `size`.
    pub async fn tree_head(&self, size: Option<u64>) -> Result<TreeHead> {
        let size = match size {
            Some(size) => size,
            None => self.head().await?.size,
        };
        let leaves = self.leaf_hashes(size).await?;
        Ok(TreeHead {
            size,
            root: merkle::root(&leaves),
        })
    }

    /// Verifies the whole log, signs the tree head over the entries that
    /// verified with `key`, stores the checkpoint, appends a
    /// `checkpoint_signed` entry that records it, and returns it. The
    /// checkpoint covers the entries before that entry.
    ///
    /// A signature vouches for every entry it covers, so a log that fails
    /// [`AuditLog::verify`] is never signed. The verification reads every
    /// entry, about a second per million entries on SQLite.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::ChainBroken`] naming the first break when the log
    /// fails verification, and [`ComplianceError::Store`] when the
    /// database fails.
    pub async fn sign_checkpoint(&self, key: &SigningKey) -> Result<Checkpoint> {
        let report = self.verify(&VerifyOptions::default()).await?;
        if let Some(problem) = report.problem {
            return Err(ComplianceError::ChainBroken { problem });
        }
        // The tree head of the verify snapshot: appends that commit after
        // it are left for the next checkpoint.
        let head = TreeHead {
            size: report.entries,
            root: report.root,
        };
        let checkpoint = Checkpoint::sign(head, now_ms(), key);
        let store = self.store();
        let upsert = store.dialect().upsert_clause(
            &["size", "key_id"],
            &["root", "at_ms", "public_key", "signature"],
        );
        let mut transaction = store.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO compliance_checkpoints (size, key_id, root, at_ms, public_key, signature)
             VALUES ($1, $2, $3, $4, $5, $6) {upsert}"
        ))
        .bind(to_i64(checkpoint.size))
        .bind(&checkpoint.key_id)
        .bind(checkpoint.root.to_hex())
        .bind(checkpoint.at_ms)
        .bind(&checkpoint.public_key)
        .bind(&checkpoint.signature)
        .execute(&mut *transaction)
        .await
        .map_err(|source| store.error(source))?;

        // The log records each checkpoint too, so deleting a checkpoint row
        // to hide a rewrite shows up in verify.
        let event = NewEvent::new(
            EventKind::Custom(CHECKPOINT_KIND.to_owned()),
            "audit_log",
            format!("checkpoint:{}", checkpoint.size),
        )
        .payload(json!({
            "size": checkpoint.size,
            "root": checkpoint.root,
            "key_id": checkpoint.key_id,
        }));
        self.append_trusted_in(&mut transaction, &[event]).await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        tracing::info!(size = checkpoint.size, key_id = %checkpoint.key_id, "checkpoint signed");
        Ok(checkpoint)
    }

    /// Returns the stored checkpoints, smallest size first.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::CorruptRow`] for an unreadable root and
    /// [`ComplianceError::Store`] when the database fails.
    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let mut connection = self.connection().await?;
        self.checkpoints_in(&mut connection).await
    }

    /// Returns the stored checkpoints as [`AuditLog::checkpoints`] does,
    /// read on `connection`, such as inside a read transaction.
    pub(crate) async fn checkpoints_in(
        &self,
        connection: &mut AnyConnection,
    ) -> Result<Vec<Checkpoint>> {
        let store = self.store();
        let rows = sqlx::query(CHECKPOINTS_SQL)
            .fetch_all(connection)
            .await
            .map_err(|source| store.error(source))?;
        let mut checkpoints = Vec::with_capacity(rows.len());
        for row in rows {
            let error = |source| store.error(source);
            checkpoints.push(Checkpoint::from_columns(
                row.try_get(0).map_err(error)?,
                row.try_get(1).map_err(error)?,
                &row.try_get::<String, _>(2).map_err(error)?,
                row.try_get(3).map_err(error)?,
                row.try_get(4).map_err(error)?,
                row.try_get(5).map_err(error)?,
            )?);
        }
        Ok(checkpoints)
    }

    /// Builds the inclusion proof of entry `seq` in the tree of `size` entries.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidTreeSize`] when `seq >= size` or the log is shorter than `size`.
    pub async fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>> {
        let leaves = self.leaf_hashes(size).await?;
        merkle::inclusion_proof(&leaves, seq)
    }

    /// Builds the consistency proof from the tree of `old_size` entries to
    /// the tree of `new_size` entries.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidTreeSize`] when `old_size > new_size` or the
    /// log is shorter than `new_size`.
    pub async fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>> {
        let leaves = self.leaf_hashes(new_size).await?;
        merkle::consistency_proof(&leaves, old_size)
    }
}
