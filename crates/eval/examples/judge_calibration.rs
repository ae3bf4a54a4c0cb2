//! Calibrates the faithfulness and answer-relevance judges against the
//! human labels of the ARES few-shot rows in `tests/data/ares` (42 rows).
//!
//! By default the judge is the embedded SmolLM2-135M model (fetch it first
//! with `llmops model fetch`). Set `LLMOPS_JUDGE_MODEL` to use an
//! OpenAI-compatible server instead; it reads `OPENAI_BASE_URL` and
//! `OPENAI_API_KEY`.
//!
//! ```text
//! cargo run --release -p llmops-eval --example judge_calibration
//! LLMOPS_JUDGE_MODEL=gpt-4o-mini cargo run -p llmops-eval --example judge_calibration
//! ```

#[path = "../tests/ares_support/mod.rs"]
mod ares_support;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use llmops_core::ModelBackend;
use llmops_core::providers::openai::{OpenAiBackend, OpenAiConfig};
use llmops_eval::judge::{JudgeScale, RubricPreset};
use llmops_eval::labels::{LabelSet, judge_agreement};
use llmops_eval::{Metric, Sample};
use llmops_local::{LocalBackend, LocalModelConfig};

type BoxError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ares");
    let rows = ares_support::load_ares(&data)?;
    let (backend, model, local) = judge_backend().await?;
    println!("judge model: {model}; {} ARES rows", rows.len());

    for preset in [RubricPreset::Faithfulness, RubricPreset::AnswerRelevance] {
        // The local model rejects JSON response formats, and a short
        // verdict needs few tokens.
        let judge = preset
            .judge(Arc::clone(&backend), model.as_str())?
            .structured_output(!local)
            .max_tokens(if local { 48 } else { 256 });

        let started = Instant::now();
        let mut scores = Vec::new();
        let mut human = LabelSet::default();
        for row in &rows {
            let score = judge.score(&Sample::new(&row.case, &row.answer)).await;
            let label = match preset {
                RubricPreset::Faithfulness => row.answer_faithfulness,
                _ => row.answer_relevance,
            };
            human.labels.insert(row.case.id.clone(), label);
            scores.push((row.case.id.clone(), score));
        }
        let agreement = judge_agreement(
            scores.iter().map(|(id, score)| (id.as_str(), score)),
            &human,
            JudgeScale::PassFail,
        );

        let passes = scores
            .iter()
            .filter(|(_, score)| score.as_value() == Some(1.0))
            .count();
        let human_passes = human.labels.values().filter(|label| **label == 1.0).count();
        println!("\n{}", preset.name());
        println!("  scored pairs: {} of {}", agreement.pairs, rows.len());
        println!("  judge undetermined: {}", agreement.judge_undetermined);
        println!("  judge pass: {passes}, human pass: {human_passes}");
        println!("  accuracy: {}", show(agreement.accuracy));
        println!("  cohen_kappa: {}", show(agreement.kappa));
        println!("  seconds: {:.1}", started.elapsed().as_secs_f64());
    }
    Ok(())
}

async fn judge_backend() -> Result<(Arc<dyn ModelBackend>, String, bool), BoxError> {
    if let Ok(model) = std::env::var("LLMOPS_JUDGE_MODEL") {
        let backend = OpenAiBackend::new(OpenAiConfig::from_env()?)?;
        return Ok((Arc::new(backend), model, false));
    }
    let backend = LocalBackend::load(LocalModelConfig::default()).await?;
    Ok((
        Arc::new(backend),
        llmops_local::MODEL_ALIAS.to_owned(),
        true,
    ))
}

fn show(value: Option<f64>) -> String {
    value.map_or_else(|| "undefined".to_owned(), |value| format!("{value:.3}"))
}
