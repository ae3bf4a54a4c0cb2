//! Sends chat requests to a running mock server from many concurrent
//! connections and prints throughput and latency percentiles.
//!
//! ```text
//! cargo run --release -p llmops-testkit --bin llmops-mock &
//! cargo run --release -p llmops-testkit --example load -- http://127.0.0.1:PORT 64 5 stream
//! ```
//!
//! Arguments: base URL, concurrent connections (default 64), duration in
//! seconds (default 5), and `stream` to request SSE with usage.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let base_url = args
        .next()
        .expect("usage: load BASE_URL [CONNECTIONS] [SECONDS] [stream]");
    let connections: usize = args.next().map_or(64, |value| value.parse().unwrap());
    let seconds: u64 = args.next().map_or(5, |value| value.parse().unwrap());
    let stream = args.next().as_deref() == Some("stream");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(run(
        base_url,
        connections,
        Duration::from_secs(seconds),
        stream,
    ));
}

async fn run(base_url: String, connections: usize, duration: Duration, stream: bool) {
    let url = format!("{base_url}/v1/chat/completions");
    let body = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Say hello to the load test"}],
        "stream": stream,
        "stream_options": {"include_usage": true},
    });
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = Instant::now() + duration;

    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            let body = body.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let response = client.post(&url).json(&body).send().await.unwrap();
                    assert!(response.status().is_success());
                    response.bytes().await.unwrap();
                    latencies.push(started.elapsed());
                }
                latencies
            })
        })
        .collect();

    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    latencies.sort();
    let percentile = |fraction: f64| latencies[((latencies.len() - 1) as f64 * fraction) as usize];
    println!(
        "{} requests in {:?}: {:.0} requests/s, p50 {:?}, p99 {:?}, max {:?}",
        latencies.len(),
        duration,
        latencies.len() as f64 / duration.as_secs_f64(),
        percentile(0.5),
        percentile(0.99),
        latencies[latencies.len() - 1],
    );
}
