//! The `tokenize` subcommand: reference token ids from llama.cpp.

use std::path::Path;

use anyhow::Context;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use serde::Serialize;

use crate::cases::{SPECIAL_CASES, TOKENIZER_CASES};

/// One entry of the reference file.
#[derive(Debug, Serialize)]
struct TokenCase {
    /// The input text.
    text: String,
    /// Ids with `add_special = false` and `parse_special = false`.
    ids: Vec<i32>,
    /// Ids with `add_special = false` and `parse_special = true`, recorded
    /// only for the strings in [`SPECIAL_CASES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    ids_parse_special: Option<Vec<i32>>,
}

/// Loads the vocabulary of the GGUF file at `model_path`, tokenizes every
/// case and writes the JSON array to `output_path`.
pub(crate) fn write_reference(model_path: &Path, output_path: &Path) -> anyhow::Result<()> {
    let mut backend = LlamaBackend::init().context("failed to initialise llama.cpp")?;
    backend.void_logs();
    let params = LlamaModelParams::default().with_vocab_only(true);
    let model = LlamaModel::load_from_file(&backend, model_path, &params)
        .with_context(|| format!("failed to load the vocabulary of {}", model_path.display()))?;
    let vocab = model.vocab();

    let cases: Vec<TokenCase> = TOKENIZER_CASES
        .iter()
        .map(|text| {
            let ids = vocab.tokenize(text.as_bytes(), false, false);
            let ids_parse_special = SPECIAL_CASES
                .contains(text)
                .then(|| vocab.tokenize(text.as_bytes(), false, true));
            TokenCase {
                text: (*text).to_owned(),
                ids: ids.iter().map(|token| token.0).collect(),
                ids_parse_special: ids_parse_special
                    .map(|ids| ids.iter().map(|token| token.0).collect()),
            }
        })
        .collect();

    // One case per line keeps the file readable and its diffs small.
    let lines = cases
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<_>, _>>()?;
    let json = format!("[\n{}\n]\n", lines.join(",\n"));
    std::fs::write(output_path, json)
        .with_context(|| format!("failed to write {}", output_path.display()))?;
    println!("wrote {} cases to {}", cases.len(), output_path.display());
    Ok(())
}
