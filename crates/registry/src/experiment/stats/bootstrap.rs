//! Percentile bootstrap interval for a difference of means.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::result::Interval;

/// Returns the percentile bootstrap interval of mean(treatment) −
/// mean(control) from `resamples` resamples, each arm resampled with
/// replacement on its own.
///
/// The generator is ChaCha8 seeded with `seed`, so a seed always gives the
/// same interval on every platform. Quantiles use linear interpolation
/// between order statistics (NumPy's default). Returns `None` when an arm
/// is empty or `resamples` is 0.
pub fn bootstrap_mean_difference(
    control: &[f64],
    treatment: &[f64],
    confidence: f64,
    resamples: usize,
    seed: u64,
) -> Option<Interval> {
    if control.is_empty() || treatment.is_empty() || resamples == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut differences: Vec<f64> = (0..resamples)
        .map(|_| resample_mean(treatment, &mut rng) - resample_mean(control, &mut rng))
        .collect();
    differences.sort_by(f64::total_cmp);

    let tail = (1.0 - confidence) / 2.0;
    Some(Interval {
        lower: quantile(&differences, tail),
        upper: quantile(&differences, 1.0 - tail),
        level: confidence,
    })
}

fn resample_mean(values: &[f64], rng: &mut ChaCha8Rng) -> f64 {
    let sum: f64 = (0..values.len())
        .map(|_| values[rng.random_range(0..values.len())])
        .sum();
    sum / values.len() as f64
}

/// Linear-interpolation quantile of sorted, non-empty `values`.
fn quantile(values: &[f64], probability: f64) -> f64 {
    let position = probability * (values.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    values[below] + fraction * (values[above] - values[below])
}
