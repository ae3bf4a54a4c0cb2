//! chrF as computed by sacreBLEU 2.x with its defaults: character n-grams up
//! to 6 with whitespace removed, no word n-grams, β = 2, case-sensitive.

use std::collections::HashMap;

use super::ngram::overlap;
use super::tokenize::python_split;

const CHAR_ORDER: usize = 6;
const BETA: f64 = 2.0;

/// Computes sentence chrF (0 to 100) of a hypothesis against one or more
/// references; with several references the best-scoring one counts, as in
/// sacreBLEU. With no references the score is 0.
///
/// ```
/// use llmops_eval::text::sentence_chrf;
///
/// assert!((sentence_chrf("kitten", &["kitten"]) - 100.0).abs() < 1e-9);
/// ```
pub fn sentence_chrf<R: AsRef<str>>(hypothesis: &str, references: &[R]) -> f64 {
    let hypothesis_ngrams = char_ngrams(hypothesis);
    let mut best: Option<(f64, [u64; 3 * CHAR_ORDER])> = None;
    for reference in references {
        let stats = match_stats(&hypothesis_ngrams, &char_ngrams(reference.as_ref()));
        let score = f_score(&stats);
        if best.is_none_or(|(best_score, _)| score > best_score) {
            best = Some((score, stats));
        }
    }
    best.map_or(0.0, |(score, _)| score)
}

/// Counts character n-grams of orders 1 to 6 after removing whitespace.
fn char_ngrams(text: &str) -> Vec<HashMap<String, u32>> {
    let chars: Vec<char> = python_split(text).flat_map(str::chars).collect();
    (1..=CHAR_ORDER)
        .map(|order| {
            let mut counts = HashMap::new();
            if chars.len() >= order {
                for window in chars.windows(order) {
                    *counts.entry(window.iter().collect::<String>()).or_insert(0) += 1;
                }
            }
            counts
        })
        .collect()
}

/// Hypothesis, reference and matched n-gram counts per order, flattened.
fn match_stats(
    hypothesis: &[HashMap<String, u32>],
    reference: &[HashMap<String, u32>],
) -> [u64; 3 * CHAR_ORDER] {
    let mut stats = [0u64; 3 * CHAR_ORDER];
    for order in 0..CHAR_ORDER {
        stats[3 * order] = hypothesis[order].values().map(|&c| u64::from(c)).sum();
        stats[3 * order + 1] = reference[order].values().map(|&c| u64::from(c)).sum();
        stats[3 * order + 2] = u64::from(overlap(&hypothesis[order], &reference[order]));
    }
    stats
}

/// The F-β of the precision and recall averaged over orders present in both
/// texts.
fn f_score(stats: &[u64; 3 * CHAR_ORDER]) -> f64 {
    let factor = BETA * BETA;
    let mut precision_sum = 0.0;
    let mut recall_sum = 0.0;
    let mut effective_order = 0u32;
    for order in 0..CHAR_ORDER {
        let hypothesis_count = stats[3 * order];
        let reference_count = stats[3 * order + 1];
        let matched = stats[3 * order + 2] as f64;
        if hypothesis_count > 0 && reference_count > 0 {
            precision_sum += matched / hypothesis_count as f64;
            recall_sum += matched / reference_count as f64;
            effective_order += 1;
        }
    }
    if effective_order == 0 {
        return 0.0;
    }
    let precision = precision_sum / f64::from(effective_order);
    let recall = recall_sum / f64::from(effective_order);
    if precision + recall == 0.0 {
        return 0.0;
    }
    100.0 * (1.0 + factor) * precision * recall / (factor * precision + recall)
}
