//! Times topic clustering and the drift check of the crate on synthetic
//! 384-dimensional embeddings, the Rust side of `benches/compare_100k.sh`.
//!
//! ```sh
//! cargo run --release -p llmops-drift --example bench_100k -- generate DIR --rows 100000
//! cargo run --release -p llmops-drift --example bench_100k -- run DIR --rows 100000 --scenario drift
//! ```
//!
//! `generate` writes a reference window and two current windows as `.npy`
//! files, which `benches/python/evidently_embeddings.py` reads too. The
//! window `none` samples the reference mixture again, and `drift` shifts
//! topic shares and adds a new topic. `run` reads the first `--rows` rows of the reference and of
//! one current window, builds a baseline with the default
//! [`BaselineConfig`], times each stage and prints a line starting with
//! `RESULT ` holding a JSON object.

mod data;
mod npy;

use std::path::{Path, PathBuf};
use std::time::Instant;

use llmops_drift::stats::{self, DomainClassifierConfig, MmdConfig};
use llmops_drift::{
    Baseline, BaselineConfig, DriftCheck, DriftError, Measurement, Policy, Severity, Window,
};
use serde_json::{Value, json};

use data::Scenario;

/// Failures of the benchmark program.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BenchError {
    /// Reading or writing a data file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A data file is not in the expected `.npy` layout.
    #[error("{path}: {reason}; regenerate it with `bench_100k generate`")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The command line is invalid.
    #[error("{0}")]
    Usage(String),
    /// The drift crate failed.
    #[error(transparent)]
    Drift(#[from] DriftError),
}

impl BenchError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

const USAGE: &str = "usage: bench_100k generate DIR [--rows N] [--seed S]
       bench_100k run DIR [--rows N] --scenario none|drift";

fn main() -> Result<(), BenchError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(command), Some(directory)) = (args.first(), args.get(1)) else {
        return Err(BenchError::Usage(USAGE.into()));
    };
    let directory = PathBuf::from(directory);
    let rows: usize = parse_option(&args, "--rows")?.unwrap_or(100_000);
    match command.as_str() {
        "generate" => {
            let seed: u64 = parse_option(&args, "--seed")?.unwrap_or(20_261_205);
            data::generate(&directory, rows, seed)?;
            println!("wrote {rows} rows per window to {}", directory.display());
            Ok(())
        }
        "run" => {
            let scenario = option(&args, "--scenario")
                .ok_or_else(|| BenchError::Usage(USAGE.into()))
                .and_then(Scenario::parse)?;
            let result = run(&directory, rows, scenario)?;
            println!("RESULT {result}");
            Ok(())
        }
        _ => Err(BenchError::Usage(USAGE.into())),
    }
}

fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1))
        .map(String::as_str)
}

fn parse_option<T: std::str::FromStr>(
    args: &[String],
    name: &str,
) -> Result<Option<T>, BenchError> {
    option(args, name)
        .map(|value| {
            value
                .parse()
                .map_err(|_| BenchError::Usage(format!("invalid {name} {value:?}\n{USAGE}")))
        })
        .transpose()
}

/// Peak resident set size of this process so far, in MiB, from `VmHWM` in
/// `/proc/self/status` (Linux only; 0 elsewhere).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU seconds (user and system, all threads) of this process so far, from
/// `/proc/self/stat` at 100 ticks per second (Linux only; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Times `work` and records its wall and CPU seconds and the peak RSS
/// after it.
fn stage<T>(
    stages: &mut Vec<Value>,
    name: &str,
    work: impl FnOnce() -> Result<T, BenchError>,
) -> Result<T, BenchError> {
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let value = work()?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let rss = peak_rss_mib();
    eprintln!("{name:<28} {seconds:>8.3} s wall {cpu:>8.2} s CPU   peak RSS {rss:>7.0} MiB");
    stages.push(json!({
        "stage": name,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mib": rss,
    }));
    Ok(value)
}

