//! Loading the GGUF model: metadata, tokenizer and weights.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Instant;

use candle_core::quantized::gguf_file;

use crate::config::DEFAULT_CONTEXT_LENGTH;
use crate::error::LocalError;
use crate::tokenizer::LocalTokenizer;
use crate::weights::LlamaWeights;

/// A loaded model: its weights and tokenizer.
pub(crate) struct LoadedModel {
    /// The weights in their stored quantized blocks, shared by every
    /// generation.
    pub(crate) weights: LlamaWeights,
    pub(crate) tokenizer: LocalTokenizer,
    /// The context window, from `llama.context_length`.
    pub(crate) context_length: usize,
}

/// Reads the model at `path`, keeping its weights in their stored
/// quantized blocks.
///
/// Runs for a while (reading about 100 MB), so call it off the async
/// runtime's worker threads.
pub(crate) fn load_model(path: &Path) -> Result<LoadedModel, LocalError> {
    let started = Instant::now();
    let invalid = |message: String| LocalError::InvalidModel {
        path: path.to_owned(),
        message,
    };
    let file = File::open(path).map_err(|error| LocalError::io(path, error))?;
    let mut reader = BufReader::new(file);
    let content =
        gguf_file::Content::read(&mut reader).map_err(|error| invalid(error.to_string()))?;

    let architecture = content
        .metadata
        .get("general.architecture")
        .and_then(|value| value.to_string().ok())
        .cloned()
        .unwrap_or_default();
    if architecture != "llama" {
        return Err(invalid(format!(
            "general.architecture is {architecture:?}; the local backend runs Llama models only"
        )));
    }
    let context_length = content
        .metadata
        .get("llama.context_length")
        .and_then(|value| value.to_u32().ok())
        .map_or(DEFAULT_CONTEXT_LENGTH, |length| length as usize);
    let tokenizer = LocalTokenizer::from_gguf(&content).map_err(invalid)?;
    let weights = LlamaWeights::read(&content, &mut reader).map_err(invalid)?;

    tracing::info!(
        context_length,
        load_ms = started.elapsed().as_millis() as u64,
        "local model loaded"
    );
    Ok(LoadedModel {
        weights,
        tokenizer,
        context_length,
    })
}
