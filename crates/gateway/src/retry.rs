//! Attempt bounds and backoff delays.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;

use crate::config::RetryPolicy;

/// Counts attempts of one request against the policy's two bounds: at most
/// `retries + 1` per deployment and `max_attempts` in all.
#[derive(Debug)]
pub(crate) struct AttemptBudget {
    per_deployment: u32,
    total: u32,
    used_total: u32,
    used: HashMap<usize, u32>,
}

impl AttemptBudget {
    pub(crate) fn new(policy: &RetryPolicy) -> Self {
        AttemptBudget {
            per_deployment: policy.retries.saturating_add(1),
            total: policy.max_attempts,
            used_total: 0,
            used: HashMap::new(),
        }
    }

    /// Whether any attempt is left at all.
    pub(crate) fn any_left(&self) -> bool {
        self.used_total < self.total
    }

    /// Whether deployment `index` may be called once more.
    pub(crate) fn allows(&self, index: usize) -> bool {
        self.any_left() && self.used.get(&index).copied().unwrap_or(0) < self.per_deployment
    }

    /// Counts one attempt on deployment `index`.
    pub(crate) fn spend(&mut self, index: usize) {
        self.used_total += 1;
        *self.used.entry(index).or_insert(0) += 1;
    }

    #[cfg(test)]
    pub(crate) fn used_total(&self) -> u32 {
        self.used_total
    }
}

/// The wait before retry round `round` (0 for the first retry): full
/// jitter over an exponential backoff capped at `max_delay_ms`, and never
/// shorter than the longest `Retry-After` the providers asked for.
pub(crate) fn backoff<R: Rng + ?Sized>(
    policy: &RetryPolicy,
    round: u32,
    retry_after: Option<Duration>,
    rng: &mut R,
) -> Duration {
    let ceiling = policy
        .base_delay_ms
        .saturating_mul(1u64 << round.min(32))
        .min(policy.max_delay_ms);
    let jittered = Duration::from_millis(rng.random_range(0..=ceiling));
    match retry_after {
        Some(wait) => wait.max(jittered),
        None => jittered,
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            retries: 2,
            max_attempts: 5,
            base_delay_ms: 100,
            max_delay_ms: 1_000,
            max_retry_after_ms: 10_000,
        }
    }

    #[test]
    fn budget_bounds_each_deployment_and_the_total() {
        let mut budget = AttemptBudget::new(&policy());
        for _ in 0..3 {
            assert!(budget.allows(0));
            budget.spend(0);
        }
        assert!(!budget.allows(0), "retries + 1 = 3 per deployment");
        assert!(budget.allows(1));
        budget.spend(1);
        budget.spend(1);
        assert!(!budget.allows(2), "5 attempts in all");
        assert!(!budget.any_left());
        assert_eq!(budget.used_total(), 5);
    }

    #[test]
    fn backoff_grows_to_the_cap_with_jitter() {
        let mut rng = StdRng::seed_from_u64(9);
        for round in 0..12 {
            let cap = (100u64 << round).min(1_000);
            let mut longest = Duration::ZERO;
            for _ in 0..200 {
                let wait = backoff(&policy(), round, None, &mut rng);
                assert!(
                    wait <= Duration::from_millis(cap),
                    "round {round}: {wait:?}"
                );
                longest = longest.max(wait);
            }
            assert!(
                longest > Duration::from_millis(cap / 2),
                "round {round}: no spread"
            );
        }
    }

    #[test]
    fn backoff_honours_retry_after() {
        let mut rng = StdRng::seed_from_u64(1);
        let wait = backoff(&policy(), 0, Some(Duration::from_secs(3)), &mut rng);
        assert_eq!(wait, Duration::from_secs(3));
    }

    #[test]
    fn huge_round_does_not_overflow() {
        let mut rng = StdRng::seed_from_u64(1);
        let wait = backoff(&policy(), u32::MAX, None, &mut rng);
        assert!(wait <= Duration::from_millis(1_000));
    }
}
