//! Ratio metrics (sum of numerators over sum of denominators) by the delta
//! method.

use super::result::{Interval, TestResult, mean_and_variance};
use super::tails::{ln_normal_two_sided, normal_quantile};

/// The ratio estimate of one arm and its delta-method variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RatioEstimate {
    pub(crate) ratio: f64,
    pub(crate) variance: f64,
}

/// Estimates mean(numerators) / mean(denominators) and its variance.
///
/// With per-unit pairs (x, y), n units, sample variances s_x², s_y² and
/// covariance s_xy, the first-order delta method gives
/// Var(x̄/ȳ) ≈ (s_x² − 2R·s_xy + R²·s_y²) / (n·ȳ²) with R = x̄/ȳ.
/// Returns `None` with fewer than 2 units or a zero mean denominator.
pub(crate) fn ratio_estimate(numerators: &[f64], denominators: &[f64]) -> Option<RatioEstimate> {
    if numerators.len() < 2 || numerators.len() != denominators.len() {
        return None;
    }
    let n = numerators.len() as f64;
    let (numerator_mean, numerator_variance) = mean_and_variance(numerators);
    let (denominator_mean, denominator_variance) = mean_and_variance(denominators);
    if denominator_mean == 0.0 {
        return None;
    }
    let covariance = numerators
        .iter()
        .zip(denominators)
        .map(|(x, y)| (x - numerator_mean) * (y - denominator_mean))
        .sum::<f64>()
        / (n - 1.0);

    let ratio = numerator_mean / denominator_mean;
    let variance = (numerator_variance - 2.0 * ratio * covariance
        + ratio * ratio * denominator_variance)
        / (n * denominator_mean * denominator_mean);
    Some(RatioEstimate {
        ratio,
        variance: variance.max(0.0),
    })
}

/// Tests the difference of ratios, treatment minus control, with a z-test
/// on the delta-method variances.
///
/// Degenerate when an arm has fewer than 2 units, a zero mean denominator,
/// or both variances are 0.
pub fn ratio_z_test(
    control: (&[f64], &[f64]),
    treatment: (&[f64], &[f64]),
    confidence: f64,
) -> TestResult {
    let (Some(control), Some(treatment)) = (
        ratio_estimate(control.0, control.1),
        ratio_estimate(treatment.0, treatment.1),
    ) else {
        return TestResult::degenerate(
            0.0,
            0.0,
            "each arm needs at least 2 units and a non-zero mean denominator",
        );
    };

    let estimate = treatment.ratio - control.ratio;
    let variance = control.variance + treatment.variance;
    if variance <= 0.0 || !variance.is_finite() {
        return TestResult::degenerate(
            estimate,
            0.0,
            "both ratios have zero variance, so the z-test is undefined",
        );
    }
    let standard_error = variance.sqrt();
    let statistic = estimate / standard_error;
    let ln_p_value = ln_normal_two_sided(statistic);
    let critical = normal_quantile(0.5 + confidence / 2.0);
    TestResult {
        estimate,
        standard_error,
        statistic: Some(statistic),
        degrees_of_freedom: None,
        p_value: ln_p_value.exp(),
        ln_p_value,
        confidence_interval: Some(Interval {
            lower: estimate - critical * standard_error,
            upper: estimate + critical * standard_error,
            level: confidence,
        }),
        degenerate: None,
    }
}
