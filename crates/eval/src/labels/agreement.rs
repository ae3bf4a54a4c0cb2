//! Agreement between a judge and human labels.

use serde::{Deserialize, Serialize};

use crate::judge::JudgeScale;
use crate::labels::import::LabelSet;
use crate::labels::kappa::{KappaWeights, cohen_kappa};
use crate::score::Score;

/// Agreement of a judge with human labels on the cases both scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Agreement {
    /// Cases with both a determined judge score and a human label.
    pub pairs: usize,
    /// Share of pairs where judge and human gave the same value.
    pub accuracy: Option<f64>,
    /// Unweighted Cohen's kappa, `None` when undefined.
    pub kappa: Option<f64>,
    /// Quadratic-weighted Cohen's kappa over the whole scale, for points
    /// scales; `None` on pass/fail scales (where it equals `kappa`) and
    /// when undefined.
    pub quadratic_kappa: Option<f64>,
    /// Labelled cases whose judge score was undetermined or missing.
    pub judge_undetermined: usize,
}

/// Computes the agreement of `judge` scores (case id and score) with
/// `human` labels on `scale`.
///
/// A judge mean between scale points (several samples with
/// [`Aggregation::Mean`](crate::judge::Aggregation::Mean)) is rounded to
/// the nearest point, halves upwards, before comparing.
pub fn judge_agreement<'a>(
    judge: impl IntoIterator<Item = (&'a str, &'a Score)>,
    human: &LabelSet,
    scale: JudgeScale,
) -> Agreement {
    let judge: std::collections::HashMap<&str, &Score> = judge.into_iter().collect();
    let mut judge_values = Vec::new();
    let mut human_values = Vec::new();
    let mut judge_undetermined = 0;
    for (case_id, label) in &human.labels {
        match judge
            .get(case_id.as_str())
            .and_then(|score| score.as_value())
        {
            Some(value) => {
                judge_values.push(nearest_point(value, scale));
                human_values.push(*label);
            }
            None => judge_undetermined += 1,
        }
    }

    let pairs = judge_values.len();
    let matches = judge_values
        .iter()
        .zip(&human_values)
        .filter(|(j, h)| j == h)
        .count();
    #[allow(clippy::cast_precision_loss)]
    let accuracy = (pairs > 0).then(|| matches as f64 / pairs as f64);
    let categories = scale.values();
    let kappa = cohen_kappa(
        &judge_values,
        &human_values,
        Some(&categories),
        KappaWeights::Unweighted,
    );
    let quadratic_kappa = match scale {
        JudgeScale::Points { .. } => cohen_kappa(
            &judge_values,
            &human_values,
            Some(&categories),
            KappaWeights::Quadratic,
        ),
        JudgeScale::PassFail => None,
    };
    Agreement {
        pairs,
        accuracy,
        kappa,
        quadratic_kappa,
        judge_undetermined,
    }
}

fn nearest_point(value: f64, scale: JudgeScale) -> f64 {
    let range = scale.range();
    value.round().clamp(range.min, range.max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pairs_and_undetermined() {
        let scores = [
            ("a", Score::value(1.0)),
            ("b", Score::value(0.0)),
            ("c", Score::undetermined("no score")),
            ("d", Score::value(1.0)),
        ];
        let mut human = LabelSet::default();
        for (id, label) in [("a", 1.0), ("b", 0.0), ("c", 1.0), ("d", 0.0)] {
            human.labels.insert(id.to_owned(), label);
        }
        let agreement = judge_agreement(
            scores.iter().map(|(id, s)| (*id, s)),
            &human,
            JudgeScale::PassFail,
        );
        assert_eq!(agreement.pairs, 3);
        assert_eq!(agreement.judge_undetermined, 1);
        assert_eq!(agreement.accuracy, Some(2.0 / 3.0));
        // Judge [1, 0, 1], human [1, 0, 0]: p_o = 2/3, p_e = 4/9, kappa = 0.4.
        let kappa = agreement.kappa.unwrap();
        assert!((kappa - 0.4).abs() < 1e-12, "{kappa}");
        assert_eq!(agreement.quadratic_kappa, None);
    }

    #[test]
    fn mean_scores_round_to_points() {
        assert_eq!(nearest_point(3.5, JudgeScale::ONE_TO_FIVE), 4.0);
        assert_eq!(nearest_point(3.4, JudgeScale::ONE_TO_FIVE), 3.0);
        assert_eq!(nearest_point(0.5, JudgeScale::PassFail), 1.0);
    }
}
