//! Offline evaluation with llmops-eval. A support bot answers ten policy
//! questions from a JSON Lines dataset. Deterministic checks, a reference
//! metric (ROUGE-L) and an LLM judge score each answer. A regression gate
//! then compares a second prompt version with the first and fails on the
//! planted regression.
//!
//! The bot and the judge are both the llmops-testkit mock OpenAI server on
//! 127.0.0.1, which replies with scripted answers, so no API key is needed.
//!
//! Run with `cargo run --example eval`.

use std::sync::Arc;

use llmops_core::ModelBackend;
use llmops_core::providers::openai::{OpenAiBackend, OpenAiConfig};
use llmops_eval::judge::RubricPreset;
use llmops_eval::text::{Rouge, RougeKind};
use llmops_eval::{
    Contains, Dataset, EvalRun, Evaluator, GateConfig, LengthRange, Report, ReportOptions,
    compare_runs,
};
use llmops_testkit::{MockServer, Scenario};
use serde_json::json;

const BOT: &str = "gpt-4o-mini";
const JUDGE: &str = "gpt-4o";

/// The dataset as a team would keep it: one case per line, with the fact a
/// right answer must contain as the reference.
const DATASET: &str = r#"{"id": "refund-time", "input": "How long does a refund take?", "expected": "14 days"}
{"id": "refund-method", "input": "Where does my refund go?", "expected": "original payment method"}
{"id": "return-window", "input": "How long can I return an item?", "expected": "30 days"}
{"id": "return-label", "input": "Is the return label free?", "expected": "free"}
{"id": "ship-time", "input": "How fast is standard shipping?", "expected": "3 to 5 working days"}
{"id": "ship-cost", "input": "When is shipping free?", "expected": "50 EUR"}
{"id": "warranty", "input": "How long is the warranty?", "expected": "2 years"}
{"id": "warranty-claim", "input": "How do I claim the warranty?", "expected": "order number"}
{"id": "cancel", "input": "Can I cancel an order?", "expected": "before it ships"}
{"id": "address", "input": "Can I change the address?", "expected": "within 1 hour"}"#;

const VAGUE: &str = "Please see our help center for details.";

/// The bot's answer to each case with prompt versions 1 and 2, in dataset
/// order. Version 2 regressed on seven of the ten.
const ANSWERS: [[&str; 2]; 10] = [
    ["Refunds reach your account within 14 days.", VAGUE],
    [
        "We refund to the original payment method.",
        "We refund to the original payment method.",
    ],
    ["You can return items within 30 days.", VAGUE],
    [
        "Yes, the return label is free in the EU.",
        "Return labels cost 4.95 EUR.",
    ],
    ["Standard shipping takes 3 to 5 working days.", VAGUE],
    [
        "Shipping is free on orders over 50 EUR.",
        "Shipping is free on orders over 50 EUR.",
    ],
    ["Every product has a 2 years warranty.", VAGUE],
    ["Send us a photo and your order number.", VAGUE],
    [
        "You can cancel an order before it ships.",
        "Orders cannot be cancelled.",
    ],
    [
        "You can change the address within 1 hour.",
        "You can change the address within 1 hour.",
    ],
];

/// Queues each case's answer for `version` and the judge's verdict on it.
/// The evaluator runs one case at a time, so the mock pops them in dataset
/// order.
fn script(mock: &MockServer, version: usize) {
    for answers in ANSWERS {
        let answer = answers[version - 1];
        let right = answer == answers[0];
        let (score, reasoning) = if right {
            (5, "Matches the reference.")
        } else {
            (1, "Misses the fact.")
        };
        mock.push_for_model(BOT, Scenario::text(answer).with_usage(40, 12));
        let verdict = json!({"reasoning": reasoning, "score": score}).to_string();
        mock.push_for_model(JUDGE, Scenario::text(verdict).with_usage(220, 20));
    }
}

/// Evaluates prompt version `version` with deterministic checks, ROUGE-L
/// and the correctness judge.
async fn run_version(
    backend: Arc<dyn ModelBackend>,
    dataset: &Dataset,
    version: usize,
) -> anyhow::Result<EvalRun> {
    let judge = RubricPreset::Correctness.judge(backend.clone(), JUDGE)?;
    let run_id = format!("support-answer@{version}");
    let evaluator = Evaluator::new(backend, BOT)
        .concurrency(1)
        .prompt_version(run_id.clone())
        .metric(Contains::reference().ignore_case(true))
        .metric(LengthRange::new(1, 300)?)
        .metric(Rouge::new(RougeKind::RougeL))
        .metric(judge);
    Ok(evaluator.run(&run_id, dataset).await?)
}

/// Returns the report's title, summary line and metric table, without the
/// worst-case sections that follow.
fn short_markdown(run: &EvalRun) -> String {
    let markdown = Report::new(run, &ReportOptions::default()).to_markdown();
    let end = markdown.find("\n## ").unwrap_or(markdown.len());
    markdown[..end].trim_end().to_owned()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let path = folder.path().join("support-policy.jsonl");
    std::fs::write(&path, DATASET)?;
    let dataset = Dataset::from_jsonl(&path)?;
    println!(
        "Dataset `{}`: {} cases\n",
        dataset.name(),
        dataset.cases().len()
    );

    let mock = MockServer::start().await?;
    let config = OpenAiConfig::new()
        .base_url(mock.openai_base_url())
        .api_key("sk-mock");
    let backend: Arc<dyn ModelBackend> = Arc::new(OpenAiBackend::new(config)?);

    let mut runs = Vec::new();
    for version in [1, 2] {
        script(&mock, version);
        let run = run_version(backend.clone(), &dataset, version).await?;
        println!("{}\n", short_markdown(&run));
        runs.push(run);
    }

    let gate = compare_runs(&runs[0], &runs[1], &GateConfig::default())?;
    println!("{}", gate.to_markdown().trim_end());
    let failed: Vec<&str> = gate
        .metrics
        .iter()
        .filter(|m| m.failed)
        .map(|m| m.metric.as_str())
        .collect();
    let verdict = if gate.passed() { "pass" } else { "FAIL" };
    println!(
        "\nGate verdict: {verdict} (failed metrics: {})",
        failed.join(", ")
    );

    // Check the results, so a misbehaving library makes the example fail.
    let unchanged = ANSWERS
        .iter()
        .filter(|answers| answers[0] == answers[1])
        .count();
    let facts = |run: &EvalRun| {
        run.values("contains")
            .iter()
            .filter(|(_, v)| *v == 1.0)
            .count()
    };
    anyhow::ensure!(
        facts(&runs[0]) == ANSWERS.len(),
        "only {} version 1 answers contain the reference fact",
        facts(&runs[0])
    );
    anyhow::ensure!(
        facts(&runs[1]) == unchanged,
        "{} version 2 answers contain the reference fact, expected {unchanged}",
        facts(&runs[1])
    );
    let judged_right = runs[1]
        .values("correctness")
        .iter()
        .filter(|(_, v)| *v == 5.0)
        .count();
    anyhow::ensure!(
        judged_right == unchanged,
        "the judge gave {judged_right} answers a 5, expected {unchanged}"
    );
    anyhow::ensure!(!gate.passed(), "the gate passed the regressed version");
    anyhow::ensure!(
        failed.contains(&"contains") && failed.contains(&"correctness"),
        "expected contains and correctness to fail, failed: {failed:?}"
    );
    let requests = mock.request_count();
    anyhow::ensure!(
        requests == 4 * ANSWERS.len() as u64,
        "the mock served {requests} requests"
    );
    mock.shutdown().await;
    Ok(())
}
