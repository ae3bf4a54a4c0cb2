//! The serializable result of an experiment analysis.

use serde::{Deserialize, Serialize};

use super::stats::{Interval, SequentialResult, SrmCheck, TestResult};

/// The full analysis of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The experiment id.
    pub experiment_id: String,
    /// The sample ratio mismatch check.
    pub srm: SrmCheck,
    /// One report per metric, sorted by name.
    pub metrics: Vec<MetricReport>,
    /// What to do next, with the reason.
    pub recommendation: Recommendation,
}

/// The analysis of one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricReport {
    /// The metric name.
    pub name: String,
    /// `continuous`, `binary` or `ratio`.
    pub kind: String,
    /// Whether a higher value is better.
    pub higher_is_better: bool,
    /// Per-arm estimates, in experiment arm order.
    pub arms: Vec<ArmSummary>,
    /// Each non-control arm against the control (the first arm).
    pub comparisons: Vec<Comparison>,
    /// Posterior probability that each arm is best, in arm order; absent
    /// when an arm has too little data to form a posterior.
    pub probability_best: Option<Vec<f64>>,
}

/// The estimate of a metric in one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmSummary {
    /// The arm name.
    pub arm: String,
    /// Number of units (values, trials or ratio pairs).
    pub count: u64,
    /// Mean, rate or ratio.
    pub estimate: f64,
    /// Interval for the estimate: Wilson for rates, normal otherwise.
    pub interval: Option<Interval>,
}

/// One treatment arm compared with the control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The treatment arm name.
    pub arm: String,
    /// The fixed-horizon test: Welch t, two-proportion z or delta-method z.
    pub test: TestResult,
    /// Percentile bootstrap interval of the difference of means, for
    /// continuous metrics.
    pub bootstrap_interval: Option<Interval>,
    /// The always-valid sequential test at this look.
    pub sequential: SequentialResult,
}

/// The stopping recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Recommendation {
    /// Keep collecting data.
    Continue {
        /// Why the experiment cannot stop yet.
        reason: String,
    },
    /// Stop and ship `arm`.
    StopWinner {
        /// The winning arm.
        arm: String,
        /// The evidence.
        reason: String,
    },
    /// Stop: the arms are equivalent within the configured margin.
    StopNoDifference {
        /// The evidence.
        reason: String,
    },
    /// Stop: the traffic split is broken, so no result can be trusted.
    StopSampleRatioMismatch {
        /// The evidence.
        reason: String,
    },
}
