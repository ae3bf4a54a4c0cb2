//! Measures generation speed of the local model with 1 and 2 threads.
//!
//! Run with `cargo run --release -p llmops-local --example bench`. Each
//! thread count loads the model, warms up with one short request, then runs
//! a greedy 128-token request `RUNS` times and prints the median decode
//! speed.

use std::time::Instant;

use futures::StreamExt;
use llmops_core::ModelBackend;
use llmops_core::types::{ChatMessage, ChatRequest, StreamOptions};
use llmops_local::{LocalBackend, LocalModelConfig};

const PROMPT: &str =
    "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle.";
const MAX_TOKENS: u32 = 128;
const RUNS: usize = 5;

struct Run {
    first_token_ms: f64,
    completion_tokens: u64,
    decode_tokens_per_second: f64,
}

async fn run_once(backend: &LocalBackend, max_tokens: u32) -> anyhow::Result<Run> {
    let mut request = ChatRequest::new("local", vec![ChatMessage::user(PROMPT)]);
    request.temperature = Some(0.0);
    request.max_tokens = Some(max_tokens);
    request.stream_options = Some(StreamOptions {
        include_usage: Some(true),
        ..StreamOptions::default()
    });
    let started = Instant::now();
    let mut stream = backend.stream(request).await?;
    let mut first_token = None;
    let mut completion_tokens = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if first_token.is_none() && chunk.delta_text().is_some_and(|text| !text.is_empty()) {
            first_token = Some(Instant::now());
        }
        if let Some(usage) = chunk.usage {
            completion_tokens = usage.completion_tokens;
        }
    }
    let ended = Instant::now();
    let first_token = first_token.unwrap_or(ended);
    let decode_secs = (ended - first_token).as_secs_f64();
    Ok(Run {
        first_token_ms: (first_token - started).as_secs_f64() * 1000.0,
        completion_tokens,
        decode_tokens_per_second: completion_tokens.saturating_sub(1) as f64 / decode_secs,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `RUST_LOG=llmops_local=debug` also prints load and per-run timings.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    for threads in [1, 2] {
        let label = format!("{threads} thread(s)");
        let load_started = Instant::now();
        let backend = LocalBackend::load(LocalModelConfig::default().with_threads(threads)).await?;
        let load_ms = load_started.elapsed().as_secs_f64() * 1000.0;
        run_once(&backend, 8).await?;

        let mut runs = Vec::new();
        for _ in 0..RUNS {
            runs.push(run_once(&backend, MAX_TOKENS).await?);
        }
        runs.sort_by(|a, b| {
            a.decode_tokens_per_second
                .total_cmp(&b.decode_tokens_per_second)
        });
        let median = &runs[RUNS / 2];
        let all: Vec<String> = runs
            .iter()
            .map(|run| format!("{:.1}", run.decode_tokens_per_second))
            .collect();
        println!(
            "{label}: load {load_ms:.0} ms, median {:.1} tokens/s over {} tokens (runs: {}), first token {:.0} ms",
            median.decode_tokens_per_second,
            median.completion_tokens,
            all.join(", "),
            median.first_token_ms
        );
    }
    Ok(())
}
