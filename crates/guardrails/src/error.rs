//! Errors of the guardrails crate.

use thiserror::Error;

/// Errors returned by guards, pipelines, anonymisers and the vault.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum GuardError {
    /// Input bytes are not valid UTF-8.
    #[error(
        "input is not valid UTF-8 at byte offset {offset}. Fix the encoding, or call `Analyzer::analyze_bytes_lossy` to replace invalid bytes"
    )]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A pipeline configuration could not be parsed.
    #[error(
        "invalid guardrails config: {message}. The config has the tables [injection], [pii] and [output]; the README's guardrails section lists their keys"
    )]
    InvalidConfig {
        /// Parser message, which names the bad key or value.
        message: String,
    },
    /// An entity type name in a config is unknown.
    #[error(
        "unknown entity type `{name}`. Use a name such as KR_RRN, EMAIL_ADDRESS or CREDIT_CARD"
    )]
    UnknownEntity {
        /// The name found in the config.
        name: String,
    },
    /// A JSON schema could not be compiled.
    #[error("invalid JSON schema: {message}. Fix the schema so it compiles as JSON Schema")]
    InvalidSchema {
        /// Compiler message.
        message: String,
    },
    /// A regular expression in a config could not be compiled.
    #[error("invalid pattern `{pattern}`: {message}. Shorten or fix the banned terms")]
    InvalidPattern {
        /// The pattern text.
        pattern: String,
        /// Compiler message.
        message: String,
    },
    /// The vault failed to encrypt or decrypt a value.
    #[error("vault {operation} failed for placeholder {placeholder}")]
    Vault {
        /// `encrypt` or `decrypt`.
        operation: &'static str,
        /// The placeholder involved; never the value.
        placeholder: String,
    },
    /// A model-based recognizer or classifier failed.
    #[error("model `{model}` failed: {message}")]
    Model {
        /// Name of the model.
        model: String,
        /// Error message from the model.
        message: String,
    },
    /// A model-based recognizer did not reply within its time limit.
    #[error(
        "model `{model}` timed out after {timeout_ms} ms; raise the entity model timeout or use a faster model"
    )]
    ModelTimeout {
        /// Name of the model.
        model: String,
        /// The time limit in milliseconds.
        timeout_ms: u64,
    },
}

/// Result type of this crate.
pub type Result<T, E = GuardError> = std::result::Result<T, E>;
