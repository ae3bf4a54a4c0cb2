//! Evaluation datasets: cases loaded from JSON Lines or CSV, versioned by
//! content hash.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{EvalError, Result};

/// One evaluation case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// A unique id within the dataset; results are keyed by it.
    pub id: String,
    /// The user input sent to the model.
    pub input: String,
    /// Template variables for a registry prompt version.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, Value>,
    /// The reference output, when the case has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Reference contexts (retrieved passages) for RAG metrics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<String>,
    /// Tags for per-tag breakdowns in reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Case {
    /// Creates a case with an id and input and no reference.
    pub fn new(id: impl Into<String>, input: impl Into<String>) -> Self {
        Case {
            id: id.into(),
            input: input.into(),
            variables: BTreeMap::new(),
            expected: None,
            contexts: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// Sets the reference output.
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Adds a reference context.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.contexts.push(context.into());
        self
    }
}

/// A named list of cases with unique ids and a content-hash version.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    name: String,
    cases: Vec<Case>,
    version: String,
}

impl Dataset {
    /// Creates a dataset from cases.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] when there are no cases, and
    /// [`EvalError::DuplicateCaseId`] when two cases share an id.
    pub fn new(name: impl Into<String>, cases: Vec<Case>) -> Result<Self> {
        let name: String = name.into();
        if cases.is_empty() {
            return Err(EvalError::InvalidParameter {
                name: "dataset",
                value: name,
                reason: "the dataset has no cases; add at least one case, such as a JSON Lines row {\"input\": \"...\", \"expected\": \"...\"}".to_owned(),
            });
        }
        let mut seen = HashSet::new();
        for case in &cases {
            if !seen.insert(case.id.as_str()) {
                return Err(EvalError::DuplicateCaseId {
                    id: case.id.clone(),
                });
            }
        }
        let version = content_hash(&cases)?;
        Ok(Dataset {
            name,
            cases,
            version,
        })
    }

    /// Loads a dataset from a JSON Lines file, one [`Case`] object per line.
    /// Blank lines are skipped; a case without `id` gets `line-N`.
    ///
    /// # Errors
    ///
    /// [`EvalError::DatasetIo`] when the file cannot be read,
    /// [`EvalError::InvalidCase`] naming the line of a malformed case, and
    /// [`EvalError::DuplicateCaseId`].
    pub fn from_jsonl(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = read(path)?;
        Dataset::new(
            dataset_name(path),
            parse_jsonl(&text, &path.display().to_string())?,
        )
    }

    /// Loads a dataset from a CSV file with a header row.
    ///
    /// The columns `id`, `input`, `expected`, `tags` (separated by `|`) and
    /// `contexts` (separated by `|`) fill the case fields; every other
    /// column becomes a string variable. An empty `expected` cell means no
    /// reference.
    ///
    /// # Errors
    ///
    /// As [`Dataset::from_jsonl`]; a file without an `input` column is an
    /// [`EvalError::InvalidCase`].
    pub fn from_csv(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = read(path)?;
        Dataset::new(
            dataset_name(path),
            parse_csv(&text, &path.display().to_string())?,
        )
    }

    /// Returns the dataset name (the file stem for loaded files).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the cases in file order.
    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// Returns the hex SHA-256 of the cases' canonical JSON: equal for equal
    /// content, whatever the file format or the key order in the file.
    pub fn version(&self) -> &str {
        &self.version
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| EvalError::DatasetIo {
        path: path.display().to_string(),
        source,
    })
}

fn dataset_name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dataset".to_owned())
}

fn content_hash(cases: &[Case]) -> Result<String> {
    // serde_json writes struct fields in declaration order and BTreeMap keys
    // sorted, so the encoding depends only on the content.
    let bytes = serde_json::to_vec(cases).map_err(|source| EvalError::Json {
        what: "dataset cases",
        source,
    })?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

#[derive(Deserialize)]
struct CaseLine {
    id: Option<String>,
    input: String,
    #[serde(default)]
    variables: BTreeMap<String, Value>,
    #[serde(default)]
    expected: Option<String>,
    #[serde(default)]
    contexts: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

/// Parses JSON Lines text into cases; `source` names the file in errors.
pub(crate) fn parse_jsonl(text: &str, source: &str) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: CaseLine =
            serde_json::from_str(line).map_err(|error| EvalError::InvalidCase {
                location: format!("{source} line {line_number}"),
                message: error.to_string(),
            })?;
        cases.push(Case {
            id: parsed.id.unwrap_or_else(|| format!("line-{line_number}")),
            input: parsed.input,
            variables: parsed.variables,
            expected: parsed.expected,
            contexts: parsed.contexts,
            tags: parsed.tags,
        });
    }
    Ok(cases)
}

/// Parses CSV text with a header row into cases.
pub(crate) fn parse_csv(text: &str, source: &str) -> Result<Vec<Case>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let invalid = |location: String, message: String| EvalError::InvalidCase { location, message };
    let headers = reader
        .headers()
        .map_err(|error| invalid(format!("{source} header"), error.to_string()))?
        .clone();
    if !headers.iter().any(|name| name == "input") {
        return Err(invalid(
            format!("{source} header"),
            "no `input` column".to_owned(),
        ));
    }

    let mut cases = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row_number = index + 1;
        let record = record
            .map_err(|error| invalid(format!("{source} row {row_number}"), error.to_string()))?;
        let mut case = Case::new(format!("row-{row_number}"), "");
        for (name, cell) in headers.iter().zip(record.iter()) {
            match name {
                "id" if !cell.is_empty() => case.id = cell.to_owned(),
                "id" => {}
                "input" => case.input = cell.to_owned(),
                "expected" if !cell.is_empty() => case.expected = Some(cell.to_owned()),
                "expected" => {}
                "tags" => case.tags = split_list(cell),
                "contexts" => case.contexts = split_list(cell),
                other => {
                    case.variables
                        .insert(other.to_owned(), Value::String(cell.to_owned()));
                }
            }
        }
        cases.push(case);
    }
    Ok(cases)
}

fn split_list(cell: &str) -> Vec<String> {
    cell.split('|')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}
