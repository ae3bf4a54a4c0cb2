//! ROUGE-L (plain and with Porter stemming) and sentence BLEU over 100,000
//! generated pairs, side by side with Python's rouge-score and sacreBLEU on
//! the same pairs in the same run. Both sides run on one thread, and the
//! Rust timings end before the pairs file for Python is written. Rust
//! reports the median of five runs per metric and prints each run; Python
//! runs once.
//!
//! Each metric gets a wall-clock and a CPU-time speed-up. On a machine
//! shared with other work the CPU time is steadier: the Rust side runs for
//! about a second, so a burst of other processes changes its wall time far
//! more than that of the minutes-long Python side.
//!
//! Run with `cargo bench -p llmops-eval --bench text_metrics`. Set
//! `EVAL_BENCH_PAIRS` to change the pair count and `EVAL_BENCH_PYTHON` to
//! the interpreter (default `python3`, which needs `pip install sacrebleu
//! rouge-score`). When Python or a package is missing, only Rust is timed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::process::Command;
use std::time::Instant;

use llmops_eval::text::{RougeOptions, rouge_l, rouge_l_with, sentence_bleu};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const WORDS: &[&str] = &[
    "the",
    "model",
    "answer",
    "is",
    "a",
    "of",
    "to",
    "and",
    "in",
    "that",
    "data",
    "training",
    "evaluation",
    "metric",
    "score",
    "results",
    "show",
    "improves",
    "over",
    "baseline",
    "by",
    "3.5",
    "%",
    "(",
    ")",
    ",",
    ".",
    "we",
    "propose",
    "new",
    "method",
    "for",
    "large",
    "language",
    "models",
    "Seoul",
    "Paris",
    "naïve",
    "café",
    "東京",
    "it's",
    "state-of-the-art",
    "2026",
    "-",
    "e.g.",
];

fn sentence(rng: &mut StdRng) -> Vec<&'static str> {
    let length = rng.random_range(5..40);
    (0..length)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect()
}

fn pairs(count: usize) -> Vec<(String, String)> {
    let mut rng = StdRng::seed_from_u64(42);
    (0..count)
        .map(|_| {
            let reference = sentence(&mut rng);
            let mut hypothesis: Vec<&str> = reference
                .iter()
                .copied()
                .filter(|_| rng.random_bool(0.75))
                .collect();
            for _ in 0..rng.random_range(0..6) {
                let at = rng.random_range(0..=hypothesis.len());
                hypothesis.insert(at, WORDS[rng.random_range(0..WORDS.len())]);
            }
            (hypothesis.join(" "), reference.join(" "))
        })
        .collect()
}

/// Wall-clock and CPU seconds of one timed run.
#[derive(Clone, Copy)]
struct Timing {
    wall: f64,
    cpu: f64,
}

/// Runs `work` and returns its result with its wall-clock time and the CPU
/// time of this thread.
fn timed_once<T>(work: impl FnOnce() -> T) -> (T, Timing) {
    let (start, cpu_start) = (Instant::now(), thread_cpu_seconds());
    let result = work();
    let timing = Timing {
        wall: start.elapsed().as_secs_f64(),
        cpu: thread_cpu_seconds() - cpu_start,
    };
    (result, timing)
}

/// Rust runs of each metric; the median of their timings is reported. One
/// run lasts well under a second, so a single one is swayed by a cold cache
/// or a burst of other work, where Python's run of many seconds averages
/// such effects out.
const RUST_RUNS: usize = 5;

/// Runs `work` [`RUST_RUNS`] times and returns the last result with the
/// timing of the median run by wall-clock time. Prints every run's wall
/// time, the first included.
fn timed<T>(name: &str, mut work: impl FnMut() -> T) -> (T, Timing) {
    let mut timings = Vec::with_capacity(RUST_RUNS);
    let mut result = None;
    for _ in 0..RUST_RUNS {
        let (value, timing) = timed_once(&mut work);
        timings.push(timing);
        result = Some(value);
    }
    let walls: Vec<String> = timings.iter().map(|t| format!("{:.3}", t.wall)).collect();
    println!("{name} Rust runs (s): {}", walls.join(", "));
    timings.sort_by(|a, b| a.wall.total_cmp(&b.wall));
    (result.unwrap(), timings[RUST_RUNS / 2])
}

