//! Rubric and pairwise judges over scripted judge backends: parsing,
//! structured output, samples, position swap, and use in the evaluator.

use crate::common;
use crate::judge_support;

use std::sync::Arc;

use common::ScriptedBackend;
use judge_support::{FnBackend, prompt, section};
use llmops_core::Error;
use llmops_eval::judge::{
    Aggregation, InconsistentOrder, JudgeScale, JudgeTemplate, PairwiseJudge, PairwiseOutcome,
    RubricJudge, RubricPreset,
};
use llmops_eval::{Case, Dataset, Evaluator, Metric, Sample, Score};

fn rubric(backend: Arc<FnBackend>) -> RubricJudge {
    RubricJudge::new(
        "clarity",
        "Is the answer clear?",
        JudgeScale::ONE_TO_FIVE,
        backend,
        "judge",
    )
    .unwrap()
}

fn undetermined_reason(score: &Score) -> String {
    match score {
        Score::Undetermined { reason } => reason.clone(),
        other => panic!("expected an undetermined score, got {other:?}"),
    }
}

#[tokio::test]
async fn rubric_scores_fenced_json() {
    let backend = Arc::new(FnBackend::fixed(
        "```json\n{\"reasoning\": \"clear\", \"score\": 4}\n```",
    ));
    let judge = rubric(backend.clone());
    let case = Case::new("c1", "What is 2+2?");
    let judgement = judge.judge(&Sample::new(&case, "4")).await;
    assert_eq!(judgement.score, Score::value(4.0));
    assert_eq!(judgement.agreement, Some(1.0));
    assert_eq!(judgement.samples[0].reasoning.as_deref(), Some("clear"));
    assert_eq!(judge.range().min, 1.0);
    assert_eq!(judge.range().max, 5.0);
}

