//! Distances and tests between two categorical distributions given as
//! counts per category (for example inputs per topic).

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::{Measurement, check_values};
use crate::error::{DriftError, Result};

/// Proportion that [`psi`] puts in place of an empty bin's zero, so the
/// logarithm stays finite, unless a non-empty bin on that side is at or
/// below it. Evidently 0.7.23 smooths the same way, so the two agree on
/// windows with empty bins.
pub const PSI_EMPTY_BIN_PROPORTION: f64 = 1e-4;

/// Computes the Jensen-Shannon distance between two count vectors, with
/// logarithms in base 2, so the result lies in `[0, 1]`.
///
/// The distance is the square root of the divergence, as returned by
/// `scipy.spatial.distance.jensenshannon(p, q, base=2)`. Categories empty on
/// both sides contribute nothing; a rounding error below zero under the
/// root gives 0. Returns insufficient data when either side counts nothing.
///
/// # Errors
///
/// Returns an error when the vectors differ in length or contain a negative
/// or non-finite count.
///
/// ```
/// use llmops_drift::stats::jensen_shannon;
///
/// let same = jensen_shannon(&[5.0, 5.0], &[1.0, 1.0]).unwrap();
/// assert_eq!(same.statistic(), Some(0.0));
/// let disjoint = jensen_shannon(&[5.0, 0.0], &[0.0, 3.0]).unwrap();
/// assert_eq!(disjoint.statistic(), Some(1.0));
/// ```
pub fn jensen_shannon(reference: &[f64], current: &[f64]) -> Result<Measurement> {
    let Some((p, q)) = proportions(reference, current)? else {
        return Ok(insufficient(reference, current));
    };

    let mut divergence = 0.0;
    for (&p, &q) in p.iter().zip(&q) {
        let m = 0.5 * (p + q);
        divergence += 0.5 * kl_term(p, m) + 0.5 * kl_term(q, m);
    }
    Ok(Measurement::distance(divergence.max(0.0).sqrt().min(1.0)))
}

/// Computes the population stability index (PSI) between two count vectors:
/// the sum over categories of `(q - p) * ln(q / p)` on proportions, with
/// natural logarithms.
///
/// A proportion of zero on one side is replaced by
/// [`PSI_EMPTY_BIN_PROPORTION`], or by a millionth of that side's smallest
/// non-zero proportion when that is at most [`PSI_EMPTY_BIN_PROPORTION`].
/// Nothing is renormalised, so an empty bin adds a large but finite term.
/// Bins empty on both sides are skipped. Returns insufficient data when
/// either side counts nothing.
///
/// # Errors
///
/// Returns an error when the vectors differ in length or contain a negative
/// or non-finite count.
///
/// ```
/// use llmops_drift::stats::psi;
///
/// let value = psi(&[50.0, 50.0], &[60.0, 40.0]).unwrap().statistic().unwrap();
/// assert!((value - 0.0405).abs() < 1e-4);
/// ```
pub fn psi(reference: &[f64], current: &[f64]) -> Result<Measurement> {
    let Some((p, q)) = proportions(reference, current)? else {
        return Ok(insufficient(reference, current));
    };

    let (p, q): (Vec<f64>, Vec<f64>) = p
        .into_iter()
        .zip(q)
        .filter(|&(p, q)| p > 0.0 || q > 0.0)
        .unzip();
    let (p, q) = (fill_empty_bins(p), fill_empty_bins(q));
    let index: f64 = p
        .iter()
        .zip(&q)
        .map(|(&p, &q)| (q - p) * (q / p).ln())
        .sum();
    Ok(Measurement::distance(index.max(0.0)))
}

