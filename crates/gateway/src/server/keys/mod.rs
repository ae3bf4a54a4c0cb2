//! Virtual API keys: random secrets handed to clients, stored only as a
//! SHA-256 hash, each with its own model allow-list, limits and budget.

mod memory;
pub(crate) mod sql;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use rand::Rng;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use memory::MemoryKeyStore;
pub use sql::SqlKeyStore;

use crate::server::error::ServerError;

/// The prefix of every virtual key secret.
pub const KEY_PREFIX: &str = "sk-llmops-";

/// Random characters after [`KEY_PREFIX`]: 40 base-62 characters carry
/// about 238 bits.
const SECRET_CHARS: usize = 40;

/// Characters of the secret shown in listings, after [`KEY_PREFIX`]. The
/// prefix identifies a key to its owner without letting anyone use it.
const DISPLAY_CHARS: usize = 4;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A virtual API key as stored: everything but the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualKey {
    /// The key id, such as `key-3f9a1c2b7d4e5f60`; safe to log.
    pub id: String,
    /// A human name, such as the application that uses the key.
    pub name: String,
    /// The start of the secret, such as `sk-llmops-Ab3x…`, for display.
    pub display_prefix: String,
    /// The team the key belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The models the key may call; empty allows every model.
    #[serde(default)]
    pub models: Vec<String>,
    /// Requests per minute allowed to this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u64>,
    /// Tokens (input plus output) per minute allowed to this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<u64>,
    /// The spending limit of the key in US dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd: Option<Decimal>,
    /// Creation time in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
}

impl VirtualKey {
    /// Returns whether the key may call `model`.
    pub fn allows_model(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|allowed| allowed == model)
    }
}

/// The settings of a key to create, as `POST /admin/keys` accepts them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// A human name; required and non-empty.
    pub name: String,
    /// The team the key belongs to.
    #[serde(default)]
    pub team: Option<String>,
    /// The models the key may call; empty or absent allows every model.
    #[serde(default)]
    pub models: Vec<String>,
    /// Requests per minute allowed to this key.
    #[serde(default)]
    pub requests_per_minute: Option<u64>,
    /// Tokens per minute allowed to this key.
    #[serde(default)]
    pub tokens_per_minute: Option<u64>,
    /// The spending limit in US dollars, such as `"25.00"`.
    #[serde(default)]
    pub budget_usd: Option<Decimal>,
}

