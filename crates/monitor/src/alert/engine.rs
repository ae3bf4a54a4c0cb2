//! The state machine of one rule.

use crate::alert::notifier::AlertEvent;
use crate::alert::rule::AlertRule;
use crate::snapshot::{AlertState, AlertStatus};

/// A rule and its state between evaluations.
#[derive(Debug, Clone)]
pub(crate) struct RuleState {
    pub(crate) rule: AlertRule,
    status: AlertStatus,
    since_ms: u64,
    value: Option<f64>,
    /// Consecutive evaluations that pointed at the other state.
    streak: u32,
}

impl RuleState {
    pub(crate) fn new(rule: AlertRule, now_ms: u64) -> Self {
        RuleState {
            rule,
            status: AlertStatus::Ok,
            since_ms: now_ms,
            value: None,
            streak: 0,
        }
    }

    /// Takes one evaluated value and returns the transition, if any. A
    /// missing value (no data in the window) leaves the state and the
    /// streak as they are.
    pub(crate) fn evaluate(&mut self, value: Option<f64>, now_ms: u64) -> Option<AlertEvent> {
        self.value = value;
        let value = value?;
        let toward_other = match self.status {
            AlertStatus::Ok => value > self.rule.fire_above,
            AlertStatus::Firing => value < self.rule.clear_below,
        };
        if !toward_other {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        if self.streak < self.rule.for_evaluations {
            return None;
        }
        self.streak = 0;
        let crossed = self.threshold();
        self.status = match self.status {
            AlertStatus::Ok => AlertStatus::Firing,
            AlertStatus::Firing => AlertStatus::Ok,
        };
        self.since_ms = now_ms;
        Some(AlertEvent {
            rule: self.rule.name.clone(),
            metric: self.rule.metric.name().to_owned(),
            window: self.rule.window,
            status: self.status,
            value,
            threshold: crossed,
            at_ms: now_ms,
        })
    }

    /// The threshold that moves the rule out of its current state.
    fn threshold(&self) -> f64 {
        match self.status {
            AlertStatus::Ok => self.rule.fire_above,
            AlertStatus::Firing => self.rule.clear_below,
        }
    }

    pub(crate) fn state(&self) -> AlertState {
        AlertState {
            rule: self.rule.name.clone(),
            status: self.status,
            value: self.value,
            threshold: self.rule.fire_above,
            since_ms: self.since_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertMetric;
    use crate::snapshot::Window;

    fn rule(for_evaluations: u32) -> AlertRule {
        AlertRule::new("errors", AlertMetric::ErrorRatio, Window::Minute, 0.5)
            .clear_below(0.3)
            .for_evaluations(for_evaluations)
    }

    #[test]
    fn value_between_thresholds_keeps_state() {
        let mut state = RuleState::new(rule(1), 0);
        assert!(state.evaluate(Some(0.6), 1).is_some());
        for (at, value) in [0.45, 0.55, 0.31, 0.49, 0.51].into_iter().enumerate() {
            assert!(
                state.evaluate(Some(value), at as u64 + 2).is_none(),
                "{value}"
            );
        }
        assert_eq!(state.state().status, AlertStatus::Firing);
        let cleared = state.evaluate(Some(0.29), 10).unwrap();
        assert_eq!(cleared.status, AlertStatus::Ok);
        assert_eq!(cleared.threshold, 0.3);
    }

    #[test]
    fn streak_needs_consecutive_evaluations() {
        let mut state = RuleState::new(rule(3), 0);
        assert!(state.evaluate(Some(0.9), 1).is_none());
        assert!(state.evaluate(Some(0.9), 2).is_none());
        // A value below the threshold resets the streak.
        assert!(state.evaluate(Some(0.4), 3).is_none());
        assert!(state.evaluate(Some(0.9), 4).is_none());
        assert!(state.evaluate(Some(0.9), 5).is_none());
        let fired = state.evaluate(Some(0.9), 6).unwrap();
        assert_eq!(fired.status, AlertStatus::Firing);
        assert_eq!(state.state().since_ms, 6);
    }

    #[test]
    fn missing_value_keeps_streak() {
        let mut state = RuleState::new(rule(2), 0);
        assert!(state.evaluate(Some(0.9), 1).is_none());
        assert!(state.evaluate(None, 2).is_none());
        assert!(state.evaluate(Some(0.9), 3).is_some());
    }
}
