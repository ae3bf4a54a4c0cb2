//! The counters several gateway processes may share: rate-limit windows,
//! budget spend and the response cache.
//!
//! [`MemoryState`] keeps them in this process; `RedisState` (feature
//! `redis`, on by default) keeps them on a Redis server that several
//! gateway processes share.

mod lru;
mod memory;
#[cfg(feature = "redis")]
mod redis;

use async_trait::async_trait;
use rust_decimal::Decimal;

#[cfg(feature = "redis")]
pub use self::redis::RedisState;
pub use memory::MemoryState;

/// One amount to admit against one limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The window's name, such as `rpm:key:k1`.
    pub window: String,
    /// The maximum amount the window may contain.
    pub limit: u64,
    /// The amount this request takes: 1 for requests, the reserved tokens
    /// for tokens.
    pub amount: u64,
    /// The window's length in milliseconds.
    pub period_ms: u64,
}

/// An admitted amount that can be settled later to what was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The window's name.
    pub window: String,
    /// The entry's id within the store.
    pub entry: u64,
}

/// The result of [`SharedState::admit`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// Every charge was admitted; one ticket per charge, in order.
    Admitted(Vec<Ticket>),
    /// Nothing was admitted because the charge at `index` does not fit.
    Rejected {
        /// The position of the first charge that does not fit.
        index: usize,
        /// Milliseconds until it fits; none when its amount exceeds its
        /// limit by itself, so it never fits.
        retry_after_ms: Option<u64>,
    },
}

/// The result of [`SharedState::add_spend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpendUpdate {
    /// The spend before the addition.
    pub before: Decimal,
    /// The spend after it.
    pub after: Decimal,
}

/// Response-cache counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Lookups that found a live entry.
    pub hits: u64,
    /// Lookups that found none.
    pub misses: u64,
    /// Entries stored now.
    pub entries: u64,
    /// Bytes stored now: keys plus values.
    pub bytes: u64,
}

impl CacheStats {
    /// Returns hits divided by lookups, or none before the first lookup.
    pub fn hit_ratio(&self) -> Option<f64> {
        let lookups = self.hits + self.misses;
        (lookups > 0).then(|| self.hits as f64 / lookups as f64)
    }
}

/// A shared-state operation failed, such as a lost connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gateway shared state failed: {message}")]
pub struct StateError {
    message: String,
}

impl StateError {
    /// Creates an error with a message saying what failed.
    pub fn new(message: impl Into<String>) -> Self {
        StateError {
            message: message.into(),
        }
    }
}

/// Storage for limits, spend and cache that several gateways may share.
///
/// Every method must be atomic with respect to concurrent callers: two
/// gateways admitting at once must not both take the last unit of a limit.
#[async_trait]
pub trait SharedState: Send + Sync {
    /// Admits every charge or none, as of `now_ms`.
    ///
    /// # Errors
    ///
    /// Returns [`StateError`] when the store cannot be reached.
    async fn admit(&self, now_ms: u64, charges: &[Charge]) -> Result<Admission, StateError>;

    /// Replaces the amount of an admitted ticket by `amount`, the amount
    /// used. A ticket whose window has moved past it is ignored.
    ///
    /// # Errors
    ///
    /// Returns [`StateError`] when the store cannot be reached.
    async fn settle(&self, ticket: &Ticket, amount: u64) -> Result<(), StateError>;

    /// Adds `amount` US dollars to the spend under `key`, as of `now_ms`.
    ///
    /// With `retain_ms`, the store may drop the key `retain_ms` after
    /// `now_ms`, so spend of past budget periods does not pile up; each
    /// addition moves that moment. Without it the key is kept.
    ///
    /// # Errors
    ///
    /// Returns [`StateError`] when the store cannot be reached.
    async fn add_spend(
        &self,
        now_ms: u64,
        key: &str,
        amount: Decimal,
        retain_ms: Option<u64>,
    ) -> Result<SpendUpdate, StateError>;

    /// Returns the spend under `key`, zero when nothing was spent.
    ///
    /// # Errors
    ///
    /// Returns [`StateError`] when the store cannot be reached.
    async fn spend(&self, key: &str) -> Result<Decimal, StateError>;

    /// Returns the cached value under `key` unless it expired by `now_ms`,
    /// and counts the lookup as a hit or miss.
    ///
    /// # Errors
    ///
    /// Returns [`StateError`] when the store cannot be reached.
    async fn cache_get(&self, now_ms: u64, key: &str) -> Result<Option<Vec<u8>>, StateError>;

    /// Stores `value` under `key` until `now_ms + ttl_ms`, evicting the
    /// least recently used entries to stay within the store's size bound.
    ///
    /// # Errors
    ///
    /// Returns [`StateError`] when the store cannot be reached.
    async fn cache_put(
        &self,
        now_ms: u64,
        key: &str,
        value: Vec<u8>,
        ttl_ms: u64,
    ) -> Result<(), StateError>;

    /// Returns the cache counters.
    ///
    /// # Errors
    ///
    /// Returns [`StateError`] when the store cannot be reached.
    async fn cache_stats(&self) -> Result<CacheStats, StateError>;
}
