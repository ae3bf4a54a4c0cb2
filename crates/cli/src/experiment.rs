//! `llmops experiment`: A/B experiments between prompt versions.

use anyhow::Context;
use llmops_registry::experiment::{
    AnalysisConfig, Arm, ArmTarget, ExperimentStatus, NewExperiment, Recommendation, Report,
    StoredExperiment,
};

use crate::failure::Failure;
use crate::output::outln;
use crate::prompt::{block_on, open_registry, registry_failure, utc_time};

/// Split a label's traffic between prompt versions, read the statistics,
/// and stop or promote the winner.
///
/// Calls logged with the arm that served them (the registry's
/// `CallRecord::served`) and scores attached to those calls are the data.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  llmops experiment create tone-test --prompt greet --label production --arm control=@1 --arm friendly=@2\n  llmops experiment status tone-test\n  llmops experiment promote tone-test"
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
    command: ExperimentCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ExperimentCommand {
    /// Start an experiment that splits a label's traffic between arms.
    Create {
        /// Experiment id, such as greet-tone-2026-12.
        id: String,
        /// Prompt name.
        #[arg(long)]
        prompt: String,
        /// The label whose traffic is split; promote moves it.
        #[arg(long, default_value = "production")]
        label: String,
        /// An arm, repeatable, the control first: NAME=@VERSION or NAME=:LABEL.
        #[arg(long = "arm", value_name = "NAME=TARGET", required = true)]
        arms: Vec<String>,
        /// Relative traffic shares in arm order, such as 90,10; equal when absent.
        #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
        weights: Vec<f64>,
        /// Who, recorded on the experiment.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// List experiments, newest first.
    List,
    /// Print an experiment's arms, statistics per metric and recommendation.
    Status {
        /// Experiment id.
        id: String,
        /// The metric that decides; default: the first in name order.
        #[arg(long)]
        primary: Option<String>,
        /// Print the full analysis as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop an experiment without a winner.
    Stop {
        /// Experiment id.
        id: String,
        /// Who, recorded on the experiment.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// Move the experiment's label to an arm's version and end it.
    Promote {
        /// Experiment id.
        id: String,
        /// The arm to promote; default: the winner the analysis recommends.
        #[arg(long)]
        arm: Option<String>,
        /// The metric that decides when --arm is absent.
        #[arg(long)]
        primary: Option<String>,
        /// Why, recorded in the label history.
        #[arg(long, default_value = "")]
        reason: String,
        /// Who, recorded in the label history.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    block_on(run_async(args))
}

async fn run_async(args: Args) -> Result<(), Failure> {
    let registry = open_registry(&args.db).await?;
    match args.command {
        ExperimentCommand::Create {
            id,
            prompt,
            label,
            arms,
            weights,
            actor,
        } => {
            let arms = parse_arms(&arms, &weights)?;
            let created = registry
                .create_experiment(&NewExperiment {
                    id: &id,
                    prompt: &prompt,
                    label: &label,
                    arms,
                    actor: &actor,
                })
                .await
                .map_err(registry_failure)?;
            outln!(
                "started {id}: {prompt}:{label} split {}",
                describe_arms(&created)
            );
        }
        ExperimentCommand::List => {
            for stored in registry.experiments().await.map_err(registry_failure)? {
                outln!(
                    "{}\t{}\t{}:{}\t{}\t{}",
                    stored.experiment.id(),
                    stored.status,
                    stored.prompt,
                    stored.label,
                    describe_arms(&stored),
                    utc_time(stored.created_at_ms)
                );
            }
        }
        ExperimentCommand::Status { id, primary, json } => {
            let stored = registry.experiment(&id).await.map_err(registry_failure)?;
            let report = registry
                .experiment_report(&id, &config(primary))
                .await
                .map_err(registry_failure)?;
            if json {
                let mut value = serde_json::to_value(&report).context("failed to print JSON")?;
                if let Some(object) = value.as_object_mut() {
                    object.insert("status".into(), stored.status.as_str().into());
                    object.insert("prompt".into(), stored.prompt.clone().into());
                    object.insert("label".into(), stored.label.clone().into());
                    object.insert("winner".into(), stored.winner.clone().into());
                    object.insert("ended_by".into(), stored.ended_by.clone().into());
                    object.insert("ended_at".into(), stored.ended_at_ms.map(utc_time).into());
                }
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&value).context("failed to print JSON")?
                );
            } else {
                print_status(&stored, &report);
            }
        }
        ExperimentCommand::Stop { id, actor } => {
            registry
                .stop_experiment(&id, &actor)
                .await
                .map_err(registry_failure)?;
            outln!("stopped {id}");
        }
        ExperimentCommand::Promote {
            id,
            arm,
            primary,
            reason,
            actor,
        } => {
            let stored = registry.experiment(&id).await.map_err(registry_failure)?;
            if stored.status != ExperimentStatus::Running {
                return Err(Failure::Usage(format!(
                    "experiment {id} is {}, so it no longer splits traffic and cannot be promoted; to ship an arm's version, move the label with `llmops prompt label`, or create a new experiment",
                    stored.status
                )));
            }
            let arm = match arm {
                Some(arm) => arm,
                None => {
                    let report = registry
                        .experiment_report(&id, &config(primary))
                        .await
                        .map_err(registry_failure)?;
                    match report.recommendation {
                        Recommendation::StopWinner { arm, .. } => arm,
                        other => {
                            return Err(Failure::Usage(format!(
                                "experiment {id} has no winner yet ({}); wait for more data or name the arm with --arm",
                                recommendation_text(&other)
                            )));
                        }
                    }
                }
            };
            let moved = registry
                .promote_experiment(&id, &arm, &actor, &reason)
                .await
                .map_err(registry_failure)?;
            outln!(
                "promoted {arm}: {}:{} {} -> {}",
                moved.prompt,
                moved.label,
                moved
                    .from_version
                    .map_or_else(|| "(none)".to_owned(), |v| v.to_string()),
                moved.to_version
            );
        }
    }
    Ok(())
}

fn config(primary: Option<String>) -> AnalysisConfig {
    AnalysisConfig {
        primary_metric: primary,
        ..AnalysisConfig::default()
    }
}

/// Parses `NAME=@VERSION` and `NAME=:LABEL` arms with their weights.
fn parse_arms(specs: &[String], weights: &[f64]) -> Result<Vec<Arm>, Failure> {
    if !weights.is_empty() && weights.len() != specs.len() {
        return Err(Failure::Usage(format!(
            "--weights has {} values for {} arms; give one weight per arm, in arm order",
            weights.len(),
            specs.len()
        )));
    }
    specs
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let malformed = || {
                Failure::Usage(format!(
                    "--arm {spec:?} is not NAME=@VERSION or NAME=:LABEL; write --arm control=@1 or --arm candidate=:staging"
                ))
            };
            let (name, target) = spec.split_once('=').ok_or_else(malformed)?;
            let target = if let Some(version) = target.strip_prefix('@') {
                ArmTarget::Version(version.parse().map_err(|_| malformed())?)
            } else if let Some(label) = target.strip_prefix(':') {
                ArmTarget::Label(label.to_owned())
            } else {
                return Err(malformed());
            };
            let weight = weights.get(index).copied().unwrap_or(1.0);
            Ok(Arm::new(name, target, weight))
        })
        .collect()
}

