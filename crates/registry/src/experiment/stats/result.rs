//! Result types shared by the statistical tests.

use serde::{Deserialize, Serialize};

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Confidence level, such as 0.95.
    pub level: f64,
}

impl Interval {
    /// Returns whether `value` lies within the bounds, inclusive.
    pub fn contains(&self, value: f64) -> bool {
        self.lower <= value && value <= self.upper
    }
}

/// The outcome of a fixed-horizon test of treatment minus control.
///
/// When the data cannot support the test (too few samples, no variance),
/// `degenerate` gives the reason, `p_value` is 1, `ln_p_value` is 0 and there is no
/// interval, so a degenerate result never reads as significant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// Treatment minus control, in the metric's units.
    pub estimate: f64,
    /// Standard error of the estimate.
    pub standard_error: f64,
    /// The z or t statistic, absent for degenerate data.
    pub statistic: Option<f64>,
    /// Degrees of freedom of a t statistic.
    pub degrees_of_freedom: Option<f64>,
    /// Two-sided p-value; 0 when it underflows `f64`, see `ln_p_value`.
    pub p_value: f64,
    /// Natural logarithm of the two-sided p-value, finite even when
    /// `p_value` underflows.
    pub ln_p_value: f64,
    /// Confidence interval for the estimate.
    pub confidence_interval: Option<Interval>,
    /// The reason the test could not be computed, if any.
    pub degenerate: Option<String>,
}

impl TestResult {
    /// Creates the result for data that cannot support the test.
    pub(crate) fn degenerate(
        estimate: f64,
        standard_error: f64,
        reason: impl Into<String>,
    ) -> Self {
        TestResult {
            estimate: if estimate.is_finite() { estimate } else { 0.0 },
            standard_error: if standard_error.is_finite() {
                standard_error
            } else {
                0.0
            },
            statistic: None,
            degrees_of_freedom: None,
            p_value: 1.0,
            ln_p_value: 0.0,
            confidence_interval: None,
            degenerate: Some(reason.into()),
        }
    }
}

/// Mean and sample variance (denominator n - 1) by two passes.
pub(crate) fn mean_and_variance(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let squares: f64 = values.iter().map(|value| (value - mean).powi(2)).sum();
    (mean, squares / (n - 1.0))
}
