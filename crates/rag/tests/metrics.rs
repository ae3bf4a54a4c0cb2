//! Retrieval metrics checked against values computed by hand.

use std::collections::HashMap;

use llmops_rag::metrics::{
    Qrels, evaluate, hit_at_k, ndcg_at_k, precision_at_k, recall_at_k, reciprocal_rank,
};

fn ranked(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

fn relevant(pairs: &[(&str, i32)]) -> HashMap<String, i32> {
    pairs
        .iter()
        .map(|(id, grade)| ((*id).to_owned(), *grade))
        .collect()
}

fn close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

#[test]
fn recall_and_precision() {
    // Relevant: a, c, e. Ranked a, b, c, d: two of three found in the top 4.
    let run = ranked(&["a", "b", "c", "d"]);
    let judged = relevant(&[("a", 1), ("c", 1), ("e", 1)]);
    close(recall_at_k(&run, &judged, 4), 2.0 / 3.0);
    close(recall_at_k(&run, &judged, 1), 1.0 / 3.0);
    close(precision_at_k(&run, &judged, 4), 0.5);
    close(precision_at_k(&run, &judged, 2), 0.5);
    // Precision keeps k as the denominator past the end of the ranking.
    close(precision_at_k(&run, &judged, 10), 0.2);
}

#[test]
fn reciprocal_rank_and_hits() {
    let judged = relevant(&[("c", 1)]);
    close(
        reciprocal_rank(&ranked(&["a", "b", "c"]), &judged),
        1.0 / 3.0,
    );
    close(reciprocal_rank(&ranked(&["a", "b"]), &judged), 0.0);
    close(hit_at_k(&ranked(&["a", "b", "c"]), &judged, 2), 0.0);
    close(hit_at_k(&ranked(&["a", "b", "c"]), &judged, 3), 1.0);
}

#[test]
fn ndcg_binary_by_hand() {
    // Relevant a and b; ranking x, a, y, b.
    // DCG = 1/log2(3) + 1/log2(5); IDCG = 1/log2(2) + 1/log2(3).
    let judged = relevant(&[("a", 1), ("b", 1)]);
    let run = ranked(&["x", "a", "y", "b"]);
    let dcg = 1.0 / 3f64.log2() + 1.0 / 5f64.log2();
    let ideal = 1.0 + 1.0 / 3f64.log2();
    close(ndcg_at_k(&run, &judged, 10), dcg / ideal);
    // At k = 2 only the hit at rank 2 counts; the ideal still has two.
    close(ndcg_at_k(&run, &judged, 2), (1.0 / 3f64.log2()) / ideal);
}

#[test]
fn ndcg_graded_by_hand() {
    // Grades a=2, b=1; ranking b, a. DCG = 1 + 2/log2(3); IDCG = 2 + 1/log2(3).
    let judged = relevant(&[("a", 2), ("b", 1), ("z", 0)]);
    let run = ranked(&["b", "a"]);
    close(
        ndcg_at_k(&run, &judged, 10),
        (1.0 + 2.0 / 3f64.log2()) / (2.0 + 1.0 / 3f64.log2()),
    );
    close(ndcg_at_k(&ranked(&["a", "b"]), &judged, 10), 1.0);
    // A grade of 0 is not relevant.
    close(ndcg_at_k(&ranked(&["z"]), &judged, 10), 0.0);
}

#[test]
fn empty_inputs_score_zero() {
    let none = relevant(&[]);
    close(recall_at_k(&ranked(&["a"]), &none, 5), 0.0);
    close(ndcg_at_k(&ranked(&["a"]), &none, 5), 0.0);
    close(precision_at_k(&[], &relevant(&[("a", 1)]), 0), 0.0);
}

#[test]
fn evaluate_averages_and_counts_missing_queries() {
    let mut qrels: Qrels = HashMap::new();
    qrels.insert("q1".into(), relevant(&[("a", 1)]));
    qrels.insert("q2".into(), relevant(&[("b", 1)]));
    qrels.insert("q3".into(), relevant(&[("c", 0)]));
    let mut run = HashMap::new();
    run.insert("q1".to_owned(), ranked(&["a"]));
    // q2 is missing from the run; q3 has no relevant document and is skipped.
    let report = evaluate(&run, &qrels, 10);
    assert_eq!(report.queries, 2);
    close(report.recall, 0.5);
    close(report.mrr, 0.5);
    close(report.hit_rate, 0.5);
    close(report.ndcg, 0.5);
    close(report.precision, 0.05);
}
