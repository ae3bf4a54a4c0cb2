//! The groundedness scorer: signals, undetermined cases and invariants.

use llmops_eval::grounded::GroundednessSignal;
use llmops_eval::rag::Faithfulness;
use llmops_eval::{GroundednessInput, GroundednessScorer, Score};
use proptest::prelude::*;

const CONTEXT: &str = "Seoul is the capital of South Korea. About 9.4 million people live there.";

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[tokio::test]
async fn weakest_claim_sets_score() {
    let contexts = [CONTEXT.to_owned()];
    let answer = "Seoul is the capital of South Korea. About 12 million people live there.";
    let verdict = GroundednessScorer::lexical()
        .score(&GroundednessInput::new(answer).with_contexts(&contexts))
        .await;
    assert_eq!(verdict.signal, Some(GroundednessSignal::ClaimSupport));
    assert!(verdict.flagged);
    assert_eq!(verdict.score, Score::value(0.1));
    assert_eq!(
        verdict.unsupported_claims,
        ["About 12 million people live there."]
    );
}

#[tokio::test]
async fn no_evidence_is_undetermined() {
    let verdict = GroundednessScorer::lexical()
        .score(&GroundednessInput::new("Seoul is large."))
        .await;
    assert!(verdict.score.as_value().is_none());
    assert!(!verdict.flagged);
    assert_eq!(verdict.signal, None);
}

#[tokio::test]
async fn logprobs_used_without_context() {
    let confident = [-0.01, -0.02, -0.05];
    let unsure = [-2.0, -3.0, -1.5];
    let scorer = GroundednessScorer::lexical();
    let high = scorer
        .score(&GroundednessInput::new("Seoul is large.").with_token_logprobs(&confident))
        .await;
    let low = scorer
        .score(&GroundednessInput::new("Seoul is large.").with_token_logprobs(&unsure))
        .await;
    assert_eq!(high.signal, Some(GroundednessSignal::TokenProbability));
    assert!(!high.flagged);
    assert!(low.flagged);
    assert!(high.score.as_value().unwrap() > 0.95);
}

#[tokio::test]
async fn self_consistency_flags_disagreement() {
    let samples = [
        "The Treaty of Westphalia was signed in 1648.".to_owned(),
        "It was signed in 1648 in Osnabrück and Münster.".to_owned(),
    ];
    let scorer = GroundednessScorer::lexical();
    let consistent = scorer
        .score(&GroundednessInput::new("The treaty was signed in 1648.").with_samples(&samples))
        .await;
    let inconsistent = scorer
        .score(&GroundednessInput::new("The treaty was signed in 1748.").with_samples(&samples))
        .await;
    assert_eq!(consistent.signal, Some(GroundednessSignal::SelfConsistency));
    assert!(!consistent.flagged, "{consistent:?}");
    assert!(inconsistent.flagged, "{inconsistent:?}");
}

#[tokio::test]
async fn korean_and_japanese_claims() {
    let contexts = ["서울은 대한민국의 수도이다. 東京は日本の首都です。".to_owned()];
    let scorer = GroundednessScorer::lexical();
    let korean = scorer
        .score(&GroundednessInput::new("서울은 대한민국의 수도이다.").with_contexts(&contexts))
        .await;
    let japanese = scorer
        .score(&GroundednessInput::new("大阪は日本の首都です。").with_contexts(&contexts))
        .await;
    assert_eq!(korean.score, Score::value(1.0));
    assert!(japanese.score.as_value().unwrap() < 1.0);
}

#[test]
fn threshold_must_be_unit() {
    assert!(GroundednessScorer::lexical().with_threshold(-0.1).is_err());
    assert_eq!(
        GroundednessScorer::lexical()
            .with_threshold(0.3)
            .unwrap()
            .threshold(),
        0.3
    );
}

fn sentence() -> impl Strategy<Value = String> {
    let words = prop::sample::subsequence(
        vec![
            "Paris", "river", "1887", "tower", "built", "the", "is", "9.5", "서울", "東京", "iron",
            "tall", "Gustave", "Eiffel", "bridge", "in", "of", "?", "!",
        ],
        1..8,
    );
    words.prop_map(|words| format!("{}.", words.join(" ")))
}

proptest! {
    #[test]
    fn scores_in_unit_interval(
        answer in prop::collection::vec(sentence(), 0..4),
        contexts in prop::collection::vec(prop::collection::vec(sentence(), 0..4), 0..4),
    ) {
        let answer = answer.join(" ");
        let contexts: Vec<String> = contexts.iter().map(|c| c.join(" ")).collect();
        let verdict = block_on(
            GroundednessScorer::lexical()
                .score(&GroundednessInput::new(&answer).with_contexts(&contexts)),
        );
        if let Some(score) = verdict.score.as_value() {
            prop_assert!((0.0..=1.0).contains(&score), "score {score}");
        }
        for claim in &verdict.claims {
            prop_assert!((0.0..=1.0).contains(&claim.support));
            prop_assert!((0.0..=1.0).contains(&claim.lexical));
        }
        let faithfulness = block_on(Faithfulness::default().assess(&answer, &contexts));
        if let Ok(assessment) = faithfulness {
            prop_assert!((0.0..=1.0).contains(&assessment.faithfulness));
        }
    }

    #[test]
    fn faithfulness_ignores_context_order(
        answer in prop::collection::vec(sentence(), 1..4),
        contexts in prop::collection::vec(prop::collection::vec(sentence(), 1..4), 1..5),
        rotation in 0usize..5,
    ) {
        let answer = answer.join(" ");
        let contexts: Vec<String> = contexts.iter().map(|c| c.join(" ")).collect();
        let mut reordered = contexts.clone();
        reordered.rotate_left(rotation % contexts.len());
        reordered.reverse();
        let metric = Faithfulness::default();
        let original = block_on(metric.assess(&answer, &contexts));
        let shuffled = block_on(metric.assess(&answer, &reordered));
        prop_assert_eq!(original, shuffled);
    }

    #[test]
    fn empty_context_is_undetermined(
        answer in prop::collection::vec(sentence(), 0..4),
        blanks in prop::collection::vec("[ \t\n]{0,3}", 0..3),
    ) {
        let answer = answer.join(" ");
        let assessment = block_on(Faithfulness::default().assess(&answer, &blanks));
        prop_assert!(assessment.is_err());
        let verdict = block_on(
            GroundednessScorer::lexical()
                .score(&GroundednessInput::new(&answer).with_contexts(&blanks)),
        );
        prop_assert!(verdict.score.as_value().is_none());
        prop_assert!(!verdict.flagged);
    }
}
