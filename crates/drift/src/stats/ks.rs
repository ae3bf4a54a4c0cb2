//! Two-sample Kolmogorov-Smirnov test.

use super::{Measurement, check_values};
use crate::error::Result;

/// Largest `m * n` for which [`ks_two_sample`] computes the exact p-value;
/// above it the asymptotic Kolmogorov distribution is used. The exact
/// computation takes `O(m * n)` steps, about 10 ms at this size.
pub(crate) const EXACT_MAX_PRODUCT: u64 = 10_000_000;

/// Runs the two-sided two-sample Kolmogorov-Smirnov test.
///
/// The statistic is the largest distance between the two empirical CDFs,
/// evaluated after all tied values, as in `scipy.stats.ks_2samp`. When
/// `m * n` is at most ten million, the p-value is exact under the null
/// hypothesis of one continuous distribution (ties are not accounted for,
/// as in scipy's `method="exact"`). Above that, it is the Kolmogorov
/// limiting distribution at `D * sqrt(m n / (m + n))`, which scipy 1.17
/// exposes as `kstwobign`. Returns insufficient data when a sample is empty.
///
/// # Errors
///
/// Returns an error when a value is NaN or infinite.
///
/// ```
/// use llmops_drift::stats::ks_two_sample;
///
/// let result = ks_two_sample(&[1.0, 2.0, 3.0], &[10.0, 11.0, 12.0]).unwrap();
/// assert_eq!(result.statistic(), Some(1.0));
/// assert!((result.p_value().unwrap() - 0.1).abs() < 1e-12);
/// ```
pub fn ks_two_sample(reference: &[f64], current: &[f64]) -> Result<Measurement> {
    check_values("reference sample", reference, false)?;
    check_values("current sample", current, false)?;
    let (m, n) = (reference.len(), current.len());
    if m == 0 || n == 0 {
        return Ok(Measurement::insufficient(1, m, n));
    }

    let max_gap = max_cdf_gap(reference, current);
    let statistic = max_gap as f64 / (m as f64 * n as f64);
    let p_value = if (m as u64) * (n as u64) <= EXACT_MAX_PRODUCT {
        exact_p_value(m, n, max_gap)
    } else {
        let effective = (m as f64 * n as f64) / (m as f64 + n as f64);
        kolmogorov_sf(statistic * effective.sqrt())
    };
    Ok(Measurement::test(statistic, p_value))
}

/// Returns `max |i n - j m|`, where `i` and `j` count the reference and
/// current values at or below each pooled value; the KS statistic is this
/// over `m n`. Integers keep the exact p-value's boundary free of rounding.
fn max_cdf_gap(reference: &[f64], current: &[f64]) -> u128 {
    let mut a = reference.to_vec();
    let mut b = current.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (m, n) = (a.len() as i128, b.len() as i128);

    let (mut i, mut j, mut max_gap) = (0usize, 0usize, 0u128);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while a.get(i).is_some_and(|&x| x <= next) {
            i += 1;
        }
        while b.get(j).is_some_and(|&y| y <= next) {
            j += 1;
        }
        max_gap = max_gap.max((i as i128 * n - j as i128 * m).unsigned_abs());
    }
    max_gap
}

/// Returns `P(D >= d)` for `d = max_gap / (m n)`, by the probability that a
/// uniformly random lattice path from `(0, 0)` to `(m, n)` stays strictly
/// inside `|i n - j m| < max_gap`. Each step's probability keeps the path
/// distribution uniform, so the values stay in `[0, 1]` and never overflow.
fn exact_p_value(m: usize, n: usize, max_gap: u128) -> f64 {
    let inside = |i: usize, j: usize| {
        (i as i128 * n as i128 - j as i128 * m as i128).unsigned_abs() < max_gap
    };
    let total = m + n;

    // row[j] is the probability of reaching (i, j) through inside points.
    let mut row = vec![0.0f64; n + 1];
    row[0] = 1.0;
    for j in 1..=n {
        row[j] = if inside(0, j) {
            row[j - 1] * (n - (j - 1)) as f64 / (total - (j - 1)) as f64
        } else {
            0.0
        };
    }
    for i in 1..=m {
        let mut next = vec![0.0f64; n + 1];
        for j in 0..=n {
            if !inside(i, j) {
                continue;
            }
            let from_left = row[j] * (m - (i - 1)) as f64 / (total - (i - 1) - j) as f64;
            let from_below = if j > 0 {
                next[j - 1] * (n - (j - 1)) as f64 / (total - i - (j - 1)) as f64
            } else {
                0.0
            };
            next[j] = from_left + from_below;
        }
        row = next;
    }
    (1.0 - row[n]).clamp(0.0, 1.0)
}

/// Survival function of the Kolmogorov distribution, `P(K > x)`.
pub(crate) fn kolmogorov_sf(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < 1.0 {
        // The theta-function form converges fast for small x.
        let factor = (2.0 * std::f64::consts::PI).sqrt() / x;
        let exponent = -std::f64::consts::PI.powi(2) / (8.0 * x * x);
        let cdf: f64 = (1..=20)
            .map(|k| ((2 * k - 1) as f64).powi(2) * exponent)
            .map(f64::exp)
            .sum::<f64>()
            * factor;
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    let sf: f64 = (1..=100)
        .map(|k| {
            let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
            sign * (-2.0 * (k as f64).powi(2) * x * x).exp()
        })
        .sum::<f64>()
        * 2.0;
    sf.clamp(0.0, 1.0)
}
