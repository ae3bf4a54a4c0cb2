//! Run reports: per-metric mean with bootstrap interval, per-tag means and
//! worst cases, as JSON, Markdown or HTML.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::result::{EvalRun, RunInfo};
use crate::score::ScoreRange;
use crate::stats::{ConfidenceInterval, bootstrap_mean_ci, mean};

mod html;
mod markdown;

/// Report settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportOptions {
    /// Bootstrap resamples for intervals (default 2,000).
    pub resamples: usize,
    /// Interval coverage (default 0.95).
    pub level: f64,
    /// Generator seed, fixed so reports are reproducible (default 0).
    pub seed: u64,
    /// Worst cases listed per metric (default 5).
    pub worst_cases: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            resamples: 2_000,
            level: 0.95,
            seed: 0,
            worst_cases: 5,
        }
    }
}

/// The summary of one metric over a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// The metric name.
    pub metric: String,
    /// The metric's range.
    pub range: ScoreRange,
    /// Cases with a value.
    pub determined: usize,
    /// Cases without a value.
    pub undetermined: usize,
    /// Mean and bootstrap interval; `None` when no case has a value.
    pub mean: Option<ConfidenceInterval>,
    /// Mean per tag, over the cases with the tag and a value.
    pub per_tag: BTreeMap<String, TagSummary>,
    /// The lowest-scoring cases (highest when lower is better). Cases at
    /// the best possible value are left out, so a perfect run lists none.
    pub worst: Vec<WorstCase>,
    /// Agreement between judge samples, for judges that took more than one
    /// sample per case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<AgreementSummary>,
}

/// Agreement between a judge's samples over a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgreementSummary {
    /// Cases with an agreement value.
    pub cases: usize,
    /// Mean agreement over those cases, from 1/k (k samples all differ)
    /// to 1.0 (all agree).
    pub mean: f64,
    /// The cases with the lowest agreement, lowest first, ties by case id.
    pub lowest: Vec<CaseAgreement>,
}

/// One case's agreement between judge samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseAgreement {
    /// The case id.
    pub case_id: String,
    /// Share of samples that gave the most frequent value.
    pub agreement: f64,
    /// Samples taken, when the judge reported it.
    pub samples: Option<u32>,
}

/// A metric's mean over the cases with one tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagSummary {
    /// Cases with the tag and a value.
    pub cases: usize,
    /// Their mean.
    pub mean: f64,
}

/// A case among the worst of a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorstCase {
    /// The case id.
    pub case_id: String,
    /// Its score.
    pub value: f64,
}

/// The report of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// What was evaluated.
    pub info: RunInfo,
    /// Cases in the run.
    pub cases: usize,
    /// Cases whose model call failed.
    pub failed_cases: usize,
    /// One summary per metric, by name.
    pub metrics: Vec<MetricSummary>,
}

impl Report {
    /// Summarizes a run.
    pub fn new(run: &EvalRun, options: &ReportOptions) -> Self {
        let metrics = run
            .info
            .metrics
            .iter()
            .map(|(name, range)| summarize(run, name, *range, options))
            .collect();
        Report {
            info: run.info.clone(),
            cases: run.results.len(),
            failed_cases: run.failed_cases(),
            metrics,
        }
    }

    /// Renders the report as pretty JSON.
    ///
    /// # Errors
    ///
    /// [`crate::EvalError::Json`] when serialization fails.
    pub fn to_json(&self) -> crate::Result<String> {
        serde_json::to_string_pretty(self).map_err(|source| crate::EvalError::Json {
            what: "report",
            source,
        })
    }

    /// Renders the report as Markdown.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// Renders the report as a self-contained HTML page with an inline SVG
    /// chart of metric means and intervals.
    pub fn to_html(&self) -> String {
        html::render(self)
    }
}

fn summarize(
    run: &EvalRun,
    name: &str,
    range: ScoreRange,
    options: &ReportOptions,
) -> MetricSummary {
    let mut values = Vec::new();
    let mut undetermined = 0;
    let mut per_tag_values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut scored: Vec<(&str, f64)> = Vec::new();
    for result in &run.results {
        match result.scores.get(name).and_then(|score| score.as_value()) {
            Some(value) => {
                values.push(value);
                scored.push((&result.case_id, value));
                for tag in &result.tags {
                    per_tag_values.entry(tag.clone()).or_default().push(value);
                }
            }
            None => undetermined += 1,
        }
    }

    // Worst first: ascending when higher is better, ties by case id.
    scored.sort_by(|a, b| {
        let order = if range.higher_is_better {
            a.1.total_cmp(&b.1)
        } else {
            b.1.total_cmp(&a.1)
        };
        order.then_with(|| a.0.cmp(b.0))
    });
    // A case at the best possible value has nothing to show, so a run where
    // every case is perfect lists no worst cases.
    let perfect = |value: f64| {
        if range.higher_is_better {
            value >= range.max
        } else {
            value <= range.min
        }
    };
    let worst = scored
        .iter()
        .filter(|(_, value)| !perfect(*value))
        .take(options.worst_cases)
        .map(|(case_id, value)| WorstCase {
            case_id: (*case_id).to_owned(),
            value: *value,
        })
        .collect();
    let per_tag = per_tag_values
        .into_iter()
        .filter_map(|(tag, values)| {
            let mean = mean(&values)?;
            Some((
                tag,
                TagSummary {
                    cases: values.len(),
                    mean,
                },
            ))
        })
        .collect();

    MetricSummary {
        metric: name.to_owned(),
        range,
        determined: values.len(),
        undetermined,
        mean: bootstrap_mean_ci(&values, options.resamples, options.level, options.seed),
        per_tag,
        worst,
        agreement: summarize_agreement(run, name, options.worst_cases),
    }
}

/// Summarizes the agreement of a metric's judge samples; `None` when no
/// case took more than one sample.
fn summarize_agreement(run: &EvalRun, name: &str, lowest: usize) -> Option<AgreementSummary> {
    let mut cases: Vec<CaseAgreement> = run
        .results
        .iter()
        .filter_map(|result| {
            let detail = result.details.get(name)?;
            let agreement = detail.agreement?;
            if detail.samples.is_some_and(|samples| samples < 2) {
                return None;
            }
            Some(CaseAgreement {
                case_id: result.case_id.clone(),
                agreement,
                samples: detail.samples,
            })
        })
        .collect();
    let values: Vec<f64> = cases.iter().map(|case| case.agreement).collect();
    let mean = mean(&values)?;
    cases.sort_by(|a, b| {
        a.agreement
            .total_cmp(&b.agreement)
            .then_with(|| a.case_id.cmp(&b.case_id))
    });
    cases.truncate(lowest);
    Some(AgreementSummary {
        cases: values.len(),
        mean,
        lowest: cases,
    })
}
