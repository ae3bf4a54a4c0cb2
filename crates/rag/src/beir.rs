//! Readers for retrieval data in the BEIR layout: `corpus.jsonl`,
//! `queries.jsonl` and `qrels/*.tsv`.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{RagError, Result};
use crate::metrics::Qrels;

/// A corpus document: its id, title and text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BeirDocument {
    /// The document id.
    #[serde(rename = "_id")]
    pub id: String,
    /// The title; empty when absent.
    #[serde(default)]
    pub title: String,
    /// The body text.
    pub text: String,
}

/// A query: its id and text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BeirQuery {
    /// The query id.
    #[serde(rename = "_id")]
    pub id: String,
    /// The query text.
    pub text: String,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| RagError::io("read", path, source))
}

/// A row of a BEIR JSON Lines file, keyed by its `_id`.
trait BeirRow {
    fn id(&self) -> &str;
}

impl BeirRow for BeirDocument {
    fn id(&self) -> &str {
        &self.id
    }
}

impl BeirRow for BeirQuery {
    fn id(&self) -> &str {
        &self.id
    }
}

/// Reads JSON Lines rows; a second row with an `_id` seen before is an
/// error, because it would silently replace the first.
fn read_jsonl<T: for<'de> Deserialize<'de> + BeirRow>(
    path: &Path,
    what: &'static str,
) -> Result<Vec<T>> {
    let content = read(path)?;
    let mut rows = Vec::new();
    let mut first_lines: HashMap<String, usize> = HashMap::new();
    for (index, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| RagError::InvalidEvalData {
            path: path.to_owned(),
            line: index + 1,
            message,
        };
        let row: T = serde_json::from_str(line).map_err(|error| bad(error.to_string()))?;
        if let Some(first) = first_lines.insert(row.id().to_owned(), index + 1) {
            return Err(bad(format!(
                "`_id` {:?} repeats the id of line {first}; give each row its own id",
                row.id()
            )));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(RagError::NoEvalData {
            path: path.to_owned(),
            what,
        });
    }
    Ok(rows)
}

/// Reads a BEIR `corpus.jsonl`.
///
/// # Errors
///
/// [`RagError::Io`], [`RagError::InvalidEvalData`] naming the bad line or
/// a repeated `_id`, and [`RagError::NoEvalData`] for a file without rows.
pub fn read_corpus(path: &Path) -> Result<Vec<BeirDocument>> {
    read_jsonl(path, "documents")
}

/// Reads a BEIR `queries.jsonl`.
///
/// # Errors
///
/// [`RagError::Io`], [`RagError::InvalidEvalData`] naming the bad line or
/// a repeated `_id`, and [`RagError::NoEvalData`] for a file without rows.
pub fn read_queries(path: &Path) -> Result<Vec<BeirQuery>> {
    read_jsonl(path, "queries")
}

/// Reads a qrels TSV of `query-id`, `corpus-id` and `score` columns; a first
/// line starting with `query-id` is taken as the header.
///
/// # Errors
///
/// [`RagError::Io`], [`RagError::InvalidEvalData`] naming the bad line,
/// and [`RagError::NoEvalData`] for a file without judgements.
pub fn read_qrels(path: &Path) -> Result<Qrels> {
    let qrels = parse_qrels(&read(path)?, path)?;
    if qrels.is_empty() {
        return Err(RagError::NoEvalData {
            path: path.to_owned(),
            what: "relevance judgements",
        });
    }
    Ok(qrels)
}

pub(crate) fn parse_qrels(content: &str, path: &Path) -> Result<Qrels> {
    let mut qrels: Qrels = HashMap::new();
    for (index, line) in content.lines().enumerate() {
        if line.trim().is_empty() || (index == 0 && line.starts_with("query-id")) {
            continue;
        }
        let bad = |message: String| RagError::InvalidEvalData {
            path: path.to_owned(),
            line: index + 1,
            message,
        };
        let fields: Vec<&str> = line.split('\t').collect();
        let [query, document, score] = fields[..] else {
            return Err(bad(format!(
                "expected 3 tab-separated fields, found {}",
                fields.len()
            )));
        };
        let score: i32 = score
            .trim()
            .parse()
            .map_err(|_| bad(format!("score `{score}` is not an integer")))?;
        qrels
            .entry(query.to_owned())
            .or_default()
            .insert(document.to_owned(), score);
    }
    Ok(qrels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qrels_parse_with_header() {
        let qrels = parse_qrels(
            "query-id\tcorpus-id\tscore\n1\td1\t1\n1\td2\t2\n",
            Path::new("q"),
        )
        .unwrap();
        assert_eq!(qrels["1"]["d2"], 2);
        assert_eq!(qrels["1"].len(), 2);
    }

    #[test]
    fn qrels_reject_bad_score() {
        let error = parse_qrels("1\td1\tx\n", Path::new("q")).unwrap_err();
        assert!(error.to_string().contains("q:1"), "{error}");
    }
}
