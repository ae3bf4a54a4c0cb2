//! Memory soak: constant load with high label cardinality over simulated
//! time, on a manual clock (no sleeping).
//!
//! Every request carries a new key, and models, teams, routes and prompts
//! cycle through far more values than the monitor's caps. The example
//! prints the monitor's own estimate of its heap (`Monitor::heap_bytes`)
//! and the process's resident set size each simulated ten minutes.
//!
//! ```text
//! cargo run --release -p llmops-monitor --example soak -- [REQUESTS_PER_SECOND] [HOURS]
//! ```
//! Defaults: 200 requests per second for 1 hour.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use llmops_monitor::{
    ManualClock, Monitor, Outcome, PromptRef, RequestObservation, SnapshotSource, Window,
};

/// Resident set size in bytes from `/proc/self/statm`, on Linux.
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rate: u64 = args.next().map_or(200, |arg| arg.parse().unwrap());
    let hours: u64 = args.next().map_or(1, |arg| arg.parse().unwrap());
    let clock = ManualClock::new(1_707_998_400_000);
    let monitor = Monitor::builder()
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();

    let step_ms = 1_000 / rate.max(1);
    let total = rate * 3_600 * hours;
    let report_every = rate * 600;
    let (mut key, mut model, mut team, mut route, mut prompt) = (
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    );
    let started = Instant::now();
    println!("minute  requests  heap_MiB  rss_MiB");
    for index in 0..total {
        for (buffer, prefix, modulus) in [
            (&mut key, "key", u64::MAX),
            (&mut model, "model", 5_000),
            (&mut team, "team", 20_000),
            (&mut route, "route", 1_000),
            (&mut prompt, "prompt", 3_000),
        ] {
            buffer.clear();
            let _ = write!(buffer, "{prefix}-{}", index % modulus);
        }
        monitor.record_request(&RequestObservation {
            model: &model,
            provider: "openai",
            operation: "chat",
            outcome: if index % 40 == 0 {
                Outcome::Error("timeout")
            } else {
                Outcome::Success
            },
            duration_ms: 30.0 + (index % 4_999) as f64,
            time_to_first_token_ms: Some(10.0 + (index % 700) as f64),
            input_tokens: 200,
            output_tokens: 50,
            cost_usd: 0.000_5,
            team: Some(&team),
            key: Some(&key),
            route: Some(&route),
            prompt: Some(PromptRef {
                name: &prompt,
                version: (index % 7) as u32,
            }),
            ..RequestObservation::default()
        });
        clock.advance_ms(step_ms);
        if (index + 1) % report_every == 0 {
            println!(
                "{:>6}  {:>8}  {:>8.2}  {:>7.1}",
                (index + 1) / rate / 60,
                index + 1,
                mib(monitor.heap_bytes() as u64),
                rss_bytes().map_or(f64::NAN, mib)
            );
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let snapshot = runtime.block_on(monitor.snapshot(Window::Hour));
    println!(
        "done: {total} requests in {:.1} s wall time; last hour {} requests, p99 {:.0} ms, {} label lookups folded into `other`",
        started.elapsed().as_secs_f64(),
        snapshot.traffic.requests,
        snapshot.latency.p99_ms.unwrap_or(f64::NAN),
        monitor.folded_label_values()
    );
}
