//! Reversible pseudonymisation: placeholders whose values are kept encrypted
//! in memory and restored in a model response.

use std::collections::HashMap;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use regex::Regex;
use sha2::Sha256;

use crate::entity::EntityType;
use crate::error::{GuardError, Result};
use crate::finding::Finding;
use crate::resolve::resolve_overlaps;

/// One encrypted value.
struct Sealed {
    nonce: [u8; 12],
    ciphertext: Vec<u8>,
}

/// Maps placeholders such as `<EMAIL_ADDRESS_1>` to values encrypted with
/// ChaCha20-Poly1305 under a random key that lives only in this vault.
///
/// Create one vault per request, or one per conversation so that a value keeps
/// its placeholder across turns, and drop it when the scope ends.
///
/// NOTE: [`Vault::restore`] replaces every known placeholder, including one
/// that a user typed literally in a later text of the same scope.
pub struct Vault {
    cipher: ChaCha20Poly1305,
    /// Key of the HMAC that indexes values, so the index contains no plain digests.
    index_key: [u8; 32],
    sealed: HashMap<String, Sealed>,
    index: HashMap<(EntityType, [u8; 32]), String>,
    counters: HashMap<EntityType, usize>,
    pattern: Option<Regex>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("entries", &self.sealed.len())
            .finish_non_exhaustive()
    }
}

impl Default for Vault {
    fn default() -> Self {
        Self::new()
    }
}

impl Vault {
    /// Creates an empty vault with fresh random keys.
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        let mut index_key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        rand::rng().fill_bytes(&mut index_key);
        let pattern = Regex::new(r"<([A-Z][A-Z0-9_]*?)_([0-9]+)>").ok();
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
            index_key,
            sealed: HashMap::new(),
            index: HashMap::new(),
            counters: HashMap::new(),
            pattern,
        }
    }

    /// Returns the number of stored values.
    pub fn len(&self) -> usize {
        self.sealed.len()
    }

    /// Returns true when the vault stores no value.
    pub fn is_empty(&self) -> bool {
        self.sealed.is_empty()
    }

    /// Returns `text` with every finding replaced by a placeholder and stores
    /// the values. Overlaps are resolved first. A placeholder that already
    /// occurs in `text` is never allocated, so restoring gives `text` back.
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::Vault`] when encryption fails.
    pub fn pseudonymize(&mut self, text: &str, findings: &[Finding]) -> Result<String> {
        let findings = resolve_overlaps(findings.to_vec());
        let mut out = String::with_capacity(text.len());
        let mut cursor = 0;
        for finding in &findings {
            let Some(value) = text.get(finding.bytes.clone()) else {
                continue;
            };
            out.push_str(&text[cursor..finding.bytes.start]);
            out.push_str(&self.placeholder(finding.entity, value, text)?);
            cursor = finding.bytes.end;
        }
        out.push_str(&text[cursor..]);
        Ok(out)
    }

    /// Returns `text` with every placeholder of this vault replaced by its
    /// value. Unknown placeholders stay as they are.
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::Vault`] when decryption fails.
    pub fn restore(&self, text: &str) -> Result<String> {
        let Some(pattern) = &self.pattern else {
            return Ok(text.to_owned());
        };
        let mut out = String::with_capacity(text.len());
        let mut cursor = 0;
        for found in pattern.find_iter(text) {
            let Some(sealed) = self.sealed.get(found.as_str()) else {
                continue;
            };
            out.push_str(&text[cursor..found.start()]);
            out.push_str(&self.open(found.as_str(), sealed)?);
            cursor = found.end();
        }
        out.push_str(&text[cursor..]);
        Ok(out)
    }

    fn placeholder(&mut self, entity: EntityType, value: &str, text: &str) -> Result<String> {
        let digest = self.digest(value);
        if let Some(existing) = self.index.get(&(entity, digest)) {
            return Ok(existing.clone());
        }
        let placeholder = loop {
            let counter = self.counters.entry(entity).or_insert(0);
            *counter += 1;
            let candidate = format!("<{}_{}>", entity.as_str(), counter);
            if !text.contains(&candidate) && !self.sealed.contains_key(&candidate) {
                break candidate;
            }
        };
        let sealed = self.seal(&placeholder, value)?;
        self.sealed.insert(placeholder.clone(), sealed);
        self.index.insert((entity, digest), placeholder.clone());
        Ok(placeholder)
    }

    fn digest(&self, value: &str) -> [u8; 32] {
        match <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key) {
            Ok(mut mac) => {
                mac.update(value.as_bytes());
                mac.finalize().into_bytes().into()
            }
            Err(_) => [0u8; 32],
        }
    }

    fn seal(&self, placeholder: &str, value: &str) -> Result<Sealed> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), value.as_bytes())
            .map_err(|_| GuardError::Vault {
                operation: "encrypt",
                placeholder: placeholder.to_owned(),
            })?;
        Ok(Sealed { nonce, ciphertext })
    }

    fn open(&self, placeholder: &str, sealed: &Sealed) -> Result<String> {
        let error = || GuardError::Vault {
            operation: "decrypt",
            placeholder: placeholder.to_owned(),
        };
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                sealed.ciphertext.as_slice(),
            )
            .map_err(|_| error())?;
        String::from_utf8(plain).map_err(|_| error())
    }
}
