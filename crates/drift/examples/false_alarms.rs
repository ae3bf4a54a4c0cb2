//! Measures how often the default policy alarms on CLINC150 windows with no
//! drift, and how often it catches a planted shift.
//!
//! ```sh
//! cargo run --release -p llmops-drift --example false_alarms -- [--baselines 10] [--windows 20] [--shifted 5]
//! ```
//!
//! The 4,500 in-scope test queries of CLINC150 (`tests/data`) are shuffled
//! and split in half once per baseline seed. Each baseline is built with the
//! default [`BaselineConfig`] from 1,200 queries of the first half, embedded
//! with a 256-dimensional [`HashingEmbedder`], with the word count of each
//! query as a numeric signal. Against each baseline, `--windows` windows of
//! 300 queries drawn from the second half are unshifted resamples, and
//! `--shifted` windows carry the planted shift of `tests/clinc150.rs`: 200
//! queries of the travel and small-talk domains and 100 out-of-scope ones.
//! Every check uses [`Policy::default`] and [`CheckConfig::new`]. The
//! output gives, per measure and overall, the share of windows at warning
//! or worse and at alert, with a Wilson 95% interval for the overall rates.

use std::collections::BTreeMap;
use std::error::Error;

use llmops_core::Embedder;
use llmops_drift::{
    Baseline, BaselineConfig, CheckConfig, DriftCheck, HashingEmbedder, Policy, Severity, Window,
};
use rand::SeedableRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;

const DIMENSIONS: usize = 256;
const REFERENCE_INPUTS: usize = 1200;
const WINDOW_INPUTS: usize = 300;

/// One CLINC150 query with its embedding.
struct Query {
    text: String,
    domain: String,
    embedding: Vec<f32>,
}

/// Alarm counts of one kind of window.
#[derive(Default)]
struct Tally {
    windows: usize,
    warning: usize,
    alert: usize,
    per_measure: BTreeMap<String, (usize, usize)>,
}

impl Tally {
    fn add(&mut self, measures: &[(String, Severity)], severity: Severity) {
        self.windows += 1;
        self.warning += usize::from(severity >= Severity::Warning);
        self.alert += usize::from(severity == Severity::Alert);
        for (name, severity) in measures {
            let counts = self.per_measure.entry(name.clone()).or_default();
            counts.0 += usize::from(*severity >= Severity::Warning);
            counts.1 += usize::from(*severity == Severity::Alert);
        }
    }

    fn print(&self, title: &str) {
        let windows = self.windows;
        println!("\n{title}: {windows} windows");
        println!("| Measure | Warning or worse | Alert |");
        println!("|---|---:|---:|");
        for (name, (warning, alert)) in &self.per_measure {
            println!(
                "| {name} | {} | {} |",
                percent(*warning, windows),
                percent(*alert, windows)
            );
        }
        let (low, high) = wilson(self.warning, windows);
        println!(
            "| any measure | {} (95% CI {:.1}-{:.1}%) | {} (95% CI {:.1}-{:.1}%) |",
            percent(self.warning, windows),
            low * 100.0,
            high * 100.0,
            percent(self.alert, windows),
            wilson(self.alert, windows).0 * 100.0,
            wilson(self.alert, windows).1 * 100.0,
        );
    }
}

fn percent(count: usize, total: usize) -> String {
    format!(
        "{count} ({:.1}%)",
        100.0 * count as f64 / total.max(1) as f64
    )
}

