//! The failure of a command and its exit code.

use std::fmt;
use std::process::ExitCode;

/// A failed command: a usage error (exit 2) or any other failure (exit 1).
#[derive(Debug)]
pub(crate) enum Failure {
    /// A bad argument value that the user can fix on the command line.
    Usage(String),
    /// Anything else, such as an unreadable file.
    Other(anyhow::Error),
}

impl Failure {
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Usage(_) => ExitCode::from(2),
            Failure::Other(_) => ExitCode::from(1),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(message) => f.write_str(message),
            Failure::Other(error) => write!(f, "{error:#}"),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::Other(error)
    }
}
