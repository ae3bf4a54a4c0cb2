//! Alert rules: the aggregate each watches and its thresholds.

use serde::{Deserialize, Serialize};

use crate::error::MonitorError;
use crate::snapshot::Window;

/// The aggregate a rule watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum AlertMetric {
    /// Failed requests divided by requests in the window, 0 to 1.
    ErrorRatio,
    /// The 99th percentile request duration in the window, milliseconds.
    P99LatencyMs,
    /// The highest projected spend of any budget divided by its limit: 1
    /// means the budget runs out exactly at the end of its period. The
    /// window does not apply.
    SpendRateVsBudget,
    /// How far the mean of `metric` in the window fell below its mean
    /// over the last day: day mean minus window mean.
    QualityDrop {
        /// The score metric, such as `groundedness`.
        metric: String,
    },
    /// The latest drift report's severity: 0 none, 1 warning, 2
    /// alert. The window does not apply.
    DriftSeverity,
    /// The share of scored responses below the groundedness threshold in
    /// the window, 0 to 1.
    HallucinationRate,
}

impl AlertMetric {
    /// The metric's name, such as `error_ratio`.
    pub fn name(&self) -> &'static str {
        match self {
            AlertMetric::ErrorRatio => "error_ratio",
            AlertMetric::P99LatencyMs => "p99_latency_ms",
            AlertMetric::SpendRateVsBudget => "spend_rate_vs_budget",
            AlertMetric::QualityDrop { .. } => "quality_drop",
            AlertMetric::DriftSeverity => "drift_severity",
            AlertMetric::HallucinationRate => "hallucination_rate",
        }
    }
}

/// A threshold on an aggregate with hysteresis: the rule fires after the
/// value stays above `fire_above` for `for_evaluations` evaluations in a
/// row, and clears after it stays below `clear_below` as long. A value
/// between the two keeps the current state, so a value hovering at the
/// threshold does not flap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    /// A unique name, shown in snapshots and notifications.
    pub name: String,
    /// The aggregate the rule watches.
    pub metric: AlertMetric,
    /// The window of the aggregate.
    pub window: Window,
    /// The value above which the rule fires.
    pub fire_above: f64,
    /// The value below which a firing rule clears; at most `fire_above`.
    pub clear_below: f64,
    /// Consecutive evaluations needed to change state; at least 1.
    pub for_evaluations: u32,
}

impl AlertRule {
    /// Creates a rule that fires above `fire_above` and clears below the
    /// same value, on the first evaluation.
    pub fn new(
        name: impl Into<String>,
        metric: AlertMetric,
        window: Window,
        fire_above: f64,
    ) -> Self {
        AlertRule {
            name: name.into(),
            metric,
            window,
            fire_above,
            clear_below: fire_above,
            for_evaluations: 1,
        }
    }

    /// Sets the value below which the rule clears.
    pub fn clear_below(mut self, value: f64) -> Self {
        self.clear_below = value;
        self
    }

    /// Sets the consecutive evaluations needed to change state.
    pub fn for_evaluations(mut self, evaluations: u32) -> Self {
        self.for_evaluations = evaluations;
        self
    }

    /// Checks the thresholds.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Invalid`] for an empty name, a threshold that is not
    /// a number, `clear_below` above `fire_above`, or zero evaluations.
    pub fn validate(&self) -> Result<(), MonitorError> {
        let invalid = |field: &'static str, value: String, fix: &str| MonitorError::Invalid {
            field,
            value,
            fix: format!("{fix} (rule {:?})", self.name),
        };
        if self.name.trim().is_empty() {
            return Err(invalid(
                "alert rule name",
                self.name.clone(),
                "give the rule a name",
            ));
        }
        if !self.fire_above.is_finite() || !self.clear_below.is_finite() {
            return Err(invalid(
                "alert threshold",
                format!("{} / {}", self.fire_above, self.clear_below),
                "use finite numbers",
            ));
        }
        if self.clear_below > self.fire_above {
            return Err(invalid(
                "clear_below",
                self.clear_below.to_string(),
                &format!("set it at or below fire_above ({})", self.fire_above),
            ));
        }
        if self.for_evaluations == 0 {
            return Err(invalid("for_evaluations", "0".into(), "use 1 or more"));
        }
        Ok(())
    }
}
