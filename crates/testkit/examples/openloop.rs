//! Sends chat requests at a fixed arrival rate (open loop) to an
//! OpenAI-compatible server and prints latency percentiles as JSON.
//!
//! ```text
//! cargo run --release -p llmops-testkit --bin llmops-mock -- --port 8089 &
//! cargo run --release -p llmops-testkit --example openloop -- \
//!     --url http://127.0.0.1:8089/v1 --rate 1000 --seconds 10 --stream
//! ```
//!
//! Request `i` is scheduled at `start + i / rate` and sent then, however
//! many earlier requests are still waiting. Latency runs from the
//! scheduled time, not from the moment the request left, so a stall in the
//! server or in this program shows up in the percentiles instead of
//! silently lowering the rate (coordinated omission). With `--stream` the
//! first-token time runs from the scheduled time to the arrival of the
//! first chunk whose `choices[0].delta.content` is non-empty.
//!
//! Percentiles are exact (nearest rank over every successful measured
//! request). Failed requests are counted by kind and left out of the
//! percentiles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// Open-loop load generator for `POST {url}/chat/completions`.
#[derive(Debug, Parser)]
struct Args {
    /// Base URL up to and including `/v1`.
    #[arg(long)]
    url: String,
    /// Requests per second.
    #[arg(long)]
    rate: f64,
    /// Seconds of measured load.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of load before the measured part, left out of the results.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Request server-sent events and measure the first-token time.
    #[arg(long)]
    stream: bool,
    /// The `model` field of every request.
    #[arg(long, default_value = "gpt-4o-mini")]
    model: String,
    /// Sent as `Authorization: Bearer`.
    #[arg(long, env = "OPENLOOP_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Per-request timeout in milliseconds; a request over it counts as an
    /// error of kind `timeout`.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Requests allowed in flight at once; a scheduled request over the
    /// limit is not sent and counts as an error of kind `over_in_flight`.
    #[arg(long, default_value_t = 8_000)]
    max_in_flight: usize,
    /// A name copied into the output.
    #[arg(long, default_value = "")]
    label: String,
}

/// The outcome of one request.
#[derive(Debug)]
struct Sample {
    /// Whether the request was scheduled after the warm-up.
    measured: bool,
    /// How long after its scheduled time the request was handed to the
    /// client.
    send_lag: Duration,
    /// From the scheduled time to the end of the response body.
    latency: Duration,
    /// From the scheduled time to the first content chunk (streams only).
    first_token: Option<Duration>,
    /// When the response body ended.
    finished: Instant,
    /// The error kind when the request failed.
    error: Option<&'static str>,
}

/// The client, endpoint and request body shared by every request.
struct Target {
    client: reqwest::Client,
    endpoint: String,
    body: bytes::Bytes,
    api_key: Option<String>,
    stream: bool,
    in_flight: AtomicUsize,
    max_in_flight: usize,
}

fn main() {
    let args = Args::parse();
    assert!(
        args.rate.is_finite() && args.rate > 0.0,
        "invalid --rate {}: use a positive number of requests per second",
        args.rate
    );
    assert!(args.seconds > 0, "invalid --seconds 0: use at least 1");

    // One thread runs every request so this program takes at most one core
    // from the servers it measures; the schedule runs on a blocking thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(run(&args));
    println!("{report}");
}

async fn run(args: &Args) -> Value {
    let target = Arc::new(Target {
        client: reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .timeout(Duration::from_millis(args.timeout_ms))
            .build()
            .unwrap(),
        endpoint: format!("{}/chat/completions", args.url.trim_end_matches('/')),
        body: request_body(&args.model, args.stream),
        api_key: args.api_key.clone(),
        stream: args.stream,
        in_flight: AtomicUsize::new(0),
        max_in_flight: args.max_in_flight,
    });
    let warmup_count = (args.warmup_secs as f64 * args.rate).round() as u64;
    let measured_count = (args.seconds as f64 * args.rate).round() as u64;
    let rate = args.rate;
    let handle = tokio::runtime::Handle::current();

    let dispatch = {
        let target = Arc::clone(&target);
        move || schedule(&handle, &target, rate, warmup_count, measured_count)
    };
    let (measure_start, tasks) = tokio::task::spawn_blocking(dispatch).await.unwrap();

    let mut samples = Vec::with_capacity(tasks.len());
    for task in tasks {
        samples.push(task.await.unwrap());
    }
    summarize(args, measure_start, &samples)
}

