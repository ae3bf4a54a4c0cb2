//! Ragas-style answer relevance: questions generated back from the answer
//! by a scripted model, embedded and compared with the case input.

use crate::judge_support;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use judge_support::{FnBackend, prompt};
use llmops_core::{Embedder, Error};
use llmops_eval::rag::{AnswerRelevance, Noncommittal, QuestionGenerator};
use llmops_eval::{Case, EvalError, Metric, Sample, Score, cosine_similarity};

const QUESTION: &str = "How tall is the Eiffel Tower?";

/// Embeds a text as counts of its lowercase words hashed into 64 buckets,
/// and records every batch it was given.
#[derive(Default)]
struct WordCountEmbedder {
    batches: Mutex<Vec<Vec<String>>>,
}

fn word_counts(text: &str) -> Vec<f32> {
    let mut vector = vec![0.0f32; 64];
    for word in text.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
        if !word.is_empty() {
            let bucket = word.bytes().fold(7usize, |h, b| h * 31 + usize::from(b)) % 64;
            vector[bucket] += 1.0;
        }
    }
    vector
}

#[async_trait]
impl Embedder for WordCountEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        self.batches.lock().unwrap().push(texts.to_vec());
        Ok(texts.iter().map(|text| word_counts(text)).collect())
    }

    fn dimensions(&self) -> usize {
        64
    }

    fn model(&self) -> &str {
        "word-counts"
    }
}

fn generator_replying(reply: &str) -> (Arc<FnBackend>, QuestionGenerator) {
    let backend = Arc::new(FnBackend::fixed(reply));
    let generator = QuestionGenerator::new(backend.clone(), "generator");
    (backend, generator)
}

fn metric(generator: QuestionGenerator) -> (Arc<WordCountEmbedder>, AnswerRelevance) {
    let embedder = Arc::new(WordCountEmbedder::default());
    let metric = AnswerRelevance::new(embedder.clone()).with_generated_questions(generator);
    (embedder, metric)
}

async fn score(metric: &AnswerRelevance, answer: &str) -> Score {
    let case = Case::new("c1", QUESTION);
    metric.score(&Sample::new(&case, answer)).await
}

fn undetermined_reason(score: &Score) -> String {
    match score {
        Score::Undetermined { reason } => reason.clone(),
        other => panic!("expected an undetermined score, got {other:?}"),
    }
}

