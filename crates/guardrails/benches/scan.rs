//! Throughput of a full scan (all built-in recognizers, overlap resolution)
//! on the presidio-research synthetic sentences, and of redaction.

// `criterion_group!` generates undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use llmops_guardrails::{Analyzer, Anonymizer, PlaceholderScope};

/// Joins the `full_text` of every sample (126 KiB).
fn corpus() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/presidio-research/synth_dataset_v2.json"
    );
    let Ok(source) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let Ok(samples) = serde_json::from_str::<Vec<serde_json::Value>>(&source) else {
        return String::new();
    };
    samples
        .iter()
        .filter_map(|s| s["full_text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn scan(c: &mut Criterion) {
    let text = corpus();
    let analyzer = Analyzer::new();
    let mut group = c.benchmark_group("scan");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("analyze_synth_corpus", |b| {
        b.iter(|| analyzer.analyze(black_box(&text)))
    });
    group.bench_function("analyze_and_redact_synth_corpus", |b| {
        b.iter(|| {
            let findings = analyzer.analyze(black_box(&text)).unwrap_or_default();
            Anonymizer::default().anonymize(&text, &findings, &mut PlaceholderScope::new())
        })
    });
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
