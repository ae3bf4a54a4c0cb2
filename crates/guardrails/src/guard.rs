//! The guard trait and its verdict.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::finding::Finding;
use crate::mention::EntityMention;

/// Decision on a checked text, ordered by severity:
/// `Allow < Redact < Review < Block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Pass the text on unchanged.
    Allow,
    /// Pass the text on with findings replaced.
    Redact,
    /// Pass the text on but flag it for a human.
    Review,
    /// Stop the request or response.
    Block,
}

/// Whether a text goes to the model or comes back from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// A prompt on its way to the model.
    Input,
    /// A model response on its way to the caller.
    Output,
}

/// Result of one guard on one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Name of the guard.
    pub guard: String,
    /// Requested action.
    pub action: Action,
    /// Findings, with offsets into the text the guard checked.
    pub findings: Vec<Finding>,
    /// Reasons in plain words; they never contain a found value.
    pub reasons: Vec<String>,
    /// Text to use instead of the checked one, for example after redaction
    /// or JSON repair.
    pub replacement: Option<String>,
}

impl Verdict {
    /// Creates an `Allow` verdict without findings.
    pub fn allow(guard: impl Into<String>) -> Self {
        Self {
            guard: guard.into(),
            action: Action::Allow,
            findings: Vec::new(),
            reasons: Vec::new(),
            replacement: None,
        }
    }

    /// Creates a verdict with `action` and one reason.
    pub fn with_reason(
        guard: impl Into<String>,
        action: Action,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            reasons: vec![reason.into()],
            action,
            ..Self::allow(guard)
        }
    }
}

/// A check on input or output text. The trait is object-safe, so a
/// [`Pipeline`](crate::Pipeline) stores `Box<dyn Guard>`.
pub trait Guard: Send + Sync {
    /// Returns the guard's name, reported in its verdicts.
    fn name(&self) -> &str;

    /// Returns true when the guard runs at `stage` (default: both stages).
    fn applies_to(&self, stage: Stage) -> bool {
        let _ = stage;
        true
    }

    /// Checks `text`.
    ///
    /// # Errors
    ///
    /// Returns an error when a model-based recognizer or classifier fails.
    fn check(&self, text: &str, stage: Stage) -> Result<Verdict>;

    /// Checks `text` with entity mentions found beforehand by a model, such
    /// as a [`ChatEntityExtractor`](crate::ChatEntityExtractor). Guards
    /// that report entities merge them with their own findings; the
    /// default ignores them and calls [`Guard::check`].
    ///
    /// # Errors
    ///
    /// Returns the errors of [`Guard::check`].
    fn check_with_mentions(
        &self,
        text: &str,
        stage: Stage,
        mentions: &[EntityMention],
    ) -> Result<Verdict> {
        let _ = mentions;
        self.check(text, stage)
    }
}
