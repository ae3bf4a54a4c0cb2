//! Combining several judge samples into one score with their agreement.

use serde::{Deserialize, Serialize};

use crate::score::Score;

/// How several judge samples of one case combine into a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Aggregation {
    /// The mean of the scored samples; may fall between scale points.
    #[default]
    Mean,
    /// The most frequent value; a tie between two values is undetermined,
    /// so use an odd number of samples.
    Majority,
}

/// The combined score of a case's samples.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Combined {
    pub(crate) score: Score,
    pub(crate) agreement: Option<f64>,
}

/// Combines sample outcomes.
///
/// At least half of the samples must be scored, otherwise the result is
/// undetermined with the first sample's reason. Agreement is the share of
/// scored samples equal to the most frequent value (1.0 when all agree,
/// 1/k when k scored samples all differ), whatever the aggregation.
pub(crate) fn combine(outcomes: &[Result<f64, String>], aggregation: Aggregation) -> Combined {
    let values: Vec<f64> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok().copied())
        .collect();
    let first_reason = outcomes.iter().find_map(|o| o.as_ref().err());
    if values.is_empty() || values.len() * 2 < outcomes.len() {
        let reason = first_reason.map_or("the judge ran no samples", String::as_str);
        let score = Score::undetermined(format!(
            "{} of {} judge samples were scored: {reason}",
            values.len(),
            outcomes.len()
        ));
        return Combined {
            score,
            agreement: None,
        };
    }

    let counts = value_counts(&values);
    let top = counts.iter().map(|(_, count)| *count).max().unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let agreement = top as f64 / values.len() as f64;
    let score = match aggregation {
        Aggregation::Mean => {
            #[allow(clippy::cast_precision_loss)]
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            Score::value(mean)
        }
        Aggregation::Majority => majority(&counts, top),
    };
    Combined {
        score,
        agreement: Some(agreement),
    }
}

fn majority(counts: &[(f64, usize)], top: usize) -> Score {
    let modes: Vec<f64> = counts
        .iter()
        .filter(|(_, count)| *count == top)
        .map(|(value, _)| *value)
        .collect();
    match modes.as_slice() {
        [value] => Score::value(*value),
        _ => Score::undetermined(format!(
            "judge samples split evenly between {modes:?}; use an odd number of samples"
        )),
    }
}

/// Returns each distinct value with its count, in first-seen order.
fn value_counts(values: &[f64]) -> Vec<(f64, usize)> {
    let mut counts: Vec<(f64, usize)> = Vec::new();
    for value in values {
        match counts.iter_mut().find(|(seen, _)| seen == value) {
            Some((_, count)) => *count += 1,
            None => counts.push((*value, 1)),
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(values: &[f64]) -> Vec<Result<f64, String>> {
        values.iter().map(|v| Ok(*v)).collect()
    }

    #[test]
    fn mean_and_agreement_of_three_samples() {
        let combined = combine(&scored(&[4.0, 4.0, 1.0]), Aggregation::Mean);
        assert_eq!(combined.score, Score::value(3.0));
        assert_eq!(combined.agreement, Some(2.0 / 3.0));
    }

    #[test]
    fn majority_picks_the_mode() {
        let combined = combine(&scored(&[1.0, 0.0, 1.0]), Aggregation::Majority);
        assert_eq!(combined.score, Score::value(1.0));
        assert_eq!(combined.agreement, Some(2.0 / 3.0));
    }

    #[test]
    fn majority_tie_is_undetermined() {
        let combined = combine(&scored(&[1.0, 0.0]), Aggregation::Majority);
        assert!(combined.score.as_value().is_none());
        assert_eq!(combined.agreement, Some(0.5));
    }

    #[test]
    fn too_few_scored_samples_is_undetermined() {
        let outcomes = vec![Ok(5.0), Err("no score".to_owned()), Err("bad".to_owned())];
        let combined = combine(&outcomes, Aggregation::Mean);
        match combined.score {
            Score::Undetermined { reason } => {
                assert!(reason.starts_with("1 of 3"), "{reason}");
                assert!(reason.contains("no score"), "{reason}");
            }
            other => panic!("expected undetermined, got {other:?}"),
        }
    }

    #[test]
    fn half_scored_is_enough() {
        let outcomes = vec![Ok(2.0), Err("no score".to_owned())];
        let combined = combine(&outcomes, Aggregation::Mean);
        assert_eq!(combined.score, Score::value(2.0));
        assert_eq!(combined.agreement, Some(1.0));
    }

    #[test]
    fn no_samples_is_undetermined() {
        let combined = combine(&[], Aggregation::Majority);
        assert!(combined.score.as_value().is_none());
    }
}
