//! Errors of the evaluation crate.

use thiserror::Error;

/// A `Result` with [`EvalError`] as its error type.
pub type Result<T, E = EvalError> = std::result::Result<T, E>;

/// Errors returned by dataset loading, metrics configuration, the evaluator
/// and gates.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A dataset file could not be read.
    #[error("cannot read dataset `{path}`: {source}. Check that the file exists and is readable")]
    DatasetIo {
        /// The path given.
        path: String,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A dataset line or row could not be parsed.
    #[error("invalid case at {location}: {message}. Fix the case so it matches the `Case` fields")]
    InvalidCase {
        /// File and line or row number.
        location: String,
        /// Parser message.
        message: String,
    },
    /// Two cases share an id.
    #[error("duplicate case id `{id}`. Give every case a unique `id`")]
    DuplicateCaseId {
        /// The repeated id.
        id: String,
    },
    /// A regular expression given to a metric could not be compiled.
    #[error("invalid pattern `{pattern}`: {message}. Fix the regular expression")]
    InvalidPattern {
        /// The pattern text.
        pattern: String,
        /// Compiler message.
        message: String,
    },
    /// A JSON schema given to a metric could not be compiled.
    #[error("invalid JSON schema: {message}. Fix the schema so it compiles as JSON Schema")]
    InvalidSchema {
        /// Compiler message.
        message: String,
    },
    /// A configuration value is out of range.
    #[error("invalid {name} `{value}`: {reason}")]
    InvalidParameter {
        /// The parameter name.
        name: &'static str,
        /// The value given.
        value: String,
        /// The rule a valid value follows.
        reason: String,
    },
    /// Baseline and candidate runs cannot be compared.
    #[error("cannot compare runs: {reason}")]
    IncomparableRuns {
        /// The reason the runs do not pair up.
        reason: String,
    },
    /// A stored run was not found.
    #[error(
        "evaluation run `{run_id}` not found in the database. Pass the run id of an earlier evaluation"
    )]
    RunNotFound {
        /// The id requested.
        run_id: String,
    },
    /// The result store failed.
    #[error(transparent)]
    Store(#[from] llmops_store::StoreError),
    /// An embedder failed while scoring a metric.
    #[error(
        "embedding with `{model}` failed: {message}. Check the embedder, or enable truncation for long contexts"
    )]
    EmbeddingFailed {
        /// The embedding model.
        model: String,
        /// The embedder's error or the mismatch found.
        message: String,
    },
    /// Encoding a result or report failed.
    #[error("cannot encode {what} as JSON: {source}")]
    Json {
        /// What was being encoded.
        what: &'static str,
        /// The serializer failure.
        #[source]
        source: serde_json::Error,
    },
    /// A judge prompt template failed to compile.
    #[error("invalid judge template `{name}`: {message}. Fix the MiniJinja syntax")]
    InvalidTemplate {
        /// The template name.
        name: String,
        /// Compiler message.
        message: String,
    },
    /// A human label file or one of its lines is invalid.
    #[error("invalid label at {location}: {message}")]
    InvalidLabel {
        /// File and line or row number.
        location: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Reading or writing a review or label file failed.
    #[error("cannot {action} `{path}`: {source}")]
    LabelIo {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: String,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A score sink could not store an online score.
    #[error("cannot store score `{metric}` of request `{request_id}`: {message}")]
    ScoreSink {
        /// The metric name.
        metric: String,
        /// The gateway request id.
        request_id: String,
        /// The sink's failure.
        message: String,
    },
}
