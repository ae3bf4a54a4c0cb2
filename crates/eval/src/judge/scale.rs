//! The scales a judge scores on.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::score::ScoreRange;

/// The values a judge may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JudgeScale {
    /// Whole points from `min` to `max`, such as 1 to 5; higher is better.
    Points {
        /// The lowest point.
        min: u32,
        /// The highest point.
        max: u32,
    },
    /// Pass (1.0) or fail (0.0).
    PassFail,
}

impl JudgeScale {
    /// The scale from 1 to 5 points.
    pub const ONE_TO_FIVE: JudgeScale = JudgeScale::Points { min: 1, max: 5 };

    /// Returns the score range of the scale.
    pub fn range(&self) -> ScoreRange {
        match *self {
            JudgeScale::Points { min, max } => ScoreRange {
                min: f64::from(min),
                max: f64::from(max),
                higher_is_better: true,
            },
            JudgeScale::PassFail => ScoreRange::UNIT,
        }
    }

    /// Returns every value of the scale in ascending order.
    pub fn values(&self) -> Vec<f64> {
        match *self {
            JudgeScale::Points { min, max } => (min..=max).map(f64::from).collect(),
            JudgeScale::PassFail => vec![0.0, 1.0],
        }
    }

    /// Returns whether `value` is one of the scale's values.
    pub fn contains(&self, value: f64) -> bool {
        match *self {
            JudgeScale::Points { min, max } => {
                value.fract() == 0.0 && value >= f64::from(min) && value <= f64::from(max)
            }
            JudgeScale::PassFail => value == 0.0 || value == 1.0,
        }
    }

    /// Describes the scale for the judge prompt, such as `an integer from 1
    /// to 5` or `"pass" or "fail"`.
    pub fn describe(&self) -> String {
        match *self {
            JudgeScale::Points { min, max } => format!("an integer from {min} to {max}"),
            JudgeScale::PassFail => "\"pass\" or \"fail\"".to_owned(),
        }
    }

    /// Returns the JSON schema of the `score` field in the judge's output.
    pub(crate) fn score_schema(&self) -> Value {
        match *self {
            JudgeScale::Points { min, max } => {
                let points: Vec<u32> = (min..=max).collect();
                json!({ "type": "integer", "enum": points })
            }
            JudgeScale::PassFail => json!({ "type": "string", "enum": ["pass", "fail"] }),
        }
    }

    /// Returns whether the scale is well formed: `min` below `max`, and
    /// not so wide that per-point prompts and schemas stop making sense.
    pub(crate) fn check(&self) -> Result<(), String> {
        match *self {
            JudgeScale::Points { min, max } if min >= max => Err(format!(
                "a points scale needs min below max, got {min} to {max}"
            )),
            JudgeScale::Points { min, max } if max - min > MAX_POINTS_SPAN => Err(format!(
                "a points scale spans at most {MAX_POINTS_SPAN} points, got {min} to {max}"
            )),
            _ => Ok(()),
        }
    }
}

/// The widest points scale accepted; a judge cannot tell 100 levels apart
/// and the schema lists every point.
const MAX_POINTS_SPAN: u32 = 100;

impl std::fmt::Display for JudgeScale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JudgeScale::Points { min, max } => write!(f, "{min}-{max}"),
            JudgeScale::PassFail => f.write_str("pass-fail"),
        }
    }
}

impl std::str::FromStr for JudgeScale {
    type Err = String;

    /// Parses `pass-fail` or `MIN-MAX` such as `1-5`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("pass-fail") {
            return Ok(JudgeScale::PassFail);
        }
        let invalid =
            || format!("invalid scale `{text}`: use `pass-fail` or MIN-MAX such as `1-5`");
        let (min, max) = text.split_once('-').ok_or_else(invalid)?;
        let min = min.trim().parse().map_err(|_| invalid())?;
        let max = max.trim().parse().map_err(|_| invalid())?;
        let scale = JudgeScale::Points { min, max };
        scale.check()?;
        Ok(scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_contain_only_whole_points() {
        let scale = JudgeScale::ONE_TO_FIVE;
        assert!(scale.contains(1.0));
        assert!(scale.contains(5.0));
        assert!(!scale.contains(0.0));
        assert!(!scale.contains(3.5));
        assert!(!scale.contains(6.0));
        assert!(!scale.contains(f64::NAN));
    }

    #[test]
    fn scale_parses_from_text() {
        assert_eq!("1-5".parse::<JudgeScale>(), Ok(JudgeScale::ONE_TO_FIVE));
        assert_eq!("PASS-FAIL".parse::<JudgeScale>(), Ok(JudgeScale::PassFail));
        assert!("5-1".parse::<JudgeScale>().is_err());
        assert!("1-500".parse::<JudgeScale>().is_err());
        assert!("five".parse::<JudgeScale>().is_err());
    }
}
