//! Topic drift of user queries with llmops-drift: a baseline of banking and
//! household questions from CLINC150 (CC BY 3.0, Larson et al. 2019, in
//! `crates/drift/tests/data/`), then a window where travel questions and
//! out-of-scope queries arrive. Prints the baseline topics with their top
//! terms, every measure with its severity, the new topics, and what the
//! policy's actions did.
//!
//! Run with `cargo run --example drift`.

use anyhow::Context;
use async_trait::async_trait;
use llmops_drift::action::JsonlExport;
use llmops_drift::stats::{DomainClassifierConfig, MmdConfig};
use llmops_drift::{
    Action, Actions, Baseline, BaselineConfig, CheckConfig, CheckOutcome, DriftCheck,
    HashingEmbedder, Measure, Policy, Severity, TopicCount, Window,
};
use serde::Deserialize;

const QUERIES: &str = include_str!("../crates/drift/tests/data/clinc150_test.jsonl");

#[derive(Deserialize)]
struct Query {
    text: String,
    domain: String,
}

/// A custom action that pages the on-call engineer. Here it prints the page.
struct PageOnCall;

#[async_trait]
impl Action for PageOnCall {
    fn name(&self) -> &str {
        "page_on_call"
    }

    async fn run(&self, outcome: &CheckOutcome) -> llmops_drift::Result<String> {
        let report = &outcome.report;
        println!(
            "  PAGE: input drift at severity {} on {} of {} measures",
            report.severity.as_str(),
            report
                .measures
                .iter()
                .filter(|m| m.severity == Severity::Alert)
                .count(),
            report.measures.len()
        );
        Ok("paged the on-call engineer".to_owned())
    }
}

/// Returns up to `take` query texts from `domains`. It skips `skip` queries
/// and then takes every second one, so calls with skip 0 and 1 never share
/// a query.
fn sample(queries: &[Query], domains: &[&str], skip: usize, take: usize) -> Vec<String> {
    let matching = queries
        .iter()
        .filter(|q| domains.contains(&q.domain.as_str()));
    matching
        .skip(skip)
        .step_by(2)
        .take(take)
        .map(|q| q.text.clone())
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let queries: Vec<Query> = QUERIES
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("the CLINC150 queries do not parse")?;

    // Reference: what users asked last month. Current: the same kinds of
    // question plus travel questions and queries the assistant cannot serve.
    let usual = ["banking", "credit_cards", "home", "kitchen_and_dining"];
    let reference = Window::new(sample(&queries, &usual, 0, 600));
    let mut current = sample(&queries, &usual, 1, 100);
    current.extend(sample(&queries, &["travel"], 0, 100));
    current.extend(sample(&queries, &["oos"], 0, 100));
    let current = Window::new(current);

    // The hashing embedder needs no model; a sentence embedder separates
    // topics that differ in meaning more than in words.
    let embedder = HashingEmbedder::new(256);
    let config = BaselineConfig::default().topics(TopicCount::Fixed(8));
    let baseline = Baseline::build(&embedder, &reference, &config).await?;
    println!(
        "Baseline: {} queries in {} topics",
        baseline.inputs,
        baseline.topics.len()
    );
    for topic in &baseline.topics {
        println!(
            "  topic {} ({:>3} queries): {}",
            topic.id,
            topic.size,
            topic.label()
        );
    }

    // Smaller permutation and classifier samples keep a debug build quick.
    let check_config = CheckConfig::new()
        .mmd(MmdConfig::default().permutations(100).max_samples(200))
        .domain_classifier(DomainClassifierConfig::default().max_samples(300));
    let check = DriftCheck::new(baseline, Policy::default()).with_config(check_config);
    let outcome = check.check(&embedder, &current).await?;
    let report = &outcome.report;

    println!(
        "\nCurrent window: {} queries, severity {}",
        report.current_inputs,
        report.severity.as_str()
    );
    for result in &report.measures {
        let value = result
            .measurement
            .statistic()
            .map_or("n/a".to_owned(), |v| format!("{v:.3}"));
        let p_value = result
            .measurement
            .p_value()
            .map_or(String::new(), |p| format!(" (p = {p:.3})"));
        println!(
            "  {:<40} {value:>7}{p_value:<14} {}",
            result.measure.name(),
            result.severity.as_str()
        );
    }

    println!("\nNew topics (queries far from every baseline topic):");
    for topic in &report.new_topics {
        let terms: Vec<&str> = topic
            .terms
            .iter()
            .take(5)
            .map(|t| t.term.as_str())
            .collect();
        let example = topic.examples.first().map_or("", String::as_str);
        println!(
            "  {} queries: {}; e.g. \"{example}\"",
            topic.size,
            terms.join(", ")
        );
    }

    // The policy's actions: page at alert, export the drifted queries as a
    // dataset for prompt re-tuning at warning.
    let folder = tempfile::tempdir()?;
    let export_path = folder.path().join("drifted.jsonl");
    let actions = Actions::new()
        .on(Severity::Alert, PageOnCall)
        .on(Severity::Warning, JsonlExport::new(&export_path));
    println!("\nActions:");
    let records = actions.run(&outcome).await;
    for record in &records {
        println!(
            "  {}: {}",
            record.action,
            if record.ok { "done" } else { "failed" }
        );
    }

    // Check the results, so a misbehaving library makes the example fail.
    anyhow::ensure!(report.is_drift(), "the planted shift raised no alert");
    // The hashing embedder files many travel queries under existing topics,
    // so topic shares move less than the embeddings. On 300 queries the
    // size-scaled share thresholds are above this shift, so the embedding
    // measures are checked.
    let auc = report
        .measure(&Measure::DomainClassifierAuc)
        .context("no domain-classifier AUC in the report")?;
    anyhow::ensure!(
        auc.severity == Severity::Alert,
        "the domain classifier is only at {:?}",
        auc.severity
    );
    anyhow::ensure!(
        !report.new_topics.is_empty(),
        "the new queries formed no new topic"
    );
    anyhow::ensure!(
        records.len() == 2 && records.iter().all(|r| r.ok),
        "actions: {records:?}"
    );
    let exported = std::fs::read_to_string(&export_path)?.lines().count();
    anyhow::ensure!(
        exported == outcome.drifted_inputs.len() && exported > 0,
        "exported {exported} lines for {} drifted queries",
        outcome.drifted_inputs.len()
    );
    println!("\nExported {exported} drifted queries as JSON Lines for review.");
    Ok(())
}
