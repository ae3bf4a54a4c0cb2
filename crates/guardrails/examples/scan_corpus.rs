//! Scores `Analyzer` on presidio-research's `synth_dataset_v2.json` and
//! measures its scan throughput, printing one JSON object to stdout.
//!
//! The output matches `benches/python/presidio_compare.py`, so
//! `benches/python/compare.py` can put both side by side:
//!
//! ```sh
//! cargo run --release -p llmops-guardrails --example scan_corpus [-- DATASET.json]
//! ```
//!
//! A prediction is a true positive when its char range overlaps an unmatched
//! gold span of the same entity type. Offsets are Unicode code points, as in
//! the dataset. Throughput is the best of three passes.

use std::collections::BTreeMap;
use std::error::Error;
use std::hint::black_box;
use std::time::Instant;

use llmops_guardrails::{Analyzer, EntityType, Finding};
use serde_json::{Value, json};

/// Entity types of the dataset that both this crate and Presidio recognize
/// with patterns.
const EVALUATED: &[EntityType] = &[
    EntityType::CreditCard,
    EntityType::EmailAddress,
    EntityType::IbanCode,
    EntityType::IpAddress,
    EntityType::PhoneNumber,
    EntityType::UsSsn,
];

/// Number of timed passes; the fastest one is reported.
const PASSES: usize = 3;

/// One sentence with its gold spans of the evaluated types.
struct Sample {
    text: String,
    gold: Vec<(EntityType, usize, usize)>,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    true_positive: usize,
    false_positive: usize,
    false_negative: usize,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.true_positive += other.true_positive;
        self.false_positive += other.false_positive;
        self.false_negative += other.false_negative;
    }

    fn to_json(self) -> Value {
        let found = self.true_positive + self.false_positive;
        let gold = self.true_positive + self.false_negative;
        let precision = ratio_or_one(self.true_positive, found);
        let recall = ratio_or_one(self.true_positive, gold);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        json!({
            "gold": gold,
            "tp": self.true_positive,
            "fp": self.false_positive,
            "fn": self.false_negative,
            "precision": precision,
            "recall": recall,
            "f1": f1,
        })
    }
}

/// Returns `numerator / denominator`, or 1.0 when nothing was counted.
fn ratio_or_one(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        1.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/presidio-research/synth_dataset_v2.json"
        )
        .to_owned()
    });
    let samples = load_samples(&path)?;
    let analyzer = Analyzer::new().with_entities(EVALUATED.to_vec());

    let counts = score(&analyzer, &samples)?;
    let mut micro = Counts::default();
    let mut per_entity = serde_json::Map::new();
    for (entity, c) in &counts {
        micro.add(*c);
        per_entity.insert(entity.as_str().to_owned(), c.to_json());
    }

    let texts: Vec<&str> = samples.iter().map(|s| s.text.as_str()).collect();
    let joined = texts.join("\n");
    let per_sentence_s = best_seconds(|| {
        for text in &texts {
            black_box(analyzer.analyze(black_box(text))?);
        }
        Ok(())
    })?;
    let joined_s = best_seconds(|| {
        black_box(analyzer.analyze(black_box(&joined))?);
        Ok(())
    })?;
    let sentence_bytes: usize = texts.iter().map(|t| t.len()).sum();

    let report = json!({
        "tool": "llmops-guardrails",
        "version": env!("CARGO_PKG_VERSION"),
        "configuration": "Analyzer::new() with all built-in recognizers, findings kept for the six evaluated types",
        "samples": samples.len(),
        "per_entity": per_entity,
        "micro": micro.to_json(),
        "throughput": {
            "per_sentence": throughput_json(texts.len(), texts.len(), sentence_bytes, per_sentence_s),
            "joined_corpus": throughput_json(1, texts.len(), joined.len(), joined_s),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Reads the dataset and keeps the gold spans of the evaluated types.
fn load_samples(path: &str) -> Result<Vec<Sample>, Box<dyn Error>> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| format!("failed to read dataset {path}: {e}; pass the JSON path"))?;
    let raw: Vec<Value> = serde_json::from_str(&source)
        .map_err(|e| format!("dataset {path} is not a JSON array of samples: {e}"))?;
    let mut samples = Vec::with_capacity(raw.len());
    for (index, sample) in raw.iter().enumerate() {
        let text = sample["full_text"]
            .as_str()
            .ok_or_else(|| format!("sample {index} in {path} has no string full_text"))?;
        let spans = sample["spans"]
            .as_array()
            .ok_or_else(|| format!("sample {index} in {path} has no spans array"))?;
        let mut gold = Vec::new();
        for span in spans {
            let Some(Ok(entity)) = span["entity_type"].as_str().map(str::parse::<EntityType>)
            else {
                continue;
            };
            if !EVALUATED.contains(&entity) {
                continue;
            }
            let (Some(start), Some(end)) = (
                span["start_position"].as_u64(),
                span["end_position"].as_u64(),
            ) else {
                return Err(format!(
                    "sample {index} in {path} has a span without integer positions"
                )
                .into());
            };
            gold.push((entity, start as usize, end as usize));
        }
        samples.push(Sample {
            text: text.to_owned(),
            gold,
        });
    }
    Ok(samples)
}

/// Counts true positives, false positives and false negatives per type.
fn score(
    analyzer: &Analyzer,
    samples: &[Sample],
) -> Result<BTreeMap<EntityType, Counts>, Box<dyn Error>> {
    let mut counts: BTreeMap<EntityType, Counts> =
        EVALUATED.iter().map(|&e| (e, Counts::default())).collect();
    for sample in samples {
        let predicted = analyzer.analyze(&sample.text)?;
        let mut matched = vec![false; sample.gold.len()];
        for finding in &predicted {
            let entry = counts.entry(finding.entity).or_default();
            match first_overlap(finding, &sample.gold, &matched) {
                Some(i) => {
                    matched[i] = true;
                    entry.true_positive += 1;
                }
                None => entry.false_positive += 1,
            }
        }
        for (i, &(entity, _, _)) in sample.gold.iter().enumerate() {
            if !matched[i] {
                counts.entry(entity).or_default().false_negative += 1;
            }
        }
    }
    Ok(counts)
}

/// Returns the index of the first unmatched gold span of the same type whose
/// char range overlaps the finding.
fn first_overlap(
    finding: &Finding,
    gold: &[(EntityType, usize, usize)],
    matched: &[bool],
) -> Option<usize> {
    gold.iter()
        .enumerate()
        .position(|(i, &(entity, start, end))| {
            !matched[i]
                && entity == finding.entity
                && finding.chars.start < end
                && start < finding.chars.end
        })
}

/// Runs `pass` [`PASSES`] times and returns the fastest wall time in seconds.
fn best_seconds(
    mut pass: impl FnMut() -> Result<(), Box<dyn Error>>,
) -> Result<f64, Box<dyn Error>> {
    let mut best = f64::INFINITY;
    for _ in 0..PASSES {
        let started = Instant::now();
        pass()?;
        best = best.min(started.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// Describes one timed mode: `texts` sentences of `bytes` UTF-8 bytes in
/// `calls` calls of `analyze`.
fn throughput_json(calls: usize, texts: usize, bytes: usize, seconds: f64) -> Value {
    json!({
        "calls": calls,
        "texts": texts,
        "bytes": bytes,
        "best_seconds": seconds,
        "texts_per_second": texts as f64 / seconds,
        "mib_per_second": bytes as f64 / seconds / (1024.0 * 1024.0),
    })
}
