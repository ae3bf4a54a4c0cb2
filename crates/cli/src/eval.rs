//! `llmops eval`: evaluate a model on a dataset, compare runs and gate
//! releases on regressions.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_eval::judge::RubricPreset;
use llmops_eval::text::{Bleu, Chrf, Rouge, RougeKind, TokenF1};
use llmops_eval::{
    Contains, Dataset, EvalError, Evaluator, ExactMatch, GateConfig, JsonValid, NormalizedMatch,
    Report, ReportOptions, ResultStore,
};
use llmops_store::Store;

use crate::failure::Failure;
use crate::output::{out, outln};
use crate::prompt::usage_or_other;

/// The exit code of `eval gate` when a metric regressed.
pub(crate) const GATE_FAILED_EXIT_CODE: u8 = 4;

const METRIC_NAMES: &str = "exact_match, normalized_match, contains, json_valid, bleu, chrf, rouge1, rouge2, rougeL, token_f1";

/// Evaluate models on datasets and gate releases on regressions.
///
/// Results are stored per run id in the database, so `eval run` resumes an
/// interrupted run without calling the model again for finished cases.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  llmops eval run --dataset cases.jsonl --model gpt-4o-mini --run-id v1 --metrics exact_match,rougeL\n  llmops eval compare v1 v2\n  llmops eval gate v1 v2 --max-drop 0.02 --max-drop-for bleu=1.0\n  llmops eval run --dataset cases.jsonl --model gpt-4o-mini --run-id j1 --metrics judge:correctness --judge-model gpt-4o\n  llmops eval labels export --run-id j1 --dataset cases.jsonl --metric correctness --out review.csv\n  llmops eval labels agreement --run-id j1 --dataset cases.jsonl --metric correctness --labels review.csv\n\nExit codes: 0 success, 1 failure, 2 usage error, 4 gate failed."
)]
pub(crate) struct Args {
    /// Database URL: sqlite://PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        env = "LLMOPS_DB",
        default_value = "sqlite://llmops.db",
        global = true
    )]
    db: String,

    #[command(subcommand)]
    command: EvalCommand,
}

#[derive(Debug, clap::Subcommand)]
enum EvalCommand {
    /// Run a model over a dataset (JSON Lines or CSV) and print a report.
    Run {
        /// The dataset file; `.csv` files are read as CSV, others as JSON Lines.
        #[arg(long)]
        dataset: PathBuf,
        /// The model: `local`, a `claude-*` model, or an OpenAI-compatible model.
        #[arg(long)]
        model: String,
        /// The run id; running again with the same id resumes the run.
        #[arg(long)]
        run_id: String,
        /// Comma-separated metrics, from: exact_match, normalized_match,
        /// contains, json_valid, bleu, chrf, rouge1, rouge2, rougeL, token_f1,
        /// and the LLM judges judge:correctness, judge:helpfulness,
        /// judge:non_toxic, judge:unbiased, judge:faithfulness,
        /// judge:answer_relevance.
        #[arg(long, value_delimiter = ',', default_value = "exact_match,rougeL")]
        metrics: Vec<String>,
        /// The model of `judge:*` metrics; the evaluated model by default.
        #[arg(long)]
        judge_model: Option<String>,
        /// Cases evaluated at once, 1 or more.
        #[arg(long, default_value_t = 8, value_parser = parse_concurrency)]
        concurrency: usize,
        /// The prompt version recorded with the run, for example `support@3`.
        #[arg(long)]
        prompt_version: Option<String>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Markdown)]
        format: Format,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Show a progress bar on standard error.
        #[arg(long)]
        progress: bool,
        /// Sampling temperature of the evaluated model, 0 to 2. The default
        /// is 0, so a rerun on a deterministic backend repeats its outputs.
        #[arg(long, default_value_t = 0.0, value_parser = parse_temperature)]
        temperature: f64,
        /// Maximum tokens the model may write per case. Unset, the backend's
        /// own limit applies.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        max_tokens: Option<u32>,
        /// The sampling seed, for backends that take one.
        #[arg(long)]
        seed: Option<i64>,
    },
    /// Compare a candidate run with a baseline run; always exits 0.
    Compare(GateArgs),
    /// Like `compare`, but exit with code 4 when a metric regressed.
    Gate(GateArgs),
    /// Export judged cases for human review, import labels, and measure
    /// judge-human agreement.
    #[command(subcommand)]
    Labels(crate::eval_labels::LabelsCommand),
}

