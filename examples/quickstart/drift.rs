//! The quickstart's drift check: a topic baseline from one part of the
//! CLINC150 queries (CC BY 3.0, `crates/drift/tests/data/`), a window whose
//! topics have shifted, and a report that exports the drifted inputs as a
//! JSON Lines dataset.

use anyhow::Context;
use llmops_drift::action::JsonlExport;
use llmops_drift::{
    Actions, Baseline, BaselineConfig, DriftCheck, DriftStore, HashingEmbedder, Policy, Severity,
    TopicCount, Window, WindowSpan,
};
use llmops_store::Store;
use serde::Deserialize;

const QUERIES: &str = include_str!("../../crates/drift/tests/data/clinc150_test.jsonl");

#[derive(Deserialize)]
struct Query {
    text: String,
    domain: String,
}

/// Builds a baseline from banking, card, home and kitchen questions, then
/// checks a window where travel questions and out-of-scope queries take
/// over, prints the report's verdict and topic shares, stores baseline and
/// report in `store` for the dashboard, and writes the drifted inputs to a
/// new `llmops-drifted-*.jsonl` file in the system's temporary folder.
///
/// # Errors
///
/// Returns an error when the data does not parse or a drift step fails.
pub(crate) async fn run(store: &Store) -> anyhow::Result<()> {
    let queries: Vec<Query> = QUERIES
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("CLINC150 queries do not parse")?;
    let from = |domains: &[&str], skip: usize, take: usize| -> Vec<String> {
        let matching = queries
            .iter()
            .filter(|q| domains.contains(&q.domain.as_str()));
        matching
            .skip(skip)
            .step_by(2)
            .take(take)
            .map(|q| q.text.clone())
            .collect()
    };

    let usual = [
        "banking",
        "credit_cards",
        "home",
        "kitchen_and_dining",
        "travel",
    ];
    let reference = Window::new(from(&usual, 0, 600));
    let mut shifted = from(&usual, 1, 100);
    shifted.extend(from(&["travel"], 1, 100));
    shifted.extend(from(&["oos"], 0, 100));

    // A model-free embedder keeps the quickstart offline; use a sentence
    // embedder where topics differ in meaning more than in words.
    let embedder = HashingEmbedder::new(256);
    let config = BaselineConfig::default().topics(TopicCount::Fixed(10));
    let baseline = Baseline::build(&embedder, &reference, &config).await?;
    println!(
        "drift: baseline of {} queries, {} topics",
        baseline.inputs,
        baseline.topics.len()
    );

    let reports = DriftStore::open(store.clone()).await?;
    let baseline_id = reports
        .save_baseline("quickstart-queries", &baseline)
        .await?;
    let check = DriftCheck::new(baseline, Policy::default());
    let outcome = check.check(&embedder, &Window::new(shifted)).await?;
    let report = &outcome.report;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64);
    let span = WindowSpan {
        start_ms: now - 7 * 24 * 3_600_000,
        end_ms: now,
    };
    reports.save_report(baseline_id, span, report).await?;
    println!(
        "drift: severity {} for {} queries",
        report.severity.as_str(),
        report.current_inputs
    );
    for result in report
        .measures
        .iter()
        .filter(|m| m.severity > Severity::None)
    {
        let value = result.measurement.statistic().unwrap_or_default();
        println!(
            "  {} = {value:.3} ({})",
            result.measure.name(),
            result.severity.as_str()
        );
    }
    for share in &report.topic_shares {
        println!(
            "  {:>5.1}% -> {:>5.1}%  {}",
            share.reference_share * 100.0,
            share.current_share * 100.0,
            share.label
        );
    }

    // A new file per run, so runs never overwrite each other's export.
    let path = tempfile::Builder::new()
        .prefix("llmops-drifted-")
        .suffix(".jsonl")
        .tempfile()?
        .into_temp_path()
        .keep()?;
    let actions = Actions::new().on(Severity::Warning, JsonlExport::new(&path));
    for record in actions.run(&outcome).await {
        println!("drift: {} {}", record.action, record.detail);
    }
    Ok(())
}
