//! `Monitor::replace_budgets`: a configuration reload replaces the
//! budgets, keeps the spend of unchanged scopes and periods, and never
//! leaves old or duplicate budgets behind.

use crate::common;

use std::thread;

use common::{builder, request};
use llmops_monitor::{
    Budget, BudgetPeriod, BudgetScope, RequestObservation, SnapshotSource, Window,
};

fn budget(scope: BudgetScope, period: BudgetPeriod, limit_usd: f64) -> Budget {
    Budget {
        scope,
        period,
        limit_usd,
    }
}

fn team(name: &str) -> BudgetScope {
    BudgetScope::Team(name.into())
}

/// (scope, period, limit, spent) of every budget in the snapshot.
async fn statuses(monitor: &llmops_monitor::Monitor) -> Vec<(String, String, f64, f64)> {
    monitor
        .snapshot(Window::Minute)
        .await
        .cost
        .budgets
        .into_iter()
        .map(|status| {
            (
                status.scope,
                status.period,
                status.limit_usd,
                (status.spent_usd * 1e6).round() / 1e6,
            )
        })
        .collect()
}

fn spend(monitor: &llmops_monitor::Monitor, team: &str, cost_usd: f64) {
    monitor.record_request(&RequestObservation {
        team: Some(team),
        cost_usd,
        ..request("gpt-4o-mini", 100.0)
    });
}

#[tokio::test]
async fn replace_keeps_spend_of_same_scope() {
    let (builder, _clock) = builder();
    let monitor = builder
        .budget(team("search"), BudgetPeriod::Day, 10.0)
        .budget(BudgetScope::Key("k-1".into()), BudgetPeriod::Month, 5.0)
        .build()
        .unwrap();
    spend(&monitor, "search", 2.0);

    monitor
        .replace_budgets([
            budget(team("search"), BudgetPeriod::Day, 20.0),
            budget(
                BudgetScope::Model("gpt-4o-mini".into()),
                BudgetPeriod::Month,
                50.0,
            ),
        ])
        .unwrap();

    assert_eq!(
        statuses(&monitor).await,
        vec![
            ("team:search".into(), "day".into(), 20.0, 2.0),
            ("model:gpt-4o-mini".into(), "month".into(), 50.0, 0.0),
        ]
    );
    // The new model budget counts requests from now on.
    spend(&monitor, "search", 1.0);
    let after = statuses(&monitor).await;
    assert_eq!(after[0].3, 3.0);
    assert_eq!(after[1].3, 1.0);
}

#[tokio::test]
async fn replace_with_other_period_starts_at_zero() {
    let (builder, _clock) = builder();
    let monitor = builder
        .budget(team("search"), BudgetPeriod::Day, 10.0)
        .build()
        .unwrap();
    spend(&monitor, "search", 2.0);

    monitor
        .replace_budgets([budget(team("search"), BudgetPeriod::Month, 100.0)])
        .unwrap();

    assert_eq!(
        statuses(&monitor).await,
        vec![("team:search".into(), "month".into(), 100.0, 0.0)]
    );
}

#[tokio::test]
async fn replace_twice_does_not_duplicate() {
    let (builder, _clock) = builder();
    let monitor = builder
        .budget(team("search"), BudgetPeriod::Day, 10.0)
        .build()
        .unwrap();
    let config = [budget(team("search"), BudgetPeriod::Day, 10.0)];
    monitor.replace_budgets(config.clone()).unwrap();
    monitor.replace_budgets(config.clone()).unwrap();

    assert_eq!(monitor.budgets(), config.to_vec());
    assert_eq!(statuses(&monitor).await.len(), 1);
}

#[tokio::test]
async fn replace_passes_spend_on_once() {
    let (builder, _clock) = builder();
    let monitor = builder
        .budget(team("search"), BudgetPeriod::Day, 10.0)
        .build()
        .unwrap();
    spend(&monitor, "search", 4.0);

    // Two budgets of one scope and period: only the first inherits.
    monitor
        .replace_budgets([
            budget(team("search"), BudgetPeriod::Day, 10.0),
            budget(team("search"), BudgetPeriod::Day, 30.0),
        ])
        .unwrap();

    let spent: Vec<f64> = statuses(&monitor).await.iter().map(|row| row.3).collect();
    assert_eq!(spent, vec![4.0, 0.0]);
}

#[tokio::test]
async fn replace_with_empty_removes_all() {
    let (builder, _clock) = builder();
    let monitor = builder
        .budget(BudgetScope::Global, BudgetPeriod::Month, 10.0)
        .build()
        .unwrap();
    monitor.replace_budgets([]).unwrap();
    assert!(monitor.budgets().is_empty());
    assert!(statuses(&monitor).await.is_empty());
    assert!(
        !monitor
            .render_prometheus()
            .contains("llmops_budget_limit_usd{")
    );
}

#[tokio::test]
async fn invalid_replacement_keeps_old_budgets() {
    let (builder, _clock) = builder();
    let old = budget(team("ünïcode-team"), BudgetPeriod::Day, 10.0);
    let monitor = builder
        .budget(old.scope.clone(), old.period, old.limit_usd)
        .build()
        .unwrap();

    for limit_usd in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let error = monitor
            .replace_budgets([
                budget(team("search"), BudgetPeriod::Day, 5.0),
                budget(team("bad"), BudgetPeriod::Day, limit_usd),
            ])
            .unwrap_err();
        assert!(error.to_string().contains("team:bad"), "{error}");
        assert_eq!(monitor.budgets(), vec![old.clone()]);
    }
}

#[test]
fn replace_while_recording_keeps_counts() {
    let (builder, _clock) = builder();
    let monitor = builder
        .budget(team("search"), BudgetPeriod::Day, 1_000.0)
        .build()
        .unwrap();
    let recorders: Vec<_> = (0..2)
        .map(|_| {
            let monitor = monitor.clone();
            thread::spawn(move || {
                for _ in 0..5_000 {
                    spend(&monitor, "search", 0.01);
                }
            })
        })
        .collect();
    for limit in 1..=200 {
        monitor
            .replace_budgets([budget(
                team("search"),
                BudgetPeriod::Day,
                1_000.0 + f64::from(limit),
            )])
            .unwrap();
    }
    for recorder in recorders {
        recorder.join().unwrap();
    }

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rows = runtime.block_on(statuses(&monitor));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].2, 1_200.0);
    // Every request's spend reached the one budget that was kept.
    assert!((rows[0].3 - 100.0).abs() < 1e-6, "{rows:?}");
}
