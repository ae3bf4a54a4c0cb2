//! Selecting a version: by number, by label, or the latest.

use std::fmt;
use std::str::FromStr;

use crate::error::{RegistryError, Result};

/// A choice of prompt version: by number, by label, or the latest.
///
/// Version numbers and labels never collide: `Selector::Version(3)` is
/// version 3, while `Selector::Label("3".into())` is whatever the label named
/// `3` points to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Selector {
    /// The highest version number.
    Latest,
    /// One version number, starting at 1.
    Version(u32),
    /// The version a label points to.
    Label(String),
}

/// A prompt name with a selector, written `NAME`, `NAME@VERSION` or `NAME:LABEL`.
///
/// ```
/// use llmops_registry::{PromptRef, Selector};
/// let by_version: PromptRef = "support/triage@3".parse()?;
/// assert_eq!(by_version.selector, Selector::Version(3));
/// let by_label: PromptRef = "support/triage:3".parse()?;
/// assert_eq!(by_label.selector, Selector::Label("3".into()));
/// # Ok::<(), llmops_registry::RegistryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PromptRef {
    /// The prompt name.
    pub name: String,
    /// Which version.
    pub selector: Selector,
}

impl FromStr for PromptRef {
    type Err = RegistryError;

    fn from_str(reference: &str) -> Result<Self> {
        let invalid = |reason: &str| RegistryError::InvalidReference {
            reference: reference.to_owned(),
            reason: reason.to_owned(),
        };
        let (name, selector) = if let Some((name, version)) = reference.split_once('@') {
            let version: u32 = version
                .parse()
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| invalid("the version after @ must be a whole number from 1"))?;
            (name, Selector::Version(version))
        } else if let Some((name, label)) = reference.split_once(':') {
            validate_label(label)?;
            (name, Selector::Label(label.to_owned()))
        } else {
            (reference, Selector::Latest)
        };
        validate_name(name)?;
        Ok(PromptRef {
            name: name.to_owned(),
            selector,
        })
    }
}

impl fmt::Display for PromptRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.selector {
            Selector::Latest => write!(f, "{}", self.name),
            Selector::Version(version) => write!(f, "{}@{version}", self.name),
            Selector::Label(label) => write!(f, "{}:{label}", self.name),
        }
    }
}

/// Maximum length of a prompt name in bytes.
pub const MAX_NAME_BYTES: usize = 128;
/// Maximum length of a label in bytes.
pub const MAX_LABEL_BYTES: usize = 64;

/// Checks a prompt name: 1 to 128 bytes of `A-Z a-z 0-9 _ . - /`.
///
/// # Errors
///
/// [`RegistryError::InvalidName`] naming the problem.
pub fn validate_name(name: &str) -> Result<()> {
    let invalid = |reason: String| RegistryError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(invalid(format!("use 1 to {MAX_NAME_BYTES} characters")));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
    {
        return Err(invalid(format!(
            "`{bad}` is not allowed; use ASCII letters, digits, `_`, `.`, `-` and `/`"
        )));
    }
    Ok(())
}

/// Checks a label: 1 to 64 bytes of `A-Z a-z 0-9 _ . -`.
///
/// # Errors
///
/// [`RegistryError::InvalidLabel`] naming the problem.
pub fn validate_label(label: &str) -> Result<()> {
    let invalid = |reason: String| RegistryError::InvalidLabel {
        label: label.to_owned(),
        reason,
    };
    if label.is_empty() || label.len() > MAX_LABEL_BYTES {
        return Err(invalid(format!("use 1 to {MAX_LABEL_BYTES} characters")));
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(invalid(format!(
            "`{bad}` is not allowed; use ASCII letters, digits, `_`, `.` and `-`"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_each_form() {
        let latest: PromptRef = "greet".parse().unwrap();
        assert_eq!(latest.selector, Selector::Latest);
        let version: PromptRef = "a/b@12".parse().unwrap();
        assert_eq!(version.selector, Selector::Version(12));
        let label: PromptRef = "greet:production".parse().unwrap();
        assert_eq!(label.selector, Selector::Label("production".into()));
    }

    #[test]
    fn rejects_bad_references() {
        for reference in [
            "", "@1", "greet@0", "greet@x", "greet@-1", "greet:", "gr eet", "grüß", "a:b:c",
        ] {
            assert!(
                reference.parse::<PromptRef>().is_err(),
                "{reference} parsed"
            );
        }
    }

    proptest! {
        #[test]
        fn display_parses_back(name in "[a-z0-9_./-]{1,20}", version in 1u32.., label in "[A-Za-z0-9_.-]{1,10}") {
            for selector in [Selector::Latest, Selector::Version(version), Selector::Label(label.clone())] {
                let reference = PromptRef { name: name.clone(), selector };
                let parsed: PromptRef = reference.to_string().parse().unwrap();
                prop_assert_eq!(parsed, reference);
            }
        }
    }
}