impl NewKey {
    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// Returns [`ServerError::InvalidKey`] naming the field for an empty
    /// name or model, a zero limit, or a negative budget.
    pub fn validate(&self) -> Result<(), ServerError> {
        let invalid = |field: &str, message: String| ServerError::InvalidKey {
            field: field.to_owned(),
            message,
        };
        if self.name.trim().is_empty() {
            return Err(invalid(
                "name",
                "the name is empty; name the key after its application or owner".to_owned(),
            ));
        }
        if let Some(position) = self.models.iter().position(|model| model.trim().is_empty()) {
            return Err(invalid(
                &format!("models[{position}]"),
                "the model name is empty; list model names the server serves".to_owned(),
            ));
        }
        if self.requests_per_minute == Some(0) {
            return Err(invalid(
                "requests_per_minute",
                "0 would block every request; omit the field for no limit".to_owned(),
            ));
        }
        if self.tokens_per_minute == Some(0) {
            return Err(invalid(
                "tokens_per_minute",
                "0 would block every request; omit the field for no limit".to_owned(),
            ));
        }
        if let Some(budget) = self.budget_usd {
            if budget <= Decimal::ZERO {
                return Err(invalid(
                    "budget_usd",
                    format!(
                        "{budget} is not a positive amount; use a budget above 0 US dollars, \
                         or revoke the key to stop its use"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A newly created key with its secret, which is shown once and never
/// stored.
pub struct CreatedKey {
    /// The stored record.
    pub key: VirtualKey,
    /// The secret the client sends as `Authorization: Bearer …`.
    pub secret: String,
}

impl fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Storage of virtual keys: in memory, or in a SQL database.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores a key under the SHA-256 hash of its secret.
    ///
    /// # Errors
    ///
    /// Returns [`ServerError::Store`] when the database fails.
    async fn insert(&self, key: &VirtualKey, secret_hash: &str) -> Result<(), ServerError>;

    /// Finds the active key whose secret hashes to `secret_hash`.
    ///
    /// # Errors
    ///
    /// Returns [`ServerError::Store`] when the database fails.
    async fn find_by_hash(&self, secret_hash: &str) -> Result<Option<VirtualKey>, ServerError>;

    /// Lists the active keys, oldest first.
    ///
    /// # Errors
    ///
    /// Returns [`ServerError::Store`] when the database fails.
    async fn list(&self) -> Result<Vec<VirtualKey>, ServerError>;

    /// Revokes a key; returns whether an active key had that id.
    ///
    /// # Errors
    ///
    /// Returns [`ServerError::Store`] when the database fails.
    async fn revoke(&self, id: &str) -> Result<bool, ServerError>;
}

/// Creates a key with a fresh random secret and stores it.
///
/// # Errors
///
/// Returns [`ServerError::InvalidKey`] for invalid settings and the store's
/// errors.
pub async fn create_key(store: &dyn KeyStore, settings: NewKey) -> Result<CreatedKey, ServerError> {
    settings.validate()?;
    let secret = generate_secret();
    // The id is random on its own, so it reveals nothing about the secret.
    let id = format!("key-{:016x}", rand::rng().random::<u64>());
    let display_prefix = format!(
        "{KEY_PREFIX}{}",
        &secret[KEY_PREFIX.len()..KEY_PREFIX.len() + DISPLAY_CHARS]
    );
    let key = VirtualKey {
        id,
        name: settings.name.trim().to_owned(),
        display_prefix,
        team: settings.team.filter(|team| !team.trim().is_empty()),
        models: settings.models,
        requests_per_minute: settings.requests_per_minute,
        tokens_per_minute: settings.tokens_per_minute,
        budget_usd: settings.budget_usd,
        created_at_ms: llmops_store::now_ms().max(0) as u64,
    };
    store.insert(&key, &hash_secret(&secret)).await?;
    tracing::info!(key = %key.id, name = %key.name, "virtual API key created");
    Ok(CreatedKey { key, secret })
}

/// Returns a new secret: [`KEY_PREFIX`] and random base-62 characters from
/// `rand`'s thread-local generator, a CSPRNG seeded by the operating system.
pub(crate) fn generate_secret() -> String {
    let mut rng = rand::rng();
    let mut secret = String::with_capacity(KEY_PREFIX.len() + SECRET_CHARS);
    secret.push_str(KEY_PREFIX);
    for _ in 0..SECRET_CHARS {
        let index = rng.random_range(0..ALPHABET.len());
        secret.push(char::from(ALPHABET[index]));
    }
    secret
}

/// Returns the lowercase hex SHA-256 digest of a secret.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// A shared key store.
pub type SharedKeyStore = Arc<dyn KeyStore>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_prefixed() {
        let first = generate_secret();
        let second = generate_secret();
        assert!(first.starts_with(KEY_PREFIX));
        assert_eq!(first.len(), KEY_PREFIX.len() + SECRET_CHARS);
        assert_ne!(first, second);
    }

    #[test]
    fn hash_is_sha256_hex() {
        // SHA-256 of "abc", from FIPS 180-2 appendix B.1.
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn validation_names_field() {
        let cases = [
            (NewKey::default(), "name"),
            (
                NewKey {
                    name: "app".into(),
                    models: vec!["chat".into(), " ".into()],
                    ..NewKey::default()
                },
                "models[1]",
            ),
            (
                NewKey {
                    name: "app".into(),
                    requests_per_minute: Some(0),
                    ..NewKey::default()
                },
                "requests_per_minute",
            ),
            (
                NewKey {
                    name: "app".into(),
                    budget_usd: Some(Decimal::new(-1, 0)),
                    ..NewKey::default()
                },
                "budget_usd",
            ),
            (
                NewKey {
                    name: "app".into(),
                    budget_usd: Some(Decimal::ZERO),
                    ..NewKey::default()
                },
                "budget_usd",
            ),
        ];
        for (settings, expected) in cases {
            match settings.validate() {
                Err(ServerError::InvalidKey { field, .. }) => assert_eq!(field, expected),
                other => panic!("expected an invalid {expected}, got {other:?}"),
            }
        }
    }

    #[test]
    fn empty_allow_list_allows_all() {
        let mut key = VirtualKey {
            id: "key-1".into(),
            name: "app".into(),
            display_prefix: "sk-llmops-abcd".into(),
            team: None,
            models: Vec::new(),
            requests_per_minute: None,
            tokens_per_minute: None,
            budget_usd: None,
            created_at_ms: 0,
        };
        assert!(key.allows_model("anything"));
        key.models = vec!["chat".into()];
        assert!(key.allows_model("chat"));
        assert!(!key.allows_model("chat-large"));
    }
}
