//! The `bench` driver: runs each engine in its own child process, collects
//! the reports and prints a comparison table.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};
use clap::ValueEnum;

use crate::report::EngineReport;

/// An inference engine under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Engine {
    /// llama.cpp through the `llama-cpp-2` bindings.
    LlamaCpp,
    /// The pure-Rust `llmops-local` backend.
    Llmops,
}

impl Engine {
    /// Returns the value of `--engine` that selects this engine.
    fn arg(self) -> &'static str {
        match self {
            Engine::LlamaCpp => "llama-cpp",
            Engine::Llmops => "llmops",
        }
    }
}

/// Settings shared by every run of a benchmark.
#[derive(Debug, Clone)]
pub(crate) struct BenchOptions {
    /// GGUF model file both engines load.
    pub(crate) model: PathBuf,
    /// Threads each engine uses.
    pub(crate) threads: usize,
    /// Runs per engine.
    pub(crate) runs: usize,
    /// Maximum tokens generated per run.
    pub(crate) max_tokens: usize,
    /// Engines to run, in order.
    pub(crate) engines: Vec<Engine>,
}

/// Runs every engine `options.runs` times, each run in a fresh child
/// process, and prints the per-run reports and the summary table.
pub(crate) fn run(options: &BenchOptions) -> anyhow::Result<()> {
    let mut reports: Vec<Vec<EngineReport>> = vec![Vec::new(); options.engines.len()];
    for run in 0..options.runs {
        // Alternate the order so neither engine always runs on a cooler CPU
        // or a warmer page cache.
        let mut order: Vec<usize> = (0..options.engines.len()).collect();
        if run % 2 == 1 {
            order.reverse();
        }
        for index in order {
            let report = run_child(options, options.engines[index])?;
            eprintln!("run {}: {}", run + 1, serde_json::to_string(&report)?);
            reports[index].push(report);
        }
    }
    print_summary(options, &reports);
    Ok(())
}

/// Re-executes this binary with `run-engine` and parses its JSON report.
fn run_child(options: &BenchOptions, engine: Engine) -> anyhow::Result<EngineReport> {
    let exe = std::env::current_exe().context("failed to find the benchmark binary")?;
    let threads = options.threads.to_string();
    let output = Command::new(exe)
        .arg("run-engine")
        .args(["--engine", engine.arg()])
        .arg("--model")
        .arg(&options.model)
        .args(["--threads", &threads])
        .args(["--max-tokens", &options.max_tokens.to_string()])
        // Both thread pools get the same size as the engine setting.
        .env("RAYON_NUM_THREADS", &threads)
        .env("OMP_NUM_THREADS", &threads)
        .output()
        .context("failed to start the engine process")?;
    if !output.status.success() {
        bail!(
            "engine {} failed with {}: {}",
            engine.arg(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .ok_or_else(|| anyhow::anyhow!("engine {} printed no JSON report", engine.arg()))?;
    serde_json::from_str(line).with_context(|| format!("invalid report from {}", engine.arg()))
}

/// Median, minimum and maximum of a sample.
#[derive(Debug, Clone, Copy)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    /// Summarises `values`, or returns `None` when there are none.
    fn of(values: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let mut sorted: Vec<f64> = values.into_iter().collect();
        sorted.sort_by(f64::total_cmp);
        let (first, last) = (*sorted.first()?, *sorted.last()?);
        let middle = sorted.len() / 2;
        let median = if sorted.len().is_multiple_of(2) {
            (sorted[middle - 1] + sorted[middle]) / 2.0
        } else {
            sorted[middle]
        };
        Some(Spread {
            median,
            min: first,
            max: last,
        })
    }

    fn cell(self, decimals: usize) -> String {
        format!(
            "{:.d$} ({:.d$}–{:.d$})",
            self.median,
            self.min,
            self.max,
            d = decimals
        )
    }
}

/// One row of the summary: a metric name, how to read it from a report and
/// the number of decimals to print.
type Metric = (&'static str, fn(&EngineReport) -> f64, usize);

const METRICS: &[Metric] = &[
    ("prompt tok/s", EngineReport::prompt_tokens_per_s, 0),
    ("generation tok/s", EngineReport::generation_tokens_per_s, 1),
    ("time to first token (ms)", |report| report.ttft_ms, 1),
    (
        "generation CPU ms/token",
        EngineReport::generation_cpu_ms_per_token,
        1,
    ),
    (
        "peak RSS (MiB)",
        |report| report.peak_rss_kib as f64 / 1024.0,
        1,
    ),
    (
        "RSS after generation (MiB)",
        |report| report.final_rss_kib as f64 / 1024.0,
        1,
    ),
    ("load (ms)", |report| report.load_ms, 1),
    ("prompt tokens", |report| report.prompt_tokens as f64, 0),
    (
        "generated tokens",
        |report| report.generated_tokens as f64,
        0,
    ),
];

/// Prints a Markdown table: one column per engine with the median and the
/// range, then the ratio of the last engine's median to the first's.
fn print_summary(options: &BenchOptions, reports: &[Vec<EngineReport>]) {
    let names: Vec<&str> = options.engines.iter().map(|engine| engine.arg()).collect();
    println!(
        "\n{} runs per engine, {} threads, up to {} generated tokens; median (min–max)\n",
        options.runs, options.threads, options.max_tokens
    );
    let ratio_header = if names.len() == 2 {
        format!(" | {} / {}", names[1], names[0])
    } else {
        String::new()
    };
    println!("| metric | {}{} |", names.join(" | "), ratio_header);
    println!(
        "|---|{}{}",
        "---|".repeat(names.len()),
        if names.len() == 2 { "---|" } else { "" }
    );
    for (name, read, decimals) in METRICS {
        let spreads: Vec<Option<Spread>> = reports
            .iter()
            .map(|runs| Spread::of(runs.iter().map(read)))
            .collect();
        let cells: Vec<String> = spreads
            .iter()
            .map(|spread| spread.map_or_else(|| "-".into(), |spread| spread.cell(*decimals)))
            .collect();
        let ratio = match spreads.as_slice() {
            [Some(base), Some(other)] => format!(" | {:.2}×", other.median / base.median),
            [_, _] => " | -".into(),
            _ => String::new(),
        };
        println!("| {name} | {}{ratio} |", cells.join(" | "));
    }
    for (engine, runs) in names.iter().zip(reports) {
        if let Some(report) = runs.first() {
            println!("\n{engine} output starts: {:?}", report.text_head);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn spread_odd_sample() {
        let spread = Spread::of([3.0, 1.0, 2.0]).unwrap();
        assert_eq!(spread.median, 2.0);
        assert_eq!(spread.min, 1.0);
        assert_eq!(spread.max, 3.0);
    }

    #[test]
    fn spread_even_sample_averages_middle() {
        let spread = Spread::of([4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(spread.median, 2.5);
    }

    #[test]
    fn spread_empty_sample_is_none() {
        assert!(Spread::of(std::iter::empty()).is_none());
    }
}
