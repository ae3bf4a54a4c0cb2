//! First Wasserstein (earth mover's) distance between two numeric samples.

use super::{Measurement, check_values};
use crate::error::Result;

/// Smallest reference standard deviation that [`wasserstein_normalised`]
/// divides by. Evidently 0.7.23 uses the same floor.
pub(crate) const MIN_NORMALISING_STD: f64 = 0.001;

/// Computes the first Wasserstein distance, `∫ |F(x) - G(x)| dx` over the
/// two empirical CDFs, in the unit of the values, as
/// `scipy.stats.wasserstein_distance` does. Returns insufficient data when
/// a sample is empty.
///
/// # Errors
///
/// Returns an error when a value is NaN or infinite.
///
/// ```
/// use llmops_drift::stats::wasserstein;
///
/// let shifted = wasserstein(&[0.0, 1.0, 2.0], &[5.0, 6.0, 7.0]).unwrap();
/// assert_eq!(shifted.statistic(), Some(5.0));
/// ```
pub fn wasserstein(reference: &[f64], current: &[f64]) -> Result<Measurement> {
    check_values("reference sample", reference, false)?;
    check_values("current sample", current, false)?;
    if reference.is_empty() || current.is_empty() {
        return Ok(Measurement::insufficient(1, reference.len(), current.len()));
    }
    Ok(Measurement::distance(distance(reference, current)))
}

/// Computes [`wasserstein`] divided by the reference's population standard
/// deviation, floored at 0.001, so the value is in units of the reference
/// spread and comparable across features. This is Evidently's
/// "Wasserstein distance (normed)"; a constant reference divides by the
/// floor, so the result stays finite.
///
/// # Errors
///
/// Returns an error when a value is NaN or infinite.
///
/// ```
/// use llmops_drift::stats::wasserstein_normalised;
///
/// // The reference has standard deviation 1; the current is 0.5 higher.
/// let value = wasserstein_normalised(&[-1.0, 1.0], &[-0.5, 1.5]).unwrap();
/// assert_eq!(value.statistic(), Some(0.5));
/// ```
pub fn wasserstein_normalised(reference: &[f64], current: &[f64]) -> Result<Measurement> {
    let raw = wasserstein(reference, current)?;
    let Some(raw) = raw.statistic() else {
        return Ok(Measurement::insufficient(1, reference.len(), current.len()));
    };
    let scale = population_std(reference).max(MIN_NORMALISING_STD);
    Ok(Measurement::distance(raw / scale))
}

fn distance(reference: &[f64], current: &[f64]) -> f64 {
    let mut a = reference.to_vec();
    let mut b = current.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let mut pooled: Vec<f64> = a.iter().chain(&b).copied().collect();
    pooled.sort_by(f64::total_cmp);

    let (m, n) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut total) = (0usize, 0usize, 0.0);
    for pair in pooled.windows(2) {
        while a.get(i).is_some_and(|&x| x <= pair[0]) {
            i += 1;
        }
        while b.get(j).is_some_and(|&y| y <= pair[0]) {
            j += 1;
        }
        let gap = (i as f64 / m - j as f64 / n).abs();
        total += gap * (pair[1] - pair[0]);
    }
    total
}

/// Standard deviation with divisor `n`, computed around the mean so a
/// constant sample gives exactly 0.
fn population_std(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    variance.max(0.0).sqrt()
}
