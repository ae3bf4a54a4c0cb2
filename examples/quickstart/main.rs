//! The main job: a local model answers real questions through the llmops
//! gateway, and llmops reports the route, tokens, speed and what the same
//! usage would cost on paid models. The prompt comes from the prompt
//! registry, where an A/B experiment splits readers between two versions.
//!
//! Run with `cargo run --release --example quickstart`. Options:
//! `--questions N` (default 4, at most 500), `--max-tokens N` (default 48).
//!
//! No API key or server is needed: the model is SmolLM2-135M-Instruct on
//! this machine's CPU, fetched once into the cache. Questions come from the
//! HaluEval QA set in `examples/data/halueval/` (MIT), each with the passage
//! that supports its answer.
//!
//! Every call goes through a `Gateway`: requests tagged with the task `qa`
//! route to the model `qa`, served by the local model, with the model
//! `qa-spare` as its fallback (gpt-4o-mini when `OPENAI_API_KEY` is set, a
//! second local deployment otherwise). Each request prints the record the
//! gateway wrote for it.
//!
//! The prompt `qa-answer` lives in a registry on an in-memory SQLite
//! database: version 1 is released on the label `production`, version 2
//! asks for briefer answers, and the experiment `qa-answer-brevity` sends
//! each reader (one per question here) to one of them. Every call is logged
//! against the version that produced it, with a score saying whether the
//! answer holds the reference answer, and the run ends with the
//! experiment's numbers per arm.
//!
//! Guardrails run in the gateway: the first question carries a planted
//! Korean resident registration number and an AWS access key, which the
//! input guards replace with placeholders before the model sees them.
//! Replies pass output guards, every call is appended to a tamper-evident
//! audit log, calls with findings go to a human-review queue, and the run
//! ends by verifying the log and printing a transparency report.
//!
//! A monitor records every gateway request, and each answer gets a
//! groundedness score against its passage. After evaluation, retrieval and
//! drift, the run prints the monitor's aggregates and serves the live
//! dashboard on a loopback port until Ctrl-C (`--no-dashboard` skips it).

mod drift;
mod evaluation;
mod monitoring;
mod prompts;
mod rag;
mod safety;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use llmops_core::pricing::{PriceTable, format_usd};
use llmops_core::types::{ChatMessage, ChatRequest, StreamOptions, Usage};
use llmops_gateway::{
    CallContext, DeploymentConfig, Gateway, GatewayConfig, MemorySink, ModelConfig, RequestRecord,
};
use llmops_local::{EmbedderConfig, LocalBackend, LocalModelConfig, MiniLmEmbedder};
use llmops_monitor::{PROMPT_METADATA_KEY, PROMPT_VERSION_METADATA_KEY, PromptRef};
use rust_decimal::Decimal;
use serde::Deserialize;

const DATASET: &str = include_str!("../data/halueval/qa_one-turn_data.jsonl");

/// Paid models whose prices the run compares against.
const PRICED_MODELS: [&str; 4] = [
    "gpt-4o-mini",
    "gpt-4.1",
    "claude-haiku-4-5",
    "claude-sonnet-4-5",
];

#[derive(Debug, Deserialize)]
struct QaCase {
    knowledge: String,
    question: String,
    right_answer: String,
}

struct Options {
    questions: usize,
    max_tokens: u32,
    dashboard: bool,
}

struct Measured {
    answer: String,
    usage: Usage,
    total: Duration,
    first_token: Option<Duration>,
    generation: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = parse_options()?;
    let cases = load_cases(options.questions)?;
    let prices = PriceTable::defaults()?;

    println!(
        "Loading SmolLM2-135M-Instruct (downloaded once, 98 MB, into the cache when missing)..."
    );
    let started = Instant::now();
    let backend = Arc::new(LocalBackend::load(LocalModelConfig::default()).await?);
    println!(
        "Loaded {} in {:.1} s.\n",
        backend.model_path().display(),
        started.elapsed().as_secs_f64()
    );

    let records = Arc::new(MemorySink::new());
    let safety = safety::Safety::open().await?;
    let prompts = prompts::Prompts::open().await?;
    let monitoring = monitoring::Monitoring::new(prompts.registry.clone(), safety.queue()).await?;
    let gateway = build_gateway(backend.clone(), records.clone(), &safety, &monitoring)?;

