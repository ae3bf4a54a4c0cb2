//! [`SharedState`] in this process's memory.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use rust_decimal::Decimal;

use super::lru::Lru;
use super::{Admission, CacheStats, Charge, SharedState, SpendUpdate, StateError, Ticket};
use crate::limits::window::SlidingWindow;

/// The response cache's size bound when none is given: 64 MiB.
const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Admissions between sweeps that drop empty windows of idle scopes.
const SWEEP_EVERY: u64 = 1_024;

/// Limits, spend and cache of one gateway process, behind one mutex.
///
/// Spend is kept per scope and period label. An entry added with a
/// retention is dropped at the first [`SharedState::add_spend`] after the
/// retention has passed. An entry without one is kept.
#[derive(Debug)]
pub struct MemoryState {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    windows: HashMap<String, (SlidingWindow, u64)>,
    next_entry: u64,
    admissions: u64,
    /// Spend by key, with the Unix milliseconds after which it may go.
    spend: HashMap<String, (Decimal, Option<u64>)>,
    /// The earliest drop time in `spend`, so most additions skip the sweep.
    next_spend_expiry_ms: Option<u64>,
    cache: Lru,
}

impl Default for MemoryState {
    fn default() -> Self {
        MemoryState::new()
    }
}

impl MemoryState {
    /// Creates an empty state with a cache bound of 64 MiB.
    pub fn new() -> Self {
        MemoryState::with_cache_bytes(DEFAULT_CACHE_BYTES)
    }