fn window(
    directory: &Path,
    name: &str,
    rows: usize,
) -> Result<(Vec<Vec<f32>>, Window), BenchError> {
    let vectors = npy::read_f32_rows(&directory.join(format!("{name}.npy")), rows)?;
    let intents = npy::read_i32_column(&directory.join(format!("{name}.intents.npy")), rows)?;
    let texts = intents
        .iter()
        .enumerate()
        .map(|(row, &intent)| data::text_for(intent, row));
    Ok((vectors, Window::new(texts)))
}

fn measurement_json(measurement: &Measurement) -> Value {
    json!({ "statistic": measurement.statistic(), "p_value": measurement.p_value() })
}

/// Seconds of what a user runs: the baseline build and the full check. The
/// stages in between repeat parts of the check to time them alone.
fn end_to_end_seconds(stages: &[Value], field: &str) -> f64 {
    stages
        .iter()
        .filter(|s| s["stage"] == BASELINE_STAGE || s["stage"] == CHECK_STAGE)
        .filter_map(|s| s[field].as_f64())
        .sum()
}

const BASELINE_STAGE: &str = "baseline (cluster, label)";
const CHECK_STAGE: &str = "full check (all measures)";

fn run(directory: &Path, rows: usize, scenario: Scenario) -> Result<Value, BenchError> {
    let mut stages = Vec::new();
    let current_name = format!("current_{}", scenario.name());
    let ((reference, reference_window), (current, current_window)) =
        stage(&mut stages, "load", || {
            Ok((
                window(directory, "reference", rows)?,
                window(directory, &current_name, rows)?,
            ))
        })?;
    let rows = reference.len().min(current.len());

    let config = BaselineConfig::default();
    let baseline = stage(&mut stages, BASELINE_STAGE, || {
        Ok(Baseline::from_embeddings(
            "synthetic-384",
            &reference_window,
            reference,
            &config,
        )?)
    })?;
    let assignments = stage(&mut stages, "assign current", || {
        Ok(baseline.assign(&current)?)
    })?;
    let centroid = stage(&mut stages, "centroid cosine", || {
        Ok(stats::centroid_cosine_distance(
            &baseline.embeddings,
            &current,
        )?)
    })?;
    let mmd = stage(&mut stages, "MMD + permutation test", || {
        Ok(stats::mmd_rbf(
            &baseline.embeddings,
            &current,
            &MmdConfig::default(),
        )?)
    })?;
    let auc = stage(&mut stages, "domain classifier AUC", || {
        Ok(stats::domain_classifier_auc(
            &baseline.embeddings,
            &current,
            &DomainClassifierConfig::default(),
        )?)
    })?;
    let topics = baseline.topics.len();
    let silhouette = baseline.silhouette;
    let new_topic_inputs = baseline
        .topic_counts(&assignments)
        .last()
        .copied()
        .unwrap_or(0.0);

    let check = DriftCheck::new(baseline, Policy::default());
    let outcome = stage(&mut stages, CHECK_STAGE, || {
        Ok(check.check_embeddings(&current_window, current)?)
    })?;
    let report = &outcome.report;
    let measures: Vec<Value> = report
        .measures
        .iter()
        .map(|m| {
            json!({
                "measure": m.measure.name(),
                "severity": m.severity.as_str(),
                "value": measurement_json(&m.measurement),
            })
        })
        .collect();

    Ok(json!({
        "side": "llmops-drift",
        "scenario": scenario.name(),
        "rows": rows,
        "topics": topics,
        "silhouette": silhouette,
        "new_topic_inputs": new_topic_inputs,
        "new_topics_reported": report.new_topics.len(),
        "centroid_cosine": measurement_json(&centroid),
        "mmd": measurement_json(&mmd),
        "domain_classifier_auc": measurement_json(&auc),
        "severity": report.severity.as_str(),
        "drift": report.is_drift(),
        "warning_or_worse": report.severity >= Severity::Warning,
        "measures": measures,
        "stages": stages,
        "total_seconds": end_to_end_seconds(&stages, "seconds"),
        "total_cpu_seconds": end_to_end_seconds(&stages, "cpu_seconds"),
        "peak_rss_mib": peak_rss_mib(),
    }))
}
