//! Thresholds per measure and the severity they give.
//!
//! Default thresholds and where they come from:
//!
//! | Measure | Warning | Alert | Source |
//! |---|---|---|---|
//! | PSI | 0.1 | 0.25 | a credit-scoring convention, not derived from a test (Cross Validated, "What is the intuition behind the Population Stability Index?") |
//! | Jensen-Shannon distance, base 2 | 0.12 | 0.24 | Evidently 0.7.23 warns at 0.1 with natural logs, which is 0.1 / √ln 2 ≈ 0.12 in base 2; alert doubled |
//! | chi-square, KS, MMD p-value | below 0.05 | below 0.01 | Evidently 0.7.23 uses p < 0.05; the alert level keeps false alarms at about 1% per test |
//! | domain-classifier AUC | 0.55 | 0.65 | Evidently 0.7.23 embedding drift "model" method uses 0.55; alert ours |
//! | Wasserstein, normalised | 0.1 | 0.2 | Evidently 0.7.23 default 0.1; alert ours |
//! | centroid cosine distance | none | none | depends on the embedding model, so reported only |
//!
//! Below [`Policy::min_samples`] inputs in either window, no measure raises a
//! warning or alert.
//!
//! The fixed Jensen-Shannon, PSI and Wasserstein thresholds ignore sample
//! size. Two samples of the same distribution lie further apart the smaller
//! they are and the more topics they spread over, so on unshifted
//! 300-query CLINC150 windows with about 20 topics the fixed Jensen-Shannon
//! warning fired on 77% of windows. By default ([`Policy::null_quantiles`])
//! each of these three distances is therefore judged against the larger of
//! its fixed threshold and the 0.99 (warning) or 0.999 (alert) quantile of
//! its distribution under no drift. The quantiles are estimated by seeded
//! resampling from the reference for the same window sizes. Small windows get the higher
//! thresholds that their noise needs; large windows fall back to the fixed
//! ones. Each [`MeasureResult`](crate::MeasureResult) records the
//! thresholds applied and which of the two each came from.
//!
//! NOTE: warning levels hold per measure, not per report. Each hypothesis
//! test warns at p < 0.05, so with several tests a report warns more often:
//! 9% of unshifted 300-query CLINC150 windows reached a warning on some
//! measure (MMD 4.5%, chi-square 4%), while alerts stayed at 1%
//! (`examples/false_alarms.rs`). No family-wise correction of the p-value
//! warning levels is applied.

use serde::{Deserialize, Serialize};

use crate::error::{DriftError, Result};
use crate::null_quantile::NullQuantiles;
use crate::stats::Measurement;

/// Severity of a measured drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// Below the warning threshold, or not judged.
    None,
    /// At or beyond the warning threshold.
    Warning,
    /// At or beyond the alert threshold.
    Alert,
}

impl Severity {
    /// Returns the lowercase name, as in reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Warning => "warning",
            Self::Alert => "alert",
        }
    }
}

/// Mapping from a measure's value to a severity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// The statistic at or above a threshold is drift.
    Above {
        /// Threshold for [`Severity::Warning`].
        warning: f64,
        /// Threshold for [`Severity::Alert`].
        alert: f64,
    },
    /// The p-value strictly below a level is drift.
    PValueBelow {
        /// Level for [`Severity::Warning`].
        warning: f64,
        /// Level for [`Severity::Alert`].
        alert: f64,
    },
    /// Reported, never judged.
    ReportOnly,
}

impl Rule {
    /// Returns the severity of `measurement`; insufficient data is
    /// [`Severity::None`].
    pub fn judge(&self, measurement: &Measurement) -> Severity {
        match (self, measurement.statistic(), measurement.p_value()) {
            (Self::Above { warning, alert }, Some(value), _) => {
                if value >= *alert {
                    Severity::Alert
                } else if value >= *warning {
                    Severity::Warning
                } else {
                    Severity::None
                }
            }
            (Self::PValueBelow { warning, alert }, _, Some(p)) => {
                if p < *alert {
                    Severity::Alert
                } else if p < *warning {
                    Severity::Warning
                } else {
                    Severity::None
                }
            }
            _ => Severity::None,
        }
    }

    fn validate(&self, name: &'static str) -> Result<()> {
        let ordered = match *self {
            Self::Above { warning, alert } => {
                warning.is_finite() && alert.is_finite() && warning <= alert
            }
            Self::PValueBelow { warning, alert } => {
                (0.0..=1.0).contains(&alert) && (0.0..=1.0).contains(&warning) && alert <= warning
            }
            Self::ReportOnly => true,
        };
        if ordered {
            return Ok(());
        }
        Err(DriftError::InvalidParameter {
            name,
            value: format!("{self:?}"),
            reason: "the alert threshold must be at least as strict as the warning threshold, and p-value levels in [0, 1]",
        })
    }
}

