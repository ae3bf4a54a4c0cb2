//! Settings of an experiment analysis.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::error::ExperimentError;

/// Settings of [`Experiment::analyze`](super::Experiment::analyze).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisConfig {
    /// Level of fixed-horizon and bootstrap intervals. Default 0.95.
    pub confidence: f64,
    /// Significance level of the sequential test and its confidence
    /// sequence; the stopping decision uses it. Default 0.05.
    pub alpha: f64,
    /// SRM p-value below which the split counts as broken. Default 0.001.
    pub srm_threshold: f64,
    /// mSPRT mixing standard deviation in per-unit standard deviations.
    /// Default 0.1.
    pub mixing_scale: f64,
    /// Bootstrap resamples for continuous metrics. Default 2,000.
    pub bootstrap_resamples: usize,
    /// Monte Carlo draws for the probability to be best. Default 20,000.
    pub monte_carlo_draws: usize,
    /// Seed of the bootstrap and Monte Carlo generators. Default 0.
    pub seed: u64,
    /// The metric that drives the stopping decision. Default: the first
    /// metric name in sort order.
    pub primary_metric: Option<String>,
    /// Metrics where a lower value is better, such as latency or cost.
    pub lower_is_better: BTreeSet<String>,
    /// Absolute difference in the primary metric below which arms count as
    /// equivalent. "Stop: no difference" is recommended only when it is set
    /// and every confidence sequence lies within ± this margin. Default
    /// unset.
    pub equivalence_margin: Option<f64>,
    /// Units every arm needs before a stop is recommended. Default 100.
    pub min_units_per_arm: u64,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            confidence: 0.95,
            alpha: 0.05,
            srm_threshold: 0.001,
            mixing_scale: 0.1,
            bootstrap_resamples: 2_000,
            monte_carlo_draws: 20_000,
            seed: 0,
            primary_metric: None,
            lower_is_better: BTreeSet::new(),
            equivalence_margin: None,
            min_units_per_arm: 100,
        }
    }
}

impl AnalysisConfig {
    /// Rejects probabilities outside (0, 1) and non-positive scales.
    pub(crate) fn validate(&self) -> Result<(), ExperimentError> {
        let open_unit = |setting: &'static str, value: f64| {
            if value > 0.0 && value < 1.0 {
                Ok(())
            } else {
                Err(ExperimentError::InvalidSetting {
                    setting,
                    value,
                    expected: "use a value strictly between 0 and 1",
                })
            }
        };
        open_unit("confidence", self.confidence)?;
        open_unit("alpha", self.alpha)?;
        open_unit("srm_threshold", self.srm_threshold)?;
        if !(self.mixing_scale > 0.0 && self.mixing_scale.is_finite()) {
            return Err(ExperimentError::InvalidSetting {
                setting: "mixing_scale",
                value: self.mixing_scale,
                expected: "use a positive, finite value",
            });
        }
        if let Some(margin) = self.equivalence_margin
            && !(margin > 0.0 && margin.is_finite())
        {
            return Err(ExperimentError::InvalidSetting {
                setting: "equivalence_margin",
                value: margin,
                expected: "use a positive, finite value",
            });
        }
        Ok(())
    }
}
