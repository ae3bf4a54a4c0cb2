//! Always-valid inference by the mixture sequential probability ratio test.
//!
//! For an estimate θ̂ of the difference with variance V, and a normal
//! mixing distribution N(0, τ²) over the true difference, the mixture
//! likelihood ratio against "no difference" is
//!
//! Λ = sqrt(V / (V + τ²)) · exp(τ²·θ̂² / (2·V·(V + τ²)))
//!
//! (Johari, Pekelis and Walsh, "Always Valid Inference: Bringing Sequential
//! Analysis to A/B Testing", 2015). 1/Λ is an always-valid p-value: the
//! chance that it ever drops below α under no difference, over any number
//! of looks, is at most α. The running minimum over looks
//! ([`AlwaysValidPValue`]) is valid too, and a single look's value is never
//! smaller than it.
//!
//! The mixing parameter is τ = `mixing_scale` · σ, where σ² = V / (1/n₁ +
//! 1/n₂) is the per-unit variance implied by the standard error. τ is the
//! effect size, in standard deviations of one unit, that the test is most
//! sensitive to; the default 0.1 suits small product effects.

use serde::{Deserialize, Serialize};

use super::result::Interval;

/// The mSPRT at one look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequentialResult {
    /// The mixing variance τ² in squared metric units.
    pub mixing_variance: f64,
    /// ln Λ, the log mixture likelihood ratio.
    pub ln_likelihood_ratio: f64,
    /// The always-valid p-value min(1, 1/Λ); 0 when it underflows.
    pub p_value: f64,
    /// Natural logarithm of the always-valid p-value.
    pub ln_p_value: f64,
    /// The confidence sequence at level 1 − α: every θ₀ whose Λ(θ₀) < 1/α.
    pub confidence_sequence: Option<Interval>,
    /// The reason the test could not be computed, if any.
    pub degenerate: Option<String>,
}

/// Computes the mSPRT for `estimate` with `variance` V at one look.
///
/// `inverse_sizes_sum` is 1/n₁ + 1/n₂, used to derive σ for the mixing
/// parameter. Degenerate (p = 1, no interval) when V is 0 or not finite.
pub fn msprt(
    estimate: f64,
    variance: f64,
    inverse_sizes_sum: f64,
    mixing_scale: f64,
    alpha: f64,
) -> SequentialResult {
    if !(variance > 0.0 && variance.is_finite() && inverse_sizes_sum > 0.0) {
        return SequentialResult {
            mixing_variance: 0.0,
            ln_likelihood_ratio: 0.0,
            p_value: 1.0,
            ln_p_value: 0.0,
            confidence_sequence: None,
            degenerate: Some(
                "the estimate has no variance, so there is no evidence to weigh".to_owned(),
            ),
        };
    }
    let unit_variance = variance / inverse_sizes_sum;
    let mixing_variance = mixing_scale * mixing_scale * unit_variance;
    let total = variance + mixing_variance;

    let ln_likelihood_ratio = 0.5 * (variance / total).ln()
        + mixing_variance * estimate * estimate / (2.0 * variance * total);
    let ln_p_value = (-ln_likelihood_ratio).min(0.0);
    let half_width =
        (variance * total / mixing_variance * ((total / variance).ln() - 2.0 * alpha.ln())).sqrt();
    SequentialResult {
        mixing_variance,
        ln_likelihood_ratio,
        p_value: ln_p_value.exp(),
        ln_p_value,
        confidence_sequence: Some(Interval {
            lower: estimate - half_width,
            upper: estimate + half_width,
            level: 1.0 - alpha,
        }),
        degenerate: None,
    }
}

/// The running minimum of always-valid p-values over repeated looks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlwaysValidPValue {
    ln_p_value: f64,
}

impl Default for AlwaysValidPValue {
    fn default() -> Self {
        AlwaysValidPValue { ln_p_value: 0.0 }
    }
}

impl AlwaysValidPValue {
    /// Records one look and returns the running p-value.
    pub fn observe(&mut self, look: &SequentialResult) -> f64 {
        if look.ln_p_value.is_finite() {
            self.ln_p_value = self.ln_p_value.min(look.ln_p_value);
        }
        self.p_value()
    }

    /// Returns the running p-value.
    pub fn p_value(&self) -> f64 {
        self.ln_p_value.exp()
    }

    /// Returns the natural logarithm of the running p-value.
    pub fn ln_p_value(&self) -> f64 {
        self.ln_p_value
    }
}
