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
    /// Returns true for store errors the user fixes in the database URL or
    /// path: a malformed URL, or a SQLite file that cannot be opened.
    pub(crate) fn is_usage_store_error(error: &llmops_store::StoreError) -> bool {
        matches!(
            error,
            llmops_store::StoreError::InvalidUrl { .. }
                | llmops_store::StoreError::SqliteFile { .. }
        )
    }

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
            Failure::Other(error) => {
                // Many errors repeat their source in their own message, so
                // a cause already shown is left out instead of printed twice.
                let mut shown = error.to_string();
                for cause in error.chain().skip(1) {
                    let text = cause.to_string();
                    if !shown.contains(&text) {
                        shown.push_str(": ");
                        shown.push_str(&text);
                    }
                }
                f.write_str(&shown)
            }
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::Other(error)
    }
}

#[cfg(test)]
mod tests {
    use super::Failure;

    #[test]
    fn repeated_cause_is_shown_once() {
        let source = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = anyhow::Error::new(source).context("cannot read a.txt: no such file");
        let text = Failure::Other(error).to_string();
        assert_eq!(text, "cannot read a.txt: no such file");
    }

    #[test]
    fn new_cause_is_appended() {
        let source = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = anyhow::Error::new(source).context("cannot read a.txt");
        let text = Failure::Other(error).to_string();
        assert_eq!(text, "cannot read a.txt: no such file");
    }
}