/// Wilson score interval at 95% for `successes` of `trials`.
fn wilson(successes: usize, trials: usize) -> (f64, f64) {
    if trials == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_964;
    let n = trials as f64;
    let p = successes as f64 / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

fn option(args: &[String], name: &str, default: usize) -> Result<usize, Box<dyn Error>> {
    match args.iter().position(|arg| arg == name) {
        None => Ok(default),
        Some(index) => {
            let value = args
                .get(index + 1)
                .ok_or_else(|| format!("{name} needs a number"))?;
            Ok(value
                .parse()
                .map_err(|_| format!("invalid {name} {value:?}; use a positive integer"))?)
        }
    }
}

async fn load_queries(embedder: &HashingEmbedder) -> Result<Vec<Query>, Box<dyn Error>> {
    let mut texts = Vec::new();
    let mut domains = Vec::new();
    for line in include_str!("../tests/data/clinc150_test.jsonl").lines() {
        let value: serde_json::Value = serde_json::from_str(line)?;
        let field = |name: &str| value[name].as_str().map(str::to_string);
        texts.push(field("text").ok_or("a query without text")?);
        domains.push(field("domain").ok_or("a query without domain")?);
    }
    let embeddings = embedder.embed(&texts).await?;
    Ok(texts
        .into_iter()
        .zip(domains)
        .zip(embeddings)
        .map(|((text, domain), embedding)| Query {
            text,
            domain,
            embedding,
        })
        .collect())
}

/// Builds the window and its embeddings, with the word count of each query
/// as the numeric signal `words`.
fn window(queries: &[&Query]) -> (Window, Vec<Vec<f32>>) {
    let words = queries
        .iter()
        .map(|q| q.text.split_whitespace().count() as f64)
        .collect();
    let window = Window::new(queries.iter().map(|q| q.text.clone())).with_feature("words", words);
    let embeddings = queries.iter().map(|q| q.embedding.clone()).collect();
    (window, embeddings)
}

fn check_window(
    check: &DriftCheck,
    queries: &[&Query],
    tally: &mut Tally,
) -> Result<(), Box<dyn Error>> {
    let (window, embeddings) = window(queries);
    let report = check.check_embeddings(&window, embeddings)?.report;
    let measures: Vec<(String, Severity)> = report
        .measures
        .iter()
        .map(|m| (m.measure.name(), m.severity))
        .collect();
    tally.add(&measures, report.severity);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let baselines = option(&args, "--baselines", 10)?;
    let windows = option(&args, "--windows", 20)?;
    let shifted = option(&args, "--shifted", 5)?;

    let embedder = HashingEmbedder::new(DIMENSIONS);
    let queries = load_queries(&embedder).await?;
    let (in_scope, out_of_scope): (Vec<&Query>, Vec<&Query>) =
        queries.iter().partition(|q| q.domain != "oos");

    let mut unshifted = Tally::default();
    let mut planted = Tally::default();
    let mut topic_counts = Vec::new();
    for seed in 0..baselines as u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
        let mut pool = in_scope.clone();
        pool.shuffle(&mut rng);
        let held_out = pool.split_off(pool.len() / 2);

        let (reference, embeddings) = window(&pool[..REFERENCE_INPUTS.min(pool.len())]);
        let config = BaselineConfig::default().seed(seed);
        let baseline =
            Baseline::from_embeddings(embedder.model(), &reference, embeddings, &config)?;
        topic_counts.push(baseline.topics.len());
        let check = DriftCheck::new(baseline, Policy::default()).with_config(CheckConfig::new());

        for _ in 0..windows {
            let sample: Vec<&Query> = held_out
                .choose_multiple(&mut rng, WINDOW_INPUTS)
                .copied()
                .collect();
            check_window(&check, &sample, &mut unshifted)?;
        }
        let shifted_pool: Vec<&Query> = held_out
            .iter()
            .filter(|q| q.domain == "travel" || q.domain == "small_talk")
            .copied()
            .collect();
        for _ in 0..shifted {
            let mut sample: Vec<&Query> = shifted_pool
                .choose_multiple(&mut rng, 200)
                .copied()
                .collect();
            sample.extend(out_of_scope.choose_multiple(&mut rng, 100).copied());
            check_window(&check, &sample, &mut planted)?;
        }
    }

    println!("baselines: {baselines}, topics chosen by silhouette: {topic_counts:?}");
    unshifted.print("Unshifted resamples (false alarms)");
    planted.print("Planted shift (detections)");
    Ok(())
}
