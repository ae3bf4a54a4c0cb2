//! Crypto-shredding: personal data encrypted under a key per data subject.
//!
//! Each data subject gets a random 256-bit XChaCha20-Poly1305 key in
//! `compliance_subject_keys`, and the log stores only ciphertext. Erasure
//! deletes the subject's keys. The entries stay in the log unchanged, so the
//! chain and every proof still verify (the hashes cover the ciphertext),
//! while the personal data can no longer be decrypted and reads as erased.
//!
//! NOTE: keys are stored in the same database as the log, unwrapped. An
//! erasure therefore also depends on the database's backups and free pages
//! being purged. Wrapping the keys under a key held outside the database is
//! not implemented.

use std::collections::HashMap;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use llmops_store::{Store, StoreTransaction, now_ms};
use serde_json::{Map, Value};
use sqlx::Row as _;

use crate::canonical::canonical_json;
use crate::error::{ComplianceError, Result};
use crate::event::{PersonalFields, SealedFields};

/// The personal data of an entry, as far as it can still be read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PersonalData {
    /// The entry has no personal data.
    None,
    /// The decrypted personal fields.
    Fields(Map<String, Value>),
    /// The data subject's key was destroyed, so the fields cannot be read.
    Erased,
    /// A retention purge removed the entry's payload and personal data.
    Purged,
}

/// The outcome of an erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErasureReport {
    /// The pseudonymous id of the data subject.
    pub data_subject: String,
    /// How many keys were destroyed; 0 when the subject had none.
    pub keys_destroyed: u64,
    /// The sequence number of the `data_subject_request` entry recording the erasure.
    pub audit_seq: u64,
}

/// Seals personal fields in one transaction, creating each data subject's
/// key on first use and reusing it within the transaction.
pub(crate) struct Sealer {
    keys: HashMap<String, (String, XChaCha20Poly1305)>,
}

impl Sealer {
    pub(crate) fn new() -> Self {
        Sealer {
            keys: HashMap::new(),
        }
    }

    pub(crate) async fn seal(
        &mut self,
        store: &Store,
        transaction: &mut StoreTransaction,
        personal: &PersonalFields,
    ) -> Result<SealedFields> {
        let subject = &personal.data_subject;
        if !self.keys.contains_key(subject) {
            let key = load_or_create_key(store, transaction, subject).await?;
            self.keys.insert(subject.clone(), key);
        }
        let Some((key_id, cipher)) = self.keys.get(subject) else {
            return Err(crypto_error(
                "encrypt",
                subject,
                "no key after creating one",
            ));
        };

        let plaintext = canonical_json(&personal.fields)?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = associated_data(subject, key_id);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| crypto_error("encrypt", subject, "the cipher rejected the input"))?;
        Ok(SealedFields {
            data_subject: subject.clone(),
            key_id: key_id.clone(),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        })
    }
}

/// Binds a ciphertext to its data subject and key, so it cannot be moved to
/// another subject's entry.
fn associated_data(data_subject: &str, key_id: &str) -> Vec<u8> {
    format!("llmops-compliance personal v1\n{data_subject}\n{key_id}").into_bytes()
}

fn crypto_error(operation: &'static str, data_subject: &str, reason: &str) -> ComplianceError {
    ComplianceError::Crypto {
        operation,
        data_subject: data_subject.to_owned(),
        reason: reason.to_owned(),
    }
}

