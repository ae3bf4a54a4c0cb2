//! Cohen's kappa between two raters.
//!
//! With the confusion matrix `O` of the two raters over `k` categories,
//! the matrix `E` expected by chance (outer product of the row and column
//! sums, divided by the number of items) and disagreement weights `w`,
//! kappa is `1 - sum(w * O) / sum(w * E)`. Unweighted kappa uses `w = 0`
//! on the diagonal and 1 elsewhere; linear and quadratic kappa use
//! `|i - j|` and `(i - j)^2` on the category indices, so near misses on an
//! ordinal scale count less. This is the definition of scikit-learn's
//! `cohen_kappa_score`, which the tests check against.

use serde::{Deserialize, Serialize};

/// Disagreement weights of Cohen's kappa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KappaWeights {
    /// Every disagreement counts alike (nominal categories).
    Unweighted,
    /// Disagreements weigh by the distance between category indices.
    Linear,
    /// Disagreements weigh by the squared distance (ordinal scales).
    Quadratic,
}

/// Computes Cohen's kappa of two raters' labels over the same items.
///
/// `labels` lists the categories in order; `None` uses the sorted distinct
/// values of both raters, as scikit-learn does. Pass the full scale for
/// weighted kappa, so the distance between 1 and 5 stays 4 even when no
/// one used 2 to 4.
///
/// Returns `None` when the inputs are empty or of different lengths, when
/// a value is not one of `labels`, or when kappa is undefined because
/// chance disagreement is zero (both raters always gave the same single
/// category); scikit-learn returns NaN there.
pub fn cohen_kappa(
    rater_a: &[f64],
    rater_b: &[f64],
    labels: Option<&[f64]>,
    weights: KappaWeights,
) -> Option<f64> {
    if rater_a.is_empty() || rater_a.len() != rater_b.len() {
        return None;
    }
    let categories = match labels {
        Some(labels) => labels.to_vec(),
        None => distinct_sorted(rater_a.iter().chain(rater_b)),
    };
    let k = categories.len();
    let index = |value: &f64| categories.iter().position(|c| c == value);

    let mut observed = vec![vec![0.0_f64; k]; k];
    for (a, b) in rater_a.iter().zip(rater_b) {
        observed[index(a)?][index(b)?] += 1.0;
    }
    let total: f64 = observed.iter().flatten().sum();
    let row_sums: Vec<f64> = observed.iter().map(|row| row.iter().sum()).collect();
    let column_sums: Vec<f64> = (0..k)
        .map(|j| observed.iter().map(|row| row[j]).sum())
        .collect();

    let mut weighted_observed = 0.0;
    let mut weighted_expected = 0.0;
    for i in 0..k {
        for j in 0..k {
            let weight = weight(i, j, weights);
            weighted_observed += weight * observed[i][j];
            weighted_expected += weight * row_sums[i] * column_sums[j] / total;
        }
    }
    if weighted_expected == 0.0 {
        return None;
    }
    Some(1.0 - weighted_observed / weighted_expected)
}

fn weight(i: usize, j: usize, weights: KappaWeights) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let distance = i.abs_diff(j) as f64;
    match weights {
        KappaWeights::Unweighted => {
            if i == j {
                0.0
            } else {
                1.0
            }
        }
        KappaWeights::Linear => distance,
        KappaWeights::Quadratic => distance * distance,
    }
}

fn distinct_sorted<'a>(values: impl Iterator<Item = &'a f64>) -> Vec<f64> {
    let mut distinct: Vec<f64> = values.copied().collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    distinct
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_agreement_is_one() {
        let labels = [1.0, 2.0, 3.0, 1.0];
        let kappa = cohen_kappa(&labels, &labels, None, KappaWeights::Unweighted);
        assert_eq!(kappa, Some(1.0));
    }

    #[test]
    fn textbook_example() {
        // 50 items: both yes 20, both no 15, a yes/b no 5, a no/b yes 10.
        // p_o = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa = 0.4.
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (count, x, y) in [
            (20, 1.0, 1.0),
            (15, 0.0, 0.0),
            (5, 1.0, 0.0),
            (10, 0.0, 1.0),
        ] {
            a.extend(std::iter::repeat_n(x, count));
            b.extend(std::iter::repeat_n(y, count));
        }
        let kappa = cohen_kappa(&a, &b, None, KappaWeights::Unweighted).unwrap();
        assert!((kappa - 0.4).abs() < 1e-12, "{kappa}");
    }

    #[test]
    fn undefined_cases_return_none() {
        assert_eq!(cohen_kappa(&[], &[], None, KappaWeights::Unweighted), None);
        assert_eq!(
            cohen_kappa(&[1.0], &[1.0, 2.0], None, KappaWeights::Unweighted),
            None
        );
        assert_eq!(
            cohen_kappa(&[1.0, 1.0], &[1.0, 1.0], None, KappaWeights::Quadratic),
            None
        );
        assert_eq!(
            cohen_kappa(
                &[1.0, 9.0],
                &[1.0, 2.0],
                Some(&[1.0, 2.0]),
                KappaWeights::Unweighted
            ),
            None
        );
    }
}
