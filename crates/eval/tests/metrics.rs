//! Deterministic metrics and the reference-metric wrappers, including the
//! undetermined cases.

use llmops_eval::text::{Bleu, Chrf, Rouge, RougeKind, TokenF1};
use llmops_eval::{
    Case, Contains, CostBudget, EvalError, ExactMatch, JsonSchemaMatch, JsonValid, LatencyBudget,
    LengthRange, Metric, NormalizedMatch, RegexMatch, Sample, Score,
};
use rust_decimal::Decimal;
use serde_json::json;

async fn score(metric: &dyn Metric, case: &Case, output: &str) -> Score {
    metric.score(&Sample::new(case, output)).await
}

fn with_reference(expected: &str) -> Case {
    Case::new("c1", "question").expected(expected)
}

#[tokio::test]
async fn exact_and_normalized_match() {
    let case = with_reference("Paris, France");
    assert_eq!(
        score(&ExactMatch, &case, "Paris, France").await,
        Score::value(1.0)
    );
    assert_eq!(
        score(&ExactMatch, &case, "paris france").await,
        Score::value(0.0)
    );
    assert_eq!(
        score(&NormalizedMatch, &case, "  PARIS   france!").await,
        Score::value(1.0)
    );
    assert_eq!(
        score(&NormalizedMatch, &case, "Lyon, France").await,
        Score::value(0.0)
    );
}

#[tokio::test]
async fn normalized_match_unicode() {
    let case = with_reference("Straße Café");
    assert_eq!(
        score(&NormalizedMatch, &case, "STRASSE café").await,
        Score::value(0.0)
    );
    assert_eq!(
        score(&NormalizedMatch, &case, "straße, CAFÉ.").await,
        Score::value(1.0)
    );
}

#[tokio::test]
async fn missing_reference_is_undetermined() {
    let case = Case::new("open", "write a poem");
    let metrics: Vec<Box<dyn Metric>> = vec![
        Box::new(ExactMatch),
        Box::new(NormalizedMatch),
        Box::new(Contains::reference()),
        Box::new(Bleu),
        Box::new(Chrf),
        Box::new(Rouge::new(RougeKind::RougeL)),
        Box::new(TokenF1),
    ];
    for metric in metrics {
        let result = score(metric.as_ref(), &case, "roses are red").await;
        assert!(
            result.as_value().is_none(),
            "{} gave {result:?}",
            metric.name()
        );
    }
}

#[tokio::test]
async fn empty_reference_is_undetermined_for_text_metrics() {
    let case = with_reference("  ");
    for metric in [
        &Bleu as &dyn Metric,
        &Chrf,
        &Rouge::new(RougeKind::Rouge1),
        &TokenF1,
    ] {
        let result = score(metric, &case, "anything").await;
        assert!(
            result.as_value().is_none(),
            "{} gave {result:?}",
            metric.name()
        );
    }
}

#[tokio::test]
async fn empty_output_scores_zero_against_a_reference() {
    let case = with_reference("the cat sat");
    for metric in [
        &Bleu as &dyn Metric,
        &Chrf,
        &Rouge::new(RougeKind::RougeL),
        &TokenF1,
    ] {
        assert_eq!(
            score(metric, &case, "").await,
            Score::value(0.0),
            "{}",
            metric.name()
        );
    }
}

#[tokio::test]
async fn contains_fixed_and_ignoring_case() {
    let case = Case::new("c", "q");
    assert_eq!(
        score(&Contains::text("refund"), &case, "No refund.").await,
        Score::value(1.0)
    );
    assert_eq!(
        score(&Contains::text("Refund"), &case, "No refund.").await,
        Score::value(0.0)
    );
    let ignoring = Contains::text("Refund").ignore_case(true);
    assert_eq!(
        score(&ignoring, &case, "No REFUND.").await,
        Score::value(1.0)
    );
}

#[tokio::test]
async fn regex_match_and_invalid_pattern() {
    let case = Case::new("c", "q");
    let metric = RegexMatch::new("has_date", r"\d{4}-\d{2}-\d{2}").unwrap();
    assert_eq!(
        score(&metric, &case, "due 2026-12-05").await,
        Score::value(1.0)
    );
    assert_eq!(
        score(&metric, &case, "due tomorrow").await,
        Score::value(0.0)
    );
    assert_eq!(metric.name(), "has_date");
    let error = RegexMatch::new("bad", "(unclosed").unwrap_err();
    assert!(matches!(error, EvalError::InvalidPattern { .. }));
    assert!(error.to_string().contains("(unclosed"));
}

#[tokio::test]
async fn json_validity_and_schema() {
    let case = Case::new("c", "q");
    assert_eq!(
        score(&JsonValid, &case, r#"{"a": 1}"#).await,
        Score::value(1.0)
    );
    assert_eq!(
        score(&JsonValid, &case, "```json\n{}\n```").await,
        Score::value(0.0)
    );

    let schema = json!({
        "type": "object",
        "required": ["answer", "confidence"],
        "properties": {"answer": {"type": "string"}, "confidence": {"type": "number", "maximum": 1}}
    });
    let metric = JsonSchemaMatch::new(&schema).unwrap();
    let good = r#"{"answer": "Paris", "confidence": 0.9}"#;
    assert_eq!(score(&metric, &case, good).await, Score::value(1.0));
    let out_of_range = r#"{"answer": "Paris", "confidence": 3}"#;
    assert_eq!(score(&metric, &case, out_of_range).await, Score::value(0.0));
    assert_eq!(score(&metric, &case, "not json").await, Score::value(0.0));

    let error = JsonSchemaMatch::new(&json!({"type": 12})).unwrap_err();
    assert!(matches!(error, EvalError::InvalidSchema { .. }));
}

#[tokio::test]
async fn length_counts_characters_not_bytes() {
    let case = Case::new("c", "q");
    let metric = LengthRange::new(1, 3).unwrap();
    assert_eq!(score(&metric, &case, "한국어").await, Score::value(1.0));
    assert_eq!(score(&metric, &case, "").await, Score::value(0.0));
    assert_eq!(score(&metric, &case, "four").await, Score::value(0.0));
    assert!(LengthRange::new(5, 2).is_err());
}

#[tokio::test]
async fn budgets_need_measurements() {
    let case = Case::new("c", "q");
    let mut sample = Sample::new(&case, "answer");
    let latency = LatencyBudget::new(500);
    let cost = CostBudget::new(Decimal::new(1, 3));
    assert!(latency.score(&sample).await.as_value().is_none());
    assert!(cost.score(&sample).await.as_value().is_none());

    sample.latency_ms = Some(500);
    sample.cost_usd = Some(Decimal::new(2, 3));
    assert_eq!(latency.score(&sample).await, Score::value(1.0));
    assert_eq!(cost.score(&sample).await, Score::value(0.0));
    sample.latency_ms = Some(501);
    assert_eq!(latency.score(&sample).await, Score::value(0.0));
}