fn describe_arms(stored: &StoredExperiment) -> String {
    let shares = stored.experiment.shares();
    stored
        .experiment
        .arms()
        .iter()
        .zip(shares)
        .map(|(arm, share)| {
            let target = match &arm.target {
                ArmTarget::Version(version) => format!("@{version}"),
                ArmTarget::Label(label) => format!(":{label}"),
                other => format!("{other:?}"),
            };
            format!("{}={target} ({:.0}%)", arm.name, share * 100.0)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_status(stored: &StoredExperiment, report: &Report) {
    outln!(
        "{} ({}) on {}:{}, created {} by {}",
        stored.experiment.id(),
        stored.status,
        stored.prompt,
        stored.label,
        utc_time(stored.created_at_ms),
        stored.created_by
    );
    if let Some(winner) = &stored.winner {
        outln!("winner: {winner}");
    }
    outln!("arms: {}", describe_arms(stored));
    outln!(
        "sample ratio check: p = {:.4}{}",
        report.srm.p_value,
        if report.srm.mismatch {
            " (MISMATCH: the split is broken)"
        } else {
            ""
        }
    );
    for metric in &report.metrics {
        // experiment_report already marks the call-log metrics lower-is-better.
        let direction = if metric.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        outln!("\n{} ({}, {direction})", metric.name, metric.kind);
        for (index, arm) in metric.arms.iter().enumerate() {
            let best = metric
                .probability_best
                .as_ref()
                .and_then(|p| p.get(index))
                .map_or_else(String::new, |p| format!("  P(best) {:.3}", p));
            outln!(
                "  {:<12} n={:<6} {:.4}{best}",
                arm.arm,
                arm.count,
                arm.estimate
            );
        }
        for comparison in &metric.comparisons {
            outln!(
                "  {} vs control: p = {:.4} (fixed horizon), {:.4} (always valid)",
                comparison.arm,
                comparison.test.p_value,
                comparison.sequential.p_value
            );
        }
    }
    match (stored.status, stored.ended_at_ms) {
        (ExperimentStatus::Running, _) => outln!(
            "\nrecommendation: {}",
            recommendation_text(&report.recommendation)
        ),
        (status, ended_at_ms) => outln!(
            "\n{status} by {} at {}; the experiment no longer splits traffic",
            stored.ended_by.as_deref().unwrap_or("unknown"),
            ended_at_ms.map_or_else(|| "an unknown time".to_owned(), utc_time)
        ),
    }
}

fn recommendation_text(recommendation: &Recommendation) -> String {
    match recommendation {
        Recommendation::Continue { reason } => format!("continue: {reason}"),
        Recommendation::StopWinner { arm, reason } => format!("stop, {arm} wins: {reason}"),
        Recommendation::StopNoDifference { reason } => format!("stop, no difference: {reason}"),
        Recommendation::StopSampleRatioMismatch { reason } => {
            format!("stop, sample ratio mismatch: {reason}")
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arms_parse_versions_labels_and_weights() {
        let arms = parse_arms(&["a=@1".into(), "b=:staging".into()], &[90.0, 10.0]).unwrap();
        assert_eq!(arms[0], Arm::new("a", ArmTarget::Version(1), 90.0));
        assert_eq!(
            arms[1],
            Arm::new("b", ArmTarget::Label("staging".into()), 10.0)
        );
    }

    #[test]
    fn malformed_arms_and_weights_are_usage_errors() {
        for spec in ["a", "a=1", "a=@x", "a=@-1"] {
            let error = parse_arms(&[spec.into()], &[]).unwrap_err();
            assert!(
                error.to_string().contains("NAME=@VERSION"),
                "{spec}: {error}"
            );
        }
        let error = parse_arms(&["a=@1".into()], &[1.0, 2.0]).unwrap_err();
        assert!(error.to_string().contains("one weight per arm"), "{error}");
    }
}
