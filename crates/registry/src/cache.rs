//! The in-memory resolution cache and its cross-process invalidation.
//!
//! Entries for a version number never change, because versions are
//! immutable. Entries for a label or for the latest version change when a
//! label moves or a version is published: this registry clears them at once,
//! and every registry on the same database detects the change through the
//! `registry_generation` counter, which those writes increment in their
//! transaction. A registry reads the counter at most once per check interval,
//! so another process's change is visible after at most that interval.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use llmops_store::Store;
use sqlx::Row as _;

use crate::error::Result;
use crate::selector::Selector;
use crate::version::PromptVersion;

type Key = (String, Selector);

#[derive(Debug)]
pub(crate) struct ResolutionCache {
    entries: Mutex<HashMap<Key, Arc<PromptVersion>>>,
    state: Mutex<CheckState>,
    check_interval: Duration,
}

#[derive(Debug, Default)]
struct CheckState {
    generation: Option<i64>,
    checked_at: Option<Instant>,
}

impl ResolutionCache {
    pub(crate) fn new(check_interval: Duration) -> Self {
        ResolutionCache {
            entries: Mutex::new(HashMap::new()),
            state: Mutex::new(CheckState::default()),
            check_interval,
        }
    }

    pub(crate) fn get(&self, name: &str, selector: &Selector) -> Option<Arc<PromptVersion>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(&(name.to_owned(), selector.clone())).cloned()
    }

    pub(crate) fn insert(&self, name: &str, selector: &Selector, version: Arc<PromptVersion>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.insert((name.to_owned(), selector.clone()), version);
    }

    /// Drops the entries that can change: labels and latest versions.
    pub(crate) fn clear_movable(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|(_, selector), _| matches!(selector, Selector::Version(_)));
    }

    /// Reads the generation counter when the check interval has passed and
    /// clears movable entries when another writer changed it.
    pub(crate) async fn check(&self, store: &Store) -> Result<()> {
        let due = {
            let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state
                .checked_at
                .is_none_or(|checked_at| checked_at.elapsed() >= self.check_interval)
        };
        if !due {
            return Ok(());
        }
        let row = sqlx::query("SELECT generation FROM registry_generation WHERE id = 1")
            .fetch_one(store.pool())
            .await
            .map_err(|source| store.error(source))?;
        let generation: i64 = row.try_get(0).map_err(|source| store.error(source))?;

        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.generation != Some(generation) {
            if state.generation.is_some() {
                tracing::debug!(
                    generation,
                    "prompt labels changed; resolution cache cleared"
                );
            }
            self.clear_movable();
            state.generation = Some(generation);
        }
        state.checked_at = Some(Instant::now());
        Ok(())
    }
}
