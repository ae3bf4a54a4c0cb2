//! `llmops drift`: topic baselines, drift checks of time windows, and the
//! reports over time.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use llmops_drift::action::{JsonlExport, Webhook};
use llmops_drift::{
    Actions, Baseline, BaselineConfig, DriftCheck, DriftError, DriftStore, HashingEmbedder,
    InputSource, Measure, Policy, RegistryCalls, Severity, TopicCount, Window, WindowPlan,
    WindowSpan, render_html, render_markdown,
};
use llmops_store::{Store, now_ms};

use crate::failure::Failure;
use crate::output::{out, outln};
use crate::prompt::usage_or_other;
use crate::records::block_on;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Build a topic baseline of inputs, check later windows for drift against
/// it, and print the reports over time.
///
/// Inputs come from the calls that the prompt registry logged in the
/// database, or from a file (--input) of JSON Lines with a "text" field or
/// of plain lines. `check` exits with 3 when a measure reaches the alert
/// threshold.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  llmops drift baseline --name support --prompt support --days 28\n  llmops drift check --name support --prompt support --window weekly --format html --out drift.html\n  llmops drift check --name support --input week.jsonl --webhook http://127.0.0.1:9000/drift\n  llmops drift report --name support"
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
    command: DriftCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DriftCommand {
    /// Embed and cluster a reference window and save it as a baseline.
    Baseline {
        /// Name to save the baseline under, such as the application.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        source: SourceArgs,
        /// Days of logged calls before now to use, when no --input is given.
        #[arg(long, default_value_t = 28)]
        days: i64,
        /// Number of topics; by default chosen by silhouette from 2 to 20.
        #[arg(long)]
        topics: Option<usize>,
    },
    /// Check a window against the newest baseline of a name.
    Check {
        /// Name of the baseline.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        source: SourceArgs,
        /// Window of logged calls: daily or weekly (the last complete UTC
        /// day or Monday-to-Monday week), or a number of hours before now.
        #[arg(long, default_value = "weekly", value_parser = parse_window)]
        window: WindowPlan,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Markdown)]
        format: Format,
        /// Write the report here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Post a summary (no input texts) to this URL on a warning or alert.
        #[arg(long, value_name = "URL")]
        webhook: Option<String>,
        /// Write the inputs of drifted topics as JSON Lines on an alert.
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
    },
    /// Print the stored reports of the newest baseline of a name, oldest
    /// first, and the newest report in full.
    Report {
        /// Name of the baseline.
        #[arg(long)]
        name: String,
        /// Output format of the newest report.
        #[arg(long, value_enum, default_value_t = Format::Markdown)]
        format: Format,
        /// Write the output here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct SourceArgs {
    /// Read inputs from this file instead of the logged calls.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Only the calls of this prompt.
    #[arg(long)]
    prompt: Option<String>,
    /// Dimensions of the hashing embedder, 8 to 4096.
    #[arg(long, default_value_t = 384, value_parser = clap::value_parser!(u16).range(8..=4096))]
    dimensions: u16,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Markdown,
    Html,
    Json,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, Failure> {
    block_on(run_async(args))?
}

async fn run_async(args: Args) -> Result<ExitCode, Failure> {
    let store = Store::connect(&args.db).await.map_err(usage_or_other)?;
    let drift = DriftStore::open(store.clone())
        .await
        .map_err(drift_failure)?;
    match args.command {
        DriftCommand::Baseline {
            name,
            source,
            days,
            topics,
        } => {
            let span = WindowSpan {
                start_ms: now_ms() - days * DAY_MS,
                end_ms: now_ms(),
            };
            let window = read_window(&store, &source, span).await?;
            let embedder = HashingEmbedder::new(usize::from(source.dimensions));
            let topics = topics.map_or(
                TopicCount::Silhouette { min: 2, max: 20 },
                TopicCount::Fixed,
            );
            let config = BaselineConfig::default().topics(topics);
            let baseline = Baseline::build(&embedder, &window, &config)
                .await
                .map_err(drift_failure)?;
            let id = drift
                .save_baseline(&name, &baseline)
                .await
                .map_err(drift_failure)?;
            outln!(
                "saved baseline {id} of {name}: {} inputs, {} topics",
                baseline.inputs,
                baseline.topics.len()
            );
            for topic in &baseline.topics {
                outln!(
                    "  {:>3} {:>6} inputs  {}",
                    topic.id,
                    topic.size,
                    topic.label()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DriftCommand::Check {
            name,
            source,
            window,
            format,
            out,
            webhook,
            export,
        } => {
            let stored = drift.latest_baseline(&name).await.map_err(drift_failure)?;
            let span = window.last_complete(now_ms()).map_err(drift_failure)?;
            let inputs = read_window(&store, &source, span).await?;
            let embedder = HashingEmbedder::new(usize::from(source.dimensions));
            let check = DriftCheck::new(stored.baseline, Policy::default());
            let outcome = check
                .check(&embedder, &inputs)
                .await
                .map_err(drift_failure)?;
            drift
                .save_report(stored.id, span, &outcome.report)
                .await
                .map_err(drift_failure)?;

            let mut actions = Actions::new();
            if let Some(url) = webhook {
                actions = actions.on(Severity::Warning, Webhook::new(url));
            }
            if let Some(path) = export {
                actions = actions.on(Severity::Alert, JsonlExport::new(path));
            }
            for record in actions.run(&outcome).await {
                let status = if record.ok { "done" } else { "failed" };
                eprintln!("{} {status}: {}", record.action, record.detail);
            }

            let text = match format {
                Format::Markdown => render_markdown(&outcome.report),
                Format::Html => render_html(&outcome.report),
                Format::Json => serde_json::to_string_pretty(&outcome.report)
                    .context("failed to serialise the report")?,
            };
            write_output(out.as_deref(), &text)?;
            Ok(if outcome.report.is_drift() {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            })
        }
        DriftCommand::Report { name, format, out } => {
            let stored = drift.latest_baseline(&name).await.map_err(drift_failure)?;
            let reports = drift.reports(stored.id).await.map_err(drift_failure)?;
            let Some(newest) = reports.last() else {
                return Err(Failure::Usage(format!(
                    "baseline {name} has no reports yet; run `llmops drift check --name {name}` first"
                )));
            };
            let text = match format {
                Format::Json => {
                    let all: Vec<_> = reports.iter().map(|r| &r.report).collect();
                    serde_json::to_string_pretty(&all).context("failed to serialise the reports")?
                }
                Format::Markdown => format!(
                    "{}\n{}",
                    series_markdown(&reports),
                    render_markdown(&newest.report)
                ),
                Format::Html => render_html(&newest.report).replacen(
                    "<h2>Topic shares</h2>",
                    &format!(
                        "<h2>Windows</h2><pre>{}</pre><h2>Topic shares</h2>",
                        series_markdown(&reports).replace('<', "&lt;")
                    ),
                    1,
                ),
            };
            write_output(out.as_deref(), &text)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One Markdown table row per stored report.
fn series_markdown(reports: &[llmops_drift::StoredReport]) -> String {
    let mut out = String::from(
        "| Window start (UTC ms) | Inputs | Severity | PSI | JS | AUC |\n|---|---|---|---|---|---|\n",
    );
    for stored in reports {
        let value = |measure: Measure| {
            stored
                .report
                .measure(&measure)
                .and_then(|m| m.measurement.statistic())
                .map_or_else(|| "–".to_string(), |v| format!("{v:.3}"))
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            stored.window.start_ms,
            stored.report.current_inputs,
            stored.report.severity.as_str(),
            value(Measure::TopicPsi),
            value(Measure::TopicJensenShannon),
            value(Measure::DomainClassifierAuc)
        ));
    }
    out
}

async fn read_window(
    store: &Store,
    source: &SourceArgs,
    span: WindowSpan,
) -> Result<Window, Failure> {
    if let Some(path) = &source.input {
        return read_file(path);
    }
    // Opening the registry creates its tables in a new database, so an
    // empty one reads as no calls rather than as a missing table.
    llmops_registry::Registry::open(store.clone())
        .await
        .map_err(|error| Failure::Other(anyhow::Error::new(error)))?;
    let mut calls = RegistryCalls::new(store.clone());
    if let Some(prompt) = &source.prompt {
        calls = calls.prompt(prompt.clone());
    }
    calls.window(span).await.map_err(drift_failure)
}

/// Reads JSON Lines with a "text" field, or plain lines; blank lines are
/// skipped. A line that is a JSON object must have a string "text" field,
/// so a misspelt field is an error instead of an input.
fn read_file(path: &Path) -> Result<Window, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| Failure::Usage(format!("cannot read {}: {error}", path.display())))?;
    let mut texts = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<serde_json::Value>(line).ok();
        match parsed.as_ref().and_then(|value| value.as_object()) {
            Some(object) => match object.get("text").and_then(|t| t.as_str()) {
                Some(text) => texts.push(text.to_string()),
                None => {
                    return Err(Failure::Usage(format!(
                        "{} line {}: a JSON object needs a string \"text\" field; rename the field, or write the input as a plain line",
                        path.display(),
                        index + 1
                    )));
                }
            },
            None => texts.push(line.to_string()),
        }
    }
    if texts.is_empty() {
        return Err(Failure::Usage(format!(
            "no texts in {}: the file is empty or holds only blank lines; give a file with one input per line, or JSON Lines with a \"text\" field",
            path.display()
        )));
    }
    Ok(Window::new(texts))
}

fn write_output(path: Option<&Path>, text: &str) -> Result<(), Failure> {
    match path {
        Some(path) => crate::file_out::write_file(path, text)?,
        None => out!("{text}"),
    }
    Ok(())
}

fn parse_window(text: &str) -> Result<WindowPlan, String> {
    match text {
        "daily" => Ok(WindowPlan::Calendar { days: 1 }),
        "weekly" => Ok(WindowPlan::Calendar { days: 7 }),
        hours => match hours.parse::<i64>().ok().filter(|hours| *hours > 0) {
            Some(hours) => hours
                .checked_mul(HOUR_MS)
                .map(|length_ms| WindowPlan::Rolling { length_ms })
                .ok_or_else(|| {
                    format!(
                        "invalid window `{text}`: the window is too long; use at most 100000 hours"
                    )
                }),
            None => Err(format!(
                "invalid window `{text}`: use daily, weekly or a positive number of hours"
            )),
        },
    }
}

/// Maps errors the user can fix to exit 2 and the rest to exit 1.
fn drift_failure(error: DriftError) -> Failure {
    match error {
        DriftError::BaselineNotFound { .. }
        | DriftError::InvalidParameter { .. }
        | DriftError::Store(llmops_store::StoreError::InvalidUrl { .. }) => {
            Failure::Usage(error.to_string())
        }
        other => Failure::Other(other.into()),
    }
}
