//! Measures how well `GroundednessScorer` separates grounded from
//! hallucinated answers on human-labelled sets, and prints the results as
//! JSON.
//!
//! ```text
//! cargo run --release -p llmops-eval --example groundedness_quality -- [--lexical-only] [--scores-out FILE]
//! ```
//!
//! Sets, from `crates/eval/tests/data` (sources in its README):
//!
//! - HaluEval QA: each row gives a right answer (grounded) and a
//!   hallucinated answer, with the knowledge passage as the context.
//! - ARES few-shot judge examples: `Answer_Faithfulness_Label` against the
//!   document.
//! - HaluEval general: ChatGPT responses with human hallucination labels
//!   and no context, so the scorer can only report them undetermined.
//!
//! The detector score is `1 − groundedness`, and the positive class is a
//! hallucination. Undetermined responses are left out of AUROC, precision
//! and recall and counted separately. Without `--lexical-only` the run is
//! repeated with all-MiniLM-L6-v2 embeddings (the model is found or
//! downloaded as `llmops_local::EmbedderConfig::default` does).
//! `--scores-out` writes the lexical-only HaluEval QA scores and labels as
//! JSON, to check the AUROC against another implementation.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use llmops_eval::rag::SupportScorer;
use llmops_eval::stats::{BinaryCounts, auroc};
use llmops_eval::{GroundednessInput, GroundednessScorer};
use llmops_local::{EmbedderConfig, MiniLmEmbedder};
use serde::Deserialize;
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One labelled response with its contexts.
struct Labelled {
    answer: String,
    contexts: Vec<String>,
    hallucinated: bool,
}

#[derive(Deserialize)]
struct QaRow {
    knowledge: String,
    right_answer: String,
    hallucinated_answer: String,
}

#[derive(Deserialize)]
struct GeneralRow {
    chatgpt_response: String,
    hallucination: String,
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn halueval_qa(dir: &Path) -> Result<Vec<Labelled>, BoxError> {
    let text = std::fs::read_to_string(dir.join("halueval/qa_one-turn_data.jsonl"))?;
    let mut items = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let row: QaRow = serde_json::from_str(line)?;
        for (answer, hallucinated) in [(row.right_answer, false), (row.hallucinated_answer, true)] {
            items.push(Labelled {
                answer,
                contexts: vec![row.knowledge.clone()],
                hallucinated,
            });
        }
    }
    Ok(items)
}

fn halueval_general(dir: &Path) -> Result<Vec<Labelled>, BoxError> {
    let text = std::fs::read_to_string(dir.join("halueval/general_data.first1000.jsonl"))?;
    let mut items = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let row: GeneralRow = serde_json::from_str(line)?;
        items.push(Labelled {
            answer: row.chatgpt_response,
            contexts: Vec::new(),
            hallucinated: row.hallucination == "yes",
        });
    }
    Ok(items)
}

fn ares(dir: &Path) -> Result<Vec<Labelled>, BoxError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("ares"))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "tsv"))
        .collect();
    paths.sort();
    let mut items = Vec::new();
    for path in paths {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b'\t')
            .quoting(false)
            .from_path(&path)?;
        for row in reader.deserialize::<std::collections::HashMap<String, String>>() {
            let row = row?;
            let field = |name: &str| row.get(name).cloned().unwrap_or_default();
            items.push(Labelled {
                answer: field("Answer"),
                contexts: vec![field("Document")],
                hallucinated: field("Answer_Faithfulness_Label").contains("No"),
            });
        }
    }
    Ok(items)
}

/// Scores every item and summarises the detector.
async fn measure(scorer: &GroundednessScorer, items: &[Labelled]) -> (Value, Vec<(f64, bool)>) {
    let started = Instant::now();
    let mut scored: Vec<(f64, bool)> = Vec::new();
    let mut flagged = Vec::new();
    let mut undetermined = 0usize;
    for item in items {
        let input = GroundednessInput::new(&item.answer).with_contexts(&item.contexts);
        let verdict = scorer.score(&input).await;
        match verdict.score.as_value() {
            Some(score) => {
                scored.push((1.0 - score, item.hallucinated));
                flagged.push(verdict.flagged);
            }
            None => undetermined += 1,
        }
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1_000.0;
    let detector: Vec<f64> = scored.iter().map(|(score, _)| *score).collect();
    let labels: Vec<bool> = scored.iter().map(|(_, label)| *label).collect();
    let counts = BinaryCounts::new(&flagged, &labels);
    let summary = json!({
        "responses": items.len(),
        "hallucinated": items.iter().filter(|item| item.hallucinated).count(),
        "undetermined": undetermined,
        "undetermined_rate": undetermined as f64 / items.len().max(1) as f64,
        "auroc": auroc(&detector, &labels),
        "threshold": scorer.threshold(),
        "precision": counts.precision(),
        "recall": counts.recall(),
        "flagged": counts.true_positives + counts.false_positives,
        "mean_ms_per_response": elapsed_ms / items.len().max(1) as f64,
    });
    (summary, scored)
}

async fn run_all(
    scorer: &GroundednessScorer,
    dir: &Path,
) -> Result<(Value, Vec<(f64, bool)>), BoxError> {
    let (qa, qa_scores) = measure(scorer, &halueval_qa(dir)?).await;
    let (ares, _) = measure(scorer, &ares(dir)?).await;
    let (general, _) = measure(scorer, &halueval_general(dir)?).await;
    let results = json!({
        "halueval_qa": qa,
        "ares_answer_faithfulness": ares,
        "halueval_general": general,
    });
    Ok((results, qa_scores))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let lexical_only = arguments
        .iter()
        .any(|argument| argument == "--lexical-only");
    let scores_out = arguments
        .iter()
        .position(|argument| argument == "--scores-out")
        .and_then(|index| arguments.get(index + 1))
        .map(PathBuf::from);
    let dir = data_dir();

    let (lexical, qa_scores) = run_all(&GroundednessScorer::lexical(), &dir).await?;
    if let Some(path) = scores_out {
        let vectors = json!({
            "scores": qa_scores.iter().map(|(score, _)| *score).collect::<Vec<_>>(),
            "labels": qa_scores.iter().map(|(_, label)| *label).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_string(&vectors)?)?;
    }
    let mut report = json!({ "lexical": lexical });

    if !lexical_only {
        let config = EmbedderConfig::default().with_truncation(true);
        let embedder = Arc::new(MiniLmEmbedder::load(config).await?);
        let support = SupportScorer::lexical().with_embedder(embedder);
        let (embedding, _) = run_all(&GroundednessScorer::new(support), &dir).await?;
        report["lexical_minilm"] = embedding;
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
