//! Passive health checks: a circuit breaker per deployment. Active checks
//! (`active_health.rs`) feed the same breaker.
//!
//! A breaker counts call outcomes over a sliding window. When the window
//! holds at least `min_requests` outcomes and the failed share reaches
//! `failure_ratio`, the deployment is ejected (open) for `cooldown_secs`.
//! After the cooldown one probe call is let through (half-open): success
//! closes the breaker, failure opens it for another cooldown.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::HealthPolicy;

/// The routing state of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Takes traffic.
    Healthy,
    /// Ejected until the cooldown ends.
    Ejected,
    /// The cooldown ended; one probe call decides.
    Probing,
}

/// The change an active health check made to a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CheckEffect {
    /// Nothing: a healthy deployment passed, or an ejected one failed again.
    None,
    /// The check ejected the deployment.
    Ejected,
    /// The check closed the breaker of an ejected or probing deployment.
    Restored,
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { probe_in_flight: bool },
}

#[derive(Debug)]
struct State {
    phase: Phase,
    outcomes: Outcomes,
    /// Times the breaker opened.
    ejections: u64,
}

/// The outcomes of the calls that finished within the window, with a
/// running count of the failed ones, so recording a call costs the same at
/// any request rate.
#[derive(Debug, Default)]
struct Outcomes {
    /// (when, failed) per finished call, oldest first.
    calls: VecDeque<(Instant, bool)>,
    /// How many of `calls` failed.
    failures: usize,
}

impl Outcomes {
    /// Adds a call that finished at `now` and drops the calls that
    /// finished more than `window` before it.
    fn push(&mut self, now: Instant, failed: bool, window: Duration) {
        self.calls.push_back((now, failed));
        self.failures += usize::from(failed);
        while let Some(&(at, failed)) = self.calls.front() {
            if now.saturating_duration_since(at) <= window {
                break;
            }
            self.calls.pop_front();
            self.failures -= usize::from(failed);
        }
    }

    fn len(&self) -> usize {
        self.calls.len()
    }

    fn clear(&mut self) {
        self.calls.clear();
        self.failures = 0;
    }
}

/// The circuit breaker of one deployment.
#[derive(Debug)]
pub(crate) struct Breaker {
    window: Duration,
    min_requests: usize,
    failure_ratio: f64,
    slow: Option<Duration>,
    cooldown: Duration,
    state: Mutex<State>,
}

