//! Statistical tests and estimators for experiment analysis.
//!
//! Every p-value is also returned as its natural logarithm, computed in log
//! space, so values far below `f64::MIN_POSITIVE` keep their magnitude.

mod bayes;
mod bootstrap;
mod proportion;
mod ratio;
mod result;
mod sequential;
mod srm;
mod tails;
mod welch;

pub use bayes::{probability_best_binary, probability_best_normal};
pub use bootstrap::bootstrap_mean_difference;
pub use proportion::{Proportion, two_proportion_z_test, wilson_interval};
pub(crate) use ratio::ratio_estimate;
pub use ratio::ratio_z_test;
pub(crate) use result::mean_and_variance;
pub use result::{Interval, TestResult};
pub use sequential::{AlwaysValidPValue, SequentialResult, msprt};
pub use srm::{SrmCheck, sample_ratio_mismatch};
pub use welch::welch_t_test;

/// Returns the two-sided normal critical value for `confidence`, such as
/// 1.96 for 0.95.
pub(crate) fn normal_interval_factor(confidence: f64) -> f64 {
    tails::normal_quantile(0.5 + confidence / 2.0)
}