/// Runs Pearson's chi-square test of homogeneity on the 2 × k table of
/// reference and current counts, without continuity correction.
///
/// This is `scipy.stats.chi2_contingency(table, correction=False)` after
/// dropping the categories empty on both sides. With fewer than two
/// categories left, both samples are in one category, so the statistic is
/// 0 and the p-value 1. Returns insufficient data when either side counts
/// nothing.
///
/// # Errors
///
/// Returns an error when the vectors differ in length or contain a negative
/// or non-finite count.
///
/// ```
/// use llmops_drift::stats::chi_square;
///
/// let result = chi_square(&[30.0, 10.0], &[10.0, 30.0]).unwrap();
/// assert_eq!(result.statistic(), Some(20.0));
/// assert!(result.p_value().unwrap() < 1e-4);
/// ```
pub fn chi_square(reference: &[f64], current: &[f64]) -> Result<Measurement> {
    check_counts(reference, current)?;
    let reference_total: f64 = reference.iter().sum();
    let current_total: f64 = current.iter().sum();
    if reference_total <= 0.0 || current_total <= 0.0 {
        return Ok(insufficient(reference, current));
    }

    let total = reference_total + current_total;
    let mut statistic = 0.0;
    let mut categories = 0usize;
    for (&observed_reference, &observed_current) in reference.iter().zip(current) {
        let column = observed_reference + observed_current;
        if column <= 0.0 {
            continue;
        }
        categories += 1;
        let expected_reference = reference_total * column / total;
        let expected_current = current_total * column / total;
        statistic += (observed_reference - expected_reference).powi(2) / expected_reference;
        statistic += (observed_current - expected_current).powi(2) / expected_current;
    }
    if categories < 2 {
        return Ok(Measurement::test(0.0, 1.0));
    }

    let degrees_of_freedom = (categories - 1) as f64;
    let distribution = ChiSquared::new(degrees_of_freedom).map_err(|error| DriftError::Model {
        stage: "chi-square distribution",
        message: error.to_string(),
    })?;
    Ok(Measurement::test(statistic, distribution.sf(statistic)))
}

/// Replaces zero proportions as described on [`psi`]. At least one
/// proportion is non-zero because the side's total is positive.
fn fill_empty_bins(mut proportions: Vec<f64>) -> Vec<f64> {
    let smallest = proportions
        .iter()
        .copied()
        .filter(|&x| x > 0.0)
        .fold(f64::INFINITY, f64::min);
    let fill = if smallest <= PSI_EMPTY_BIN_PROPORTION {
        smallest / 1e6
    } else {
        PSI_EMPTY_BIN_PROPORTION
    };
    for x in proportions.iter_mut().filter(|x| **x <= 0.0) {
        *x = fill;
    }
    proportions
}

/// `p * log2(p / m)`, with `0 * log(0) = 0`.
fn kl_term(p: f64, m: f64) -> f64 {
    if p > 0.0 && m > 0.0 {
        p * (p / m).log2()
    } else {
        0.0
    }
}

/// Normalises both count vectors to proportions, or returns `None` when
/// either sums to zero.
fn proportions(reference: &[f64], current: &[f64]) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
    check_counts(reference, current)?;
    let reference_total: f64 = reference.iter().sum();
    let current_total: f64 = current.iter().sum();
    if reference_total <= 0.0 || current_total <= 0.0 {
        return Ok(None);
    }
    let p = reference.iter().map(|x| x / reference_total).collect();
    let q = current.iter().map(|x| x / current_total).collect();
    Ok(Some((p, q)))
}

fn check_counts(reference: &[f64], current: &[f64]) -> Result<()> {
    if reference.len() != current.len() {
        return Err(DriftError::LengthMismatch {
            what: "category counts",
            reference: reference.len(),
            current: current.len(),
        });
    }
    check_values("reference counts", reference, true)?;
    check_values("current counts", current, true)
}

/// Sample sizes of count vectors are their totals, rounded for the report.
fn insufficient(reference: &[f64], current: &[f64]) -> Measurement {
    let size = |counts: &[f64]| counts.iter().sum::<f64>().round() as usize;
    Measurement::insufficient(1, size(reference), size(current))
}
