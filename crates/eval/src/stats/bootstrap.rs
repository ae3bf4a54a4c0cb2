//! Percentile bootstrap of a mean and of a mean paired difference.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// A two-sided percentile confidence interval around an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// The statistic on the full sample.
    pub estimate: f64,
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// Coverage, for example 0.95.
    pub level: f64,
}

/// Bootstraps the mean of `values` with `resamples` resamples drawn from a
/// generator seeded with `seed`, so reports are reproducible. Returns
/// `None` for an empty sample or a level outside (0, 1).
pub fn bootstrap_mean_ci(
    values: &[f64],
    resamples: usize,
    level: f64,
    seed: u64,
) -> Option<ConfidenceInterval> {
    if values.is_empty() || !(level > 0.0 && level < 1.0) {
        return None;
    }
    let estimate = super::mean(values)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut means: Vec<f64> = (0..resamples.max(1))
        .map(|_| resample_mean(values, &mut rng))
        .collect();
    means.sort_by(f64::total_cmp);
    let (low, high) = percentile_bounds(&means, level);
    Some(ConfidenceInterval {
        estimate,
        low,
        high,
        level,
    })
}

/// The paired bootstrap: resamples cases, keeping each baseline and
/// candidate value together, and returns the interval of the mean
/// difference `candidate - baseline` with the share of resamples where the
/// difference is at most 0 (a one-sided p-value for "the candidate is
/// better").
///
/// Returns `None` when the slices differ in length or are empty.
pub fn paired_bootstrap(
    baseline: &[f64],
    candidate: &[f64],
    resamples: usize,
    level: f64,
    seed: u64,
) -> Option<(ConfidenceInterval, f64)> {
    if baseline.len() != candidate.len() {
        return None;
    }
    let differences: Vec<f64> = candidate.iter().zip(baseline).map(|(c, b)| c - b).collect();
    let interval = bootstrap_mean_ci(&differences, resamples, level, seed)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let resamples = resamples.max(1);
    let not_better = (0..resamples)
        .filter(|_| resample_mean(&differences, &mut rng) <= 0.0)
        .count();
    Some((interval, not_better as f64 / resamples as f64))
}

fn resample_mean(values: &[f64], rng: &mut StdRng) -> f64 {
    let mut sum = 0.0;
    for _ in 0..values.len() {
        sum += values[rng.random_range(0..values.len())];
    }
    sum / values.len() as f64
}

/// Returns the lower and upper percentile of sorted values, by linear
/// interpolation between order statistics.
fn percentile_bounds(sorted: &[f64], level: f64) -> (f64, f64) {
    let tail = (1.0 - level) / 2.0;
    (quantile(sorted, tail), quantile(sorted, 1.0 - tail))
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let weight = position - below as f64;
    // This form returns the order statistic exactly when both neighbours
    // are equal, so the lower bound never exceeds the upper by rounding.
    sorted[below] + (sorted[above] - sorted[below]) * weight
}
