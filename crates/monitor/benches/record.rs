//! Recording overhead per request: the monitor against the `metrics`
//! crate with the `metrics-exporter-prometheus` recorder, recording the
//! same counters and histograms under the same labels, in the same run.
//!
//! Run with `cargo bench -p llmops-monitor --bench record`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use llmops_monitor::{Monitor, Outcome, PromptRef, RequestObservation};
use metrics_exporter_prometheus::PrometheusBuilder;

/// Distinct values per label: under the monitor's default cap of 200, so
/// every lookup hits an existing label.
const MODELS: usize = 20;
const TEAMS: usize = 50;

fn names(prefix: &str, count: usize) -> Vec<&'static str> {
    (0..count)
        .map(|index| &*Box::leak(format!("{prefix}-{index}").into_boxed_str()))
        .collect()
}

fn observation<'a>(index: usize, models: &[&'a str], teams: &[&'a str]) -> RequestObservation<'a> {
    RequestObservation {
        model: models[index % models.len()],
        provider: "openai",
        operation: "chat",
        outcome: if index % 50 == 0 {
            Outcome::Error("timeout")
        } else {
            Outcome::Success
        },
        duration_ms: 50.0 + (index % 997) as f64,
        time_to_first_token_ms: Some(20.0 + (index % 89) as f64),
        input_tokens: 100 + (index % 300) as u64,
        output_tokens: 20 + (index % 60) as u64,
        cost_usd: 0.000_3,
        team: Some(teams[index % teams.len()]),
        key: Some(teams[(index * 7) % teams.len()]),
        route: Some("qa"),
        prompt: Some(PromptRef {
            name: "answer",
            version: (index % 3) as u32,
        }),
        ..RequestObservation::default()
    }
}

/// The same request through the `metrics` facade: a request counter, a
/// cost counter, duration, first-token and token histograms, plus spend by
/// team, key and prompt.
fn record_metrics(observation: &RequestObservation<'static>) {
    let model = observation.model;
    let outcome = match observation.outcome {
        Outcome::Success => "success",
        _ => "error",
    };
    metrics::counter!("llmops_requests_total", "gen_ai_request_model" => model, "gen_ai_provider_name" => observation.provider, "llmops_outcome" => outcome).increment(1);
    metrics::histogram!("gen_ai_client_operation_duration_seconds", "gen_ai_request_model" => model, "gen_ai_provider_name" => observation.provider).record(observation.duration_ms / 1_000.0);
    if let Some(first) = observation.time_to_first_token_ms {
        metrics::histogram!("gen_ai_client_operation_time_to_first_chunk_seconds", "gen_ai_request_model" => model).record(first / 1_000.0);
    }
    metrics::histogram!("gen_ai_client_token_usage", "gen_ai_request_model" => model, "gen_ai_token_type" => "input").record(observation.input_tokens as f64);
    metrics::histogram!("gen_ai_client_token_usage", "gen_ai_request_model" => model, "gen_ai_token_type" => "output").record(observation.output_tokens as f64);
    metrics::counter!("llmops_cost_microusd_total", "gen_ai_request_model" => model)
        .increment((observation.cost_usd * 1e6) as u64);
    metrics::counter!("llmops_team_cost_microusd_total", "llmops_team" => observation.team.unwrap_or_default()).increment((observation.cost_usd * 1e6) as u64);
    metrics::counter!("llmops_key_cost_microusd_total", "llmops_key" => observation.key.unwrap_or_default()).increment((observation.cost_usd * 1e6) as u64);
}

fn bench_record(c: &mut Criterion) {
    let models = names("model", MODELS);
    let teams = names("team", TEAMS);
    let observations: Vec<RequestObservation<'static>> = (0..4_096)
        .map(|index| observation(index, &models, &teams))
        .collect();

    let mut group = c.benchmark_group("record_request");
    let monitor = Monitor::new();
    for observation in &observations {
        monitor.record_request(observation);
    }
    let mut index = 0;
    group.bench_function("llmops_monitor", |b| {
        b.iter(|| {
            index = (index + 1) % observations.len();
            monitor.record_request(black_box(&observations[index]));
        })
    });

    let recorder = PrometheusBuilder::new().build_recorder();
    metrics::with_local_recorder(&recorder, || {
        for observation in &observations {
            record_metrics(observation);
        }
        let mut index = 0;
        group.bench_function("metrics_exporter_prometheus", |b| {
            b.iter(|| {
                index = (index + 1) % observations.len();
                record_metrics(black_box(&observations[index]));
            })
        });
    });
    group.finish();
}

criterion_group!(benches, bench_record);
criterion_main!(benches);
