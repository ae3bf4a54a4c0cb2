//! Drift statistics between a reference and a current sample.
//!
//! Every function returns a [`Measurement`]: a finite statistic (and a
//! p-value for tests), or [`Measurement::InsufficientData`] when a sample is
//! too small for the statistic to be defined. No function returns NaN or an
//! infinity: identical samples, empty bins, constant values and rounding
//! below zero under a square root all have a defined result, stated on each
//! function.
//!
//! The minimum sizes here are what each statistic needs to be computed at
//! all. [`Policy::min_samples`](crate::Policy::min_samples) sets a larger
//! minimum before a value may raise an alert.

mod auc;
mod categorical;
mod domain_classifier;
mod embedding;
mod ks;
mod mmd;
mod wasserstein;

pub use auc::roc_auc;
pub use categorical::{PSI_EMPTY_BIN_PROPORTION, chi_square, jensen_shannon, psi};
pub use domain_classifier::{DomainClassifierConfig, domain_classifier_auc};
pub use embedding::centroid_cosine_distance;
pub use ks::ks_two_sample;
pub use mmd::{MmdConfig, mmd_rbf};
pub(crate) use wasserstein::MIN_NORMALISING_STD;
pub use wasserstein::{wasserstein, wasserstein_normalised};

use serde::{Deserialize, Serialize};

use crate::error::{DriftError, Result};

/// Result of one drift statistic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Measurement {
    /// The statistic, finite, with a p-value for hypothesis tests.
    Value {
        /// The distance or test statistic.
        statistic: f64,
        /// Probability under "no drift" of a statistic at least this large;
        /// `None` for distances without a test.
        p_value: Option<f64>,
    },
    /// A sample was below the size the statistic needs.
    InsufficientData {
        /// Minimum size of each sample.
        required: usize,
        /// Size of the reference sample.
        reference: usize,
        /// Size of the current sample.
        current: usize,
    },
}

impl Measurement {
    /// Returns the statistic, or `None` for insufficient data.
    pub fn statistic(&self) -> Option<f64> {
        match self {
            Self::Value { statistic, .. } => Some(*statistic),
            Self::InsufficientData { .. } => None,
        }
    }

    /// Returns the p-value, or `None` for distances and insufficient data.
    pub fn p_value(&self) -> Option<f64> {
        match self {
            Self::Value { p_value, .. } => *p_value,
            Self::InsufficientData { .. } => None,
        }
    }

    pub(crate) fn distance(statistic: f64) -> Self {
        Self::Value {
            statistic: finite_or_zero(statistic),
            p_value: None,
        }
    }

    pub(crate) fn test(statistic: f64, p_value: f64) -> Self {
        Self::Value {
            statistic: finite_or_zero(statistic),
            p_value: Some(finite_or_zero(p_value).clamp(0.0, 1.0)),
        }
    }

    pub(crate) fn insufficient(required: usize, reference: usize, current: usize) -> Self {
        Self::InsufficientData {
            required,
            reference,
            current,
        }
    }
}

/// Guards the "never NaN or infinity" contract at the boundary: NaN becomes
/// 0 and an overflow becomes the largest finite value of its sign. Inputs
/// are validated as finite, so only extreme magnitudes (near `f64::MAX`)
/// reach this.
fn finite_or_zero(value: f64) -> f64 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(f64::MIN, f64::MAX)
    }
}

/// Checks that every value is finite (and non-negative when `counts`).
pub(crate) fn check_values(what: &'static str, values: &[f64], counts: bool) -> Result<()> {
    for (index, &value) in values.iter().enumerate() {
        let bad = !value.is_finite() || (counts && value < 0.0);
        if bad {
            let hint = if counts { ", zero or above" } else { "" };
            return Err(DriftError::InvalidValue {
                what,
                index,
                value,
                hint,
            });
        }
    }
    Ok(())
}

/// Checks that all vectors of both samples share one dimension and are
/// finite; returns the dimension (0 when both are empty).
pub(crate) fn check_embeddings(reference: &[Vec<f32>], current: &[Vec<f32>]) -> Result<usize> {
    let Some(first) = reference.first().or(current.first()) else {
        return Ok(0);
    };
    let expected = first.len();
    for (index, vector) in reference.iter().chain(current).enumerate() {
        if vector.len() != expected {
            return Err(DriftError::DimensionMismatch {
                index,
                expected,
                found: vector.len(),
            });
        }
        if let Some(value) = vector.iter().find(|value| !value.is_finite()) {
            return Err(DriftError::InvalidValue {
                what: "embedding",
                index,
                value: f64::from(*value),
                hint: "",
            });
        }
    }
    Ok(expected)
}
