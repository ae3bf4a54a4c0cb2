//! Errors of the drift crate.

use thiserror::Error;

/// Errors returned by drift statistics, baselines, policies and actions.
///
/// Too little data is not an error: statistics return
/// [`Measurement::InsufficientData`](crate::Measurement::InsufficientData).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DriftError {
    /// Two inputs that must have the same length do not.
    #[error(
        "{what}: reference has length {reference} but current has length {current}. Pass inputs of equal length"
    )]
    LengthMismatch {
        /// What the two inputs are (for example `topic counts`).
        what: &'static str,
        /// Length of the reference input.
        reference: usize,
        /// Length of the current input.
        current: usize,
    },
    /// Embedding vectors do not all have the same dimension.
    #[error(
        "embedding {index} has {found} dimensions but {expected} were expected. Embed every window with the same model"
    )]
    DimensionMismatch {
        /// Index of the first vector with the wrong dimension.
        index: usize,
        /// Dimension of the first vector.
        expected: usize,
        /// Dimension found.
        found: usize,
    },
    /// An input value is negative, NaN or infinite where that is not allowed.
    #[error("{what} contains the invalid value {value} at index {index}. Pass finite values{hint}")]
    InvalidValue {
        /// What the input is.
        what: &'static str,
        /// Index of the bad value.
        index: usize,
        /// The bad value.
        value: f64,
        /// Extra advice, empty or starting with a comma.
        hint: &'static str,
    },
    /// A configuration parameter is out of range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// The value given.
        value: String,
        /// The valid range or what to change.
        reason: &'static str,
    },
    /// Clustering or classifier training failed inside linfa.
    #[error("{stage} failed: {message}")]
    Model {
        /// What was being fitted (`k-means`, `logistic regression`).
        stage: &'static str,
        /// Message from linfa.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot write {path}: {message}. Check that the folder exists and is writable")]
    Io {
        /// The file path.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A webhook request failed or returned an error status.
    #[error("webhook {url} failed: {message}")]
    Webhook {
        /// The webhook URL without its query string.
        url: String,
        /// Transport error or HTTP status.
        message: String,
    },
    /// An action's own backend failed (review queue, evaluation scheduler).
    #[error("action {action} failed: {message}")]
    Action {
        /// Name of the action.
        action: String,
        /// What failed.
        message: String,
    },
    /// No baseline has the requested name or id.
    #[error(
        "no drift baseline {name}. Create one with `llmops drift baseline` or `DriftStore::save_baseline`"
    )]
    BaselineNotFound {
        /// The name or id looked up.
        name: String,
    },
    /// A stored baseline or report does not parse, or a value does not
    /// serialise.
    #[error("drift record is not valid JSON for this version: {message}")]
    Serialization {
        /// The parser's message.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] llmops_store::StoreError),
    /// The embedder failed.
    #[error("embedding failed: {0}")]
    Embed(#[from] llmops_core::Error),
}

/// Result type of this crate.
pub type Result<T, E = DriftError> = std::result::Result<T, E>;