/// Sends `warmup + measured` requests at `rate` per second, each from its
/// own task, and returns the scheduled start of the measured part with the
/// tasks. Sleeping with `std::thread::sleep` keeps the sends within tens of
/// microseconds of their schedule, where tokio's timer rounds to whole
/// milliseconds.
fn schedule(
    handle: &tokio::runtime::Handle,
    target: &Arc<Target>,
    rate: f64,
    warmup: u64,
    measured: u64,
) -> (Instant, Vec<JoinHandle<Sample>>) {
    let start = Instant::now() + Duration::from_millis(20);
    let nanos_per_request = 1e9 / rate;
    let at = |index: u64| start + Duration::from_nanos((index as f64 * nanos_per_request) as u64);
    let mut tasks = Vec::with_capacity((warmup + measured) as usize);
    for index in 0..warmup + measured {
        let scheduled = at(index);
        let now = Instant::now();
        if scheduled > now {
            std::thread::sleep(scheduled - now);
        }
        let target = Arc::clone(target);
        let is_measured = index >= warmup;
        tasks.push(handle.spawn(async move { send(&target, scheduled, is_measured).await }));
    }
    (at(warmup), tasks)
}

async fn send(target: &Target, scheduled: Instant, measured: bool) -> Sample {
    let send_lag = scheduled.elapsed();
    let mut sample = Sample {
        measured,
        send_lag,
        latency: Duration::ZERO,
        first_token: None,
        finished: scheduled,
        error: None,
    };
    if target.in_flight.fetch_add(1, Ordering::Relaxed) >= target.max_in_flight {
        target.in_flight.fetch_sub(1, Ordering::Relaxed);
        sample.error = Some("over_in_flight");
        return sample;
    }

    let outcome = exchange(target, scheduled).await;
    target.in_flight.fetch_sub(1, Ordering::Relaxed);
    sample.finished = Instant::now();
    sample.latency = sample.finished - scheduled;
    match outcome {
        Ok(first_token) => sample.first_token = first_token,
        Err(kind) => sample.error = Some(kind),
    }
    sample
}

/// Sends one request and reads the whole response. Returns the first-token
/// time of a stream, or the kind of failure.
async fn exchange(target: &Target, scheduled: Instant) -> Result<Option<Duration>, &'static str> {
    let mut request = target
        .client
        .post(&target.endpoint)
        .header("content-type", "application/json")
        .body(target.body.clone());
    if let Some(key) = &target.api_key {
        request = request.bearer_auth(key);
    }
    let mut response = request.send().await.map_err(classify)?;
    if !response.status().is_success() {
        return Err(status_kind(response.status().as_u16()));
    }
    if !target.stream {
        let body = response.bytes().await.map_err(classify)?;
        return match serde_json::from_slice::<Value>(&body) {
            Ok(value) if value.pointer("/choices/0/message/content").is_some() => Ok(None),
            _ => Err("bad_body"),
        };
    }

    let mut events = EventScanner::default();
    let mut first_token = None;
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if events.push(&chunk) && first_token.is_none() {
            first_token = Some(scheduled.elapsed());
        }
    }
    match (first_token, events.done) {
        (Some(first_token), true) => Ok(Some(first_token)),
        (None, _) => Err("no_content"),
        (Some(_), false) => Err("no_done"),
    }
}

/// Splits a server-sent event stream into `data:` lines, and notes the
/// first chunk with text content and the `[DONE]` marker.
#[derive(Default)]
struct EventScanner {
    pending: Vec<u8>,
    seen_content: bool,
    done: bool,
}

impl EventScanner {
    /// Adds bytes from the network. Returns whether they completed the first
    /// line that carries content.
    fn push(&mut self, bytes: &[u8]) -> bool {
        self.pending.extend_from_slice(bytes);
        let mut found = false;
        let mut consumed = 0;
        while let Some(offset) = self.pending[consumed..].iter().position(|&b| b == b'\n') {
            let line = &self.pending[consumed..consumed + offset];
            consumed += offset + 1;
            let Some(data) = line.strip_prefix(b"data:") else {
                continue;
            };
            let data = data.trim_ascii();
            if data == b"[DONE]" {
                self.done = true;
            } else if !self.seen_content && has_content(data) {
                self.seen_content = true;
                found = true;
            }
        }
        self.pending.drain(..consumed);
        found
    }
}

fn has_content(data: &[u8]) -> bool {
    let Ok(chunk) = serde_json::from_slice::<Value>(data) else {
        return false;
    };
    chunk
        .pointer("/choices/0/delta/content")
        .and_then(Value::as_str)
        .is_some_and(|text| !text.is_empty())
}

fn request_body(model: &str, stream: bool) -> bytes::Bytes {
    let mut body = json!({
        "model": model,
        "messages": [{"role": "user", "content": "Say hello to the load test"}],
        "max_tokens": 16,
    });
    if stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
    }
    serde_json::to_vec(&body).unwrap().into()
}

