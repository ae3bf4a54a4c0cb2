//! The prompt registry on a SQLite file: versions, strict rendering, the
//! `production` label with its history and a rollback, calls and scores
//! logged per version, and an A/B experiment between two versions.
//!
//! Run with `cargo run --example registry`.
//!
//! No model is called. The experiment's outcomes are simulated with a
//! seeded random generator (version 1 resolves 55% of tickets, version 2
//! 75%), so the run prints the same statistics every time.

use std::collections::BTreeMap;

use anyhow::ensure;
use llmops_registry::experiment::{AnalysisConfig, Arm, ArmTarget, NewExperiment, Recommendation};
use llmops_registry::{
    CallLogger, CallLoggerOptions, CallRecord, LabelMove, PromptContent, Registry, RegistryError,
    RenderedPrompt, Score, Selector,
};
use llmops_store::Store;
use rand::{Rng, SeedableRng, rngs::StdRng};
use rust_decimal::Decimal;
use serde_json::json;

const PROMPT: &str = "support-reply";
const V1: &str = "Write a polite reply to {{ customer }} about: {{ message }}";
const V2: &str = "Write a short, friendly reply to {{ customer }}. Answer the question first, then offer one next step.\nMessage: {{ message }}";
/// Customers in the experiment, about half per arm.
const UNITS: usize = 240;
/// Simulated share of tickets each version resolves in the experiment.
const RESOLVE_RATES: [f64; 2] = [0.55, 0.75];
/// Logged questions and replies, with a helpfulness score per version.
const PAIRS: [(&str, &str, [f64; 2]); 3] = [
    ("Where is my refund?", "It was sent on Monday.", [0.7, 0.9]),
    (
        "Can I change my address?",
        "Yes, under Account > Address.",
        [0.8, 0.8],
    ),
    (
        "The app crashes on start.",
        "Please update to 2.4.1.",
        [0.4, 0.7],
    ),
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let url = format!("sqlite://{}", folder.path().join("registry.db").display());
    let registry = Registry::open(Store::connect(&url).await?).await?;

    // Versions are immutable. Publishing unchanged content returns the
    // existing version instead of creating one.
    let mut published = Vec::new();
    for (template, author) in [(V1, "mina"), (V2, "mina"), (V2, "joon")] {
        let content = PromptContent::text(template);
        published.push(registry.publish(PROMPT, &content, author).await?);
    }
    let (v1, v2) = (published[0].version, published[1].version);
    println!("Published {PROMPT} versions {v1} and {v2}.");
    let (version, created) = (published[2].version, published[2].created);
    println!("Publishing version 2's text again: version {version}, new version: {created}.");
    let as_expected = (v1, v2, version, created) == (1, 2, 2, false);
    ensure!(as_expected, "unexpected version numbers");

    // Rendering is strict: every variable the template uses needs a value.
    let latest = registry.get(PROMPT, &Selector::Latest).await?;
    let mut variables = BTreeMap::from([("customer".to_owned(), json!("Ms. Park"))]);
    let Err(error) = llmops_registry::render(&latest, &variables) else {
        anyhow::bail!("rendering without `message` succeeded; strict mode should reject it");
    };
    println!("\nRendering without `message` fails: {error}");
    let named =
        matches!(error, RegistryError::Render { .. }) && error.to_string().contains("message");
    ensure!(named, "expected a render error naming `message`");
    let message = json!("My order #4417 arrived damaged.");
    variables.insert("message".to_owned(), message);
    let RenderedPrompt::Text(text) = llmops_registry::render(&latest, &variables)? else {
        anyhow::bail!("{PROMPT} is a text prompt but rendered as chat");
    };
    println!("Version 2 rendered:\n  {}", text.replace('\n', "\n  "));

    // A label points at a version. Every move is recorded, and a rollback
    // is a move back to the previous version.
    for (version, reason) in [(1, "first release"), (2, "shorter replies")] {
        let change = LabelMove {
            prompt: PROMPT,
            label: "production",
            version,
            actor: "mina",
            reason,
        };
        registry.set_label(&change).await?;
    }
    registry
        .rollback(PROMPT, "production", "joon", "complaints about tone")
        .await?;
    println!("\nDeployment history of {PROMPT}:production:");
    let history = registry.history(PROMPT, Some("production")).await?;
    for deployment in &history {
        let from = deployment
            .from_version
            .map_or("-".to_owned(), |v| v.to_string());
        let (to, actor) = (deployment.to_version, &deployment.actor);
        println!("  {from} -> {to} by {actor}: {}", deployment.reason);
    }
    let live = registry.label_version(PROMPT, "production").await?;
    println!("production now serves version {live}.");
    ensure!(
        history.len() == 3 && live == 1,
        "the rollback did not restore version 1"
    );

    // Log a few calls per version with an evaluation score each.
    let logger = CallLogger::start(registry.store().clone(), CallLoggerOptions::default());
    for version in registry.versions(PROMPT).await? {
        for (index, (question, answer, scores)) in PAIRS.iter().enumerate() {
            let call_id = format!("v{}-call-{index}", version.version);
            let input = json!({ "customer": "a customer", "message": question });
            let record = CallRecord::new(&version, "mock-model", input, *answer)
                .call_id(&call_id)
                .usage(420, 38, 12, Decimal::new(9, 6));
            logger.log(record).await?;
            let helpfulness = scores[version.version as usize - 1];
            let score = Score::new(&version, "helpfulness", helpfulness).call_id(call_id);
            registry.record_score(&score).await?;
        }
    }
    println!("\nMean helpfulness by version:");
    for summary in registry.score_summary(0).await? {
        let (version, mean, count) = (summary.version, summary.mean, summary.count);
        println!("  version {version}: {mean:.2} over {count} calls");
        ensure!(summary.count == 3, "expected 3 scores per version");
    }

    // A/B test: split production between version 1 (its target) and 2.
    let arms = vec![
        Arm::new("current", ArmTarget::Label("production".into()), 1.0),
        Arm::new("friendly", ArmTarget::Version(2), 1.0),
    ];
    let new = NewExperiment {
        id: "reply-tone",
        prompt: PROMPT,
        label: "production",
        arms,
        actor: "mina",
    };
    registry.create_experiment(&new).await?;
    let mut rng = StdRng::seed_from_u64(7);
    for unit in 0..UNITS {
        let customer = format!("customer-{unit}");
        let served = registry.serve(PROMPT, "production", &customer).await?;
        let resolved = rng.random_bool(RESOLVE_RATES[served.version.version as usize - 1]);
        let call_id = format!("ab-{unit}");
        let record = CallRecord::served(&served, "mock-model", json!({}), "...").call_id(&call_id);
        let latency_ms = rng.random_range(300..600);
        let record = record.usage(latency_ms, 40, 15, Decimal::ZERO);
        logger.log(record).await?;
        let score = Score::new(&served.version, "resolved", f64::from(u8::from(resolved)));
        registry.record_score(&score.call_id(call_id)).await?;
    }
    let stats = logger.close().await?;
    let logged = stats.written as usize == 2 * PAIRS.len() + UNITS;
    ensure!(logged, "calls are missing from the log: {stats:?}");

    let config = AnalysisConfig {
        primary_metric: Some("resolved".into()),
        ..Default::default()
    };
    let report = registry.experiment_report("reply-tone", &config).await?;
    let resolved = report.metrics.iter().find(|m| m.name == "resolved");
    let resolved = resolved.ok_or_else(|| anyhow::anyhow!("no `resolved` metric in the report"))?;
    println!("\nExperiment reply-tone ({} calls logged):", stats.written);
    for arm in &resolved.arms {
        let (name, count, rate) = (&arm.arm, arm.count, 100.0 * arm.estimate);
        println!("  {name:<8} {count:>3} customers, resolved {rate:.1}%");
    }
    for comparison in &resolved.comparisons {
        let (arm, points) = (&comparison.arm, 100.0 * comparison.test.estimate);
        let (p, sequential_p) = (comparison.test.p_value, comparison.sequential.p_value);
        println!("  {arm} vs current: {points:+.1} points, z-test p = {p:.4}");
        println!("  always-valid sequential p = {sequential_p:.4}");
    }
    println!("  sample ratio check: p = {:.3}", report.srm.p_value);
    let decision = match &report.recommendation {
        Recommendation::StopWinner { arm, reason } => format!("ship {arm} ({reason})"),
        Recommendation::Continue { reason } => format!("keep running ({reason})"),
        other => format!("{other:?}"),
    };
    println!("  recommendation: {decision}");
    let units: u64 = resolved.arms.iter().map(|arm| arm.count).sum();
    let counted_all = units == UNITS as u64;
    ensure!(counted_all, "counted {units} of {UNITS} customers");
    let balanced = !report.srm.mismatch;
    ensure!(balanced, "sample ratio mismatch between the arms");
    Ok(())
}
