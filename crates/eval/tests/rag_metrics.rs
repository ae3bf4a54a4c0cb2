//! RAG metrics on hand-written cases: faithfulness, context precision and
//! recall, citation correctness and answer relevance.

use std::sync::Arc;

use async_trait::async_trait;
use llmops_core::Embedder;
use llmops_eval::rag::{
    AnswerRelevance, CitationCorrectness, ContextPrecision, ContextRecall, Faithfulness,
    SupportScorer,
};
use llmops_eval::{Case, Metric, Sample, Score};

const BRIDGE: &str = "The Golden Gate Bridge opened in 1937. It spans the Golden Gate strait \
                      in San Francisco.";
const TOWER: &str = "The Eiffel Tower in Paris is 330 metres tall.";

fn value(score: &Score) -> f64 {
    score
        .as_value()
        .unwrap_or_else(|| panic!("undetermined: {score:?}"))
}

#[tokio::test]
async fn faithfulness_counts_supported_claims() {
    let case = Case::new("c", "Tell me about the bridge").context(BRIDGE);
    let sample = Sample::new(
        &case,
        "The Golden Gate Bridge opened in 1937. It was painted by Claude Monet.",
    );
    assert_eq!(value(&Faithfulness::default().score(&sample).await), 0.5);
}

#[tokio::test]
async fn number_mismatch_is_unsupported() {
    let assessment = Faithfulness::default()
        .assess(
            "The Golden Gate Bridge opened in 1938.",
            &[BRIDGE.to_owned()],
        )
        .await
        .unwrap();
    assert!(assessment.is_hallucination());
    assert_eq!(assessment.faithfulness, 0.0);
    assert!(assessment.claims[0].number_mismatch);
    assert_eq!(
        assessment.unsupported_claims,
        ["The Golden Gate Bridge opened in 1938."]
    );
}

#[tokio::test]
async fn faithfulness_without_claims_or_context() {
    let with_context = Case::new("c", "q").context(BRIDGE);
    let questions_only = Sample::new(&with_context, "Which bridge? Why do you ask?");
    let score = Faithfulness::default().score(&questions_only).await;
    assert!(matches!(score, Score::Undetermined { ref reason } if reason.contains("claims")));

    let without_context = Case::new("c", "q");
    let sample = Sample::new(&without_context, "The bridge opened in 1937.");
    let score = Faithfulness::default().score(&sample).await;
    assert!(matches!(score, Score::Undetermined { ref reason } if reason.contains("contexts")));

    let blank_context = Case::new("c", "q").context("  ");
    let sample = Sample::new(&blank_context, "The bridge opened in 1937.");
    assert!(
        Faithfulness::default()
            .score(&sample)
            .await
            .as_value()
            .is_none()
    );
}

#[tokio::test]
async fn context_precision_rewards_rank() {
    let reference = "The Eiffel Tower is 330 metres tall.";
    let relevant_first = Case::new("c", "How tall is the Eiffel Tower?")
        .expected(reference)
        .context(TOWER)
        .context(BRIDGE);
    let relevant_second = Case::new("c", "How tall is the Eiffel Tower?")
        .expected(reference)
        .context(BRIDGE)
        .context(TOWER);
    let metric = ContextPrecision::default();
    let first = value(&metric.score(&Sample::new(&relevant_first, "")).await);
    let second = value(&metric.score(&Sample::new(&relevant_second, "")).await);
    assert_eq!(first, 1.0);
    assert_eq!(second, 0.5);
}

#[tokio::test]
async fn context_precision_needs_reference() {
    let case = Case::new("c", "q").context(TOWER);
    let score = ContextPrecision::default()
        .score(&Sample::new(&case, ""))
        .await;
    assert!(score.as_value().is_none());
}

#[tokio::test]
async fn context_recall_counts_reference_claims() {
    let case = Case::new("c", "q")
        .expected("The Eiffel Tower is 330 metres tall. It was finished in 1889.")
        .context(TOWER);
    let score = ContextRecall::default()
        .score(&Sample::new(&case, ""))
        .await;
    assert_eq!(value(&score), 0.5);
}

