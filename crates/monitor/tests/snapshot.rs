//! Snapshots: every panel, sources present, absent and failing, and the
//! JSON round trip.

use crate::common;

use std::sync::Arc;

use async_trait::async_trait;
use common::{START_MS, builder, monitor, request};
use llmops_core::pricing::{ModelPrice, PriceTable};
use llmops_monitor::{
    BudgetPeriod, BudgetScope, DriftSource, DriftSummary, MonitorError, Outcome, OversightSource,
    OversightSummary, Panel, PromptRef, QualitySource, RequestObservation, ScoreRow, Snapshot,
    SnapshotSource, Window,
};
use rust_decimal::Decimal;

struct FailingDrift;

#[async_trait]
impl DriftSource for FailingDrift {
    async fn latest(&self) -> Result<Option<DriftSummary>, MonitorError> {
        Err(MonitorError::Source {
            panel: "drift",
            message: "database is locked".into(),
        })
    }
}

struct EmptyDrift;

#[async_trait]
impl DriftSource for EmptyDrift {
    async fn latest(&self) -> Result<Option<DriftSummary>, MonitorError> {
        Ok(None)
    }
}

struct Queue;

#[async_trait]
impl OversightSource for Queue {
    async fn queue(&self) -> Result<OversightSummary, MonitorError> {
        Ok(OversightSummary {
            pending: 3,
            oldest_pending_age_s: Some(600),
            items: Vec::new(),
        })
    }
}

struct Scores;

#[async_trait]
impl QualitySource for Scores {
    async fn scores(&self, _since_ms: u64) -> Result<Vec<ScoreRow>, MonitorError> {
        Ok(vec![ScoreRow {
            prompt: "answer".into(),
            version: 1,
            metric: "exact_match".into(),
            mean: 0.8,
            count: 50,
            feedback_mean: None,
        }])
    }
}

/// The client's own mistakes are counted by class and as rejected, not as
/// errors, so they cannot raise the error ratio.
#[tokio::test]
async fn client_errors_leave_error_ratio_alone() {
    let (monitor, _clock) = monitor();
    for outcome in [
        Outcome::Success,
        Outcome::Error("invalid_request"),
        Outcome::Error("unknown_model"),
        Outcome::Error("context_length_exceeded"),
        Outcome::Error("rate_limited"),
    ] {
        monitor.record_request(&RequestObservation {
            outcome,
            ..request("gpt-4o-mini", 10.0)
        });
    }

    let traffic = monitor.snapshot(Window::Minute).await.traffic;
    assert_eq!(traffic.requests, 5);
    assert_eq!(traffic.errors, 1);
    assert_eq!(traffic.rejected, 3);
    assert_eq!(traffic.error_ratio, Some(0.2));

    let classes: Vec<&str> = traffic
        .errors_by_class
        .iter()
        .map(|count| count.name.as_str())
        .collect();
    for class in ["invalid_request", "unknown_model", "rate_limited"] {
        assert!(classes.contains(&class), "{classes:?}");
    }

    let text = monitor.render_prometheus();
    assert!(text.contains("llmops_outcome=\"rejected\"} 3"), "{text}");
    assert!(text.contains("llmops_outcome=\"error\"} 1"), "{text}");
    assert!(text.contains("llmops_outcome=\"success\"} 1"), "{text}");
}

#[tokio::test]
async fn snapshot_round_trips_through_json() {
    let (monitor, _clock) = monitor();
    monitor.record_request(&RequestObservation {
        team: Some("search"),
        prompt: Some(PromptRef {
            name: "answer",
            version: 2,
        }),
        guard_findings: &["email", "email", "phone"],
        failed_attempts: &["rate_limited"],
        fallback: true,
        time_to_first_token_ms: Some(80.0),
        ..request("gpt-4o-mini", 420.0)
    });
    monitor.record_score(
        "gpt-4o-mini",
        Some(PromptRef {
            name: "answer",
            version: 2,
        }),
        "groundedness",
        0.2,
    );
    let snapshot = monitor.snapshot(Window::Hour).await;
    let json = serde_json::to_string(&snapshot).unwrap();
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snapshot);
    assert!(json.contains("\"window\":\"1h\""), "{json}");

    assert_eq!(snapshot.guard_findings[0].name, "email");
    assert_eq!(snapshot.guard_findings[0].count, 2);
    assert_eq!(snapshot.fallbacks.requests_with_fallback, 1);
    assert_eq!(snapshot.fallbacks.by_reason[0].name, "rate_limited");
    assert_eq!(snapshot.cost.by_prompt_version[0].key, "answer@2");
    assert_eq!(snapshot.cost.by_team[0].key, "search");
    let ttft = snapshot.latency.ttft_p50_ms.unwrap();
    assert!((ttft - 80.0).abs() <= 0.8, "{ttft}");
}

#[tokio::test]
async fn absent_sources_give_hints() {
    let (monitor, _clock) = monitor();
    let snapshot = monitor.snapshot(Window::Minute).await;
    for (panel, hint) in [
        ("drift", panel_hint(&snapshot.drift)),
        ("oversight", panel_hint(&snapshot.oversight)),
        ("feedback", panel_hint(&snapshot.feedback)),
        ("quality", panel_hint(&snapshot.quality)),
    ] {
        let hint = hint.unwrap_or_else(|| panic!("{panel} is not absent"));
        assert!(!hint.is_empty(), "{panel}");
    }
    assert!(
        panel_hint(&snapshot.drift)
            .unwrap()
            .contains("llmops drift check")
    );
}

fn panel_hint<T>(panel: &Panel<T>) -> Option<&str> {
    match panel {
        Panel::Absent { hint } => Some(hint),
        _ => None,
    }
}