/// Thresholds for every measure, and the minimum window size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Policy {
    /// Minimum number of inputs (or values, for a numeric signal) in each
    /// window before a measure is judged. Below it, the measure is reported
    /// as insufficient data. Default 30, so that no alert rests on a handful
    /// of inputs.
    pub min_samples: usize,
    /// Jensen-Shannon distance of topic shares.
    pub jensen_shannon: Rule,
    /// PSI of topic shares.
    pub psi: Rule,
    /// Chi-square test of topic shares.
    pub chi_square: Rule,
    /// Cosine distance between embedding centroids.
    pub centroid_cosine: Rule,
    /// MMD permutation test of embeddings.
    pub mmd: Rule,
    /// Domain-classifier AUC of embeddings.
    pub domain_classifier: Rule,
    /// Kolmogorov-Smirnov test of each numeric signal.
    pub ks: Rule,
    /// Normalised Wasserstein distance of each numeric signal.
    pub wasserstein: Rule,
    /// A baseline topic with at least this reference share and no current
    /// input is reported as vanished. Default 0.02.
    pub vanished_min_share: f64,
    /// Raises the Jensen-Shannon, PSI and Wasserstein thresholds, when
    /// they are [`Rule::Above`], to quantiles of each distance under no
    /// drift for the window sizes at hand. `None` applies the fixed
    /// thresholds alone. Default [`NullQuantiles::default`].
    #[serde(default = "default_null_quantiles")]
    pub null_quantiles: Option<NullQuantiles>,
}

fn default_null_quantiles() -> Option<NullQuantiles> {
    Some(NullQuantiles::default())
}

impl Default for Policy {
    fn default() -> Self {
        let p_value = Rule::PValueBelow {
            warning: 0.05,
            alert: 0.01,
        };
        Self {
            min_samples: 30,
            jensen_shannon: Rule::Above {
                warning: 0.12,
                alert: 0.24,
            },
            psi: Rule::Above {
                warning: 0.1,
                alert: 0.25,
            },
            chi_square: p_value,
            centroid_cosine: Rule::ReportOnly,
            mmd: p_value,
            domain_classifier: Rule::Above {
                warning: 0.55,
                alert: 0.65,
            },
            ks: p_value,
            wasserstein: Rule::Above {
                warning: 0.1,
                alert: 0.2,
            },
            vanished_min_share: 0.02,
            null_quantiles: default_null_quantiles(),
        }
    }
}

impl Policy {
    /// Checks that every rule's thresholds are ordered and in range.
    ///
    /// # Errors
    ///
    /// Returns [`DriftError::InvalidParameter`] naming the first bad rule or
    /// invalid [`NullQuantiles`].
    pub fn validate(&self) -> Result<()> {
        self.jensen_shannon.validate("jensen_shannon")?;
        self.psi.validate("psi")?;
        self.chi_square.validate("chi_square")?;
        self.centroid_cosine.validate("centroid_cosine")?;
        self.mmd.validate("mmd")?;
        self.domain_classifier.validate("domain_classifier")?;
        self.ks.validate("ks")?;
        self.wasserstein.validate("wasserstein")?;
        match &self.null_quantiles {
            Some(settings) => settings.validate(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Policy, Rule, Severity};
    use crate::stats::Measurement;

    fn value(statistic: f64, p_value: Option<f64>) -> Measurement {
        Measurement::Value { statistic, p_value }
    }

    #[test]
    fn psi_thresholds_are_inclusive() {
        let rule = Policy::default().psi;
        assert_eq!(rule.judge(&value(0.099, None)), Severity::None);
        assert_eq!(rule.judge(&value(0.1, None)), Severity::Warning);
        assert_eq!(rule.judge(&value(0.25, None)), Severity::Alert);
    }

    #[test]
    fn p_value_levels_are_strict() {
        let rule = Policy::default().chi_square;
        assert_eq!(rule.judge(&value(3.0, Some(0.05))), Severity::None);
        assert_eq!(rule.judge(&value(3.0, Some(0.049))), Severity::Warning);
        assert_eq!(rule.judge(&value(9.0, Some(0.0099))), Severity::Alert);
    }

    #[test]
    fn insufficient_data_is_never_drift() {
        let missing = Measurement::InsufficientData {
            required: 30,
            reference: 3,
            current: 4,
        };
        for rule in [Policy::default().psi, Policy::default().mmd] {
            assert_eq!(rule.judge(&missing), Severity::None);
        }
    }

    #[test]
    fn report_only_is_never_drift() {
        assert_eq!(
            Rule::ReportOnly.judge(&value(2.0, Some(0.0))),
            Severity::None
        );
    }

    #[test]
    fn reversed_thresholds_are_rejected() {
        let policy = Policy {
            psi: Rule::Above {
                warning: 0.3,
                alert: 0.1,
            },
            ..Policy::default()
        };
        let error = policy.validate().unwrap_err();
        assert!(error.to_string().contains("psi"));
        assert!(Policy::default().validate().is_ok());
    }
}
