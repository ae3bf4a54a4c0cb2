//! Offline evaluation of the two prompt versions: every answer is scored on
//! several dimensions, and a regression gate compares version 2 with
//! version 1 on the same questions.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use llmops_core::ModelBackend;
use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_eval::text::{Rouge, RougeKind, TokenF1};
use llmops_eval::{
    Case, Contains, Dataset, EvalRun, Evaluator, GateConfig, LatencyBudget, LengthRange, Report,
    ReportOptions, ResultStore, compare_runs,
};
use llmops_registry::{Registry, RenderedPrompt, Role, Selector};
use llmops_store::Store;
use serde_json::json;

use crate::prompts::PROMPT;

/// One question with its context and reference answer.
pub(crate) struct EvalQuestion<'a> {
    /// The context passage the answer must come from.
    pub(crate) knowledge: &'a str,
    /// The question.
    pub(crate) question: &'a str,
    /// The reference answer.
    pub(crate) right_answer: &'a str,
}

/// Evaluates versions 1 and 2 of the quickstart prompt on `questions`,
/// prints a report per version and the gate's verdict, and returns whether
/// version 2 passed the gate against version 1.
///
/// # Errors
///
/// Fails when a version cannot be loaded or rendered, or the result store
/// cannot be opened. Model failures are reported per case instead.
pub(crate) async fn evaluate_versions(
    backend: Arc<dyn ModelBackend>,
    model: &str,
    registry: &Registry,
    questions: &[EvalQuestion<'_>],
    max_tokens: u32,
) -> anyhow::Result<bool> {
    let cases = questions
        .iter()
        .enumerate()
        .map(|(number, q)| {
            let mut case = Case::new(format!("q{number:03}"), q.question.trim())
                .expected(q.right_answer.trim())
                .context(q.knowledge.trim());
            case.variables
                .insert("context".to_owned(), json!(q.knowledge.trim()));
            case.variables
                .insert("question".to_owned(), json!(q.question.trim()));
            case
        })
        .collect();
    let dataset = Dataset::new("quickstart-qa", cases)?;
    let results = ResultStore::open(Store::connect("sqlite::memory:").await?).await?;

    let mut runs: Vec<EvalRun> = Vec::new();
    for version in [1, 2] {
        let evaluator = evaluator_for_version(
            backend.clone(),
            model,
            registry,
            version,
            &dataset,
            max_tokens,
        )
        .await?
        .store(results.clone());
        let run = evaluator
            .run(&format!("{PROMPT}@{version}"), &dataset)
            .await?;
        println!(
            "{}",
            Report::new(&run, &ReportOptions::default()).to_markdown()
        );
        runs.push(run);
    }

    // Answers are short, so a drop of 0.05 in a 0-to-1 metric is tolerated
    // and the gate fails only on larger, significant drops.
    let config = GateConfig {
        max_drop: 0.05,
        ..GateConfig::default()
    };
    let gate = compare_runs(&runs[0], &runs[1], &config)?;
    println!("{}", gate.to_markdown());
    Ok(gate.passed())
}

/// Builds an evaluator whose requests are the registry version rendered per
/// case, with the quickstart's metrics.
async fn evaluator_for_version(
    backend: Arc<dyn ModelBackend>,
    model: &str,
    registry: &Registry,
    version: u32,
    dataset: &Dataset,
    max_tokens: u32,
) -> anyhow::Result<Evaluator> {
    let prompt = registry.get(PROMPT, &Selector::Version(version)).await?;
    let mut rendered: HashMap<String, Vec<ChatMessage>> = HashMap::new();
    for case in dataset.cases() {
        let variables: BTreeMap<_, _> = case.variables.clone();
        let RenderedPrompt::Chat(messages) = llmops_registry::render(&prompt, &variables)? else {
            anyhow::bail!("{PROMPT} is a chat prompt, but rendered as text");
        };
        let messages = messages
            .into_iter()
            .map(|message| match message.role {
                Role::System => ChatMessage::system(message.content),
                Role::Assistant => ChatMessage::assistant(message.content),
                _ => ChatMessage::user(message.content),
            })
            .collect();
        rendered.insert(case.id.clone(), messages);
    }

    let evaluator = Evaluator::new(backend, model)
        // The local model runs one request at a time.
        .concurrency(1)
        .prompt_version(format!("{PROMPT}@{version}"))
        .request_builder(move |case: &Case, model: &str| {
            let messages = rendered
                .get(&case.id)
                .cloned()
                .unwrap_or_else(|| vec![ChatMessage::user(case.input.clone())]);
            let mut request = ChatRequest::new(model, messages);
            request.max_tokens = Some(max_tokens);
            request.temperature = Some(0.0);
            request
        })
        .metric(Contains::reference().ignore_case(true))
        .metric(TokenF1)
        .metric(Rouge::new(RougeKind::RougeL))
        .metric(LengthRange::new(1, 400)?)
        .metric(LatencyBudget::new(10_000));
    Ok(evaluator)
}
