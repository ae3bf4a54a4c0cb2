//! Analysis input: the observed data of each arm.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::ExperimentError;
use super::stats::Proportion;

/// The observations of one metric in one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MetricSamples {
    /// One value per unit, such as latency or a quality score.
    Continuous {
        /// The per-unit values.
        values: Vec<f64>,
    },
    /// Units with and without an outcome, such as thumbs-up.
    Binary {
        /// Units with the outcome.
        successes: u64,
        /// Units observed.
        trials: u64,
    },
    /// A per-unit numerator and denominator, analysed as
    /// sum(numerators) / sum(denominators), such as tokens per request
    /// with users as units.
    Ratio {
        /// Per-unit numerators.
        numerators: Vec<f64>,
        /// Per-unit denominators, in the same unit order.
        denominators: Vec<f64>,
    },
}

impl MetricSamples {
    /// Returns the kind name used in reports.
    pub fn kind(&self) -> &'static str {
        match self {
            MetricSamples::Continuous { .. } => "continuous",
            MetricSamples::Binary { .. } => "binary",
            MetricSamples::Ratio { .. } => "ratio",
        }
    }

    /// Returns the binary counts as a [`Proportion`], if binary.
    pub(crate) fn proportion(&self) -> Option<Proportion> {
        match self {
            MetricSamples::Binary { successes, trials } => Some(Proportion {
                successes: *successes,
                trials: *trials,
            }),
            _ => None,
        }
    }

    /// Rejects non-finite values, successes above trials and unpaired
    /// ratio data.
    pub(crate) fn validate(&self, metric: &str, arm: &str) -> Result<(), ExperimentError> {
        let non_finite = || ExperimentError::NonFiniteSample {
            metric: metric.to_owned(),
            arm: arm.to_owned(),
        };
        match self {
            MetricSamples::Continuous { values } => {
                if values.iter().any(|value| !value.is_finite()) {
                    return Err(non_finite());
                }
            }
            MetricSamples::Binary { successes, trials } => {
                if successes > trials {
                    return Err(ExperimentError::SuccessesExceedTrials {
                        metric: metric.to_owned(),
                        arm: arm.to_owned(),
                        successes: *successes,
                        trials: *trials,
                    });
                }
            }
            MetricSamples::Ratio {
                numerators,
                denominators,
            } => {
                if numerators.len() != denominators.len() {
                    return Err(ExperimentError::RatioLengthMismatch {
                        metric: metric.to_owned(),
                        arm: arm.to_owned(),
                        numerators: numerators.len(),
                        denominators: denominators.len(),
                    });
                }
                if numerators
                    .iter()
                    .chain(denominators)
                    .any(|value| !value.is_finite())
                {
                    return Err(non_finite());
                }
            }
        }
        Ok(())
    }
}

/// The observed data of one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmSamples {
    /// The arm name, as configured in the experiment.
    pub arm: String,
    /// Units assigned to the arm, used by the sample ratio mismatch check.
    pub units: u64,
    /// Observations per metric name.
    pub metrics: BTreeMap<String, MetricSamples>,
}
