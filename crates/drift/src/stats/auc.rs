//! Area under the ROC curve.

use super::{Measurement, check_values};
use crate::error::{DriftError, Result};

/// Computes the area under the ROC curve of `scores` for the positive
/// `labels`: the probability that a random positive scores above a random
/// negative, with ties counted as one half (the Mann-Whitney U statistic
/// over `n_pos * n_neg`). This equals `sklearn.metrics.roc_auc_score`.
/// Returns insufficient data when either class is absent.
///
/// # Errors
///
/// Returns an error when the lengths differ or a score is NaN or infinite.
///
/// ```
/// use llmops_drift::stats::roc_auc;
///
/// let auc = roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
/// assert_eq!(auc.statistic(), Some(0.75));
/// ```
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Result<Measurement> {
    if scores.len() != labels.len() {
        return Err(DriftError::LengthMismatch {
            what: "scores and labels",
            reference: scores.len(),
            current: labels.len(),
        });
    }
    check_values("scores", scores, false)?;
    let positives = labels.iter().filter(|&&label| label).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Ok(Measurement::insufficient(1, negatives, positives));
    }

    let ranks = midranks(scores);
    let positive_rank_sum: f64 = ranks
        .iter()
        .zip(labels)
        .filter(|(_, label)| **label)
        .map(|(rank, _)| rank)
        .sum();
    let (p, n) = (positives as f64, negatives as f64);
    let u = positive_rank_sum - p * (p + 1.0) / 2.0;
    Ok(Measurement::distance((u / (p * n)).clamp(0.0, 1.0)))
}

/// Ranks from 1, with tied values sharing the mean of their ranks.
fn midranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + 1 + end) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = rank;
        }
        start = end;
    }
    ranks
}
