//! Operations metrics with llmops-monitor. A `Monitor` records 55 minutes of
//! synthetic LLM traffic: three models, two teams, two prompt versions,
//! errors, tokens and spend. The example prints the hour's aggregates, an
//! error-ratio alert that fires during a burst of rate-limit errors, and a
//! few lines of the Prometheus exposition.
//!
//! Run with `cargo run --example monitor`.

use std::sync::Arc;

use async_trait::async_trait;
use llmops_monitor::{
    AlertEvent, AlertMetric, AlertRule, AlertStatus, ManualClock, Monitor, MonitorError, Notifier,
    Outcome, PromptRef, RequestObservation, SnapshotSource, Window,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Model, provider, typical latency in milliseconds, and illustrative
/// prices in US dollars per million input and output tokens.
const MODELS: [(&str, &str, f64, f64, f64); 3] = [
    ("gpt-4o-mini", "openai", 450.0, 0.15, 0.60),
    ("gpt-4o", "openai", 900.0, 2.50, 10.00),
    ("claude-3-5-haiku", "anthropic", 650.0, 0.80, 4.00),
];

/// 12:00 UTC on 1 December 2026, so the output does not depend on today.
const NOON_MS: u64 = 1_796_126_400_000;

/// Prints every alert transition, where a real notifier would page or post.
struct PrintNotifier;

#[async_trait]
impl Notifier for PrintNotifier {
    fn name(&self) -> &str {
        "print"
    }

    async fn notify(&self, event: &AlertEvent) -> Result<(), MonitorError> {
        let state = match event.status {
            AlertStatus::Firing => "FIRING",
            AlertStatus::Ok => "cleared",
        };
        println!(
            "  alert {state}: rule {} ({} over the last {} is {:.2}, threshold {:.2})",
            event.rule, event.metric, event.window, event.value, event.threshold
        );
        Ok(())
    }
}

/// Records one request of `MODELS[model]` that ended at `at_ms`.
fn record(monitor: &Monitor, rng: &mut StdRng, model: usize, at_ms: u64, outcome: Outcome<'_>) {
    let (name, provider, typical_ms, input_price, output_price) = MODELS[model];
    let input_tokens = rng.random_range(200..1_200);
    // A failed request produces no output tokens.
    let output_tokens = rng.random_range(50..400) * u64::from(outcome == Outcome::Success);
    let cost_usd = (input_tokens as f64 * input_price + output_tokens as f64 * output_price) / 1e6;
    // A slow request in every twenty or so gives the latency a long tail.
    let tail = if rng.random_bool(0.05) { 6.0 } else { 1.0 };
    let team = ["support", "search"][usize::from(rng.random_bool(0.4))];
    let version = if rng.random_bool(0.5) { 3 } else { 4 };
    monitor.record_request(&RequestObservation {
        model: name,
        provider,
        outcome,
        duration_ms: typical_ms * rng.random_range(0.6..1.6) * tail,
        input_tokens,
        output_tokens,
        cost_usd,
        team: Some(team),
        prompt: Some(PromptRef {
            name: "faq-answer",
            version,
        }),
        timestamp_ms: Some(at_ms),
        ..RequestObservation::default()
    });
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(NOON_MS));
    let errors = AlertRule::new("error-ratio", AlertMetric::ErrorRatio, Window::Minute, 0.2)
        .clear_below(0.05);
    let monitor = Monitor::builder()
        .clock(clock.clone())
        .alert_rule(errors)
        .notifier(Arc::new(PrintNotifier))
        .build()?;

    // 55 minutes of traffic: one request every 11 s, and every 29th fails.
    let mut rng = StdRng::seed_from_u64(7);
    let requests = 300_u64;
    for index in 0..requests {
        let at_ms = NOON_MS - (requests - index) * 11_000;
        let outcome = if index % 29 == 0 {
            Outcome::Error("server_error")
        } else {
            Outcome::Success
        };
        record(&monitor, &mut rng, (index % 3) as usize, at_ms, outcome);
    }

    let hour = monitor.snapshot(Window::Hour).await;
    let (traffic, latency) = (&hour.traffic, &hour.latency);
    let error_ratio = traffic.error_ratio.unwrap_or_default();
    let p50_ms = latency.p50_ms.unwrap_or_default();
    let p99_ms = latency.p99_ms.unwrap_or_default();
    println!(
        "Last hour: {} requests, {:.3} requests/s",
        traffic.requests, traffic.requests_per_second
    );
    println!(
        "  errors {} ({:.1}%), latency p50 {p50_ms:.0} ms, p99 {p99_ms:.0} ms",
        traffic.errors,
        error_ratio * 100.0
    );
    println!(
        "  tokens {} in, {} out; spend ${:.4}",
        traffic.input_tokens, traffic.output_tokens, hour.cost.total_usd
    );
    for (title, rows) in [
        ("model", &hour.cost.by_model),
        ("team", &hour.cost.by_team),
        ("prompt", &hour.cost.by_prompt_version),
    ] {
        println!("  spend by {title}:");
        for row in rows {
            println!(
                "    {:<18} ${:.4} over {} requests",
                row.key, row.cost_usd, row.requests
            );
        }
    }

    // The alert rule watches the last minute: quiet now, then a minute in
    // which gpt-4o returns rate-limit errors for 24 of 40 requests.
    println!("\nAlert evaluation at 12:00:");
    let quiet = monitor.evaluate_alerts(monitor.now_ms()).await;
    println!("  {} transitions", quiet.len());
    clock.advance_ms(60_000);
    for index in 0..40 {
        let at_ms = NOON_MS + 1_500 * index;
        let outcome = if index < 24 {
            Outcome::Error("rate_limited")
        } else {
            Outcome::Success
        };
        record(&monitor, &mut rng, 1, at_ms, outcome);
    }
    println!("Alert evaluation at 12:01:");
    let burst = monitor.evaluate_alerts(monitor.now_ms()).await;

    let exposition = monitor.render_prometheus();
    println!("\nPrometheus exposition (failed requests and spend by model):");
    let failed_lines: Vec<&str> = exposition
        .lines()
        .filter(|line| {
            line.starts_with("llmops_requests_total{") && line.contains("outcome=\"error\"")
        })
        .collect();
    let cost_lines = exposition
        .lines()
        .filter(|line| line.starts_with("llmops_cost_usd_total{"));
    for line in failed_lines.iter().copied().chain(cost_lines) {
        println!("  {line}");
    }

    // Check the results, so a misbehaving library makes the example fail.
    let expected_errors = (0..requests).filter(|index| index % 29 == 0).count() as u64;
    let spend_by_model: f64 = hour.cost.by_model.iter().map(|row| row.cost_usd).sum();
    let fired = burst.len() == 1 && burst[0].status == AlertStatus::Firing;
    let checks = [
        (traffic.requests == requests, "every request is counted"),
        (traffic.errors == expected_errors, "every error is counted"),
        (p50_ms > 0.0 && p50_ms < p99_ms, "p50 latency is below p99"),
        (
            hour.cost.by_model.len() == MODELS.len(),
            "spend has a row per model",
        ),
        (
            (spend_by_model - hour.cost.total_usd).abs() < 1e-9,
            "spend by model adds up",
        ),
        (quiet.is_empty(), "the alert stays quiet before the burst"),
        (fired, "the burst of errors fires the alert"),
        (
            failed_lines.len() == MODELS.len(),
            "the exposition has failures per model",
        ),
    ];
    for (passed, check) in checks {
        anyhow::ensure!(passed, "check failed: {check}");
    }
    Ok(())
}
