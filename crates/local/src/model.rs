//! Loading the GGUF model: metadata, tokenizer and weights.

use std::fs::File;
use std::io::{BufReader, Cursor};
use std::path::Path;
use std::time::Instant;

use candle_core::Device;
use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use candle_transformers::models::quantized_llama::{MAX_SEQ_LEN, ModelWeights};

use crate::config::DEFAULT_CONTEXT_LENGTH;
use crate::error::LocalError;
use crate::tokenizer::LocalTokenizer;

/// A loaded model: weights ready to clone per request, and its tokenizer.
pub(crate) struct LoadedModel {
    /// The weights with an empty KV cache; each generation clones them,
    /// which shares the weight tensors and gives the clone its own cache.
    pub(crate) weights: ModelWeights,
    pub(crate) tokenizer: LocalTokenizer,
    /// The context window: `llama.context_length`, capped at the positions
    /// candle's rotary-embedding table covers.
    pub(crate) context_length: usize,
}

/// Reads the model at `path`; with `requantize`, Q4_1 weights become Q8_0.
///
/// Runs for a while (reading about 100 MB and converting it), so call it
/// off the async runtime's worker threads.
pub(crate) fn load_model(path: &Path, requantize: bool) -> Result<LoadedModel, LocalError> {
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
        .map_or(DEFAULT_CONTEXT_LENGTH, |length| length as usize)
        // NOTE: SmolLM2-135M-Instruct states 8192, but candle's quantized
        // Llama precomputes rotary embeddings for 4096 positions only.
        .min(MAX_SEQ_LEN);
    let tokenizer = LocalTokenizer::from_gguf(&content).map_err(invalid)?;

    let converted = requantize && has_q4_1(&content);
    let weights = if converted {
        let requantize_started = Instant::now();
        let (content, mut data) = requantize_q4_1(&content, &mut reader).map_err(|error| {
            invalid(format!(
                "re-quantizing Q4_1 weights to Q8_0 failed: {error}"
            ))
        })?;
        tracing::debug!(
            requantize_ms = requantize_started.elapsed().as_millis() as u64,
            "re-quantized Q4_1 weights to Q8_0"
        );
        ModelWeights::from_gguf(content, &mut data, &Device::Cpu)
    } else {
        ModelWeights::from_gguf(content, &mut reader, &Device::Cpu)
    }
    .map_err(|error| invalid(error.to_string()))?;

    tracing::info!(
        context_length,
        requantized = converted,
        load_ms = started.elapsed().as_millis() as u64,
        "local model loaded"
    );
    Ok(LoadedModel {
        weights,
        tokenizer,
        context_length,
    })
}

fn has_q4_1(content: &gguf_file::Content) -> bool {
    content
        .tensor_infos
        .values()
        .any(|info| info.ggml_dtype == GgmlDType::Q4_1)
}

/// Rewrites the model in memory with every Q4_1 tensor re-quantized to
/// Q8_0 and returns the new file's parsed header and bytes.
///
/// Each Q4_1 weight is `d * q + m` with a 4-bit `q`; Q8_0 stores it as
/// `d' * q'` with an 8-bit `q'` and `d' = max|w| / 127` per block of 32, so
/// the rounding error is at most `d' / 2`, about a sixteenth of a Q4_1 step.
/// candle's Q8_0 matmul has AVX2 and NEON kernels while its Q4_1 matmul is
/// scalar, so the converted weights run faster.
fn requantize_q4_1(
    content: &gguf_file::Content,
    reader: &mut BufReader<File>,
) -> candle_core::Result<(gguf_file::Content, Cursor<Vec<u8>>)> {
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    for name in names {
        let tensor = content.tensor(reader, name, &Device::Cpu)?;
        let tensor = if tensor.dtype() == GgmlDType::Q4_1 {
            let values = tensor.dequantize(&Device::Cpu)?;
            QTensor::quantize(&values, GgmlDType::Q8_0)?
        } else {
            tensor
        };
        tensors.push((name.as_str(), tensor));
    }

    let metadata: Vec<(&str, &gguf_file::Value)> = content
        .metadata
        .iter()
        .map(|(key, value)| (key.as_str(), value))
        .collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors
        .iter()
        .map(|(name, tensor)| (*name, tensor))
        .collect();
    let mut bytes = Cursor::new(Vec::new());
    gguf_file::write(&mut bytes, &metadata, &tensor_refs)?;
    drop(tensors);

    bytes.set_position(0);
    let converted = gguf_file::Content::read(&mut bytes)?;
    Ok((converted, bytes))
}
