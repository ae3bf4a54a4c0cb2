//! The error type of the registry.

use llmops_store::StoreError;

/// A `Result` with [`RegistryError`] as its error type.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// A failure of a registry operation.
///
/// Messages name prompts, labels and versions but never template text or
/// logged inputs and outputs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A prompt name is empty, too long, or has a character outside `A-Z a-z 0-9 _ . - /`.
    #[error("invalid prompt name `{name}`: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A label is empty, too long, or has a character outside `A-Z a-z 0-9 _ . -`.
    #[error("invalid label `{label}`: {reason}")]
    InvalidLabel {
        /// The rejected label.
        label: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A prompt reference string is not `NAME`, `NAME@VERSION` or `NAME:LABEL`.
    #[error(
        "invalid prompt reference `{reference}`: {reason}; write NAME for the latest version, NAME@3 for version 3 or NAME:production for a label"
    )]
    InvalidReference {
        /// The rejected reference.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Prompt content fails validation.
    #[error("invalid prompt `{name}`: {reason}")]
    InvalidPrompt {
        /// The prompt name.
        name: String,
        /// What is wrong and where.
        reason: String,
    },

    /// No prompt has this name.
    #[error("prompt `{name}` not found; list prompts with `llmops prompt list`")]
    PromptNotFound {
        /// The name looked up.
        name: String,
    },

    /// The prompt has no such version.
    #[error("prompt `{name}` has no version {version}; the latest is {latest}")]
    VersionNotFound {
        /// The prompt name.
        name: String,
        /// The version looked up.
        version: u32,
        /// The latest version of the prompt.
        latest: u32,
    },

    /// The prompt has no such label.
    #[error("prompt `{name}` has no label `{label}`; set it with `llmops prompt label`")]
    LabelNotFound {
        /// The prompt name.
        name: String,
        /// The label looked up.
        label: String,
    },

    /// Another writer created a version first.
    #[error(
        "version conflict on prompt `{name}`: expected latest version {expected}, found {found}; reload the prompt and publish again"
    )]
    VersionConflict {
        /// The prompt name.
        name: String,
        /// The latest version the caller based its change on (0 for none).
        expected: u32,
        /// The latest version in the database, or the version that was taken.
        found: u32,
    },

    /// A rollback found no earlier version for the label.
    #[error("label `{label}` of prompt `{name}` has no earlier version to roll back to")]
    NoPreviousDeployment {
        /// The prompt name.
        name: String,
        /// The label.
        label: String,
    },

    /// An import file disagrees with the database.
    #[error("cannot import prompt `{name}` version {version}: {reason}")]
    ImportConflict {
        /// The prompt name.
        name: String,
        /// The version in the file.
        version: u32,
        /// The disagreement.
        reason: String,
    },

    /// An import or prompt file cannot be parsed.
    #[error("invalid {format} document: {reason}")]
    Format {
        /// `YAML` or `JSON`.
        format: &'static str,
        /// The parser's message, with line and column.
        reason: String,
    },

    /// A call record or score has an impossible value.
    #[error("invalid call record for prompt `{name}`: {reason}")]
    InvalidRecord {
        /// The prompt name.
        name: String,
        /// What is wrong.
        reason: String,
    },

    /// The call logger's queue is full; the record was not queued.
    #[error(
        "call log queue is full ({capacity} records); the database is slower than the call rate, so raise the capacity or await `log` instead of `try_log`"
    )]
    LogQueueFull {
        /// The queue capacity.
        capacity: usize,
    },

    /// The call logger was closed; the record was not queued.
    #[error("call logger is closed; records logged after `close` are not stored")]
    LoggerClosed,

    /// A template cannot be rendered with the given variables.
    #[error("cannot render prompt `{name}`: {reason}")]
    Render {
        /// The prompt name.
        name: String,
        /// The missing variable or syntax error.
        reason: String,
    },

    /// An experiment definition or its analysis input is invalid.
    #[error(transparent)]
    Experiment(#[from] crate::experiment::ExperimentError),

    /// No experiment has this id.
    #[error("experiment `{id}` not found; list experiments with `llmops experiment list`")]
    ExperimentNotFound {
        /// The id looked up.
        id: String,
    },

    /// An experiment with this id exists already.
    #[error("experiment `{id}` exists already; choose another id")]
    ExperimentExists {
        /// The id taken.
        id: String,
    },

    /// Another running experiment splits the same label.
    #[error(
        "label `{label}` of prompt `{prompt}` is already split by running experiment `{running}`; stop or promote it first"
    )]
    LabelInExperiment {
        /// The prompt name.
        prompt: String,
        /// The label.
        label: String,
        /// The running experiment.
        running: String,
    },

    /// The experiment's state does not allow the operation.
    #[error("experiment `{id}` is {status}; {action} needs {allowed}")]
    ExperimentState {
        /// The experiment id.
        id: String,
        /// Its current state.
        status: String,
        /// The refused operation, such as `stop`.
        action: &'static str,
        /// The states in which the operation is allowed.
        allowed: &'static str,
    },

    /// An arm name is not one of the experiment's arms.
    #[error("experiment `{id}` has no arm `{arm}`; its arms are {arms:?}")]
    UnknownArm {
        /// The experiment id.
        id: String,
        /// The arm named.
        arm: String,
        /// The experiment's arms.
        arms: Vec<String>,
    },

    /// The database failed; see [`StoreError`].
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RegistryError {
    /// Returns true when another writer won a race; reloading and retrying may succeed.
    pub fn is_conflict(&self) -> bool {
        matches!(self, RegistryError::VersionConflict { .. })
    }
}
