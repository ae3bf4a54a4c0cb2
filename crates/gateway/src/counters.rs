//! Counts of gateway events that metrics report: cache lookups, requests
//! rejected by a rate limit or budget, budget alerts, fallbacks, ejections
//! and active health checks.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::gateway::Gateway;
use crate::limits::ScopeKind;

/// Event counts of one gateway since it was built. Every count only grows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayCounters {
    /// Response-cache lookups that found a live entry.
    pub cache_hits: u64,
    /// Response-cache lookups that found none, or failed.
    pub cache_misses: u64,
    /// Semantic-cache lookups that served a stored response.
    pub semantic_cache_hits: u64,
    /// Semantic-cache lookups that found no response similar enough.
    pub semantic_cache_misses: u64,
    /// Admissions rejected by a rate limit, by the kind of scope whose limit
    /// rejected them. A model scope counts each time a request passes the
    /// model over for its fallbacks.
    pub rate_limit_rejections: BTreeMap<ScopeKind, u64>,
    /// Admissions rejected because a scope's spend reached its budget (the
    /// hard stop), by the kind of that scope, counted like
    /// `rate_limit_rejections`.
    pub budget_rejections: BTreeMap<ScopeKind, u64>,
    /// Alert shares that spend crossed (the soft alerts), by the kind of
    /// the scope whose budget it is.
    pub budget_alerts: BTreeMap<ScopeKind, u64>,
    /// Times a request moved on to a fallback model, by that model.
    pub fallbacks: BTreeMap<String, u64>,
    /// Times a deployment was ejected by its circuit breaker, by
    /// deployment id.
    pub ejections: BTreeMap<String, u64>,
    /// Active health checks that found the deployment healthy, by
    /// deployment id.
    pub health_checks_passed: BTreeMap<String, u64>,
    /// Active health checks that failed or timed out, by deployment id.
    pub health_checks_failed: BTreeMap<String, u64>,
}

impl GatewayCounters {
    /// Returns hits divided by lookups, or none before the first lookup.
    pub fn cache_hit_ratio(&self) -> Option<f64> {
        let lookups = self.cache_hits + self.cache_misses;
        (lookups > 0).then(|| self.cache_hits as f64 / lookups as f64)
    }

    /// Adds every count of `other` to this one, such as the counts of a
    /// gateway that a reload replaced.
    pub fn add(&mut self, other: &GatewayCounters) {
        self.cache_hits += other.cache_hits;
        self.cache_misses += other.cache_misses;
        self.semantic_cache_hits += other.semantic_cache_hits;
        self.semantic_cache_misses += other.semantic_cache_misses;
        add_map(
            &mut self.rate_limit_rejections,
            &other.rate_limit_rejections,
        );
        add_map(&mut self.budget_rejections, &other.budget_rejections);
        add_map(&mut self.budget_alerts, &other.budget_alerts);
        add_map(&mut self.fallbacks, &other.fallbacks);
        add_map(&mut self.ejections, &other.ejections);
        add_map(&mut self.health_checks_passed, &other.health_checks_passed);
        add_map(&mut self.health_checks_failed, &other.health_checks_failed);
    }
}

fn add_map<K: Ord + Clone>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (key, count) in from {
        *into.entry(key.clone()).or_default() += count;
    }
}

/// The counts that change while requests run. Cache lookups happen on most
/// requests, so they are atomics. The rarer events share one mutex.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    semantic_cache_hits: AtomicU64,
    semantic_cache_misses: AtomicU64,
    rare: Mutex<GatewayCounters>,
}

