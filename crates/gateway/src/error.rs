//! Errors of building a gateway. Errors of routed calls are
//! [`llmops_core::Error`]s, so a gateway is itself a model backend.

use std::path::{Path, PathBuf};

/// A gateway could not be configured or built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// A configuration value is invalid.
    #[error("invalid gateway configuration at {key}: {message}")]
    Config {
        /// Where the value is: a key path such as `models[0].deployments[1].weight`,
        /// or a position in the file.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The configuration file could not be read.
    #[error("cannot read gateway configuration {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A deployment's backend could not be created.
    #[error("deployment {deployment:?} could not be built: {source}")]
    Backend {
        /// The deployment id.
        deployment: String,
        /// What the provider configuration rejected.
        #[source]
        source: llmops_core::Error,
    },
}

impl GatewayError {
    /// Creates a [`GatewayError::Config`].
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        GatewayError::Config {
            key: key.into(),
            message: message.into(),
        }
    }

    /// Prefixes the key of a configuration error with the file it came from.
    pub(crate) fn in_file(self, path: &Path) -> Self {
        match self {
            GatewayError::Config { key, message } => GatewayError::Config {
                key: format!("{}: {key}", path.display()),
                message,
            },
            other => other,
        }
    }
}
