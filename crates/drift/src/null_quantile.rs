//! Thresholds that grow with sampling noise.
//!
//! Two samples drawn from the same distribution still differ, and by more
//! when they are small or spread over many categories. A fixed threshold on
//! a distance (Jensen-Shannon, PSI, Wasserstein) therefore fires on
//! unchanged small windows and misses changes in large ones. Here the
//! distance's distribution under no drift is estimated by a parametric
//! bootstrap: both samples are drawn again, with their own sizes, from the
//! reference's empirical distribution, and the distance of each pair is
//! computed. A quantile of those distances is the smallest value that
//! sampling noise alone rarely reaches, and the policy applies the larger of
//! it and the fixed threshold.
//!
//! Potgieter, van Zyl, Schutte and Lombard make the same point for PSI in
//! "The Population Resemblance Statistic: A Chi-Square Measure of Fit for
//! Banking" (arXiv:2307.11878). A constant rule of thumb, whatever the
//! sample size, calls for action too often on small samples and too rarely
//! on large ones, so critical values should depend on the sample sizes and
//! the number of categories. For `k` topics and windows of `n` and `m`
//! inputs, a second-order expansion gives `PSI ≈ (1/n + 1/m) · X²` and
//! `8 · ln 2 · JS² ≈ (1/n + 1/m) · X²`, with `X²` Pearson's statistic, about
//! chi-square with `k - 1` degrees of freedom. That approximation is poor
//! when expected counts are small, which is the case for small windows over
//! many topics, so the quantiles are estimated by multinomial resampling
//! instead.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};
use serde::{Deserialize, Serialize};

use crate::baseline::quantile;
use crate::error::{DriftError, Result};
use crate::policy::Rule;
use crate::stats::{self, MIN_NORMALISING_STD};

/// Settings of the thresholds estimated from the distribution of a distance
/// under no drift (see [`Policy::null_quantiles`](crate::Policy)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NullQuantiles {
    /// Quantile of the no-drift distribution used as the warning
    /// threshold when it exceeds the fixed one. Default 0.99, so sampling
    /// noise alone reaches a warning in about 1% of unchanged windows.
    pub warning: f64,
    /// Quantile used as the alert threshold when it exceeds the fixed one.
    /// Default 0.999.
    pub alert: f64,
    /// Resampled pairs of windows per estimate. Default 2,000, so the 0.999
    /// quantile is the third largest draw.
    pub resamples: usize,
    /// Seed of the resampling, so a report can be reproduced. Default 0.
    pub seed: u64,
}

impl Default for NullQuantiles {
    fn default() -> Self {
        Self {
            warning: 0.99,
            alert: 0.999,
            resamples: 2_000,
            seed: 0,
        }
    }
}

impl NullQuantiles {
    /// Sets the warning quantile.
    pub fn warning(mut self, quantile: f64) -> Self {
        self.warning = quantile;
        self
    }

    /// Sets the alert quantile.
    pub fn alert(mut self, quantile: f64) -> Self {
        self.alert = quantile;
        self
    }

    /// Sets the number of resampled pairs of windows.
    pub fn resamples(mut self, resamples: usize) -> Self {
        self.resamples = resamples;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks that both quantiles lie in `(0, 1)`, the warning quantile is
    /// at most the alert quantile, and at least 100 resamples are drawn.
    ///
    /// # Errors
    ///
    /// Returns [`DriftError::InvalidParameter`] naming the bad setting.
    pub fn validate(&self) -> Result<()> {
        let in_range = |q: f64| q > 0.0 && q < 1.0;
        if !(in_range(self.warning) && in_range(self.alert) && self.warning <= self.alert) {
            return Err(DriftError::InvalidParameter {
                name: "null_quantiles",
                value: format!("warning {} and alert {}", self.warning, self.alert),
                reason: "both quantiles must lie strictly between 0 and 1, the warning quantile at most the alert quantile",
            });
        }
        if self.resamples < 100 {
            return Err(DriftError::InvalidParameter {
                name: "null_quantiles.resamples",
                value: self.resamples.to_string(),
                reason: "use at least 100 resamples, so that the quantiles are not the extreme draws",
            });
        }
        Ok(())
    }
}

/// Source of an applied threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ThresholdBasis {
    /// The policy's fixed threshold, because it was at least the no-drift
    /// quantile.
    Fixed,
    /// The no-drift quantile, because sampling noise at these window sizes
    /// exceeds the fixed threshold.
    NullQuantile,
}