    let mut totals = vec![Decimal::ZERO; PRICED_MODELS.len()];
    let mut all_tokens = (0u64, 0u64);
    for (number, case) in cases.iter().enumerate() {
        println!("[{}/{}] {}", number + 1, cases.len(), case.question.trim());
        let reader = format!("reader-{number}");
        let mut question = case.question.trim().to_owned();
        if number == 0 {
            question.push_str(safety::PLANTED);
            println!("  (planted in this request: a resident registration number and an AWS key)");
        }
        let (served, messages) = prompts
            .messages(&reader, case.knowledge.trim(), &question)
            .await?;
        if let Some(assignment) = &served.assignment {
            println!(
                "  prompt: {}@{} (experiment {}, arm {})",
                served.version.name, served.version.version, assignment.experiment, assignment.arm
            );
        }
        print!("  answer: ");
        std::io::Write::flush(&mut std::io::stdout())?;
        let prompt = PromptRef {
            name: &served.version.name,
            version: served.version.version,
        };
        let measured = ask(&gateway, messages, options.max_tokens, prompt).await?;
        println!("  reference answer: {}", case.right_answer);
        let (groundedness, unsupported) = monitoring
            .groundedness("qa", prompt, &measured.answer, case.knowledge.trim())
            .await;
        match groundedness {
            Some(score) => println!(
                "  groundedness in the passage: {score:.2}{}",
                if unsupported.is_empty() {
                    String::new()
                } else {
                    format!(" (unsupported: {})", unsupported.join(" | "))
                }
            ),
            None => println!("  groundedness in the passage: undetermined (no claim to check)"),
        }
        print_measurements(&measured);
        prompts
            .log(
                &served,
                &format!("call-{number}"),
                case.question.trim(),
                &measured.answer,
                measured.total.as_millis() as u64,
                (
                    measured.usage.prompt_tokens,
                    measured.usage.completion_tokens,
                ),
                prompts::matches_reference(&measured.answer, &case.right_answer),
            )
            .await?;
        for record in records.take() {
            print_record(&record);
            let findings = safety.after_reply(&record.id, &measured.answer).await?;
            monitoring.record_guard_findings(&findings);
        }

        let mut costs = Vec::new();
        for (model, total) in PRICED_MODELS.iter().zip(totals.iter_mut()) {
            let cost = prices.cost(model, &measured.usage)?;
            *total += cost.total_usd;
            costs.push(format!("{model} {}", format_usd(cost.total_usd)));
        }
        println!("  same usage on: {}\n", costs.join(" | "));
        all_tokens.0 += measured.usage.prompt_tokens;
        all_tokens.1 += measured.usage.completion_tokens;
    }

    println!(
        "{} {}, {} prompt and {} completion tokens, cost here: $0 (local).",
        cases.len(),
        if cases.len() == 1 {
            "question"
        } else {
            "questions"
        },
        all_tokens.0,
        all_tokens.1
    );
    for (model, total) in PRICED_MODELS.iter().zip(&totals) {
        println!("  on {model}: {}", format_usd(*total));
    }
    let registry = prompts.report().await?;
    safety.finish(cases.len() as u64).await?;

    println!("\n== Evaluation of both prompt versions ==\n");
    let questions: Vec<evaluation::EvalQuestion<'_>> = cases
        .iter()
        .map(|case| evaluation::EvalQuestion {
            knowledge: &case.knowledge,
            question: &case.question,
            right_answer: &case.right_answer,
        })
        .collect();
    evaluation::evaluate_versions(
        backend.clone(),
        "local",
        &registry,
        &questions,
        options.max_tokens,
    )
    .await?;

    println!("\n== Retrieval over the SciFact corpus ==\n");
    println!("Loading all-MiniLM-L6-v2 (downloaded once, 91 MB, into the cache when missing)...");
    let embedder =
        Arc::new(MiniLmEmbedder::load(EmbedderConfig::default().with_truncation(true)).await?);
    let scifact = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/rag/tests/data/scifact");
    rag::run(&scifact, backend.as_ref(), "local", embedder).await?;

    println!("\n== Drift of input topics ==\n");
    drift::run(registry.store()).await?;

    println!("\n== Operations ==\n");
    monitoring.finish(options.dashboard).await?;
    Ok(())
}

/// Routes the task `qa` to the local model, with a fallback model.
fn build_gateway(
    local: Arc<LocalBackend>,
    records: Arc<MemorySink>,
    safety: &safety::Safety,
    monitoring: &monitoring::Monitoring,
) -> anyhow::Result<Gateway> {
    let spare = if std::env::var_os("OPENAI_API_KEY").is_some() {
        DeploymentConfig::new("openai-mini", "openai", "gpt-4o-mini")
    } else {
        DeploymentConfig::new("local-spare", "local", "local").tags(["on_prem"])
    };
    let config = GatewayConfig::new()
        .model(
            ModelConfig::new("qa")
                .deployment(DeploymentConfig::new("local-smollm2", "local", "local"))
                .fallbacks(["qa-spare"]),
        )
        .model(ModelConfig::new("qa-spare").deployment(spare))
        .route("qa", "qa");
    let builder = Gateway::builder(config.clone())
        .backend("local", local)
        .record_sink(records);
    let builder = monitoring.attach(builder, &config);
    Ok(safety.attach(builder).build()?)
}