    /// Creates an empty state whose cache stores at most `max_bytes` of keys
    /// and values.
    pub fn with_cache_bytes(max_bytes: u64) -> Self {
        MemoryState {
            inner: Mutex::new(Inner {
                windows: HashMap::new(),
                next_entry: 1,
                admissions: 0,
                spend: HashMap::new(),
                next_spend_expiry_ms: None,
                cache: Lru::new(max_bytes),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Inner {
    /// Drops the spend entries whose retention ended by `now_ms`.
    fn drop_expired_spend(&mut self, now_ms: u64) {
        if self.next_spend_expiry_ms.is_none_or(|next| next > now_ms) {
            return;
        }
        self.spend
            .retain(|_, (_, expires)| expires.is_none_or(|expires| expires > now_ms));
        self.next_spend_expiry_ms = self
            .spend
            .values()
            .filter_map(|(_, expires)| *expires)
            .min();
    }

    fn admit(&mut self, now_ms: u64, charges: &[Charge]) -> Admission {
        for (index, charge) in charges.iter().enumerate() {
            let (window, period) = self
                .windows
                .entry(charge.window.clone())
                .or_insert_with(|| (SlidingWindow::default(), charge.period_ms));
            *period = charge.period_ms;
            window.prune(now_ms, charge.period_ms);
            match window.wait_ms(now_ms, charge.period_ms, charge.limit, charge.amount) {
                Some(0) => {}
                retry_after_ms => {
                    return Admission::Rejected {
                        index,
                        retry_after_ms,
                    };
                }
            }
        }
        let mut tickets = Vec::with_capacity(charges.len());
        for charge in charges {
            let entry = self.next_entry;
            self.next_entry += 1;
            if let Some((window, _)) = self.windows.get_mut(&charge.window) {
                window.push(entry, now_ms, charge.amount);
            }
            tickets.push(Ticket {
                window: charge.window.clone(),
                entry,
            });
        }
        self.admissions += 1;
        if self.admissions % SWEEP_EVERY == 0 {
            self.windows.retain(|_, (window, period)| {
                window.prune(now_ms, *period);
                !window.is_empty()
            });
        }
        Admission::Admitted(tickets)
    }
}

#[async_trait]
impl SharedState for MemoryState {
    async fn admit(&self, now_ms: u64, charges: &[Charge]) -> Result<Admission, StateError> {
        Ok(self.lock().admit(now_ms, charges))
    }

    async fn settle(&self, ticket: &Ticket, amount: u64) -> Result<(), StateError> {
        if let Some((window, _)) = self.lock().windows.get_mut(&ticket.window) {
            window.settle(ticket.entry, amount);
        }
        Ok(())
    }

    async fn add_spend(
        &self,
        now_ms: u64,
        key: &str,
        amount: Decimal,
        retain_ms: Option<u64>,
    ) -> Result<SpendUpdate, StateError> {
        let mut inner = self.lock();
        inner.drop_expired_spend(now_ms);
        let expires_ms = retain_ms.map(|retain| now_ms.saturating_add(retain));
        let (spend, expiry) = inner.spend.entry(key.to_owned()).or_default();
        let before = *spend;
        let after = before.checked_add(amount).ok_or_else(|| {
            StateError::new(format!(
                "adding {amount} to the spend {before} of {key} overflows"
            ))
        })?;
        *spend = after;
        *expiry = expires_ms;
        if let Some(expires_ms) = expires_ms {
            let next = inner.next_spend_expiry_ms.get_or_insert(expires_ms);
            *next = (*next).min(expires_ms);
        }
        Ok(SpendUpdate { before, after })
    }

    async fn spend(&self, key: &str) -> Result<Decimal, StateError> {
        Ok(self
            .lock()
            .spend
            .get(key)
            .map(|(spend, _)| *spend)
            .unwrap_or_default())
    }

    async fn cache_get(&self, now_ms: u64, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.lock().cache.get(now_ms, key))
    }

    async fn cache_put(
        &self,
        now_ms: u64,
        key: &str,
        value: Vec<u8>,
        ttl_ms: u64,
    ) -> Result<(), StateError> {
        self.lock().cache.put(now_ms, key, value, ttl_ms);
        Ok(())
    }

    async fn cache_stats(&self) -> Result<CacheStats, StateError> {
        Ok(self.lock().cache.stats())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(window: &str, limit: u64, amount: u64) -> Charge {
        Charge {
            window: window.to_owned(),
            limit,
            amount,
            period_ms: 60_000,
        }
    }

    #[tokio::test]
    async fn rejection_admits_nothing() {
        let state = MemoryState::new();
        let first = state
            .admit(0, &[charge("a", 1, 1)])
            .await
            .unwrap_or_else(|_| Admission::Admitted(vec![]));
        assert!(matches!(first, Admission::Admitted(ref tickets) if tickets.len() == 1));
        // "b" has room but "a" does not, so "b" must stay untouched.
        let second = state
            .admit(1, &[charge("b", 1, 1), charge("a", 1, 1)])
            .await;
        assert_eq!(
            second,
            Ok(Admission::Rejected {
                index: 1,
                retry_after_ms: Some(59_999)
            })
        );
        let third = state.admit(2, &[charge("b", 1, 1)]).await;
        assert!(matches!(third, Ok(Admission::Admitted(_))), "{third:?}");
    }

    #[tokio::test]
    async fn concurrent_admissions_respect_limit() {
        let state = std::sync::Arc::new(MemoryState::new());
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let state = std::sync::Arc::clone(&state);
            tasks.push(tokio::spawn(async move {
                matches!(
                    state.admit(0, &[charge("w", 10, 1)]).await,
                    Ok(Admission::Admitted(_))
                )
            }));
        }
        let mut admitted = 0;
        for task in tasks {
            if task.await.unwrap_or(false) {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 10);
    }

    #[tokio::test]
    async fn spend_adds_exactly() {
        let state = MemoryState::new();
        let cent: Decimal = "0.01".parse().unwrap_or_default();
        for _ in 0..100 {
            state.add_spend(0, "team:t", cent, None).await.ok();
        }
        assert_eq!(state.spend("team:t").await, Ok(Decimal::ONE));
        assert_eq!(state.spend("team:other").await, Ok(Decimal::ZERO));
    }

    #[tokio::test]
    async fn expired_spend_is_dropped_at_next_addition() {
        let state = MemoryState::new();
        let dollar = Decimal::ONE;
        state.add_spend(0, "day-1", dollar, Some(100)).await.ok();
        state.add_spend(0, "total", dollar, None).await.ok();
        state.add_spend(50, "day-1", dollar, Some(100)).await.ok();
        // Retention counts from the last addition: 50 + 100.
        state.add_spend(149, "day-2", dollar, Some(100)).await.ok();
        assert_eq!(state.spend("day-1").await, Ok(Decimal::TWO));
        state.add_spend(150, "day-2", dollar, Some(100)).await.ok();
        assert_eq!(state.spend("day-1").await, Ok(Decimal::ZERO));
        assert_eq!(state.spend("day-2").await, Ok(Decimal::TWO));
        assert_eq!(state.spend("total").await, Ok(Decimal::ONE));
        assert_eq!(state.lock().spend.len(), 2);
    }

    #[tokio::test]
    async fn many_periods_keep_memory_bounded() {
        let state = MemoryState::new();
        let day_ms = 86_400_000;
        for day in 0..1_000u64 {
            let key = format!("spend:team:t:{day}");
            state
                .add_spend(day * day_ms, &key, Decimal::ONE, Some(day_ms + 1))
                .await
                .ok();
        }
        assert!(
            state.lock().spend.len() <= 2,
            "{}",
            state.lock().spend.len()
        );
    }
}
