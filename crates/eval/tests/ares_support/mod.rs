//! Loads the ARES judge few-shot rows in `tests/data/ares` as cases with
//! their answers and human labels.

#![allow(dead_code)]

use std::path::Path;

use llmops_eval::Case;

/// One labelled ARES row: the question and document as a case, the answer
/// to judge, and the human labels (1.0 for `[[Yes]]`, 0.0 for `[[No]]`).
pub(crate) struct AresRow {
    pub(crate) case: Case,
    pub(crate) answer: String,
    pub(crate) answer_relevance: f64,
    pub(crate) answer_faithfulness: f64,
}

/// Reads every `.tsv` file in `dir`, in file name order.
pub(crate) fn load_ares(dir: &Path) -> Result<Vec<AresRow>, Box<dyn std::error::Error>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "tsv"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for file in files {
        let dataset = file
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.split('_').next())
            .unwrap_or("ares")
            .to_owned();
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b'\t')
            .from_path(&file)?;
        for (index, record) in reader.records().enumerate() {
            let record = record?;
            let field = |i: usize| record.get(i).unwrap_or("").trim().to_owned();
            let case = Case::new(format!("{dataset}-{index}"), field(0)).context(field(1));
            rows.push(AresRow {
                case,
                answer: field(2),
                answer_relevance: label(&field(4))?,
                answer_faithfulness: label(&field(5))?,
            });
        }
    }
    Ok(rows)
}

fn label(text: &str) -> Result<f64, String> {
    match text {
        "[[Yes]]" => Ok(1.0),
        "[[No]]" => Ok(0.0),
        other => Err(format!("unknown ARES label `{other}`")),
    }
}