#[tokio::test]
async fn citations_checked_against_packed_passages() {
    let packed =
        format!("[1] (bridges bytes 0-80)\n{BRIDGE}\n\n[2] (towers bytes 0-45)\n{TOWER}\n\n");
    let case = Case::new("c", "q").context(packed);
    let metric = CitationCorrectness::default();

    let right = Sample::new(
        &case,
        "The bridge opened in 1937 [1]. The tower is 330 metres tall [2].",
    );
    assert_eq!(value(&metric.score(&right).await), 1.0);

    let swapped = Sample::new(
        &case,
        "The bridge opened in 1937 [2]. The tower is 330 metres tall [1].",
    );
    assert_eq!(value(&metric.score(&swapped).await), 0.0);

    let by_document = Sample::new(
        &case,
        "The tower is 330 metres tall [towers]. It is old [9].",
    );
    assert_eq!(value(&metric.score(&by_document).await), 0.5);

    let uncited = Sample::new(&case, "The tower is 330 metres tall.");
    assert!(metric.score(&uncited).await.as_value().is_none());
}

#[tokio::test]
async fn citations_number_plain_contexts() {
    let case = Case::new("c", "q").context(BRIDGE).context(TOWER);
    let sample = Sample::new(&case, "The Eiffel Tower is 330 metres tall.[2]");
    assert_eq!(
        value(&CitationCorrectness::default().score(&sample).await),
        1.0
    );
}

/// Embeds a text as counts of its lowercase words hashed into 32 buckets.
struct WordCountEmbedder;

#[async_trait]
impl Embedder for WordCountEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|text| {
                let mut vector = vec![0.0f32; 32];
                for word in text.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
                    if word.is_empty() {
                        continue;
                    }
                    let bucket = word.bytes().fold(7usize, |h, b| h * 31 + usize::from(b)) % 32;
                    vector[bucket] += 1.0;
                }
                vector
            })
            .collect())
    }

    fn dimensions(&self) -> usize {
        32
    }

    fn model(&self) -> &str {
        "word-count"
    }
}

#[tokio::test]
async fn answer_relevance_orders_answers() {
    let metric = AnswerRelevance::new(Arc::new(WordCountEmbedder));
    let case = Case::new("c", "How tall is the Eiffel Tower");
    let on_topic = value(
        &metric
            .score(&Sample::new(&case, "The Eiffel Tower is tall"))
            .await,
    );
    let off_topic = value(
        &metric
            .score(&Sample::new(&case, "Bananas grow in bunches"))
            .await,
    );
    assert!(on_topic > off_topic, "{on_topic} <= {off_topic}");
    assert!((0.0..=1.0).contains(&off_topic));
    assert!(
        metric
            .score(&Sample::new(&case, " "))
            .await
            .as_value()
            .is_none()
    );
}

#[tokio::test]
async fn embedding_evidence_changes_support() {
    let contexts = [TOWER.to_owned()];
    let claims = ["The Eiffel Tower is 330 metres tall.".to_owned()];
    let lexical = SupportScorer::lexical()
        .support(&claims, &contexts)
        .await
        .unwrap();
    let scorer = SupportScorer::lexical().with_embedder(Arc::new(WordCountEmbedder));
    let combined = scorer.support(&claims, &contexts).await.unwrap();
    assert_eq!(lexical[0].embedding, None);
    let embedding = combined[0].embedding.unwrap();
    assert!((0.0..=1.0).contains(&embedding));
    let expected = 0.5 * combined[0].lexical + 0.5 * embedding;
    assert!((combined[0].support - expected).abs() < 1e-12);
}

#[test]
fn support_scorer_rejects_bad_parameters() {
    assert!(SupportScorer::lexical().with_claim_threshold(1.5).is_err());
    assert!(SupportScorer::lexical().with_lexical_weight(-0.1).is_err());
    assert!(
        SupportScorer::lexical()
            .with_lexical_weight(f64::NAN)
            .is_err()
    );
}
