//! Token-counting throughput on real English and Korean text, side by side
//! with Python `tiktoken`.
//!
//! `cargo bench --bench tokens` runs the Criterion groups, then times the
//! same per-text loop in Rust and in `benches/python/tiktoken_compare.py`
//! in the same run. The script checks that every count is identical and
//! prints the throughput ratio; the benchmark fails when a count differs.
//! Without Python `tiktoken` the comparison is skipped with a message.

// A benchmark that cannot read its data should stop with the reason, and
// `criterion_group!` generates an undocumented function.
#![allow(clippy::panic, missing_docs)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use llmops_core::tokens::Encoding;
use serde_json::{Value, json};

/// Timed repetitions per corpus in the side-by-side run; the fastest counts.
const REPETITIONS: usize = 7;

struct Corpus {
    name: &'static str,
    texts: Vec<String>,
}

impl Corpus {
    fn bytes(&self) -> u64 {
        self.texts.iter().map(|text| text.len() as u64).sum()
    }
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/tokens")
}

fn read_jsonl(file: &str, text_of: impl Fn(&Value) -> Option<String>) -> Vec<String> {
    let path = data_dir().join(file);
    let contents = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    contents
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("invalid JSON line in {file}: {error}"));
            text_of(&value).unwrap_or_else(|| panic!("a line of {file} has no text"))
        })
        .collect()
}

fn corpora() -> Vec<Corpus> {
    let scifact = read_jsonl("scifact-corpus.jsonl", |value| {
        Some(format!(
            "{}\n{}",
            value.get("title")?.as_str()?,
            value.get("text")?.as_str()?
        ))
    });
    let klue = read_jsonl("klue-ner-dev-first300.spans.jsonl", |value| {
        Some(value.get("text")?.as_str()?.to_owned())
    });
    vec![
        Corpus {
            name: "scifact",
            texts: scifact,
        },
        Corpus {
            name: "klue",
            texts: klue,
        },
    ]
}

const ENCODINGS: [Encoding; 2] = [Encoding::O200kBase, Encoding::Cl100kBase];

fn count_all(encoding: Encoding, texts: &[String]) -> u64 {
    texts.iter().map(|text| encoding.count(text)).sum()
}

fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("count_tokens");
    // One iteration counts a whole corpus (tens of milliseconds), so fewer
    // samples than the default 100 still give a stable mean.
    group.sample_size(20);
    for corpus in corpora() {
        group.throughput(Throughput::Bytes(corpus.bytes()));
        for encoding in ENCODINGS {
            // Load the ranks before timing.
            encoding.count("warm up");
            group.bench_function(format!("{}/{}", corpus.name, encoding.name()), |b| {
                b.iter(|| count_all(encoding, black_box(&corpus.texts)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, throughput);

/// Times the per-text loop in Rust and writes the counts and times for the
/// Python script to compare.
fn rust_results() -> Value {
    let mut runs = Vec::new();
    for corpus in corpora() {
        for encoding in ENCODINGS {
            encoding.count("warm up");
            let counts: Vec<u64> = corpus
                .texts
                .iter()
                .map(|text| encoding.count(text))
                .collect();
            let mut best = Duration::MAX;
            for _ in 0..REPETITIONS {
                let start = Instant::now();
                black_box(count_all(encoding, black_box(&corpus.texts)));
                best = best.min(start.elapsed());
            }
            runs.push(json!({
                "corpus": corpus.name,
                "encoding": encoding.name(),
                "bytes": corpus.bytes(),
                "counts": counts,
                "seconds": best.as_secs_f64(),
            }));
        }
    }
    json!({"repetitions": REPETITIONS, "runs": runs})
}

fn compare_with_python() {
    let results_path =
        std::env::temp_dir().join(format!("llmops-tokens-bench-{}.json", std::process::id()));
    let results = rust_results();
    if let Err(error) = std::fs::write(&results_path, results.to_string()) {
        panic!("cannot write {}: {error}", results_path.display());
    }

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/python/tiktoken_compare.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg("--rust-results")
        .arg(&results_path)
        .arg("--data-dir")
        .arg(data_dir())
        .status();
    let _ = std::fs::remove_file(&results_path);
    match status {
        Ok(status) if status.success() => {}
        // The script exits with 3 when Python tiktoken is not installed.
        Ok(status) if status.code() == Some(3) => {
            eprintln!("side-by-side comparison skipped: Python tiktoken is not available")
        }
        Ok(status) => {
            eprintln!("side-by-side comparison failed ({status})");
            std::process::exit(1);
        }
        Err(error) => eprintln!("side-by-side comparison skipped: cannot run python3: {error}"),
    }
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();

    // `cargo bench` passes --bench; `cargo test --benches` does not, and
    // then only the Criterion groups run, once each.
    if std::env::args().any(|arg| arg == "--bench") {
        compare_with_python();
    }
}