/// Thresholds a distance was judged against when they depend on the window
/// sizes: each applied threshold is the larger of the policy's fixed one
/// and the quantile of the distance under no drift.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AppliedThresholds {
    /// Warning threshold applied.
    pub warning: f64,
    /// Alert threshold applied.
    pub alert: f64,
    /// Source of the applied warning threshold.
    pub warning_basis: ThresholdBasis,
    /// Source of the applied alert threshold.
    pub alert_basis: ThresholdBasis,
    /// The policy's fixed warning threshold.
    pub fixed_warning: f64,
    /// The policy's fixed alert threshold.
    pub fixed_alert: f64,
    /// Estimated [`NullQuantiles::warning`] quantile of the distance under
    /// no drift.
    pub null_warning: f64,
    /// Estimated [`NullQuantiles::alert`] quantile of the distance under no
    /// drift.
    pub null_alert: f64,
    /// Quantile behind `null_warning`.
    pub warning_quantile: f64,
    /// Quantile behind `null_alert`.
    pub alert_quantile: f64,
    /// Resampled pairs behind both quantiles.
    pub resamples: usize,
}

impl AppliedThresholds {
    /// Combines a fixed `Above` rule with the no-drift distances `draws`;
    /// returns `None` for any other rule, which is applied as configured.
    pub(crate) fn combine(rule: &Rule, draws: &[f64], settings: &NullQuantiles) -> Option<Self> {
        let Rule::Above { warning, alert } = *rule else {
            return None;
        };
        let null_warning = quantile(draws, settings.warning);
        let null_alert = quantile(draws, settings.alert);
        let pick = |fixed: f64, null: f64| {
            if null > fixed {
                (null, ThresholdBasis::NullQuantile)
            } else {
                (fixed, ThresholdBasis::Fixed)
            }
        };
        let (applied_warning, warning_basis) = pick(warning, null_warning);
        let (applied_alert, alert_basis) = pick(alert, null_alert);
        Some(Self {
            warning: applied_warning,
            // The alert quantile is at least the warning quantile and the
            // fixed alert at least the fixed warning, so this only guards
            // rounding.
            alert: applied_alert.max(applied_warning),
            warning_basis,
            alert_basis,
            fixed_warning: warning,
            fixed_alert: alert,
            null_warning,
            null_alert,
            warning_quantile: settings.warning,
            alert_quantile: settings.alert,
            resamples: draws.len(),
        })
    }

    /// Returns the applied thresholds as a rule.
    pub(crate) fn rule(&self) -> Rule {
        Rule::Above {
            warning: self.warning,
            alert: self.alert,
        }
    }
}

/// Computes the Jensen-Shannon distance and the PSI of resampled topic
/// counts under no drift, one of each per resample, in two lists.
///
/// Each resample draws `reference` total inputs and `current_total` inputs
/// from the reference shares.
pub(crate) fn topic_share_draws(
    reference: &[f64],
    current_total: usize,
    settings: &NullQuantiles,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let shares: Vec<f64> = reference.iter().copied().filter(|&c| c > 0.0).collect();
    let reference_total = reference.iter().sum::<f64>().round() as usize;
    let distribution = Categorical::new(&shares);
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let mut reference_draw = vec![0.0; shares.len()];
    let mut current_draw = vec![0.0; shares.len()];
    let mut jensen_shannon = Vec::with_capacity(settings.resamples);
    let mut psi = Vec::with_capacity(settings.resamples);
    for _ in 0..settings.resamples {
        distribution.draw(reference_total, &mut rng, &mut reference_draw);
        distribution.draw(current_total, &mut rng, &mut current_draw);
        let js = stats::jensen_shannon(&reference_draw, &current_draw)?;
        let index = stats::psi(&reference_draw, &current_draw)?;
        jensen_shannon.extend(js.statistic());
        psi.extend(index.statistic());
    }
    Ok((jensen_shannon, psi))
}

