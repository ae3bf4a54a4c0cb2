//! Measures how many texts per second `MiniLmEmbedder` embeds.
//!
//! Run with
//! `cargo run --release -p llmops-local --example embed_throughput -- TEXTS.jsonl`.
//! The file holds one JSON object per line with a `text` field and an
//! optional `title` field (the BEIR corpus and query format); a document is
//! embedded as `title + " " + text`, as sentence-transformers' BEIR
//! evaluation does, and texts over the 256-token limit are truncated.
//!
//! Options: `--batch-size N` (default 32), `--runs N` (default 3), `--limit
//! N` (embed only the first N texts). The batch size and the number of
//! runs must be at least one. Blank lines and a leading byte-order mark are
//! skipped. After one warm-up pass on the first batch, the example embeds
//! all texts `--runs` times and prints one JSON line with the best and
//! median seconds and texts per second.

use std::time::Instant;

use anyhow::Context;
use llmops_local::{EmbedderConfig, MiniLmEmbedder};

const USAGE: &str = "usage: embed_throughput TEXTS.jsonl [--batch-size N] [--runs N] [--limit N]";

struct Options {
    path: String,
    batch_size: usize,
    runs: usize,
    limit: Option<usize>,
}

fn parse_options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        path: String::new(),
        batch_size: 32,
        runs: 3,
        limit: None,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str, least: usize| -> anyhow::Result<usize> {
            let text = args
                .next()
                .with_context(|| format!("{name} needs a value; {USAGE}"))?;
            let value: usize = text
                .parse()
                .with_context(|| format!("{name} must be a whole number, got {text:?}"))?;
            anyhow::ensure!(
                value >= least,
                "{name} must be at least {least}, got {value}"
            );
            Ok(value)
        };
        match arg.as_str() {
            "--batch-size" => options.batch_size = value("--batch-size", 1)?,
            "--runs" => options.runs = value("--runs", 1)?,
            "--limit" => options.limit = Some(value("--limit", 0)?),
            flag if flag.starts_with("--") => anyhow::bail!("unknown option {flag}; {USAGE}"),
            _ => options.path = arg,
        }
    }
    anyhow::ensure!(!options.path.is_empty(), "{USAGE}");
    Ok(options)
}

fn read_texts(path: &str, limit: Option<usize>) -> anyhow::Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Line {
        #[serde(default)]
        title: String,
        text: String,
    }

    let content = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let mut texts = Vec::new();
    let content = content.strip_prefix('\u{feff}').unwrap_or(&content);
    for (number, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(line).with_context(|| {
            format!(
                "{path}, line {}: not a JSON object with a text field",
                number + 1
            )
        })?;
        let text = if line.title.is_empty() {
            line.text
        } else {
            format!("{} {}", line.title, line.text)
        };
        texts.push(text);
    }
    texts.truncate(limit.unwrap_or(usize::MAX));
    Ok(texts)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let options = parse_options()?;
    let texts = read_texts(&options.path, options.limit)?;
    let config = EmbedderConfig::default()
        .with_download(false)
        .with_truncation(true)
        .with_batch_size(options.batch_size);

    let started = Instant::now();
    let embedder = MiniLmEmbedder::load(config).await?;
    let load_seconds = started.elapsed().as_secs_f64();
    let warm_up = &texts[..texts.len().min(options.batch_size)];
    embedder.embed_blocking(warm_up)?;

    let mut seconds = Vec::new();
    for _ in 0..options.runs {
        let started = Instant::now();
        let vectors = embedder.embed_blocking(&texts)?;
        seconds.push(started.elapsed().as_secs_f64());
        anyhow::ensure!(vectors.len() == texts.len(), "wrong number of vectors");
    }
    seconds.sort_by(f64::total_cmp);
    let best = seconds[0];
    let median = seconds[seconds.len() / 2];
    let report = serde_json::json!({
        "engine": "llmops-local",
        "texts": texts.len(),
        "batch_size": options.batch_size,
        "runs": options.runs,
        "load_seconds": load_seconds,
        "best_seconds": best,
        "median_seconds": median,
        "texts_per_second": texts.len() as f64 / median,
    });
    println!("{report}");
    Ok(())
}
