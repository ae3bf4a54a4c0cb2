//! Evaluating the alert rules and notifying their transitions.

use std::collections::HashMap;

use crate::aggregate::WindowView;
use crate::alert::{AlertEvent, AlertMetric};
use crate::monitor::{Monitor, lock};
use crate::record::State;
use crate::snapshot::{DriftSummary, Panel, Window};

/// The numeric severity of a drift report: 0 none, 1 warning, 2 alert;
/// none for an unknown name.
pub(crate) fn drift_severity(drift: &DriftSummary) -> Option<f64> {
    match drift.severity.as_str() {
        "none" => Some(0.0),
        "warning" => Some(1.0),
        "alert" => Some(2.0),
        _ => None,
    }
}

impl Monitor {
    /// Evaluates every alert rule at `now_ms`, then sends each state
    /// change to every notifier. A notifier that fails is logged and does
    /// not stop the others. Returns the changes.
    pub async fn evaluate_alerts(&self, now_ms: u64) -> Vec<AlertEvent> {
        let needs_drift = lock(&self.inner.rules)
            .iter()
            .any(|rule| rule.rule.metric == AlertMetric::DriftSeverity);
        let drift = if needs_drift {
            match self.drift_panel().await {
                Panel::Ok { data } => drift_severity(&data),
                _ => None,
            }
        } else {
            None
        };

        let values = self.rule_values(now_ms, drift);
        let events: Vec<AlertEvent> = {
            let mut rules = lock(&self.inner.rules);
            rules
                .iter_mut()
                .zip(values)
                .filter_map(|(rule, value)| rule.evaluate(value, now_ms))
                .collect()
        };

        for event in &events {
            for notifier in &self.inner.notifiers {
                if let Err(error) = notifier.notify(event).await {
                    tracing::warn!(notifier = notifier.name(), rule = %event.rule, %error, "alert notification failed");
                }
            }
        }
        events
    }

    /// The current value of each rule, in rule order.
    fn rule_values(&self, now_ms: u64, drift: Option<f64>) -> Vec<Option<f64>> {
        let rules: Vec<(AlertMetric, Window)> = lock(&self.inner.rules)
            .iter()
            .map(|rule| (rule.rule.metric.clone(), rule.rule.window))
            .collect();
        let state = self.state();
        let mut views: HashMap<Window, WindowView> = HashMap::new();
        for (metric, window) in &rules {
            let windows: &[Window] = match metric {
                AlertMetric::QualityDrop { .. } => &[*window, Window::Day],
                AlertMetric::DriftSeverity | AlertMetric::SpendRateVsBudget => &[],
                _ => std::slice::from_ref(window),
            };
            for window in windows {
                views
                    .entry(*window)
                    .or_insert_with(|| WindowView::build(&state, *window, now_ms));
            }
        }
        let view = |window: Window| views.get(&window);
        let mut values = Vec::with_capacity(rules.len());
        for (metric, window) in rules {
            let value = match &metric {
                AlertMetric::ErrorRatio => view(window).and_then(WindowView::error_ratio),
                AlertMetric::P99LatencyMs => {
                    view(window).and_then(|view| view.latency.quantile(0.99))
                }
                AlertMetric::HallucinationRate => {
                    view(window).and_then(WindowView::hallucination_rate)
                }
                AlertMetric::DriftSeverity => drift,
                AlertMetric::SpendRateVsBudget => spend_vs_budget(&state, now_ms),
                AlertMetric::QualityDrop { metric } => match state.labels.metric.get(metric) {
                    Some(id) => {
                        let current = view(window).and_then(|view| view.metric_mean(id));
                        let day = view(Window::Day).and_then(|view| view.metric_mean(id));
                        current.zip(day).map(|(current, day)| day - current)
                    }
                    None => None,
                },
            };
            values.push(value);
        }
        values
    }
}

/// The highest projected spend over limit of any budget.
fn spend_vs_budget(state: &State, now_ms: u64) -> Option<f64> {
    state
        .budgets
        .iter()
        .map(|budget| {
            let status = budget.status(now_ms);
            status.projected_usd / status.limit_usd
        })
        .reduce(f64::max)
}