async fn load_or_create_key(
    store: &Store,
    transaction: &mut StoreTransaction,
    data_subject: &str,
) -> Result<(String, XChaCha20Poly1305)> {
    let row = sqlx::query(
        "SELECT key_id, key_hex FROM compliance_subject_keys WHERE data_subject = $1
         ORDER BY created_at_ms DESC, key_id LIMIT 1",
    )
    .bind(data_subject)
    .fetch_optional(&mut **transaction)
    .await
    .map_err(|source| store.error(source))?;
    if let Some(row) = row {
        let key_id: String = row.try_get(0).map_err(|source| store.error(source))?;
        let key_hex: String = row.try_get(1).map_err(|source| store.error(source))?;
        return Ok((key_id, cipher_from_hex(data_subject, &key_hex)?));
    }

    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    let mut id_bytes = [0_u8; 16];
    OsRng.fill_bytes(&mut id_bytes);
    let key_id = hex::encode(id_bytes);
    sqlx::query(
        "INSERT INTO compliance_subject_keys (key_id, data_subject, key_hex, created_at_ms)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&key_id)
    .bind(data_subject)
    .bind(hex::encode(key))
    .bind(now_ms())
    .execute(&mut **transaction)
    .await
    .map_err(|source| store.error(source))?;
    tracing::debug!(key_id = %key_id, "data subject key created");
    Ok((key_id, XChaCha20Poly1305::new(&key)))
}

fn cipher_from_hex(data_subject: &str, key_hex: &str) -> Result<XChaCha20Poly1305> {
    let mut key = [0_u8; 32];
    hex::decode_to_slice(key_hex, &mut key).map_err(|_| {
        crypto_error(
            "decrypt",
            data_subject,
            "the stored key is not 32 hex bytes",
        )
    })?;
    Ok(XChaCha20Poly1305::new(&key.into()))
}

/// Decrypts `sealed` with the data subject's stored key, or reports it erased.
pub(crate) async fn open(store: &Store, sealed: &SealedFields) -> Result<PersonalData> {
    let row = sqlx::query("SELECT key_hex FROM compliance_subject_keys WHERE key_id = $1")
        .bind(&sealed.key_id)
        .fetch_optional(store.pool())
        .await
        .map_err(|source| store.error(source))?;
    let Some(row) = row else {
        return Ok(PersonalData::Erased);
    };
    let key_hex: String = row.try_get(0).map_err(|source| store.error(source))?;
    let cipher = cipher_from_hex(&sealed.data_subject, &key_hex)?;

    let subject = &sealed.data_subject;
    let nonce_bytes = hex::decode(&sealed.nonce)
        .ok()
        .filter(|bytes| bytes.len() == 24)
        .ok_or_else(|| crypto_error("decrypt", subject, "the nonce is not 24 hex bytes"))?;
    let ciphertext = hex::decode(&sealed.ciphertext)
        .map_err(|_| crypto_error("decrypt", subject, "the ciphertext is not hex"))?;
    let aad = associated_data(subject, &sealed.key_id);
    let plaintext = cipher
        .decrypt(
            XNonce::from_slice(&nonce_bytes),
            Payload {
                msg: &ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| {
            crypto_error(
                "decrypt",
                subject,
                "authentication failed; the ciphertext or its data subject was changed",
            )
        })?;
    let fields: Map<String, Value> = serde_json::from_slice(&plaintext)
        .map_err(|error| crypto_error("decrypt", subject, &error.to_string()))?;
    Ok(PersonalData::Fields(fields))
}

/// Deletes every key of `data_subject` and records the erasure; returns the
/// number of keys destroyed.
pub(crate) async fn destroy_keys(
    store: &Store,
    transaction: &mut StoreTransaction,
    data_subject: &str,
) -> Result<u64> {
    let deleted = sqlx::query("DELETE FROM compliance_subject_keys WHERE data_subject = $1")
        .bind(data_subject)
        .execute(&mut **transaction)
        .await
        .map_err(|source| store.error(source))?
        .rows_affected();
    let upsert = store
        .dialect()
        .upsert_clause(&["data_subject"], &["erased_at_ms", "keys_destroyed"]);
    sqlx::query(&format!(
        "INSERT INTO compliance_erasures (data_subject, erased_at_ms, keys_destroyed)
         VALUES ($1, $2, $3) {upsert}"
    ))
    .bind(data_subject)
    .bind(now_ms())
    .bind(i64::try_from(deleted).unwrap_or(i64::MAX))
    .execute(&mut **transaction)
    .await
    .map_err(|source| store.error(source))?;
    Ok(deleted)
}