impl Breaker {
    pub(crate) fn new(policy: &HealthPolicy) -> Self {
        Breaker {
            window: Duration::from_secs(policy.window_secs),
            min_requests: policy.min_requests as usize,
            failure_ratio: policy.failure_ratio,
            slow: (policy.slow_ms > 0).then(|| Duration::from_millis(policy.slow_ms)),
            cooldown: Duration::from_secs(policy.cooldown_secs),
            state: Mutex::new(State {
                phase: Phase::Closed,
                outcomes: Outcomes::default(),
                ejections: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update of
        // plain counters; the data is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Returns the state at `now`, without claiming the probe.
    pub(crate) fn state(&self, now: Instant) -> HealthState {
        match self.lock().phase {
            Phase::Closed => HealthState::Healthy,
            Phase::Open { until } if now < until => HealthState::Ejected,
            Phase::Open { .. } | Phase::HalfOpen { .. } => HealthState::Probing,
        }
    }

    /// Returns whether a call may be routed here at `now`, without
    /// claiming the probe.
    pub(crate) fn may_route(&self, now: Instant) -> bool {
        let state = self.lock();
        match state.phase {
            Phase::Closed => true,
            Phase::Open { until } => now >= until,
            Phase::HalfOpen { probe_in_flight } => !probe_in_flight,
        }
    }

    /// Claims the right to call at `now`: always when healthy, once per
    /// cooldown when probing, never when ejected.
    pub(crate) fn try_acquire(&self, now: Instant) -> bool {
        let mut state = self.lock();
        match state.phase {
            Phase::Closed => true,
            Phase::Open { until } if now < until => false,
            Phase::Open { .. } => {
                state.phase = Phase::HalfOpen {
                    probe_in_flight: true,
                };
                true
            }
            Phase::HalfOpen { probe_in_flight } => {
                if probe_in_flight {
                    false
                } else {
                    state.phase = Phase::HalfOpen {
                        probe_in_flight: true,
                    };
                    true
                }
            }
        }
    }

    /// Records a finished call. A call slower than the slow threshold
    /// counts as failed. Returns whether this outcome ejected the
    /// deployment.
    pub(crate) fn record(&self, now: Instant, succeeded: bool, latency: Duration) -> bool {
        let failed = !succeeded || self.slow.is_some_and(|slow| latency > slow);
        let mut state = self.lock();
        if let Phase::HalfOpen { .. } = state.phase {
            state.outcomes.clear();
            if failed {
                state.phase = Phase::Open {
                    until: now + self.cooldown,
                };
                state.ejections += 1;
                return true;
            }
            state.phase = Phase::Closed;
            return false;
        }
        state.outcomes.push(now, failed, self.window);
        if !matches!(state.phase, Phase::Closed) || state.outcomes.len() < self.min_requests {
            return false;
        }
        let failures = state.outcomes.failures;
        if failures as f64 >= self.failure_ratio * state.outcomes.len() as f64 {
            state.phase = Phase::Open {
                until: now + self.cooldown,
            };
            state.outcomes.clear();
            state.ejections += 1;
            return true;
        }
        false
    }

    /// Applies the result of an active health check at `now` and returns
    /// the change. A failed check ejects a healthy or probing deployment
    /// and restarts the cooldown of an ejected one. A passed check closes
    /// the breaker of an ejected or probing deployment.
    pub(crate) fn apply_check(&self, now: Instant, passed: bool) -> CheckEffect {
        let mut state = self.lock();
        match (passed, &state.phase) {
            (true, Phase::Closed) => CheckEffect::None,
            (true, _) => {
                state.phase = Phase::Closed;
                state.outcomes.clear();
                CheckEffect::Restored
            }
            (false, Phase::Open { .. }) => {
                state.phase = Phase::Open {
                    until: now + self.cooldown,
                };
                CheckEffect::None
            }
            (false, _) => {
                state.phase = Phase::Open {
                    until: now + self.cooldown,
                };
                state.outcomes.clear();
                state.ejections += 1;
                CheckEffect::Ejected
            }
        }
    }

    /// Returns how often the breaker has opened.
    pub(crate) fn ejections(&self) -> u64 {
        self.lock().ejections
    }

    /// Gives up a claimed probe without an outcome, such as when the
    /// caller went away before the call finished.
    pub(crate) fn release_probe(&self) {
        let mut state = self.lock();
        if let Phase::HalfOpen { .. } = state.phase {
            state.phase = Phase::HalfOpen {
                probe_in_flight: false,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> HealthPolicy {
        HealthPolicy {
            window_secs: 10,
            min_requests: 4,
            failure_ratio: 0.5,
            slow_ms: 0,
            cooldown_secs: 5,
            check: None,
        }
    }

    #[test]
    fn ejects_at_failure_ratio_after_min_requests() {
        let breaker = Breaker::new(&policy());
        let start = Instant::now();
        let ms = Duration::from_millis;
        assert!(!breaker.record(start, false, ms(1)));
        assert!(!breaker.record(start, false, ms(1)));
        assert!(!breaker.record(start, false, ms(1)), "below min_requests");
        assert_eq!(breaker.state(start), HealthState::Healthy);
        assert!(breaker.record(start, true, ms(1)), "3 of 4 failed");
        assert_eq!(breaker.state(start), HealthState::Ejected);
        assert_eq!(breaker.ejections(), 1);
        assert!(!breaker.may_route(start));
        assert!(!breaker.try_acquire(start + Duration::from_secs(4)));
    }

    #[test]
    fn successes_keep_it_closed() {
        let breaker = Breaker::new(&policy());
        let now = Instant::now();
        for _ in 0..3 {
            breaker.record(now, true, Duration::ZERO);
        }
        assert!(!breaker.record(now, false, Duration::ZERO), "1 of 4 failed");
        assert_eq!(breaker.state(now), HealthState::Healthy);
    }

    #[test]
    fn old_failures_leave_the_window() {
        let breaker = Breaker::new(&policy());
        let start = Instant::now();
        for _ in 0..3 {
            breaker.record(start, false, Duration::ZERO);
        }
        let later = start + Duration::from_secs(11);
        assert!(!breaker.record(later, false, Duration::ZERO));
        assert_eq!(breaker.state(later), HealthState::Healthy);
    }

    #[test]
    fn one_probe_after_cooldown_then_close_or_reopen() {
        let breaker = Breaker::new(&policy());
        let start = Instant::now();
        for _ in 0..4 {
            breaker.record(start, false, Duration::ZERO);
        }
        let after = start + Duration::from_secs(5);
        assert_eq!(breaker.state(after), HealthState::Probing);
        assert!(breaker.try_acquire(after), "first probe");
        assert!(!breaker.try_acquire(after), "only one probe at a time");
        assert!(
            breaker.record(after, false, Duration::ZERO),
            "failed probe reopens"
        );
        assert_eq!(breaker.state(after), HealthState::Ejected);
        assert_eq!(breaker.ejections(), 2, "a failed probe is an ejection");

        let again = after + Duration::from_secs(5);
        assert!(breaker.try_acquire(again));
        assert!(!breaker.record(again, true, Duration::ZERO));
        assert_eq!(breaker.state(again), HealthState::Healthy);
        assert!(breaker.try_acquire(again));
    }

    #[test]
    fn released_probe_can_be_claimed_again() {
        let breaker = Breaker::new(&policy());
        let start = Instant::now();
        for _ in 0..4 {
            breaker.record(start, false, Duration::ZERO);
        }
        let after = start + Duration::from_secs(6);
        assert!(breaker.try_acquire(after));
        breaker.release_probe();
        assert!(breaker.try_acquire(after));
    }

    #[test]
    fn slow_calls_count_as_failures() {
        let breaker = Breaker::new(&HealthPolicy {
            slow_ms: 100,
            ..policy()
        });
        let now = Instant::now();
        for _ in 0..3 {
            breaker.record(now, true, Duration::from_millis(500));
        }
        assert!(breaker.record(now, true, Duration::from_millis(500)));
    }

    #[test]
    fn failed_check_ejects_and_passed_check_restores() {
        let breaker = Breaker::new(&policy());
        let now = Instant::now();
        assert_eq!(breaker.apply_check(now, true), CheckEffect::None);
        assert_eq!(breaker.apply_check(now, false), CheckEffect::Ejected);
        assert_eq!(breaker.state(now), HealthState::Ejected);
        assert_eq!(breaker.ejections(), 1);

        // Failing again restarts the cooldown without a new ejection.
        let later = now + Duration::from_secs(4);
        assert_eq!(breaker.apply_check(later, false), CheckEffect::None);
        assert_eq!(breaker.ejections(), 1);
        assert_eq!(
            breaker.state(now + Duration::from_secs(6)),
            HealthState::Ejected,
            "cooldown counts from the last failed check"
        );

        // A pass inside the cooldown closes the breaker at once.
        assert_eq!(breaker.apply_check(later, true), CheckEffect::Restored);
        assert_eq!(breaker.state(later), HealthState::Healthy);
        assert!(breaker.try_acquire(later));
    }

    #[test]
    fn passed_check_closes_a_probing_breaker() {
        let breaker = Breaker::new(&policy());
        let start = Instant::now();
        for _ in 0..4 {
            breaker.record(start, false, Duration::ZERO);
        }
        let after = start + Duration::from_secs(5);
        assert!(breaker.try_acquire(after), "probe claimed");
        assert_eq!(breaker.apply_check(after, true), CheckEffect::Restored);
        // The probe's own outcome then counts like any call.
        assert!(!breaker.record(after, true, Duration::ZERO));
        assert_eq!(breaker.state(after), HealthState::Healthy);

        assert!(breaker.try_acquire(after));
        for _ in 0..4 {
            breaker.record(after, false, Duration::ZERO);
        }
        let probing = after + Duration::from_secs(5);
        assert!(breaker.try_acquire(probing));
        assert_eq!(breaker.apply_check(probing, false), CheckEffect::Ejected);
        assert_eq!(breaker.state(probing), HealthState::Ejected);
    }

    proptest::proptest! {
        /// The running failure count always equals a count over the calls
        /// left in the window, which all lie within it.
        #[test]
        fn running_failure_count_matches_the_window(
            calls in proptest::collection::vec((0_u64..3_000, proptest::bool::ANY), 0..300),
        ) {
            let window = Duration::from_secs(2);
            let mut outcomes = Outcomes::default();
            let mut now = Instant::now();
            for (step_ms, failed) in calls {
                now += Duration::from_millis(step_ms);
                outcomes.push(now, failed, window);
                let recount = outcomes.calls.iter().filter(|(_, failed)| *failed).count();
                proptest::prop_assert_eq!(outcomes.failures, recount);
                proptest::prop_assert!(outcomes
                    .calls
                    .iter()
                    .all(|(at, _)| now.saturating_duration_since(*at) <= window));
            }
            outcomes.clear();
            proptest::prop_assert_eq!((outcomes.len(), outcomes.failures), (0, 0));
        }
    }
}
