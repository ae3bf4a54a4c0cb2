//! Retrieval metrics against relevance judgements (qrels).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Graded relevance of documents per query: query id to document id to
/// grade. A grade of 0 or less counts as not relevant.
pub type Qrels = HashMap<String, HashMap<String, i32>>;

/// Fraction of a query's relevant documents found in the top `k`.
/// Returns 0 when the query has no relevant document.
pub fn recall_at_k(ranked: &[String], relevant: &HashMap<String, i32>, k: usize) -> f64 {
    let total = relevant.values().filter(|&&grade| grade > 0).count();
    if total == 0 {
        return 0.0;
    }
    found_in_top(ranked, relevant, k) as f64 / total as f64
}

/// Fraction of the top `k` positions that hold a relevant document; the
/// denominator is `k` even when fewer documents were returned.
pub fn precision_at_k(ranked: &[String], relevant: &HashMap<String, i32>, k: usize) -> f64 {
    if k == 0 {
        return 0.0;
    }
    found_in_top(ranked, relevant, k) as f64 / k as f64
}

/// `1 / rank` of the first relevant document, or 0 when none is ranked.
pub fn reciprocal_rank(ranked: &[String], relevant: &HashMap<String, i32>) -> f64 {
    ranked
        .iter()
        .position(|id| is_relevant(relevant, id))
        .map_or(0.0, |position| 1.0 / (position as f64 + 1.0))
}

/// 1 when a relevant document is in the top `k`, else 0.
pub fn hit_at_k(ranked: &[String], relevant: &HashMap<String, i32>, k: usize) -> f64 {
    if found_in_top(ranked, relevant, k) > 0 {
        1.0
    } else {
        0.0
    }
}

/// Normalised discounted cumulative gain at `k`, with the grade as gain and
/// `log2(rank + 1)` as discount (the definition `trec_eval` and BEIR use).
pub fn ndcg_at_k(ranked: &[String], relevant: &HashMap<String, i32>, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(position, id)| gain(relevant, id) / (position as f64 + 2.0).log2())
        .sum();
    let mut grades: Vec<f64> = relevant
        .values()
        .filter(|&&grade| grade > 0)
        .map(|&grade| f64::from(grade))
        .collect();
    grades.sort_unstable_by(|a, b| b.total_cmp(a));
    let ideal: f64 = grades
        .iter()
        .take(k)
        .enumerate()
        .map(|(position, grade)| grade / (position as f64 + 2.0).log2())
        .sum();
    if ideal == 0.0 { 0.0 } else { dcg / ideal }
}

fn gain(relevant: &HashMap<String, i32>, id: &str) -> f64 {
    relevant
        .get(id)
        .copied()
        .filter(|&grade| grade > 0)
        .map_or(0.0, f64::from)
}

fn is_relevant(relevant: &HashMap<String, i32>, id: &str) -> bool {
    relevant.get(id).is_some_and(|&grade| grade > 0)
}

fn found_in_top(ranked: &[String], relevant: &HashMap<String, i32>, k: usize) -> usize {
    ranked
        .iter()
        .take(k)
        .filter(|id| is_relevant(relevant, id))
        .count()
}

/// Mean metrics over the judged queries of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrievalReport {
    /// Queries with at least one relevant document in the qrels.
    pub queries: usize,
    /// The `k` used for the cut-off metrics.
    pub k: usize,
    /// Mean recall@k.
    pub recall: f64,
    /// Mean precision@k.
    pub precision: f64,
    /// Mean reciprocal rank over the whole ranking.
    pub mrr: f64,
    /// Mean nDCG@k.
    pub ndcg: f64,
    /// Fraction of queries with a relevant document in the top `k`.
    pub hit_rate: f64,
}

/// Averages the metrics at `k` over every query in `qrels` with a relevant
/// document. A query missing from `run` scores 0 on every metric.
pub fn evaluate(run: &HashMap<String, Vec<String>>, qrels: &Qrels, k: usize) -> RetrievalReport {
    let empty = Vec::new();
    let mut report = RetrievalReport {
        queries: 0,
        k,
        recall: 0.0,
        precision: 0.0,
        mrr: 0.0,
        ndcg: 0.0,
        hit_rate: 0.0,
    };
    for (query, relevant) in qrels {
        if !relevant.values().any(|&grade| grade > 0) {
            continue;
        }
        let ranked = run.get(query).unwrap_or(&empty);
        report.queries += 1;
        report.recall += recall_at_k(ranked, relevant, k);
        report.precision += precision_at_k(ranked, relevant, k);
        report.mrr += reciprocal_rank(ranked, relevant);
        report.ndcg += ndcg_at_k(ranked, relevant, k);
        report.hit_rate += hit_at_k(ranked, relevant, k);
    }
    if report.queries > 0 {
        let count = report.queries as f64;
        report.recall /= count;
        report.precision /= count;
        report.mrr /= count;
        report.ndcg /= count;
        report.hit_rate /= count;
    }
    report
}
