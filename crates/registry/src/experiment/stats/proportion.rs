//! Tests and intervals for a binary metric (successes out of trials).

use serde::{Deserialize, Serialize};

use super::result::{Interval, TestResult};
use super::tails::{ln_normal_two_sided, normal_quantile};

/// Successes out of trials in one arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proportion {
    /// Number of units with the outcome.
    pub successes: u64,
    /// Number of units observed.
    pub trials: u64,
}

impl Proportion {
    /// Returns successes / trials, or 0 with no trials.
    pub fn rate(&self) -> f64 {
        if self.trials == 0 {
            0.0
        } else {
            self.successes as f64 / self.trials as f64
        }
    }
}

/// Returns the Wilson score interval of a proportion, or `None` with no
/// trials.
pub fn wilson_interval(proportion: Proportion, confidence: f64) -> Option<Interval> {
    if proportion.trials == 0 {
        return None;
    }
    let z = normal_quantile(0.5 + confidence / 2.0);
    let n = proportion.trials as f64;
    let rate = proportion.rate();
    let z_square_over_n = z * z / n;
    let center = (rate + z_square_over_n / 2.0) / (1.0 + z_square_over_n);
    let half_width = z / (1.0 + z_square_over_n)
        * (rate * (1.0 - rate) / n + z_square_over_n / (4.0 * n)).sqrt();
    Some(Interval {
        lower: (center - half_width).max(0.0),
        upper: (center + half_width).min(1.0),
        level: confidence,
    })
}

/// Tests the difference of rates, treatment minus control, with the pooled
/// two-proportion z-test. The interval is Newcombe's hybrid score interval,
/// built from the two Wilson intervals.
///
/// Degenerate when an arm has no trials or the pooled rate is 0 or 1, where
/// the pooled standard error is 0.
pub fn two_proportion_z_test(
    control: Proportion,
    treatment: Proportion,
    confidence: f64,
) -> TestResult {
    let estimate = treatment.rate() - control.rate();
    if control.trials == 0 || treatment.trials == 0 {
        return TestResult::degenerate(estimate, 0.0, "an arm has no trials");
    }

    let control_n = control.trials as f64;
    let treatment_n = treatment.trials as f64;
    let pooled = (control.successes + treatment.successes) as f64 / (control_n + treatment_n);
    let pooled_error = (pooled * (1.0 - pooled) * (1.0 / control_n + 1.0 / treatment_n)).sqrt();
    let unpooled_error = (control.rate() * (1.0 - control.rate()) / control_n
        + treatment.rate() * (1.0 - treatment.rate()) / treatment_n)
        .sqrt();
    if pooled_error <= 0.0 {
        return TestResult::degenerate(
            estimate,
            unpooled_error,
            "the pooled rate is 0 or 1, so the z-test is undefined",
        );
    }

    let statistic = estimate / pooled_error;
    let ln_p_value = ln_normal_two_sided(statistic);
    TestResult {
        estimate,
        standard_error: unpooled_error,
        statistic: Some(statistic),
        degrees_of_freedom: None,
        p_value: ln_p_value.exp(),
        ln_p_value,
        confidence_interval: newcombe_interval(control, treatment, confidence),
        degenerate: None,
    }
}

/// Newcombe's hybrid score interval (method 10 of Newcombe 1998) for the
/// difference treatment minus control.
fn newcombe_interval(
    control: Proportion,
    treatment: Proportion,
    confidence: f64,
) -> Option<Interval> {
    let control_interval = wilson_interval(control, confidence)?;
    let treatment_interval = wilson_interval(treatment, confidence)?;
    let control_rate = control.rate();
    let treatment_rate = treatment.rate();
    let estimate = treatment_rate - control_rate;

    let lower = estimate
        - ((treatment_rate - treatment_interval.lower).powi(2)
            + (control_interval.upper - control_rate).powi(2))
        .sqrt();
    let upper = estimate
        + ((treatment_interval.upper - treatment_rate).powi(2)
            + (control_rate - control_interval.lower).powi(2))
        .sqrt();
    Some(Interval {
        lower,
        upper,
        level: confidence,
    })
}
