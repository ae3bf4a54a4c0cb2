//! Detector quality: the area under the ROC curve, and precision and recall
//! at a threshold.

/// Computes the area under the ROC curve of scores against binary labels:
/// the probability that a random positive scores higher than a random
/// negative, ties counting one half.
///
/// Computed from ranks (the Mann–Whitney U statistic divided by
/// `positives × negatives`), with tied scores given their mean rank, which
/// equals scikit-learn's `roc_auc_score`. Returns `None` when the lengths
/// differ, a score is NaN, or either class is empty.
///
/// ```
/// use llmops_eval::stats::auroc;
///
/// assert_eq!(auroc(&[0.9, 0.8, 0.1], &[true, false, false]), Some(1.0));
/// assert_eq!(auroc(&[0.5, 0.5], &[true, false]), Some(0.5));
/// assert_eq!(auroc(&[0.5], &[true]), None);
/// ```
pub fn auroc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    if scores.len() != labels.len() || scores.iter().any(|s| s.is_nan()) {
        return None;
    }
    let positives = labels.iter().filter(|&&label| label).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }

    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));

    // Sum the 1-based ranks of the positives, giving a run of tied scores
    // the mean of the ranks it spans.
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| labels[i]).count();
        positive_rank_sum += mean_rank * tied_positives as f64;
        start = end;
    }

    let positives = positives as f64;
    let u = positive_rank_sum - positives * (positives + 1.0) / 2.0;
    Some(u / (positives * negatives as f64))
}

/// Confusion counts of a detector at one threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BinaryCounts {
    /// Flagged and positive.
    pub true_positives: usize,
    /// Flagged but negative.
    pub false_positives: usize,
    /// Not flagged but positive.
    pub false_negatives: usize,
    /// Neither flagged nor positive.
    pub true_negatives: usize,
}

impl BinaryCounts {
    /// Counts predictions (`true` = flagged) against labels (`true` =
    /// positive), pairing them in order; extra items of the longer slice
    /// are ignored.
    pub fn new(predictions: &[bool], labels: &[bool]) -> Self {
        let mut counts = BinaryCounts::default();
        for (&predicted, &label) in predictions.iter().zip(labels) {
            match (predicted, label) {
                (true, true) => counts.true_positives += 1,
                (true, false) => counts.false_positives += 1,
                (false, true) => counts.false_negatives += 1,
                (false, false) => counts.true_negatives += 1,
            }
        }
        counts
    }

    /// Returns the share of flagged items that are positive, or `None` when
    /// nothing was flagged.
    pub fn precision(&self) -> Option<f64> {
        let flagged = self.true_positives + self.false_positives;
        (flagged > 0).then(|| self.true_positives as f64 / flagged as f64)
    }

    /// Returns the share of positives that were flagged, or `None` when
    /// there are no positives.
    pub fn recall(&self) -> Option<f64> {
        let positives = self.true_positives + self.false_negatives;
        (positives > 0).then(|| self.true_positives as f64 / positives as f64)
    }
}