#[tokio::test]
async fn sources_fill_or_fail_their_panels() {
    let (builder, _clock) = builder();
    let monitor = builder
        .drift_source(Arc::new(FailingDrift))
        .oversight_source(Arc::new(Queue))
        .quality_source(Arc::new(Scores))
        .build()
        .unwrap();
    let snapshot = monitor.snapshot(Window::Day).await;
    match &snapshot.drift {
        Panel::Error { message } => assert!(message.contains("database is locked"), "{message}"),
        other => panic!("drift panel: {other:?}"),
    }
    match &snapshot.oversight {
        Panel::Ok { data } => assert_eq!(data.pending, 3),
        other => panic!("oversight panel: {other:?}"),
    }
    match &snapshot.quality {
        Panel::Ok { data } => assert_eq!(data.scores[0].metric, "exact_match"),
        other => panic!("quality panel: {other:?}"),
    }
    assert!(
        monitor
            .render_prometheus()
            .contains("llmops_review_queue_depth 3\n")
    );

    let (builder, _clock) = common::builder();
    let monitor = builder.drift_source(Arc::new(EmptyDrift)).build().unwrap();
    let snapshot = monitor.snapshot(Window::Day).await;
    assert!(panel_hint(&snapshot.drift).is_some());
}

#[tokio::test]
async fn hallucination_rate_per_model_and_version() {
    let (builder, _clock) = builder();
    let monitor = builder.groundedness_threshold(0.6).build().unwrap();
    let v1 = Some(PromptRef {
        name: "answer",
        version: 1,
    });
    let v2 = Some(PromptRef {
        name: "answer",
        version: 2,
    });
    for value in [0.1, 0.5, 0.7, 0.9] {
        monitor.record_score("a", v1, "groundedness", value);
    }
    for value in [0.8, 0.9] {
        monitor.record_score("a", v2, "groundedness", value);
    }
    monitor.record_score("b", None, "groundedness", 0.59);
    monitor.record_score("b", None, "exact_match", 0.0);

    let snapshot = monitor.snapshot(Window::Hour).await;
    let Panel::Ok { data } = snapshot.quality else {
        panic!("quality panel absent");
    };
    let rows: Vec<(String, Option<String>, u64, f64)> = data
        .hallucination
        .iter()
        .map(|row| {
            (
                row.model.clone(),
                row.prompt_version.clone(),
                row.scored,
                row.rate,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("a".into(), Some("answer@1".into()), 4, 0.5),
            ("a".into(), Some("answer@2".into()), 2, 0.0),
            ("b".into(), None, 1, 1.0),
        ]
    );
    let groundedness_v1 = data
        .scores
        .iter()
        .find(|row| row.version == 1 && row.metric == "groundedness")
        .unwrap();
    assert!((groundedness_v1.mean - 0.55).abs() < 1e-9);
    assert_eq!(groundedness_v1.count, 4);
    // Scores without a prompt have no score row.
    assert!(data.scores.iter().all(|row| row.metric != "exact_match"));
}

#[tokio::test]
async fn cost_panel_budgets_projection_and_alternatives() {
    let mut prices = PriceTable::new();
    prices.insert(
        "cheap",
        ModelPrice::new("x", Decimal::from(1), Decimal::from(2)),
    );
    prices.insert(
        "dear",
        ModelPrice::new("x", Decimal::from(30), Decimal::from(60)),
    );
    prices.insert(
        "mid",
        ModelPrice::new("x", Decimal::from(5), Decimal::from(10)),
    );
    let (builder, clock) = builder();
    let monitor = builder
        .prices(prices)
        .alternatives(2)
        .budget(BudgetScope::Team("search".into()), BudgetPeriod::Day, 100.0)
        .budget(BudgetScope::Global, BudgetPeriod::Month, 1_000.0)
        .build()
        .unwrap();

    clock.advance_ms(3_600_000);
    for (team, cost) in [("search", 4.0), ("ads", 6.0)] {
        monitor.record_request(&RequestObservation {
            team: Some(team),
            input_tokens: 1_000_000,
            output_tokens: 500_000,
            cost_usd: cost,
            ..request("gpt", 100.0)
        });
    }

    let snapshot = monitor.snapshot(Window::Day).await;
    let cost = &snapshot.cost;
    assert_eq!(cost.total_usd, 10.0);
    assert_eq!(cost.by_team[0].key, "ads");
    let search = &cost.budgets[0];
    assert_eq!(search.scope, "team:search");
    assert_eq!(search.spent_usd, 4.0);
    // 13:00 UTC: 13/24 of the day has passed.
    assert!(
        (search.projected_usd - 4.0 * 24.0 / 13.0).abs() < 1e-9,
        "{search:?}"
    );

    // $10 over the hour since start; 2024-02-15T13:00Z leaves 14 days
    // and 11 hours of February 2024.
    let left_hours = 14.0 * 24.0 + 11.0;
    let expected = 10.0 + 10.0 * left_hours;
    assert!(
        (cost.projected_month_end_usd - expected).abs() < 1e-6,
        "{}",
        cost.projected_month_end_usd
    );

    let models: Vec<&str> = cost
        .alternatives
        .iter()
        .map(|row| row.model.as_str())
        .collect();
    assert_eq!(models, vec!["cheap", "mid"]);
    // 2 M input at $1 and 1 M output at $2.
    assert!((cost.alternatives[0].cost_usd - 4.0).abs() < 1e-9);
    assert_eq!(cost.alternatives[0].ratio, Some(0.4));
    assert_eq!(snapshot.generated_at_ms, START_MS + 3_600_000);
}
