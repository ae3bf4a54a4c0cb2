//! Many tasks recording at once lose nothing.

use crate::common;

use common::{monitor, request};
use llmops_monitor::{Outcome, RequestObservation, SnapshotSource, Window};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_records_sum_exactly() {
    let (monitor, _clock) = monitor();
    let tasks = 16;
    let per_task = 2_000u64;
    let mut handles = Vec::new();
    for task in 0..tasks {
        let monitor = monitor.clone();
        handles.push(tokio::spawn(async move {
            let model = format!("model-{}", task % 4);
            let team = format!("team-{}", task % 3);
            for index in 0..per_task {
                let outcome = if index % 10 == 0 {
                    Outcome::Error("timeout")
                } else {
                    Outcome::Success
                };
                monitor.record_request(&RequestObservation {
                    outcome,
                    team: Some(&team),
                    input_tokens: 3,
                    output_tokens: 2,
                    ..request(&model, 1.0 + (index % 50) as f64)
                });
                if index % 256 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }

    let total = tasks * per_task;
    let snapshot = monitor.snapshot(Window::Minute).await;
    assert_eq!(snapshot.traffic.requests, total);
    assert_eq!(snapshot.traffic.errors, total / 10);
    assert_eq!(snapshot.traffic.input_tokens, total * 3);
    assert_eq!(snapshot.traffic.output_tokens, total * 2);
    let by_model: u64 = snapshot.cost.by_model.iter().map(|row| row.requests).sum();
    assert_eq!(by_model, total);
    let by_team: u64 = snapshot.cost.by_team.iter().map(|row| row.requests).sum();
    assert_eq!(by_team, total);
    assert_eq!(snapshot.cost.by_model.len(), 4);

    let text = monitor.render_prometheus();
    let recorded: f64 = text
        .lines()
        .filter(|line| line.starts_with("gen_ai_client_operation_duration_seconds_count"))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(recorded, total as f64);
}
