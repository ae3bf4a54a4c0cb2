//! Alert rules evaluated on the monitor, with hysteresis and notifiers.

use crate::common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::{builder, request};
use llmops_monitor::{
    AlertEvent, AlertMetric, AlertRule, AlertStatus, BudgetPeriod, BudgetScope, DriftSummary,
    MonitorError, Notifier, Outcome, RequestObservation, Window,
};

/// Keeps every event it is sent.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<AlertEvent>>,
}

#[async_trait]
impl Notifier for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    async fn notify(&self, event: &AlertEvent) -> Result<(), MonitorError> {
        self.events.lock().unwrap().push(event.clone());
        Ok(())
    }
}

/// Fails every delivery.
struct Broken;

#[async_trait]
impl Notifier for Broken {
    fn name(&self) -> &str {
        "broken"
    }

    async fn notify(&self, _event: &AlertEvent) -> Result<(), MonitorError> {
        Err(MonitorError::Notify {
            notifier: "broken",
            message: "always fails".into(),
        })
    }
}

fn record_errors(monitor: &llmops_monitor::Monitor, errors: usize, total: usize) {
    for index in 0..total {
        let outcome = if index < errors {
            Outcome::Error("server_error")
        } else {
            Outcome::Success
        };
        monitor.record_request(&RequestObservation {
            outcome,
            ..request("m", 10.0)
        });
    }
}

#[tokio::test]
async fn error_ratio_hysteresis_does_not_flap() {
    let recorder = Arc::new(Recorder::default());
    let (builder, clock) = builder();
    let monitor = builder
        .alert_rule(
            AlertRule::new("errors", AlertMetric::ErrorRatio, Window::Minute, 0.2)
                .clear_below(0.1)
                .for_evaluations(2),
        )
        .notifier(Arc::new(Broken))
        .notifier(recorder.clone())
        .build()
        .unwrap();

    // Each step replaces the minute's traffic with a new error ratio.
    let ratios = [0.3, 0.3, 0.19, 0.21, 0.15, 0.25, 0.05, 0.3, 0.05, 0.05];
    let mut statuses = Vec::new();
    for ratio in ratios {
        clock.advance_ms(61_000);
        record_errors(&monitor, (ratio * 100.0) as usize, 100);
        monitor.evaluate_alerts(monitor.now_ms()).await;
        statuses.push(monitor.alert_states()[0].status);
    }

    use AlertStatus::{Firing, Ok};
    assert_eq!(
        statuses,
        vec![
            Ok, Firing, Firing, Firing, Firing, Firing, Firing, Firing, Firing, Ok
        ]
    );
    let events = recorder.events.lock().unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].status, Firing);
    assert_eq!(events[0].threshold, 0.2);
    assert_eq!(events[1].status, Ok);
    assert_eq!(events[1].threshold, 0.1);
    assert_eq!(events[1].metric, "error_ratio");
}

#[tokio::test]
async fn empty_window_keeps_state() {
    let (builder, clock) = builder();
    let monitor = builder
        .alert_rule(AlertRule::new(
            "errors",
            AlertMetric::ErrorRatio,
            Window::Minute,
            0.5,
        ))
        .build()
        .unwrap();
    record_errors(&monitor, 10, 10);
    let events = monitor.evaluate_alerts(monitor.now_ms()).await;
    assert_eq!(events.len(), 1);
    clock.advance_ms(120_000);
    let events = monitor.evaluate_alerts(monitor.now_ms()).await;
    assert!(events.is_empty());
    let state = &monitor.alert_states()[0];
    assert_eq!(state.status, AlertStatus::Firing);
    assert_eq!(state.value, None);
}

#[tokio::test]
async fn p99_latency_rule_fires() {
    let (builder, _clock) = builder();
    let monitor = builder
        .alert_rule(AlertRule::new(
            "slow",
            AlertMetric::P99LatencyMs,
            Window::Minute,
            1_000.0,
        ))
        .build()
        .unwrap();
    for _ in 0..50 {
        monitor.record_request(&request("m", 100.0));
    }
    assert!(monitor.evaluate_alerts(monitor.now_ms()).await.is_empty());
    for _ in 0..10 {
        monitor.record_request(&request("m", 5_000.0));
    }
    let events = monitor.evaluate_alerts(monitor.now_ms()).await;
    assert_eq!(events.len(), 1);
    assert!(events[0].value > 4_900.0, "{events:?}");
}

