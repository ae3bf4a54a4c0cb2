//! ROUGE-L (plain and with Porter stemming) and sentence BLEU over 100,000
//! generated pairs, side by side with Python's rouge-score and sacreBLEU on
//! the same pairs in the same run. Both sides run on one thread, and the
//! Rust timings end before the pairs file for Python is written.
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

struct Python {
    rouge_l_seconds: f64,
    rouge_l_stemmed_seconds: f64,
    bleu_seconds: f64,
    rouge_l: Vec<f64>,
    rouge_l_stemmed: Vec<f64>,
    bleu: Vec<f64>,
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
    Some(Python {
        rouge_l_seconds: value["rouge_l_seconds"].as_f64()?,
        rouge_l_stemmed_seconds: value["rouge_l_stemmed_seconds"].as_f64()?,
        bleu_seconds: value["bleu_seconds"].as_f64()?,
        rouge_l: floats("rouge_l")?,
        rouge_l_stemmed: floats("rouge_l_stemmed")?,
        bleu: floats("bleu")?,
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

    let start = Instant::now();
    let rouge: Vec<f64> = pairs.iter().map(|(h, r)| rouge_l(r, h).fmeasure).collect();
    let rust_rouge_seconds = start.elapsed().as_secs_f64();

    let stemmed = RougeOptions::default().with_stemmer(true);
    let start = Instant::now();
    let rouge_stemmed: Vec<f64> = pairs
        .iter()
        .map(|(h, r)| rouge_l_with(r, h, stemmed).fmeasure)
        .collect();
    let rust_stemmed_seconds = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let bleu: Vec<f64> = pairs
        .iter()
        .map(|(h, r)| sentence_bleu(h, &[r]).score)
        .collect();
    let rust_bleu_seconds = start.elapsed().as_secs_f64();

    println!("pairs: {count}");
    println!("| metric | Rust (s) | Python (s) | speed-up | max abs difference |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let rows = [
        ("ROUGE-L", rust_rouge_seconds, &rouge),
        ("ROUGE-L stemmed", rust_stemmed_seconds, &rouge_stemmed),
        ("BLEU", rust_bleu_seconds, &bleu),
    ];
    let Some(python) = run_python(&pairs) else {
        for (name, seconds, _) in rows {
            println!("| {name} | {seconds:.3} | n/a | n/a | n/a |");
        }
        return;
    };
    let python_rows = [
        (python.rouge_l_seconds, &python.rouge_l),
        (python.rouge_l_stemmed_seconds, &python.rouge_l_stemmed),
        (python.bleu_seconds, &python.bleu),
    ];
    for ((name, seconds, values), (python_seconds, python_values)) in
        rows.into_iter().zip(python_rows)
    {
        println!(
            "| {name} | {seconds:.3} | {python_seconds:.3} | {:.0}x | {:.1e} |",
            python_seconds / seconds,
            max_difference(values, python_values)
        );
    }
}
