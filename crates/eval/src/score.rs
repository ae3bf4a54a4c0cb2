//! Metric scores and their ranges.

use serde::{Deserialize, Serialize};

/// The outcome of one metric on one case: a value inside the metric's range,
/// or no value with the reason.
///
/// A metric that cannot judge a case (no reference, unparsable judge output,
/// no extractable claims) returns [`Score::Undetermined`] so it never counts
/// as a low score in means or gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Score {
    /// A value inside [`Metric::range`](crate::Metric::range).
    Value {
        /// The score.
        value: f64,
    },
    /// No score could be computed.
    Undetermined {
        /// Why, in words a reviewer can act on.
        reason: String,
    },
}

impl Score {
    /// Creates a value score.
    pub fn value(value: f64) -> Self {
        Score::Value { value }
    }

    /// Creates an undetermined score with its reason.
    pub fn undetermined(reason: impl Into<String>) -> Self {
        Score::Undetermined {
            reason: reason.into(),
        }
    }

    /// Creates a pass/fail score: 1.0 for a pass, 0.0 for a fail.
    pub fn pass(passed: bool) -> Self {
        Score::value(if passed { 1.0 } else { 0.0 })
    }

    /// Returns the value, or `None` when undetermined.
    pub fn as_value(&self) -> Option<f64> {
        match self {
            Score::Value { value } => Some(*value),
            Score::Undetermined { .. } => None,
        }
    }
}

/// The closed interval a metric's values lie in, and which end is better.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreRange {
    /// The lowest possible value.
    pub min: f64,
    /// The highest possible value.
    pub max: f64,
    /// Whether a higher value is better (false for error rates, latency).
    pub higher_is_better: bool,
}

impl ScoreRange {
    /// The unit interval with higher values better, used by most metrics.
    pub const UNIT: ScoreRange = ScoreRange {
        min: 0.0,
        max: 1.0,
        higher_is_better: true,
    };

    /// The interval 0 to 100 with higher values better (BLEU, chrF).
    pub const PERCENT: ScoreRange = ScoreRange {
        min: 0.0,
        max: 100.0,
        higher_is_better: true,
    };

    /// Returns whether `value` lies inside the range.
    pub fn contains(&self, value: f64) -> bool {
        value >= self.min && value <= self.max
    }

    /// Returns whether the range is pass/fail (exactly 0 to 1), so paired
    /// outcomes can be compared with McNemar's test.
    pub fn is_unit(&self) -> bool {
        self.min == 0.0 && self.max == 1.0
    }
}
