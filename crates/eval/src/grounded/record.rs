//! Per-request groundedness records and where they go.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::scorer::GroundednessSignal;
use crate::score::Score;

/// The groundedness of one production response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundednessRecord {
    /// The gateway's request id.
    pub request_id: String,
    /// The model that answered.
    pub model: String,
    /// The prompt name, when the request named one.
    pub prompt: Option<String>,
    /// The prompt version, when the request named one.
    pub prompt_version: Option<String>,
    /// The score, 0 to 1, or undetermined with the reason.
    pub score: Score,
    /// The signal the score came from; `None` when undetermined.
    pub signal: Option<GroundednessSignal>,
    /// Whether the score is below the scorer's threshold.
    pub flagged: bool,
    /// The claims the evidence does not support.
    pub unsupported_claims: Vec<String>,
}

/// Receives a groundedness record for every scored response.
///
/// Called on the scoring worker, so a slow implementation delays later
/// records (and, once the queue is full, makes the hook drop responses);
/// hand the record off rather than block.
pub trait GroundednessSink: Send + Sync {
    /// Takes one response's record.
    fn record(&self, record: GroundednessRecord);
}

/// Receives flagged responses for human review, such as a compliance
/// review queue the application provides.
pub trait ReviewSink: Send + Sync {
    /// Takes one flagged response's record.
    fn submit(&self, record: &GroundednessRecord);
}

/// Counts and mean score of one prompt version's responses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptVersionSummary {
    /// Responses recorded.
    pub responses: u64,
    /// Responses with a score.
    pub scored: u64,
    /// Responses flagged.
    pub flagged: u64,
    /// Mean score of the scored responses; `None` before the first.
    pub mean_score: Option<f64>,
}

impl PromptVersionSummary {
    /// Returns flagged responses as a share of scored ones.
    pub fn flagged_rate(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.flagged as f64 / self.scored as f64)
    }
}

/// A sink that keeps a [`PromptVersionSummary`] per prompt version, for a
/// metrics endpoint or a monitor to read. Records without a prompt version
/// are kept under the empty string.
#[derive(Debug, Default)]
pub struct GroundednessAggregate {
    summaries: Mutex<BTreeMap<String, (PromptVersionSummary, f64)>>,
}

impl GroundednessAggregate {
    /// Creates an empty aggregate.
    pub fn new() -> Self {
        GroundednessAggregate::default()
    }

    /// Returns the summary per prompt version, sorted by version.
    pub fn summaries(&self) -> BTreeMap<String, PromptVersionSummary> {
        let summaries = self
            .summaries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        summaries
            .iter()
            .map(|(version, (summary, _))| (version.clone(), *summary))
            .collect()
    }
}

impl GroundednessSink for GroundednessAggregate {
    fn record(&self, record: GroundednessRecord) {
        let mut summaries = self
            .summaries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = record.prompt_version.unwrap_or_default();
        let (summary, score_sum) = summaries.entry(key).or_default();
        summary.responses += 1;
        if let Some(score) = record.score.as_value() {
            summary.scored += 1;
            *score_sum += score;
            summary.mean_score = Some(*score_sum / summary.scored as f64);
        }
        if record.flagged {
            summary.flagged += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(version: Option<&str>, score: Score, flagged: bool) -> GroundednessRecord {
        GroundednessRecord {
            request_id: "r".into(),
            model: "m".into(),
            prompt: None,
            prompt_version: version.map(str::to_owned),
            score,
            signal: None,
            flagged,
            unsupported_claims: Vec::new(),
        }
    }

    #[test]
    fn aggregate_per_prompt_version() {
        let aggregate = GroundednessAggregate::new();
        aggregate.record(record(Some("faq@2"), Score::value(0.2), true));
        aggregate.record(record(Some("faq@2"), Score::value(0.8), false));
        aggregate.record(record(
            Some("faq@2"),
            Score::undetermined("no claims"),
            false,
        ));
        aggregate.record(record(None, Score::value(1.0), false));
        let summaries = aggregate.summaries();
        let faq = summaries["faq@2"];
        assert_eq!(faq.responses, 3);
        assert_eq!(faq.scored, 2);
        assert_eq!(faq.flagged, 1);
        assert!((faq.mean_score.unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(faq.flagged_rate(), Some(0.5));
        assert_eq!(summaries[""].mean_score, Some(1.0));
    }
}
