//! Label values past the cap fold into `other`, and memory stays flat.

use crate::common;

use common::{builder, request};
use llmops_monitor::{Dimension, RequestObservation, SnapshotSource, Window};

#[tokio::test]
async fn models_past_cap_count_as_other() {
    let (builder, _clock) = builder();
    let monitor = builder.max_label_values(5).build().unwrap();
    let names: Vec<String> = (0..12).map(|index| format!("model-{index}")).collect();
    for name in &names {
        monitor.record_request(&request(name, 5.0));
    }

    let snapshot = monitor.snapshot(Window::Minute).await;
    let by_model = &snapshot.cost.by_model;
    assert_eq!(by_model.len(), 6);
    let other = by_model.iter().find(|row| row.key == "other").unwrap();
    assert_eq!(other.requests, 7);
    assert_eq!(snapshot.traffic.requests, 12);
    assert_eq!(monitor.folded_label_values(), 7);
}

#[tokio::test]
async fn teams_and_keys_are_capped_separately() {
    let (builder, _clock) = builder();
    let monitor = builder.max_label_values(3).build().unwrap();
    let values: Vec<String> = (0..10).map(|index| format!("v{index}")).collect();
    for value in &values {
        monitor.record_request(&RequestObservation {
            team: Some(value),
            key: Some("only-key"),
            ..request("m", 5.0)
        });
    }
    let teams = monitor.spend_by(Window::Minute, Dimension::Team);
    let keys = monitor.spend_by(Window::Minute, Dimension::Key);
    assert_eq!(teams.len(), 4);
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].requests, 10);
}

#[tokio::test]
async fn budget_scope_never_folds() {
    let (builder, _clock) = builder();
    let monitor = builder
        .max_label_values(2)
        .budget(
            "team:late".parse().unwrap(),
            llmops_monitor::BudgetPeriod::Day,
            10.0,
        )
        .build()
        .unwrap();
    for team in ["a", "b", "c", "late"] {
        monitor.record_request(&RequestObservation {
            team: Some(team),
            ..request("m", 5.0)
        });
    }
    let snapshot = monitor.snapshot(Window::Minute).await;
    assert_eq!(snapshot.cost.budgets[0].spent_usd, 0.01);
    let teams: Vec<&str> = snapshot
        .cost
        .by_team
        .iter()
        .map(|row| row.key.as_str())
        .collect();
    assert!(teams.contains(&"late"), "{teams:?}");
    assert!(teams.contains(&"other"), "{teams:?}");
}

#[test]
fn memory_stays_flat_after_cap() {
    let (builder, clock) = builder();
    let monitor = builder.max_label_values(50).build().unwrap();
    let names: Vec<String> = (0..5_000).map(|index| format!("user-{index}")).collect();
    let record = |range: std::ops::Range<usize>| {
        for index in range {
            monitor.record_request(&RequestObservation {
                key: Some(&names[index]),
                team: Some(&names[index]),
                route: Some(&names[index]),
                ..request(&names[index], (index % 500) as f64 + 1.0)
            });
            clock.advance_ms(40_000);
        }
    };
    // 2,500 records 40 s apart span more than a day, so every bucket of
    // every window is used at least once before the second half.
    record(0..2_500);
    let filled = monitor.heap_bytes();
    record(2_500..5_000);
    let later = monitor.heap_bytes();
    assert!(later <= filled + filled / 10, "{filled} -> {later}");
}
