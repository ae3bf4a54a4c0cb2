//! Welch's unequal-variance t-test for a continuous metric.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::result::{Interval, TestResult, mean_and_variance};
use super::tails::ln_t_two_sided;

/// Tests the difference of means, treatment minus control, with Welch's
/// t-test and the Welch–Satterthwaite degrees of freedom.
///
/// Degenerate when either arm has fewer than 2 samples or both arms have
/// zero variance.
pub fn welch_t_test(control: &[f64], treatment: &[f64], confidence: f64) -> TestResult {
    let (control_mean, control_variance) = mean_and_variance(control);
    let (treatment_mean, treatment_variance) = mean_and_variance(treatment);
    let estimate = treatment_mean - control_mean;
    if control.len() < 2 || treatment.len() < 2 {
        return TestResult::degenerate(
            estimate,
            0.0,
            "each arm needs at least 2 samples for a t-test",
        );
    }

    let control_term = control_variance / control.len() as f64;
    let treatment_term = treatment_variance / treatment.len() as f64;
    let variance = control_term + treatment_term;
    if variance <= 0.0 || !variance.is_finite() {
        return TestResult::degenerate(
            estimate,
            0.0,
            "both arms have zero variance, so the t-test is undefined",
        );
    }

    let standard_error = variance.sqrt();
    let degrees_of_freedom = variance * variance
        / (control_term * control_term / (control.len() as f64 - 1.0)
            + treatment_term * treatment_term / (treatment.len() as f64 - 1.0));
    let statistic = estimate / standard_error;
    let ln_p_value = ln_t_two_sided(statistic, degrees_of_freedom);
    let confidence_interval =
        StudentsT::new(0.0, 1.0, degrees_of_freedom)
            .ok()
            .map(|distribution| {
                let critical = distribution.inverse_cdf(0.5 + confidence / 2.0);
                Interval {
                    lower: estimate - critical * standard_error,
                    upper: estimate + critical * standard_error,
                    level: confidence,
                }
            });
    TestResult {
        estimate,
        standard_error,
        statistic: Some(statistic),
        degrees_of_freedom: Some(degrees_of_freedom),
        p_value: ln_p_value.exp(),
        ln_p_value,
        confidence_interval,
        degenerate: None,
    }
}
