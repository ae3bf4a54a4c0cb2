//! Per-case results and runs.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::score::{Score, ScoreDetail, ScoreRange};

/// One case's model output and scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// The case id.
    pub case_id: String,
    /// The case tags, copied for per-tag breakdowns.
    pub tags: Vec<String>,
    /// The model output; empty when the call failed.
    pub output: String,
    /// Wall-clock time of the successful model call.
    pub latency_ms: Option<u64>,
    /// Cost of the model call, when a price was known.
    pub cost_usd: Option<Decimal>,
    /// Score per metric name.
    pub scores: BTreeMap<String, Score>,
    /// Detail per metric name, for metrics that report one (judge
    /// agreement, guard finding types).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, ScoreDetail>,
    /// The model error after the last retry; scores are then undetermined.
    pub error: Option<String>,
}

/// What a run evaluated: dataset, model and prompt version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The run id, the key for resumption and comparisons.
    pub run_id: String,
    /// The dataset name.
    pub dataset: String,
    /// The dataset content hash.
    pub dataset_version: String,
    /// The model requested.
    pub model: String,
    /// The prompt version, for example `support-answer@3`, when known.
    pub prompt_version: Option<String>,
    /// Range of every metric, by name.
    pub metrics: BTreeMap<String, ScoreRange>,
}

/// A run and its case results in dataset order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRun {
    /// What was evaluated.
    pub info: RunInfo,
    /// One result per case.
    pub results: Vec<CaseResult>,
}

impl EvalRun {
    /// Returns the determined values of one metric with their case ids.
    pub fn values(&self, metric: &str) -> Vec<(&str, f64)> {
        self.results
            .iter()
            .filter_map(|result| {
                let value = result.scores.get(metric)?.as_value()?;
                Some((result.case_id.as_str(), value))
            })
            .collect()
    }

    /// Returns the number of cases whose model call failed.
    pub fn failed_cases(&self) -> usize {
        self.results.iter().filter(|r| r.error.is_some()).count()
    }
}