impl Counters {
    /// Counts one cache lookup.
    pub(crate) fn cache_lookup(&self, hit: bool) {
        let counter = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one semantic-cache lookup.
    pub(crate) fn semantic_cache_lookup(&self, hit: bool) {
        let counter = if hit {
            &self.semantic_cache_hits
        } else {
            &self.semantic_cache_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request rejected by a rate limit of a `kind` scope.
    pub(crate) fn rate_limit_rejection(&self, kind: ScopeKind) {
        self.update(|counts| *counts.rate_limit_rejections.entry(kind).or_default() += 1);
    }

    /// Counts a request rejected by the budget of a `kind` scope.
    pub(crate) fn budget_rejection(&self, kind: ScopeKind) {
        self.update(|counts| *counts.budget_rejections.entry(kind).or_default() += 1);
    }

    /// Counts an alert share crossed by the spend of a `kind` scope.
    pub(crate) fn budget_alert(&self, kind: ScopeKind) {
        self.update(|counts| *counts.budget_alerts.entry(kind).or_default() += 1);
    }

    /// Counts a request moving on to the fallback model `model`.
    pub(crate) fn fallback(&self, model: &str) {
        self.update(|counts| *counts.fallbacks.entry(model.to_owned()).or_default() += 1);
    }

    /// Counts an active health check of `deployment`.
    pub(crate) fn health_check(&self, deployment: &str, passed: bool) {
        self.update(|counts| {
            let map = if passed {
                &mut counts.health_checks_passed
            } else {
                &mut counts.health_checks_failed
            };
            *map.entry(deployment.to_owned()).or_default() += 1;
        });
    }

    fn update(&self, change: impl FnOnce(&mut GatewayCounters)) {
        change(
            &mut self
                .rare
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
    }

    fn snapshot(&self) -> GatewayCounters {
        let mut counts = self
            .rare
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        counts.cache_hits = self.cache_hits.load(Ordering::Relaxed);
        counts.cache_misses = self.cache_misses.load(Ordering::Relaxed);
        counts.semantic_cache_hits = self.semantic_cache_hits.load(Ordering::Relaxed);
        counts.semantic_cache_misses = self.semantic_cache_misses.load(Ordering::Relaxed);
        counts
    }
}

impl Gateway {
    /// Returns the event counts of this gateway since it was built: cache
    /// lookups, rejections by rate limits and budgets, budget alerts,
    /// fallbacks, ejections and active health checks. Every deployment
    /// has an ejection count, 0 when never ejected.
    pub fn counters(&self) -> GatewayCounters {
        let mut counts = self.inner.counters.snapshot();
        for deployment in &self.inner.deployments {
            counts
                .ejections
                .insert(deployment.config.id.clone(), deployment.breaker.ejections());
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_across_gateways() {
        let first = Counters::default();
        first.cache_lookup(true);
        first.cache_lookup(false);
        first.rate_limit_rejection(ScopeKind::Key);
        first.fallback("backup");
        first.semantic_cache_lookup(true);
        let second = Counters::default();
        second.cache_lookup(true);
        second.rate_limit_rejection(ScopeKind::Key);
        second.budget_rejection(ScopeKind::Team);
        second.budget_alert(ScopeKind::Team);
        second.health_check("a", false);
        second.semantic_cache_lookup(true);
        second.semantic_cache_lookup(false);

        let mut total = first.snapshot();
        total.add(&second.snapshot());
        assert_eq!(total.cache_hits, 2);
        assert_eq!(total.cache_misses, 1);
        assert_eq!(total.semantic_cache_hits, 2);
        assert_eq!(total.semantic_cache_misses, 1);
        assert_eq!(total.rate_limit_rejections.get(&ScopeKind::Key), Some(&2));
        assert_eq!(total.budget_rejections.get(&ScopeKind::Team), Some(&1));
        assert_eq!(total.budget_alerts.get(&ScopeKind::Team), Some(&1));
        assert_eq!(total.fallbacks.get("backup"), Some(&1));
        assert_eq!(total.health_checks_failed.get("a"), Some(&1));
        assert_eq!(total.health_checks_passed.get("a"), None);
    }

    #[test]
    fn hit_ratio_needs_a_lookup() {
        let counters = Counters::default();
        assert_eq!(counters.snapshot().cache_hit_ratio(), None);
        counters.cache_lookup(true);
        counters.cache_lookup(false);
        counters.cache_lookup(false);
        counters.cache_lookup(true);
        assert_eq!(counters.snapshot().cache_hit_ratio(), Some(0.5));
    }
}