/// Returns the user plus system CPU time of this thread from
/// `/proc/thread-self/stat`, or NaN where that file is missing.
fn thread_cpu_seconds() -> f64 {
    // Linux reports both fields in USER_HZ ticks, 100 per second on
    // x86-64 and arm64.
    const TICKS_PER_SECOND: f64 = 100.0;
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return f64::NAN;
    };
    // The fields after the command name, which may contain spaces, start
    // with the state (field 3); utime and stime are fields 14 and 15.
    let Some((_, fields)) = stat.rsplit_once(')') else {
        return f64::NAN;
    };
    let fields: Vec<&str> = fields.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|value| value.parse::<f64>().ok())
    };
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / TICKS_PER_SECOND,
        _ => f64::NAN,
    }
}

struct Python {
    rouge_l: Vec<f64>,
    rouge_l_stemmed: Vec<f64>,
    bleu: Vec<f64>,
    rouge_l_time: Timing,
    rouge_l_stemmed_time: Timing,
    bleu_time: Timing,
}

fn run_python(pairs: &[(String, String)]) -> Option<Python> {
    let folder = tempfile::tempdir().ok()?;
    let input = folder.path().join("pairs.jsonl");
    let output = folder.path().join("python.json");
    let mut file = std::fs::File::create(&input).ok()?;
    for (hypothesis, reference) in pairs {
        let line = serde_json::json!({"hypothesis": hypothesis, "reference": reference});
        writeln!(file, "{line}").ok()?;
    }
    drop(file);

    let interpreter = std::env::var("EVAL_BENCH_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/python/time_reference.py"
    );
    let status = Command::new(interpreter)
        .arg(script)
        .arg(&input)
        .arg(&output)
        .status()
        .ok()?;
    if !status.success() {
        eprintln!("the Python reference failed ({status}); timing Rust only");
        return None;
    }
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).ok()?).ok()?;
    let floats = |key: &str| -> Option<Vec<f64>> {
        value[key]
            .as_array()?
            .iter()
            .map(serde_json::Value::as_f64)
            .collect()
    };
    let timing = |metric: &str| -> Option<Timing> {
        Some(Timing {
            wall: value[format!("{metric}_seconds")].as_f64()?,
            cpu: value[format!("{metric}_cpu_seconds")].as_f64()?,
        })
    };
    Some(Python {
        rouge_l: floats("rouge_l")?,
        rouge_l_stemmed: floats("rouge_l_stemmed")?,
        bleu: floats("bleu")?,
        rouge_l_time: timing("rouge_l")?,
        rouge_l_stemmed_time: timing("rouge_l_stemmed")?,
        bleu_time: timing("bleu")?,
    })
}

fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn main() {
    let count: usize = std::env::var("EVAL_BENCH_PAIRS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(100_000);
    let pairs = pairs(count);

    let (rouge, rouge_time) = timed("ROUGE-L", || -> Vec<f64> {
        pairs.iter().map(|(h, r)| rouge_l(r, h).fmeasure).collect()
    });
    let stemmed = RougeOptions::default().with_stemmer(true);
    let (rouge_stemmed, stemmed_time) = timed("ROUGE-L stemmed", || -> Vec<f64> {
        pairs
            .iter()
            .map(|(h, r)| rouge_l_with(r, h, stemmed).fmeasure)
            .collect()
    });
    let (bleu, bleu_time) = timed("BLEU", || -> Vec<f64> {
        pairs
            .iter()
            .map(|(h, r)| sentence_bleu(h, &[r]).score)
            .collect()
    });

    println!("pairs: {count}");
    println!(
        "| metric | Rust wall (s) | Python wall (s) | speed-up | Rust CPU (s) | Python CPU (s) | CPU speed-up | max abs difference |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let rows = [
        ("ROUGE-L", rouge_time, &rouge),
        ("ROUGE-L stemmed", stemmed_time, &rouge_stemmed),
        ("BLEU", bleu_time, &bleu),
    ];
    let Some(python) = run_python(&pairs) else {
        for (name, rust, _) in rows {
            println!(
                "| {name} | {:.3} | n/a | n/a | {:.2} | n/a | n/a | n/a |",
                rust.wall, rust.cpu
            );
        }
        return;
    };
    let python_rows = [
        (python.rouge_l_time, &python.rouge_l),
        (python.rouge_l_stemmed_time, &python.rouge_l_stemmed),
        (python.bleu_time, &python.bleu),
    ];
    for ((name, rust, values), (py, python_values)) in rows.into_iter().zip(python_rows) {
        println!(
            "| {name} | {:.3} | {:.3} | {:.0}x | {:.2} | {:.2} | {:.0}x | {:.1e} |",
            rust.wall,
            py.wall,
            py.wall / rust.wall,
            rust.cpu,
            py.cpu,
            py.cpu / rust.cpu,
            max_difference(values, python_values)
        );
    }
}
