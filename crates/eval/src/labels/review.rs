//! Review files: cases with model output and judge score, exported for
//! people to label.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dataset::{Case, Dataset};
use crate::error::{EvalError, Result};
use crate::result::EvalRun;
use crate::score::Score;

/// One case to review: what the model saw and said, the judge's score, and
/// an empty `label` for the reviewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReviewItem {
    /// The case id, the key labels are imported by.
    pub case_id: String,
    /// The case input.
    pub input: String,
    /// The reference answer, when the case has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Reference contexts, when the case has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<String>,
    /// The model output.
    pub output: String,
    /// The judge metric's name.
    pub judge_metric: String,
    /// The judge's score, when determined.
    pub judge_score: Option<f64>,
    /// Why the judge score is undetermined, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_undetermined: Option<String>,
    /// The reviewer's label; empty in exported files.
    pub label: Option<String>,
}

/// The header of exported CSV review files.
pub const REVIEW_CSV_HEADER: [&str; 9] = [
    "case_id",
    "input",
    "expected",
    "contexts",
    "output",
    "judge_metric",
    "judge_score",
    "judge_undetermined",
    "label",
];

/// Builds review items for every case of `run` that `dataset` contains, in
/// run order, with the scores of `judge_metric`.
///
/// # Errors
///
/// [`EvalError::InvalidParameter`] when the run has no metric named
/// `judge_metric`.
pub fn review_items(
    run: &EvalRun,
    dataset: &Dataset,
    judge_metric: &str,
) -> Result<Vec<ReviewItem>> {
    if !run.info.metrics.contains_key(judge_metric) {
        let known: Vec<&str> = run.info.metrics.keys().map(String::as_str).collect();
        return Err(EvalError::InvalidParameter {
            name: "metric",
            value: judge_metric.to_owned(),
            reason: format!("run `{}` has the metrics {known:?}", run.info.run_id),
        });
    }
    let cases: HashMap<&str, &Case> = dataset
        .cases()
        .iter()
        .map(|case| (case.id.as_str(), case))
        .collect();
    let items = run
        .results
        .iter()
        .filter_map(|result| {
            let case = cases.get(result.case_id.as_str())?;
            let score = result.scores.get(judge_metric);
            let judge_undetermined = match score {
                Some(Score::Undetermined { reason }) => Some(reason.clone()),
                None => Some("not scored".to_owned()),
                Some(_) => None,
            };
            Some(ReviewItem {
                case_id: case.id.clone(),
                input: case.input.clone(),
                expected: case.expected.clone(),
                contexts: case.contexts.clone(),
                output: result.output.clone(),
                judge_metric: judge_metric.to_owned(),
                judge_score: score.and_then(Score::as_value),
                judge_undetermined,
                label: None,
            })
        })
        .collect();
    Ok(items)
}

/// Writes review items as JSON Lines, one object per line.
///
/// # Errors
///
/// [`EvalError::LabelIo`] when the file cannot be written.
pub fn write_review_jsonl(items: &[ReviewItem], path: &Path) -> Result<()> {
    let mut text = String::new();
    for item in items {
        let line = serde_json::to_string(item).map_err(|source| EvalError::Json {
            what: "a review item",
            source,
        })?;
        text.push_str(&line);
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|source| write_error(path, source))
}

/// Writes review items as CSV with [`REVIEW_CSV_HEADER`]; contexts are
/// joined with blank lines.
///
/// # Errors
///
/// [`EvalError::LabelIo`] when the file cannot be written.
pub fn write_review_csv(items: &[ReviewItem], path: &Path) -> Result<()> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let csv_error = |error: csv::Error| write_error(path, std::io::Error::other(error.to_string()));
    writer.write_record(REVIEW_CSV_HEADER).map_err(csv_error)?;
    for item in items {
        let score = item.judge_score.map(|s| s.to_string()).unwrap_or_default();
        writer
            .write_record([
                item.case_id.as_str(),
                item.input.as_str(),
                item.expected.as_deref().unwrap_or(""),
                item.contexts.join("\n\n").as_str(),
                item.output.as_str(),
                item.judge_metric.as_str(),
                score.as_str(),
                item.judge_undetermined.as_deref().unwrap_or(""),
                item.label.as_deref().unwrap_or(""),
            ])
            .map_err(csv_error)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| write_error(path, std::io::Error::other(error.to_string())))?;
    let mut file = std::fs::File::create(path).map_err(|source| write_error(path, source))?;
    file.write_all(&bytes)
        .map_err(|source| write_error(path, source))
}

fn write_error(path: &Path, source: std::io::Error) -> EvalError {
    EvalError::LabelIo {
        action: "write",
        path: path.display().to_string(),
        source,
    }
}
