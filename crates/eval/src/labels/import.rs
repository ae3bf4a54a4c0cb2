//! Importing human labels from reviewed JSON Lines or CSV files.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde_json::Value;

use crate::error::{EvalError, Result};
use crate::judge::{JudgeScale, score_from_value};

/// Human labels by case id, each a value of the scale they were read on.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct LabelSet {
    /// The label of each labelled case.
    pub labels: BTreeMap<String, f64>,
    /// Rows whose `label` was empty: cases not yet reviewed.
    pub unlabelled: usize,
}

/// Reads labels from `path`: CSV when the name ends in `.csv`, JSON Lines
/// otherwise. Each row needs `case_id` and `label`; other fields, such as
/// those of an exported review file, are ignored. An empty or missing
/// label means the case was not reviewed.
///
/// Labels are read on `scale`: numbers, numeric strings, number words,
/// and on a pass/fail scale also `yes`, `no`, `pass`, `fail` and booleans.
///
/// # Errors
///
/// [`EvalError::LabelIo`] when the file cannot be read, and
/// [`EvalError::InvalidLabel`] naming the line (or CSV row) and value for
/// malformed rows, case ids not in `known_case_ids`, duplicate case ids,
/// and labels that are not values of `scale`.
pub fn read_labels(
    path: &Path,
    known_case_ids: &HashSet<String>,
    scale: JudgeScale,
) -> Result<LabelSet> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::LabelIo {
        action: "read",
        path: path.display().to_string(),
        source,
    })?;
    let is_csv = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
    let rows = if is_csv {
        csv_rows(&text, path)?
    } else {
        jsonl_rows(&text, path)?
    };

    let mut set = LabelSet::default();
    let mut seen = HashSet::new();
    for row in rows {
        let invalid = |message: String| EvalError::InvalidLabel {
            location: row.location.clone(),
            message,
        };
        if !known_case_ids.contains(&row.case_id) {
            return Err(invalid(format!(
                "unknown case id `{}`; label only cases of the dataset",
                row.case_id
            )));
        }
        if !seen.insert(row.case_id.clone()) {
            return Err(invalid(format!(
                "case id `{}` is labelled twice; keep one row per case",
                row.case_id
            )));
        }
        let Some(label) = row.label else {
            set.unlabelled += 1;
            continue;
        };
        let value = score_from_value(&label, scale).map_err(|reason| {
            invalid(format!(
                "label {label} of case `{}` is invalid: {reason}",
                row.case_id
            ))
        })?;
        set.labels.insert(row.case_id, value);
    }
    Ok(set)
}

struct LabelRow {
    location: String,
    case_id: String,
    label: Option<Value>,
}

fn jsonl_rows(text: &str, path: &Path) -> Result<Vec<LabelRow>> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let location = format!("{} line {}", path.display(), index + 1);
        let invalid = |message: String| EvalError::InvalidLabel {
            location: location.clone(),
            message,
        };
        let object: serde_json::Map<String, Value> = serde_json::from_str(line)
            .map_err(|error| invalid(format!("not a JSON object: {error}")))?;
        let case_id = match object.get("case_id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            Some(other) => {
                return Err(invalid(format!(
                    "`case_id` {other} is not a non-empty string"
                )));
            }
            None => return Err(invalid("missing `case_id`".to_owned())),
        };
        let label = match object.get("label") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.trim().is_empty() => None,
            Some(value) => Some(value.clone()),
        };
        rows.push(LabelRow {
            location,
            case_id,
            label,
        });
    }
    Ok(rows)
}

fn csv_rows(text: &str, path: &Path) -> Result<Vec<LabelRow>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header_error = |message: String| EvalError::InvalidLabel {
        location: format!("{} header", path.display()),
        message,
    };
    let headers = reader
        .headers()
        .map_err(|error| header_error(error.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|header| header == name)
            .ok_or_else(|| {
                header_error(format!(
                    "missing column `{name}`; add `case_id` and `label` columns"
                ))
            })
    };
    let (id_column, label_column) = (column("case_id")?, column("label")?);

    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        // Row 1 is the header, so data rows start at 2.
        let location = format!("{} row {}", path.display(), index + 2);
        let record = record.map_err(|error| EvalError::InvalidLabel {
            location: location.clone(),
            message: error.to_string(),
        })?;
        let case_id = record.get(id_column).unwrap_or("").to_owned();
        if case_id.is_empty() {
            return Err(EvalError::InvalidLabel {
                location,
                message: "empty `case_id`".to_owned(),
            });
        }
        let label = record
            .get(label_column)
            .map(str::trim)
            .filter(|label| !label.is_empty())
            .map(|label| Value::String(label.to_owned()));
        rows.push(LabelRow {
            location,
            case_id,
            label,
        });
    }
    Ok(rows)
}