/// Computes normalised Wasserstein distances under no drift, one per
/// resample.
///
/// Each resample draws `reference.len()` and `current_len` values with
/// replacement from `reference` and divides their distance by the drawn
/// reference's standard deviation, as
/// [`stats::wasserstein_normalised`] does.
pub(crate) fn wasserstein_draws(
    reference: &[f64],
    current_len: usize,
    settings: &NullQuantiles,
) -> Vec<f64> {
    let mut sorted = reference.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut values: Vec<f64> = Vec::new();
    let mut counts: Vec<f64> = Vec::new();
    for &value in &sorted {
        match values.last() {
            Some(&last) if last == value => {
                if let Some(count) = counts.last_mut() {
                    *count += 1.0;
                }
            }
            _ => {
                values.push(value);
                counts.push(1.0);
            }
        }
    }

    let distribution = Categorical::new(&counts);
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let mut reference_draw = vec![0.0; values.len()];
    let mut current_draw = vec![0.0; values.len()];
    (0..settings.resamples)
        .map(|_| {
            distribution.draw(reference.len(), &mut rng, &mut reference_draw);
            distribution.draw(current_len, &mut rng, &mut current_draw);
            normalised_wasserstein_of_counts(&values, &reference_draw, &current_draw)
        })
        .collect()
}

/// Wasserstein distance between two samples given as counts over the sorted
/// distinct `values`, divided by the first sample's standard deviation
/// (floored at [`MIN_NORMALISING_STD`]).
fn normalised_wasserstein_of_counts(values: &[f64], reference: &[f64], current: &[f64]) -> f64 {
    let reference_total: f64 = reference.iter().sum();
    let current_total: f64 = current.iter().sum();
    if reference_total <= 0.0 || current_total <= 0.0 {
        return 0.0;
    }

    let mut distance = 0.0;
    let (mut reference_cdf, mut current_cdf) = (0.0, 0.0);
    for i in 0..values.len().saturating_sub(1) {
        reference_cdf += reference[i] / reference_total;
        current_cdf += current[i] / current_total;
        distance += (reference_cdf - current_cdf).abs() * (values[i + 1] - values[i]);
    }

    let mean = values
        .iter()
        .zip(reference)
        .map(|(x, c)| x * c)
        .sum::<f64>()
        / reference_total;
    let variance = values
        .iter()
        .zip(reference)
        .map(|(x, c)| c * (x - mean).powi(2))
        .sum::<f64>()
        / reference_total;
    distance / variance.max(0.0).sqrt().max(MIN_NORMALISING_STD)
}

/// A discrete distribution over categories, from non-negative weights.
struct Categorical {
    probabilities: Vec<f64>,
    cumulative: Vec<f64>,
}

impl Categorical {
    fn new(weights: &[f64]) -> Self {
        let total: f64 = weights.iter().sum();
        let probabilities: Vec<f64> = weights
            .iter()
            .map(|w| if total > 0.0 { w / total } else { 0.0 })
            .collect();
        let mut running = 0.0;
        let cumulative = probabilities
            .iter()
            .map(|p| {
                running += p;
                running
            })
            .collect();
        Self {
            probabilities,
            cumulative,
        }
    }

    /// Writes the category counts of `n` independent draws into `counts`.
    ///
    /// Many draws over few categories use one binomial per category, each
    /// conditional on the draws left. Few draws over many categories look
    /// each draw up in the cumulative distribution. Both give multinomial
    /// counts.
    fn draw(&self, n: usize, rng: &mut ChaCha8Rng, counts: &mut [f64]) {
        counts.iter_mut().for_each(|count| *count = 0.0);
        if self.probabilities.is_empty() {
            return;
        }
        if n > 16 * self.probabilities.len() {
            self.draw_binomial_chain(n, rng, counts);
            return;
        }
        let last = self.probabilities.len() - 1;
        for _ in 0..n {
            let u: f64 = rng.random();
            let index = self.cumulative.partition_point(|&c| c <= u).min(last);
            counts[index] += 1.0;
        }
    }