#[tokio::test]
async fn score_is_mean_cosine_of_generated_questions() {
    let other = "Where do bananas grow?";
    let reply = format!(r#"{{"questions": ["{QUESTION}", "{other}"], "noncommittal": false}}"#);
    let (_, generator) = generator_replying(&reply);
    let (_, metric) = metric(generator);

    let value = score(&metric, "It is 330 metres tall.")
        .await
        .as_value()
        .unwrap();
    let question = word_counts(QUESTION);
    let same = cosine_similarity(&question, &question).unwrap();
    let unrelated = cosine_similarity(&question, &word_counts(other)).unwrap();
    let expected = (same + unrelated) / 2.0;
    assert!((value - expected).abs() < 1e-12, "{value} vs {expected}");
    assert!(value < 0.99, "{value}");
}

#[tokio::test]
async fn on_topic_questions_score_higher() {
    let (_, on_topic) = generator_replying(
        r#"{"questions": ["How tall is the Eiffel Tower?", "What is the height of the Eiffel Tower?"], "noncommittal": false}"#,
    );
    let (_, off_topic) = generator_replying(
        r#"{"questions": ["Where do bananas grow?", "What colour are bananas?"], "noncommittal": false}"#,
    );
    let high = score(&metric(on_topic).1, "330 metres")
        .await
        .as_value()
        .unwrap();
    let low = score(&metric(off_topic).1, "330 metres")
        .await
        .as_value()
        .unwrap();
    assert!(high > low, "{high} <= {low}");
}

#[tokio::test]
async fn noncommittal_answer_scores_zero_by_default() {
    let (_, generator) = generator_replying(
        r#"{"questions": ["How tall is the Eiffel Tower?"], "noncommittal": true}"#,
    );
    let (embedder, metric) = metric(generator);
    assert_eq!(score(&metric, "I don't know.").await, Score::value(0.0));
    assert!(embedder.batches.lock().unwrap().is_empty());
}

#[tokio::test]
async fn noncommittal_answer_can_be_undetermined() {
    let (_, generator) =
        generator_replying(r#"{"questions": ["How tall is it?"], "noncommittal": "yes"}"#);
    let (_, metric) = metric(generator);
    let metric = metric.on_noncommittal(Noncommittal::Undetermined);
    let reason = undetermined_reason(&score(&metric, "Hard to say.").await);
    assert!(reason.contains("noncommittal"), "{reason}");
}

#[tokio::test]
async fn generation_failure_is_undetermined() {
    let backend = Arc::new(FnBackend::new(|_| {
        Err(Error::invalid_request("model", "no such model"))
    }));
    let (_, metric) = metric(QuestionGenerator::new(backend, "missing"));
    let reason = undetermined_reason(&score(&metric, "330 metres").await);
    assert!(reason.contains("question generation failed"), "{reason}");
}

#[tokio::test]
async fn reply_without_questions_is_undetermined() {
    let (_, generator) = generator_replying("Sorry, I can only help with cooking.");
    let (_, metric) = metric(generator);
    let reason = undetermined_reason(&score(&metric, "330 metres").await);
    assert!(reason.contains("no question"), "{reason}");
}

#[tokio::test]
async fn plain_text_questions_are_accepted() {
    let (_, generator) = generator_replying("1. How tall is the Eiffel Tower?\n2. How high is it?");
    let (embedder, metric) = metric(generator);
    assert!(score(&metric, "330 metres").await.as_value().is_some());
    let batches = embedder.batches.lock().unwrap();
    assert_eq!(batches[0].len(), 3);
    assert_eq!(batches[0][0], QUESTION);
}

#[tokio::test]
async fn extra_questions_are_dropped() {
    let (_, generator) = generator_replying(
        r#"{"questions": ["a?", "b?", "c?", "d?", "e?"], "noncommittal": false}"#,
    );
    let (embedder, metric) = metric(generator.questions(2).unwrap());
    score(&metric, "330 metres").await;
    let batches = embedder.batches.lock().unwrap();
    assert_eq!(batches[0], [QUESTION, "a?", "b?"]);
}

#[tokio::test]
async fn prompt_carries_answer_count_and_schema() {
    let (backend, generator) =
        generator_replying(r#"{"questions": ["How tall?"], "noncommittal": false}"#);
    let (_, metric) = metric(generator.questions(4).unwrap());
    score(&metric, "Ungefähr 330 Meter hoch.").await;
    let requests = backend.requests();
    assert_eq!(requests.len(), 1);
    let text = prompt(&requests[0]);
    assert!(text.contains("Ungefähr 330 Meter hoch."), "{text}");
    assert!(text.contains("exactly 4"), "{text}");
    let format = requests[0].response_format.as_ref().unwrap();
    assert_eq!(format.kind, "json_schema");
}

#[tokio::test]
async fn blank_answer_makes_no_call() {
    let (backend, generator) = generator_replying(r#"{"questions": ["x?"]}"#);
    let (_, metric) = metric(generator);
    assert!(score(&metric, "  ").await.as_value().is_none());
    assert!(backend.requests().is_empty());
}

#[test]
fn modes_have_distinct_names() {
    let embedder = Arc::new(WordCountEmbedder::default());
    let direct = AnswerRelevance::new(embedder.clone());
    let (_, generator) = generator_replying("{}");
    let generated = AnswerRelevance::new(embedder).with_generated_questions(generator);
    assert_eq!(direct.name(), "answer_relevance");
    assert_eq!(generated.name(), "answer_relevance_generated");
}

#[test]
fn question_count_is_checked() {
    let (_, generator) = generator_replying("{}");
    assert!(matches!(
        generator.clone().questions(0),
        Err(EvalError::InvalidParameter { .. })
    ));
    assert!(generator.clone().questions(11).is_err());
    assert!(generator.questions(10).is_ok());
}