#[derive(Debug, clap::Args)]
struct GateArgs {
    /// The baseline run id.
    baseline: String,
    /// The candidate run id.
    candidate: String,
    /// Largest tolerated drop of a metric mean, in the metric's units.
    #[arg(long, default_value_t = 0.02)]
    max_drop: f64,
    /// Per-metric tolerance as METRIC=DROP, for example `bleu=1.0`; repeatable.
    #[arg(long, value_name = "METRIC=DROP")]
    max_drop_for: Vec<String>,
    /// Significance level of the paired test.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Markdown,
    Json,
    Html,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: Args) -> Result<ExitCode, Failure> {
    let store = Store::connect(&args.db).await.map_err(usage_or_other)?;
    let results = ResultStore::open(store).await.map_err(eval_failure)?;
    match args.command {
        EvalCommand::Run {
            dataset,
            model,
            run_id,
            metrics,
            judge_model,
            concurrency,
            prompt_version,
            format,
            out,
            progress,
            temperature,
            max_tokens,
            seed,
        } => {
            let dataset = load_dataset(&dataset)?;
            // A clash is the user's to fix, so it comes before any missing
            // API key of the model's backend.
            check_run_id(&results, &run_id, &model, &dataset).await?;
            let backend = crate::chat::backend_for(&model).await?;
            let judge_model = judge_model.unwrap_or_else(|| model.clone());
            let judge_backend = if !metrics.iter().any(|name| name.starts_with(JUDGE_PREFIX)) {
                None
            } else if judge_model == model {
                Some(std::sync::Arc::clone(&backend))
            } else {
                Some(crate::chat::backend_for(&judge_model).await?)
            };
            let mut evaluator = Evaluator::new(backend, &model)
                .concurrency(concurrency)
                .progress(progress)
                .store(results)
                .request_builder(move |case, model| {
                    let mut request =
                        ChatRequest::new(model, vec![ChatMessage::user(case.input.clone())]);
                    request.temperature = Some(temperature);
                    request.max_tokens = max_tokens;
                    request.seed = seed;
                    request
                });
            for name in &metrics {
                evaluator = match (name.strip_prefix(JUDGE_PREFIX), &judge_backend) {
                    (Some(preset), Some(judge_backend)) => {
                        add_judge(evaluator, preset, judge_backend, &judge_model)?
                    }
                    _ => add_metric(evaluator, name)?,
                };
            }
            if let Some(version) = prompt_version {
                evaluator = evaluator.prompt_version(version);
            }
            let run = evaluator
                .run(&run_id, &dataset)
                .await
                .map_err(eval_failure)?;
            let report = Report::new(&run, &ReportOptions::default());
            let text = match format {
                Format::Markdown => report.to_markdown(),
                Format::Json => report.to_json().map_err(eval_failure)?,
                Format::Html => report.to_html(),
            };
            write_output(out.as_deref(), &text)?;
            if run.failed_cases() > 0 {
                eprintln!(
                    "{} cases failed; run the same command again to retry only those",
                    run.failed_cases()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        EvalCommand::Compare(gate) => compare(&results, gate, false).await,
        EvalCommand::Gate(gate) => compare(&results, gate, true).await,
        EvalCommand::Labels(command) => crate::eval_labels::run(&results, command).await,
    }
}

async fn compare(
    results: &ResultStore,
    args: GateArgs,
    enforce: bool,
) -> Result<ExitCode, Failure> {
    let mut config = GateConfig {
        max_drop: args.max_drop,
        alpha: args.alpha,
        ..GateConfig::default()
    };
    for entry in &args.max_drop_for {
        let (metric, drop) = parse_metric_drop(entry)?;
        config.max_drop_by_metric.insert(metric, drop);
    }
    let baseline = results
        .load_run(&args.baseline)
        .await
        .map_err(eval_failure)?;
    let candidate = results
        .load_run(&args.candidate)
        .await
        .map_err(eval_failure)?;
    let report = llmops_eval::compare_runs(&baseline, &candidate, &config).map_err(eval_failure)?;
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&report)
                .context("failed to encode the gate report")?;
            outln!("{json}");
        }
        Format::Markdown | Format::Html => out!("{}", report.to_markdown()),
    }
    if enforce && !report.passed() {
        return Ok(ExitCode::from(GATE_FAILED_EXIT_CODE));
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_metric_drop(entry: &str) -> Result<(String, f64), Failure> {
    let parsed = entry.split_once('=').and_then(|(metric, drop)| {
        Some((metric.trim().to_owned(), drop.trim().parse::<f64>().ok()?))
    });
    match parsed {
        Some((metric, drop)) if !metric.is_empty() && drop >= 0.0 => Ok((metric, drop)),
        _ => Err(Failure::Usage(format!(
            "invalid --max-drop-for `{entry}`: expected METRIC=DROP with DROP zero or more, for example bleu=1.0"
        ))),
    }
}

/// Rejects a run id that a stored run of another model or dataset uses.
async fn check_run_id(
    results: &ResultStore,
    run_id: &str,
    model: &str,
    dataset: &Dataset,
) -> Result<(), Failure> {
    let Some(existing) = results.run_info(run_id).await.map_err(eval_failure)? else {
        return Ok(());
    };
    if existing.model == model && existing.dataset_version == dataset.version() {
        return Ok(());
    }
    Err(Failure::Usage(format!(
        "run id `{run_id}` is taken by a run of model `{}` on dataset `{}` (version {}); pass --model {} with that dataset to resume it, or choose another --run-id",
        existing.model, existing.dataset, existing.dataset_version, existing.model
    )))
}

fn parse_temperature(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if (0.0..=2.0).contains(&value) => Ok(value),
        _ => Err(format!(
            "invalid temperature `{text}`: use a value from 0 to 2"
        )),
    }
}

fn parse_concurrency(text: &str) -> Result<usize, String> {
    crate::input::parse_at_least_one(text, "0 cases at once would never finish", 8)
}

pub(crate) fn load_dataset(path: &Path) -> Result<Dataset, Failure> {
    let is_csv = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
    let dataset = if is_csv {
        Dataset::from_csv(path)
    } else {
        Dataset::from_jsonl(path)
    };
    dataset.map_err(eval_failure)
}

fn add_metric(evaluator: Evaluator, name: &str) -> Result<Evaluator, Failure> {
    Ok(match name {
        "exact_match" => evaluator.metric(ExactMatch),
        "normalized_match" => evaluator.metric(NormalizedMatch),
        "contains" => evaluator.metric(Contains::reference()),
        "json_valid" => evaluator.metric(JsonValid),
        "bleu" => evaluator.metric(Bleu),
        "chrf" => evaluator.metric(Chrf),
        "rouge1" => evaluator.metric(Rouge::new(RougeKind::Rouge1)),
        "rouge2" => evaluator.metric(Rouge::new(RougeKind::Rouge2)),
        "rougeL" => evaluator.metric(Rouge::new(RougeKind::RougeL)),
        "token_f1" => evaluator.metric(TokenF1),
        other => {
            return Err(Failure::Usage(format!(
                "unknown metric `{other}`; use one of: {METRIC_NAMES}"
            )));
        }
    })
}

/// The prefix of LLM judge metric names, such as `judge:correctness`.
const JUDGE_PREFIX: &str = "judge:";

fn add_judge(
    evaluator: Evaluator,
    preset: &str,
    backend: &std::sync::Arc<dyn llmops_core::ModelBackend>,
    model: &str,
) -> Result<Evaluator, Failure> {
    let preset = RubricPreset::from_name(preset).ok_or_else(|| {
        let names: Vec<&str> = RubricPreset::ALL.iter().map(|p| p.name()).collect();
        Failure::Usage(format!(
            "unknown judge `{preset}`; use one of: judge:{}",
            names.join(", judge:")
        ))
    })?;
    // The local model rejects JSON response formats, so it gets the schema
    // in the prompt only.
    let judge = preset
        .judge(std::sync::Arc::clone(backend), model)
        .map_err(eval_failure)?
        .structured_output(model != "local");
    Ok(evaluator.metric(judge))
}

fn write_output(path: Option<&Path>, text: &str) -> Result<(), Failure> {
    match path {
        Some(path) => crate::file_out::write_file(path, text).map_err(Failure::from),
        None => {
            out!("{text}");
            Ok(())
        }
    }
}

pub(crate) fn eval_failure(error: EvalError) -> Failure {
    match error {
        EvalError::DatasetIo { .. }
        | EvalError::InvalidCase { .. }
        | EvalError::DuplicateCaseId { .. }
        | EvalError::InvalidParameter { .. }
        | EvalError::IncomparableRuns { .. }
        | EvalError::RunNotFound { .. }
        | EvalError::InvalidLabel { .. }
        | EvalError::InvalidTemplate { .. } => Failure::Usage(error.to_string()),
        other => Failure::Other(other.into()),
    }
}