/// Streams one answer to standard output and measures it.
async fn ask(
    gateway: &Gateway,
    messages: Vec<ChatMessage>,
    max_tokens: u32,
    prompt: PromptRef<'_>,
) -> anyhow::Result<Measured> {
    let mut request = ChatRequest::new("qa", messages);
    // The monitor attributes the request to this prompt version. OpenAI
    // accepts only string values in `metadata`, so the version is one too.
    let mut metadata = serde_json::Map::new();
    metadata.insert(PROMPT_METADATA_KEY.to_owned(), prompt.name.into());
    metadata.insert(
        PROMPT_VERSION_METADATA_KEY.to_owned(),
        prompt.version.to_string().into(),
    );
    request.metadata = Some(metadata);
    request.max_tokens = Some(max_tokens);
    request.temperature = Some(0.0);
    request.stream = Some(true);
    request.stream_options = Some(StreamOptions {
        include_usage: Some(true),
        ..StreamOptions::default()
    });

    let started = Instant::now();
    let context = CallContext::new().with_task("qa");
    let mut stream = gateway.stream_with(request, context).await?;
    let mut first_token = None;
    let mut usage = None;
    let mut answer = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if let Some(text) = chunk.delta_text().filter(|text| !text.is_empty()) {
            first_token.get_or_insert_with(|| started.elapsed());
            print!("{text}");
            answer.push_str(text);
            std::io::Write::flush(&mut std::io::stdout())?;
        }
        if chunk.usage.is_some() {
            usage = chunk.usage;
        }
    }
    println!();

    let usage = usage.context("the local model sent no usage chunk")?;
    let generation = started
        .elapsed()
        .saturating_sub(first_token.unwrap_or_default());
    Ok(Measured {
        answer,
        usage,
        total: started.elapsed(),
        first_token,
        generation,
    })
}

fn print_measurements(measured: &Measured) {
    let first_token_ms = measured.first_token.map_or("-".to_owned(), |elapsed| {
        format!("{} ms", elapsed.as_millis())
    });
    // Tokens after the first, over the time after the first token arrived.
    let later_tokens = measured.usage.completion_tokens.saturating_sub(1);
    let seconds = measured.generation.as_secs_f64();
    let tokens_per_second = if later_tokens > 0 && seconds > 0.0 {
        format!("{:.1}", later_tokens as f64 / seconds)
    } else {
        "-".to_owned()
    };
    println!(
        "  tokens: {} prompt, {} completion | first token: {first_token_ms} | {tokens_per_second} tokens/s",
        measured.usage.prompt_tokens, measured.usage.completion_tokens
    );
}

/// Prints what the gateway recorded for one request.
fn print_record(record: &RequestRecord) {
    let attempts: Vec<String> = record
        .attempts
        .iter()
        .map(|attempt| match &attempt.error {
            None => format!("{} ok", attempt.deployment),
            Some(error) => format!("{} failed ({error})", attempt.deployment),
        })
        .collect();
    let cost = record
        .cost_usd
        .map_or("no price (local)".to_owned(), format_usd);
    println!(
        "  gateway record {}: route {} -> model {} ({}) | attempts: {} | {:.0} ms | cost {cost}",
        record.id,
        record.route.requested_model,
        record.route.model,
        record.route.reason,
        attempts.join(", "),
        record.latency_ms,
    );
}

fn parse_options() -> anyhow::Result<Options> {
    let mut options = Options {
        questions: 4,
        max_tokens: 48,
        dashboard: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!(
                "usage: quickstart [--questions N (1 to 500, default 4)] [--max-tokens N (default 48)] [--no-dashboard]"
            );
            std::process::exit(0);
        }
        if flag == "--no-dashboard" {
            options.dashboard = false;
            continue;
        }
        if !matches!(flag.as_str(), "--questions" | "--max-tokens") {
            bail!("unknown option {flag:?}: use --questions N, --max-tokens N or --no-dashboard");
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--questions" => {
                options.questions = value.parse().with_context(|| {
                    format!("invalid --questions {value:?}: use a count from 1 to 500")
                })?;
            }
            "--max-tokens" => {
                options.max_tokens = value.parse().with_context(|| {
                    format!("invalid --max-tokens {value:?}: use a positive count")
                })?;
            }
            other => bail!(
                "unknown option {other:?}: use --questions N, --max-tokens N or --no-dashboard"
            ),
        }
    }
    if options.questions == 0 {
        bail!("invalid --questions 0: use a count from 1 to 500");
    }
    if options.max_tokens == 0 {
        bail!("invalid --max-tokens 0: use a positive count");
    }
    Ok(options)
}

fn load_cases(count: usize) -> anyhow::Result<Vec<QaCase>> {
    let cases = DATASET
        .lines()
        .take(count)
        .enumerate()
        .map(|(line, text)| {
            serde_json::from_str(text).with_context(|| {
                format!("examples/data/halueval line {} is not a QA case", line + 1)
            })
        })
        .collect::<anyhow::Result<Vec<QaCase>>>()?;
    if cases.len() < count {
        bail!(
            "--questions {count} is more than the {} questions in the dataset",
            cases.len()
        );
    }
    Ok(cases)
}