#[tokio::test]
async fn spend_rate_compares_projection_with_limit() {
    let (builder, _clock) = builder();
    // At 12:00 UTC half the day has passed, so $6 projects to $12.
    let monitor = builder
        .budget(BudgetScope::Global, BudgetPeriod::Day, 10.0)
        .alert_rule(AlertRule::new(
            "budget",
            AlertMetric::SpendRateVsBudget,
            Window::Hour,
            1.0,
        ))
        .build()
        .unwrap();
    monitor.record_request(&RequestObservation {
        cost_usd: 6.0,
        ..request("m", 10.0)
    });
    let events = monitor.evaluate_alerts(monitor.now_ms()).await;
    assert_eq!(events.len(), 1);
    assert!((events[0].value - 1.2).abs() < 1e-6, "{events:?}");
}

#[tokio::test]
async fn quality_drop_compares_window_with_day() {
    let (builder, clock) = builder();
    let monitor = builder
        .alert_rule(AlertRule::new(
            "quality",
            AlertMetric::QualityDrop {
                metric: "groundedness".into(),
            },
            Window::Minute,
            0.2,
        ))
        .build()
        .unwrap();
    for _ in 0..30 {
        monitor.record_score("m", None, "groundedness", 0.9);
    }
    clock.advance_ms(120_000);
    assert!(monitor.evaluate_alerts(monitor.now_ms()).await.is_empty());
    for _ in 0..10 {
        monitor.record_score("m", None, "groundedness", 0.3);
    }
    let events = monitor.evaluate_alerts(monitor.now_ms()).await;
    assert_eq!(events.len(), 1);
    // Day mean (27 + 3) / 40 = 0.75, minute mean 0.3.
    assert!((events[0].value - 0.45).abs() < 1e-9, "{events:?}");
}

#[tokio::test]
async fn drift_severity_reads_latest_report() {
    let (builder, _clock) = builder();
    let monitor = builder
        .alert_rule(
            AlertRule::new("drift", AlertMetric::DriftSeverity, Window::Day, 1.5).clear_below(0.5),
        )
        .build()
        .unwrap();
    let report = |severity: &str| DriftSummary {
        baseline: "support".into(),
        created_at_ms: 0,
        severity: severity.into(),
        measures: Vec::new(),
        topics: Vec::new(),
    };
    monitor.set_drift(report("warning"));
    assert!(monitor.evaluate_alerts(monitor.now_ms()).await.is_empty());
    monitor.set_drift(report("alert"));
    assert_eq!(monitor.evaluate_alerts(monitor.now_ms()).await.len(), 1);
    monitor.set_drift(report("warning"));
    assert!(monitor.evaluate_alerts(monitor.now_ms()).await.is_empty());
    monitor.set_drift(report("none"));
    assert_eq!(monitor.evaluate_alerts(monitor.now_ms()).await.len(), 1);
}

#[test]
fn invalid_rules_are_rejected() {
    let rule = AlertRule::new("x", AlertMetric::ErrorRatio, Window::Minute, 0.1).clear_below(0.5);
    let error = llmops_monitor::Monitor::builder()
        .alert_rule(rule)
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("clear_below"), "{error}");

    let rule = AlertRule::new("x", AlertMetric::ErrorRatio, Window::Minute, 0.1);
    let error = llmops_monitor::Monitor::builder()
        .alert_rule(rule.clone())
        .alert_rule(rule)
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("different name"), "{error}");

    let rule = AlertRule::new("x", AlertMetric::ErrorRatio, Window::Minute, f64::NAN);
    assert!(rule.validate().is_err());
    let rule = AlertRule::new("x", AlertMetric::ErrorRatio, Window::Minute, 0.1).for_evaluations(0);
    assert!(rule.validate().is_err());
}