fn classify(error: reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else {
        "transport"
    }
}

fn status_kind(status: u16) -> &'static str {
    match status {
        429 => "status_429",
        400..=499 => "status_4xx",
        _ => "status_5xx",
    }
}

fn summarize(args: &Args, measure_start: Instant, samples: &[Sample]) -> Value {
    let measured: Vec<&Sample> = samples.iter().filter(|sample| sample.measured).collect();
    let mut errors: BTreeMap<&str, u64> = BTreeMap::new();
    for sample in &measured {
        if let Some(kind) = sample.error {
            *errors.entry(kind).or_default() += 1;
        }
    }
    let ok: Vec<&&Sample> = measured.iter().filter(|s| s.error.is_none()).collect();
    let error_count: u64 = errors.values().sum();

    // The measured requests count as served at the rate they finished:
    // from the first measured scheduled send to the last measured response.
    let last_finish = ok.iter().map(|s| s.finished).max();
    let achieved_rate = last_finish.map_or(0.0, |last| {
        ok.len() as f64 / last.duration_since(measure_start).as_secs_f64()
    });

    let latencies = ok.iter().map(|s| s.latency).collect();
    let first_tokens: Vec<Duration> = ok.iter().filter_map(|s| s.first_token).collect();
    let lags = measured.iter().map(|s| s.send_lag).collect();
    let mut report = json!({
        "label": args.label,
        "url": args.url,
        "stream": args.stream,
        "target_rate": args.rate,
        "seconds": args.seconds,
        "requests": measured.len(),
        "ok": ok.len(),
        "errors": error_count,
        "error_rate": error_count as f64 / measured.len().max(1) as f64,
        "errors_by_kind": errors,
        "achieved_rate": achieved_rate,
        "latency_ms": percentiles(latencies),
        "send_lag_ms": percentiles(lags),
    });
    if args.stream {
        report["first_token_ms"] = percentiles(first_tokens);
    }
    report
}

/// Returns p50, p90, p99, p99.9 and max in milliseconds by nearest rank,
/// or null when there are no values.
fn percentiles(mut values: Vec<Duration>) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    values.sort_unstable();
    let rank = |q: f64| {
        let index = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
        millis(values[index])
    };
    let mean = values.iter().map(Duration::as_secs_f64).sum::<f64>() / values.len() as f64;
    json!({
        "p50": rank(0.50),
        "p90": rank(0.90),
        "p99": rank(0.99),
        "p999": rank(0.999),
        "max": millis(values[values.len() - 1]),
        "mean": mean * 1e3,
    })
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_line(text: &str) -> String {
        let chunk = json!({"choices": [{"index": 0, "delta": {"content": text}}]});
        format!("data: {chunk}\n\n")
    }

    #[test]
    fn scanner_skips_role_chunk() {
        let role = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n";
        let mut scanner = EventScanner::default();
        assert!(!scanner.push(role.as_bytes()));
        assert!(scanner.push(data_line("Hi").as_bytes()));
        assert!(!scanner.push(data_line("again").as_bytes()));
        assert!(!scanner.done);
    }

    #[test]
    fn scanner_joins_split_lines() {
        let stream = format!("{}data: [DONE]\n\n", data_line("안녕 👋"));
        for split in 0..stream.len() {
            let mut scanner = EventScanner::default();
            let (head, tail) = stream.as_bytes().split_at(split);
            let found_in_head = scanner.push(head);
            let found_in_tail = scanner.push(tail);
            assert!(found_in_head ^ found_in_tail, "split at {split}");
            assert!(scanner.done, "split at {split}");
        }
    }

    #[test]
    fn scanner_empty_stream_has_nothing() {
        let mut scanner = EventScanner::default();
        assert!(!scanner.push(b""));
        assert!(!scanner.push(b": comment\n\ndata: [DONE]\n\n"));
        assert!(scanner.done);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let values = (1..=1000).map(Duration::from_millis).collect();
        let report = percentiles(values);
        assert_eq!(report["p50"], json!(500.0));
        assert_eq!(report["p99"], json!(990.0));
        assert_eq!(report["p999"], json!(999.0));
        assert_eq!(report["max"], json!(1000.0));
    }

    #[test]
    fn percentiles_of_one_value() {
        let report = percentiles(vec![Duration::from_micros(1500)]);
        assert_eq!(report["p50"], json!(1.5));
        assert_eq!(report["p999"], json!(1.5));
    }

    #[test]
    fn percentiles_of_nothing_are_null() {
        assert_eq!(percentiles(Vec::new()), Value::Null);
    }
}