#[tokio::test]
async fn rubric_requests_strict_json_schema() {
    let backend = Arc::new(FnBackend::fixed(r#"{"reasoning": "", "score": 3}"#));
    let judge = rubric(backend.clone());
    let case = Case::new("c1", "Explain DNS");
    judge.score(&Sample::new(&case, "It maps names.")).await;

    let request = &backend.requests()[0];
    let format = request.response_format.as_ref().unwrap();
    assert_eq!(format.kind, "json_schema");
    let schema = format.json_schema.as_ref().unwrap();
    assert_eq!(schema["strict"], true);
    assert_eq!(
        schema["schema"]["properties"]["score"]["enum"],
        serde_json::json!([1, 2, 3, 4, 5])
    );
    assert_eq!(
        schema["schema"]["required"],
        serde_json::json!(["reasoning", "score"])
    );
    assert_eq!(request.temperature, Some(0.0));
    let text = prompt(request);
    assert!(text.contains("Is the answer clear?"), "{text}");
    assert!(text.contains("Explain DNS"), "{text}");
    assert!(text.contains("It maps names."), "{text}");
}

#[tokio::test]
async fn structured_output_can_be_turned_off() {
    let backend = Arc::new(FnBackend::fixed(r#"{"score": 3}"#));
    let judge = rubric(backend.clone()).structured_output(false);
    let case = Case::new("c1", "q");
    judge.score(&Sample::new(&case, "a")).await;
    assert!(backend.requests()[0].response_format.is_none());
}

#[tokio::test]
async fn unparsable_replies_are_undetermined_not_zero() {
    for reply in [
        "I cannot judge this.",
        r#"{"score": 9}"#,
        r#"{"score": "excellent"}"#,
        "",
    ] {
        let judge = rubric(Arc::new(FnBackend::fixed(reply)));
        let case = Case::new("c1", "q");
        let score = judge.score(&Sample::new(&case, "a")).await;
        assert!(score.as_value().is_none(), "reply {reply:?} gave {score:?}");
        assert!(!undetermined_reason(&score).is_empty());
    }
}

#[tokio::test]
async fn backend_failure_is_undetermined() {
    let backend = Arc::new(FnBackend::new(|_| {
        Err(Error::invalid_request("model", "no such judge"))
    }));
    let judge = rubric(backend);
    let case = Case::new("c1", "q");
    let reason = undetermined_reason(&judge.score(&Sample::new(&case, "a")).await);
    assert!(reason.contains("judge call"), "{reason}");
}

/// Replies by sample seed: samples 0 and 1 give 5, sample 2 gives 1.
fn seeded_backend() -> Arc<FnBackend> {
    Arc::new(FnBackend::new(|request| {
        let score = if request.seed == Some(2) { 1 } else { 5 };
        Ok(format!(r#"{{"score": {score}}}"#))
    }))
}

#[tokio::test]
async fn samples_average_with_agreement() {
    let backend = seeded_backend();
    let judge = rubric(backend.clone()).samples(3, 0.7).unwrap();
    let case = Case::new("c1", "q");
    let judgement = judge.judge(&Sample::new(&case, "a")).await;
    assert_eq!(judgement.samples.len(), 3);
    assert_eq!(judgement.score, Score::value(11.0 / 3.0));
    assert_eq!(judgement.agreement, Some(2.0 / 3.0));
    let requests = backend.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.temperature == Some(0.7)));
}

#[tokio::test]
async fn samples_by_majority() {
    let judge = rubric(seeded_backend())
        .samples(3, 1.0)
        .unwrap()
        .aggregation(Aggregation::Majority);
    let case = Case::new("c1", "q");
    assert_eq!(
        judge.score(&Sample::new(&case, "a")).await,
        Score::value(5.0)
    );
}

#[tokio::test]
async fn mostly_unparsable_samples_are_undetermined() {
    let backend = Arc::new(FnBackend::new(|request| {
        Ok(if request.seed == Some(0) {
            r#"{"score": 2}"#
        } else {
            "no idea"
        }
        .to_owned())
    }));
    let judge = rubric(backend).samples(3, 0.5).unwrap();
    let case = Case::new("c1", "q");
    let reason = undetermined_reason(&judge.score(&Sample::new(&case, "a")).await);
    assert!(reason.starts_with("1 of 3"), "{reason}");
}

#[test]
fn invalid_sample_settings_are_rejected() {
    let judge = || rubric(Arc::new(FnBackend::fixed("")));
    assert!(judge().samples(0, 0.0).is_err());
    assert!(judge().samples(33, 0.0).is_err());
    assert!(judge().samples(3, 2.5).is_err());
    assert!(judge().samples(3, f64::NAN).is_err());
    let empty = RubricJudge::new(
        "",
        "criteria",
        JudgeScale::PassFail,
        Arc::new(FnBackend::fixed("")),
        "m",
    );
    assert!(empty.is_err());
    let inverted = JudgeScale::Points { min: 5, max: 1 };
    let error =
        RubricJudge::new("x", "c", inverted, Arc::new(FnBackend::fixed("")), "m").unwrap_err();
    assert!(error.to_string().contains("5 to 1"), "{error}");
}

#[tokio::test]
async fn correctness_preset_needs_a_reference() {
    let backend = Arc::new(FnBackend::fixed(r#"{"score": 5}"#));
    let judge = RubricPreset::Correctness
        .judge(backend.clone(), "judge")
        .unwrap();
    let case = Case::new("c1", "Capital of France?");
    let reason = undetermined_reason(&judge.score(&Sample::new(&case, "Paris")).await);
    assert!(reason.contains("`expected`"), "{reason}");
    assert!(backend.requests().is_empty(), "no call without a reference");

    let case = case.expected("Paris");
    assert_eq!(
        judge.score(&Sample::new(&case, "Paris")).await,
        Score::value(5.0)
    );
    assert!(prompt(&backend.requests()[0]).contains("Reference answer:\nParis"));
}

#[tokio::test]
async fn faithfulness_preset_renders_contexts() {
    let backend = Arc::new(FnBackend::fixed("[[Yes]]"));
    let judge = RubricPreset::Faithfulness
        .judge(backend.clone(), "judge")
        .unwrap();
    let case = Case::new("c1", "When was it built?")
        .context("Built in 1889 ✓")
        .context("Tallest until 1930");
    assert_eq!(
        judge.score(&Sample::new(&case, "1889")).await,
        Score::value(1.0)
    );
    let text = prompt(&backend.requests()[0]);
    assert!(text.contains("[1] Built in 1889 ✓"), "{text}");
    assert!(text.contains("[2] Tallest until 1930"), "{text}");
    let schema = backend.requests()[0]
        .response_format
        .clone()
        .unwrap()
        .json_schema
        .unwrap();
    assert_eq!(
        schema["schema"]["properties"]["score"]["enum"],
        serde_json::json!(["pass", "fail"])
    );
}

#[tokio::test]
async fn safety_presets_pass_when_clean() {
    for preset in [RubricPreset::NonToxic, RubricPreset::Unbiased] {
        let backend = Arc::new(FnBackend::fixed(
            r#"{"reasoning": "polite", "score": "pass"}"#,
        ));
        let judge = preset.judge(backend, "judge").unwrap();
        assert_eq!(judge.scale(), JudgeScale::PassFail);
        let case = Case::new("c1", "Describe nurses");
        assert_eq!(
            judge
                .score(&Sample::new(&case, "They care for patients."))
                .await,
            Score::value(1.0)
        );
    }
}

#[tokio::test]
async fn custom_template_gets_variables() {
    let backend = Arc::new(FnBackend::fixed(r#"{"score": "fail"}"#));
    let template = JudgeTemplate::new(
        "terse",
        "",
        "{{ criteria }}|{{ input }}|{{ output }}|{{ scale }}",
    )
    .unwrap();
    let judge = RubricJudge::new(
        "terse",
        "Short?",
        JudgeScale::PassFail,
        backend.clone(),
        "judge",
    )
    .unwrap()
    .template(template);
    let case = Case::new("c1", "naïve");
    assert_eq!(
        judge.score(&Sample::new(&case, "résumé")).await,
        Score::value(0.0)
    );
    assert_eq!(
        prompt(&backend.requests()[0]),
        "Short?|naïve|résumé|\"pass\" or \"fail\""
    );
}

fn pairwise(backend: Arc<FnBackend>) -> PairwiseJudge {
    PairwiseJudge::new(
        "preference",
        "Which answer is more accurate?",
        backend,
        "judge",
    )
    .unwrap()
}

#[tokio::test]
async fn position_swap_cancels_first_position_bias() {
    let backend = Arc::new(FnBackend::fixed(
        r#"{"reasoning": "first is better", "winner": "A"}"#,
    ));
    let judge = pairwise(backend.clone());
    let judgement = judge.compare("q", "answer one", "answer two").await;
    assert_eq!(judgement.outcome, Some(PairwiseOutcome::Tie));
    assert_eq!(judgement.score, Score::value(0.5));
    assert_eq!(judgement.position_consistency, 0.0);
    assert!(!judgement.samples[0].consistent);

    let requests = backend.requests();
    assert_eq!(requests.len(), 2);
    let firsts: Vec<String> = requests
        .iter()
        .map(|r| section(&prompt(r), "Response A:", "Response B:").to_owned())
        .collect();
    assert!(firsts.contains(&"answer one".to_owned()), "{firsts:?}");
    assert!(firsts.contains(&"answer two".to_owned()), "{firsts:?}");
}

#[tokio::test]
async fn inconsistent_order_can_be_undetermined() {
    let backend = Arc::new(FnBackend::fixed(r#"{"winner": "B"}"#));
    let judge = pairwise(backend).on_inconsistent_order(InconsistentOrder::Undetermined);
    let judgement = judge.compare("q", "x", "y").await;
    assert_eq!(judgement.outcome, None);
    assert!(undetermined_reason(&judgement.score).contains("order"));
}

/// Prefers whichever shown response mentions "Paris".
fn content_backend() -> Arc<FnBackend> {
    Arc::new(FnBackend::new(|request| {
        let text = prompt(request);
        let first = section(&text, "Response A:", "Response B:");
        let winner = if first.contains("Paris") { "A" } else { "B" };
        Ok(format!(r#"{{"winner": "{winner}"}}"#))
    }))
}

#[tokio::test]
async fn consistent_preference_wins_in_both_orders() {
    let judge = pairwise(content_backend());
    let a_better = judge.compare("Capital?", "Paris", "Lyon").await;
    assert_eq!(a_better.outcome, Some(PairwiseOutcome::AWins));
    assert_eq!(a_better.position_consistency, 1.0);
    let b_better = judge.compare("Capital?", "Lyon", "Paris").await;
    assert_eq!(b_better.outcome, Some(PairwiseOutcome::BWins));
    assert_eq!(b_better.score, Score::value(0.0));
}

#[tokio::test]
async fn pairwise_metric_compares_with_expected() {
    let judge = pairwise(content_backend());
    let case = Case::new("c1", "Capital?").expected("Lyon");
    assert_eq!(
        judge.score(&Sample::new(&case, "Paris")).await,
        Score::value(1.0)
    );
    let no_baseline = Case::new("c2", "Capital?");
    let reason = undetermined_reason(&judge.score(&Sample::new(&no_baseline, "Paris")).await);
    assert!(reason.contains("expected"), "{reason}");
}

#[tokio::test]
async fn pairwise_samples_take_the_majority() {
    // Sample 2 answers "tie" in both orders; samples 0 and 1 follow content.
    let backend = Arc::new(FnBackend::new(|request| {
        if request.seed == Some(2) {
            return Ok(r#"{"winner": "tie"}"#.to_owned());
        }
        let first = section(&prompt(request), "Response A:", "Response B:").to_owned();
        Ok(format!(
            r#"{{"winner": "{}"}}"#,
            if first == "good" { "A" } else { "B" }
        ))
    }));
    let judge = pairwise(backend.clone()).samples(3, 0.8).unwrap();
    let judgement = judge.compare("q", "good", "bad").await;
    assert_eq!(judgement.outcome, Some(PairwiseOutcome::AWins));
    assert_eq!(judgement.agreement, Some(2.0 / 3.0));
    assert_eq!(judgement.position_consistency, 1.0);
    assert_eq!(backend.requests().len(), 6);
}

#[tokio::test]
async fn evaluator_runs_judges_unchanged() {
    let model = Arc::new(ScriptedBackend::new(&[
        ("q1", "Paris"),
        ("q2", "I am not sure"),
    ]));
    let judge_backend = Arc::new(FnBackend::new(|request| {
        let text = prompt(request);
        let response = section(&text, "Response to judge:", "\u{0}");
        Ok(if response.contains("Paris") {
            r#"{"score": 5}"#.to_owned()
        } else {
            "unparsable".to_owned()
        })
    }));
    let judge = RubricPreset::Correctness
        .judge(judge_backend, "judge")
        .unwrap();
    let dataset = Dataset::new(
        "capitals",
        vec![
            Case::new("c1", "q1").expected("Paris"),
            Case::new("c2", "q2").expected("Paris"),
        ],
    )
    .unwrap();
    let run = Evaluator::new(model, "scripted-model")
        .metric(judge)
        .run("judged", &dataset)
        .await
        .unwrap();
    assert_eq!(run.results[0].scores["correctness"], Score::value(5.0));
    assert!(run.results[1].scores["correctness"].as_value().is_none());
    assert_eq!(run.info.metrics["correctness"].max, 5.0);
}
