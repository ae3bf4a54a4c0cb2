//! `llmops eval labels`: export judged cases for human review, check
//! imported labels, and measure judge-human agreement.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use llmops_eval::judge::JudgeScale;
use llmops_eval::labels::{
    judge_agreement, read_labels, review_items, write_review_csv, write_review_jsonl,
};
use llmops_eval::{Dataset, EvalRun, ResultStore};

use crate::failure::Failure;

/// Export cases for review, import labels, and compare them with a judge.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum LabelsCommand {
    /// Write a run's cases with model output and judge score to a review
    /// file (CSV for `.csv`, JSON Lines otherwise) with an empty `label`.
    Export {
        /// The run id.
        #[arg(long)]
        run_id: String,
        /// The dataset the run evaluated.
        #[arg(long)]
        dataset: PathBuf,
        /// The judge metric whose scores go into the file.
        #[arg(long)]
        metric: String,
        /// The review file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Validate a labelled review file and print how many cases carry each
    /// label.
    Import {
        /// The dataset the labels belong to.
        #[arg(long)]
        dataset: PathBuf,
        /// The labelled file (CSV for `.csv`, JSON Lines otherwise) with
        /// `case_id` and `label` columns.
        #[arg(long)]
        labels: PathBuf,
        /// The label scale: `pass-fail` or MIN-MAX such as `1-5`.
        #[arg(long)]
        scale: JudgeScale,
    },
    /// Print the agreement of a run's judge scores with human labels:
    /// accuracy and Cohen's kappa (quadratic-weighted too on points scales).
    Agreement {
        /// The run id.
        #[arg(long)]
        run_id: String,
        /// The dataset the run evaluated.
        #[arg(long)]
        dataset: PathBuf,
        /// The judge metric.
        #[arg(long)]
        metric: String,
        /// The labelled file.
        #[arg(long)]
        labels: PathBuf,
        /// The label scale; by default the metric's range (0 to 1 reads as
        /// pass-fail, else whole points).
        #[arg(long)]
        scale: Option<JudgeScale>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn run(
    results: &ResultStore,
    command: LabelsCommand,
) -> Result<ExitCode, Failure> {
    match command {
        LabelsCommand::Export {
            run_id,
            dataset,
            metric,
            out,
        } => {
            let run = results
                .load_run(&run_id)
                .await
                .map_err(crate::eval::eval_failure)?;
            let dataset = crate::eval::load_dataset(&dataset)?;
            let items = review_items(&run, &dataset, &metric).map_err(crate::eval::eval_failure)?;
            let written = if is_csv(&out) {
                write_review_csv(&items, &out)
            } else {
                write_review_jsonl(&items, &out)
            };
            written.map_err(crate::eval::eval_failure)?;
            eprintln!(
                "wrote {} cases to {}; fill in `label` and import it",
                items.len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        LabelsCommand::Import {
            dataset,
            labels,
            scale,
        } => {
            let dataset = crate::eval::load_dataset(&dataset)?;
            let set = read_labels(&labels, &case_ids(&dataset), scale)
                .map_err(crate::eval::eval_failure)?;
            println!(
                "{} labelled, {} unlabelled",
                set.labels.len(),
                set.unlabelled
            );
            for value in scale.values() {
                let count = set.labels.values().filter(|label| **label == value).count();
                println!("  {value}: {count}");
            }
            Ok(ExitCode::SUCCESS)
        }
        LabelsCommand::Agreement {
            run_id,
            dataset,
            metric,
            labels,
            scale,
            json,
        } => {
            let run = results
                .load_run(&run_id)
                .await
                .map_err(crate::eval::eval_failure)?;
            let dataset = crate::eval::load_dataset(&dataset)?;
            let scale = match scale {
                Some(scale) => scale,
                None => scale_of(&run, &metric)?,
            };
            let set = read_labels(&labels, &case_ids(&dataset), scale)
                .map_err(crate::eval::eval_failure)?;
            let scores = run
                .results
                .iter()
                .filter_map(|result| Some((result.case_id.as_str(), result.scores.get(&metric)?)));
            let agreement = judge_agreement(scores, &set, scale);
            if json {
                let text = serde_json::to_string_pretty(&agreement)
                    .context("failed to encode the agreement")?;
                println!("{text}");
            } else {
                println!(
                    "pairs: {} (judge undetermined: {})",
                    agreement.pairs, agreement.judge_undetermined
                );
                println!("accuracy: {}", format_option(agreement.accuracy));
                println!("cohen_kappa: {}", format_option(agreement.kappa));
                if let JudgeScale::Points { .. } = scale {
                    println!(
                        "quadratic_kappa: {}",
                        format_option(agreement.quadratic_kappa)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn scale_of(run: &EvalRun, metric: &str) -> Result<JudgeScale, Failure> {
    let range = run.info.metrics.get(metric).ok_or_else(|| {
        Failure::Usage(format!(
            "run `{}` has no metric `{metric}`",
            run.info.run_id
        ))
    })?;
    if range.is_unit() {
        return Ok(JudgeScale::PassFail);
    }
    let whole = |value: f64| value.fract() == 0.0 && (0.0..=1_000.0).contains(&value);
    if !whole(range.min) || !whole(range.max) {
        return Err(Failure::Usage(format!(
            "metric `{metric}` ranges from {} to {}, not whole points; pass --scale",
            range.min, range.max
        )));
    }
    format!("{}-{}", range.min, range.max)
        .parse()
        .map_err(Failure::Usage)
}

fn case_ids(dataset: &Dataset) -> HashSet<String> {
    dataset.cases().iter().map(|case| case.id.clone()).collect()
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"))
}

fn format_option(value: Option<f64>) -> String {
    value.map_or_else(|| "undefined".to_owned(), |value| format!("{value:.4}"))
}