    fn draw_binomial_chain(&self, n: usize, rng: &mut ChaCha8Rng, counts: &mut [f64]) {
        let mut left = n as u64;
        let mut mass_left = 1.0;
        let last = self.probabilities.len() - 1;
        for (index, &p) in self.probabilities.iter().enumerate() {
            if left == 0 {
                break;
            }
            let conditional = if index == last || mass_left <= 0.0 {
                1.0
            } else {
                (p / mass_left).clamp(0.0, 1.0)
            };
            // `conditional` lies in [0, 1], so the distribution exists; the
            // fallback keeps the draw total at `n` either way.
            let drawn = Binomial::new(left, conditional).map_or(left, |b| b.sample(rng));
            counts[index] = drawn as f64;
            left -= drawn;
            mass_left -= p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> NullQuantiles {
        NullQuantiles::default()
    }

    #[test]
    fn draws_keep_the_sample_size() {
        let distribution = Categorical::new(&[5.0, 0.0, 3.0, 2.0]);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut counts = vec![0.0; 4];
        for n in [0, 1, 10, 63, 64, 65, 10_000] {
            distribution.draw(n, &mut rng, &mut counts);
            assert_eq!(counts.iter().sum::<f64>(), n as f64, "n = {n}");
            assert_eq!(counts[1], 0.0, "an empty category was drawn at n = {n}");
        }
    }

    #[test]
    fn both_draw_methods_match_the_shares() {
        let distribution = Categorical::new(&[1.0, 2.0, 7.0]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut counts = vec![0.0; 3];
        let mut totals = [[0.0; 3]; 2];
        // 40 draws use lookups, 4,000 the binomial chain.
        for (slot, n) in [(0, 40), (1, 4_000)] {
            for _ in 0..500 {
                distribution.draw(n, &mut rng, &mut counts);
                for (total, count) in totals[slot].iter_mut().zip(&counts) {
                    *total += count / n as f64 / 500.0;
                }
            }
        }
        for shares in totals {
            for (share, expected) in shares.iter().zip([0.1, 0.2, 0.7]) {
                assert!((share - expected).abs() < 0.01, "{shares:?}");
            }
        }
    }

    #[test]
    fn null_quantile_exceeds_fixed_for_small_windows() {
        let reference = vec![18.0; 20];
        let (js, psi) = topic_share_draws(&reference, 300, &settings()).unwrap();
        let policy = crate::Policy::default();
        let js = AppliedThresholds::combine(&policy.jensen_shannon, &js, &settings()).unwrap();
        let psi = AppliedThresholds::combine(&policy.psi, &psi, &settings()).unwrap();
        assert_eq!(js.warning_basis, ThresholdBasis::NullQuantile);
        assert!(js.warning > 0.12, "{js:?}");
        assert_eq!(psi.warning_basis, ThresholdBasis::NullQuantile);
        assert!(psi.warning > 0.1, "{psi:?}");
        assert!(js.alert >= js.warning);
        assert!(psi.alert >= psi.warning);
    }

    #[test]
    fn null_quantile_converges_to_fixed_for_large_windows() {
        let reference = vec![5_000.0; 20];
        let (js, psi) = topic_share_draws(&reference, 100_000, &settings()).unwrap();
        let policy = crate::Policy::default();
        let js = AppliedThresholds::combine(&policy.jensen_shannon, &js, &settings()).unwrap();
        let psi = AppliedThresholds::combine(&policy.psi, &psi, &settings()).unwrap();
        for applied in [js, psi] {
            assert_eq!(applied.warning_basis, ThresholdBasis::Fixed, "{applied:?}");
            assert_eq!(applied.alert_basis, ThresholdBasis::Fixed, "{applied:?}");
            assert_eq!(applied.warning, applied.fixed_warning);
            assert_eq!(applied.alert, applied.fixed_alert);
            assert!(applied.null_warning < applied.fixed_warning / 2.0);
        }
    }

    #[test]
    fn null_quantile_shrinks_as_windows_grow() {
        let reference = [400.0, 300.0, 200.0, 50.0, 30.0, 20.0];
        let mut previous = f64::INFINITY;
        for (reference_scale, current) in [(0.1, 50), (1.0, 300), (10.0, 3_000), (100.0, 30_000)] {
            let scaled: Vec<f64> = reference.iter().map(|c| c * reference_scale).collect();
            let (js, _) = topic_share_draws(&scaled, current, &settings()).unwrap();
            let q = quantile(&js, 0.99);
            assert!(q < previous, "{q} at {current} after {previous}");
            previous = q;
        }
    }

    #[test]
    fn topic_draws_match_the_chi_square_approximation() {
        // For large samples, 8 · ln 2 · JS² · n·m/(n+m) is about chi-square
        // with k - 1 degrees of freedom, whose mean is 9 for 10 topics.
        let reference = vec![1_000.0; 10];
        let (js, psi) = topic_share_draws(&reference, 10_000, &settings()).unwrap();
        let scale = 10_000.0 * 10_000.0 / 20_000.0;
        let mean_js = js
            .iter()
            .map(|d| 8.0 * std::f64::consts::LN_2 * d * d * scale)
            .sum::<f64>()
            / js.len() as f64;
        let mean_psi = psi.iter().map(|d| d * scale).sum::<f64>() / psi.len() as f64;
        assert!((mean_js - 9.0).abs() < 0.5, "{mean_js}");
        assert!((mean_psi - 9.0).abs() < 0.5, "{mean_psi}");
    }

    #[test]
    fn draws_are_reproducible() {
        let reference = [10.0, 20.0, 30.0];
        let first = topic_share_draws(&reference, 40, &settings()).unwrap();
        let second = topic_share_draws(&reference, 40, &settings()).unwrap();
        assert_eq!(first, second);
        let other_seed = NullQuantiles {
            seed: 1,
            ..settings()
        };
        assert_ne!(
            first,
            topic_share_draws(&reference, 40, &other_seed).unwrap()
        );
    }

    #[test]
    fn count_wasserstein_matches_the_sample_version() {
        let reference = [1.0, 2.0, 2.0, 3.0, 7.0, 7.0, 7.0];
        let current = [2.0, 3.0, 3.0, 9.0];
        let values = [1.0, 2.0, 3.0, 7.0, 9.0];
        let reference_counts = [1.0, 2.0, 1.0, 3.0, 0.0];
        let current_counts = [0.0, 1.0, 2.0, 0.0, 1.0];
        let expected = stats::wasserstein_normalised(&reference, &current)
            .unwrap()
            .statistic()
            .unwrap();
        let actual = normalised_wasserstein_of_counts(&values, &reference_counts, &current_counts);
        assert!((actual - expected).abs() < 1e-12, "{actual} vs {expected}");
    }

    #[test]
    fn wasserstein_null_shrinks_with_sample_size() {
        let reference: Vec<f64> = (0..2_000).map(|i| f64::from(i % 17)).collect();
        let small = quantile(&wasserstein_draws(&reference, 30, &settings()), 0.99);
        let large = quantile(&wasserstein_draws(&reference, 2_000, &settings()), 0.99);
        assert!(small > 2.0 * large, "{small} vs {large}");
        assert!(large > 0.0);
    }

    #[test]
    fn degenerate_inputs_give_zero_distances() {
        let (js, psi) = topic_share_draws(&[0.0, 12.0, 0.0], 50, &settings()).unwrap();
        assert!(js.iter().chain(&psi).all(|&d| d == 0.0));
        let constant = wasserstein_draws(&[4.0; 40], 30, &settings());
        assert!(constant.iter().all(|&d| d == 0.0));
        assert!(
            wasserstein_draws(&[], 30, &settings())
                .iter()
                .all(|&d| d == 0.0)
        );
    }

    #[test]
    fn invalid_settings_are_rejected() {
        for bad in [
            NullQuantiles {
                warning: 0.999,
                alert: 0.99,
                ..settings()
            },
            NullQuantiles {
                alert: 1.0,
                ..settings()
            },
            NullQuantiles {
                resamples: 10,
                ..settings()
            },
        ] {
            let error = bad.validate().unwrap_err().to_string();
            assert!(error.contains("null_quantiles"), "{error}");
        }
        assert!(settings().validate().is_ok());
    }
}
