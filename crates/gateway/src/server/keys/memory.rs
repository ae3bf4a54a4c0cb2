//! Keys kept in process memory, lost on restart.

use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;

use super::{KeyStore, VirtualKey};
use crate::server::error::ServerError;

/// A key store in process memory, the default without `--database`.
#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    /// Active keys by the hash of their secret.
    by_hash: RwLock<HashMap<String, VirtualKey>>,
}

impl MemoryKeyStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        MemoryKeyStore::default()
    }
}

#[async_trait]
impl KeyStore for MemoryKeyStore {
    async fn insert(&self, key: &VirtualKey, secret_hash: &str) -> Result<(), ServerError> {
        let mut keys = self
            .by_hash
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.insert(secret_hash.to_owned(), key.clone());
        Ok(())
    }

    async fn find_by_hash(&self, secret_hash: &str) -> Result<Option<VirtualKey>, ServerError> {
        let keys = self
            .by_hash
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(keys.get(secret_hash).cloned())
    }

    async fn list(&self) -> Result<Vec<VirtualKey>, ServerError> {
        let keys = self
            .by_hash
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut listed: Vec<VirtualKey> = keys.values().cloned().collect();
        listed.sort_by(|a, b| {
            (a.created_at_ms, a.id.as_str()).cmp(&(b.created_at_ms, b.id.as_str()))
        });
        Ok(listed)
    }

    async fn revoke(&self, id: &str) -> Result<bool, ServerError> {
        let mut keys = self
            .by_hash
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = keys.len();
        keys.retain(|_, key| key.id != id);
        Ok(keys.len() < before)
    }
}
