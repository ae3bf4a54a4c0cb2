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

/// What a metric reports beside its score: judge agreement, finding types.
/// It never holds case text, so it is safe to store and show in reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScoreDetail {
    /// Share of judge samples that gave the most frequent value, from 1/k
    /// for k samples that all differ to 1.0; set by judges that took more
    /// than one sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<f64>,
    /// Judge samples taken for the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u32>,
    /// Kinds of what a check found, such as guard finding types
    /// (`EMAIL_ADDRESS`, `INSULT`); never the matched text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
}

impl ScoreDetail {
    /// Creates the detail of a judge that took `samples` samples which
    /// agreed at `agreement`.
    pub fn judge(samples: u32, agreement: Option<f64>) -> Self {
        ScoreDetail {
            agreement,
            samples: Some(samples),
            findings: Vec::new(),
        }
    }

    /// Creates the detail of a check with the kinds of what it found.
    pub fn findings(findings: Vec<String>) -> Self {
        ScoreDetail {
            findings,
            ..ScoreDetail::default()
        }
    }

    /// Returns true when the detail holds nothing.
    pub fn is_empty(&self) -> bool {
        self.agreement.is_none() && self.samples.is_none() && self.findings.is_empty()
    }
}

/// A score with its optional detail, as returned by
/// [`Metric::score_detailed`](crate::Metric::score_detailed).
#[derive(Debug, Clone, PartialEq)]
pub struct DetailedScore {
    /// The score.
    pub score: Score,
    /// What the metric reports beside it.
    pub detail: Option<ScoreDetail>,
}

impl From<Score> for DetailedScore {
    fn from(score: Score) -> Self {
        DetailedScore {
            score,
            detail: None,
        }
    }
}
