//! Findings: where a sensitive value sits in the original text.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::Serialize;

use crate::entity::EntityType;

/// One detected value. It stores offsets only, never the value, so `Debug`,
/// `Display` and serialisation cannot leak it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Kind of value.
    pub entity: EntityType,
    /// UTF-8 byte range in the original text.
    pub bytes: Range<usize>,
    /// Unicode scalar (`char`) range in the original text, the offsets Python uses.
    pub chars: Range<usize>,
    /// Confidence in `0.0..=1.0`.
    pub score: f32,
    /// Name of the recognizer that produced the finding.
    pub recognizer: Cow<'static, str>,
}

impl Finding {
    /// Returns the covered slice of `original`, the text the finding was made on.
    ///
    /// Returns an empty string when the range does not fit `original`.
    pub fn value<'a>(&self, original: &'a str) -> &'a str {
        original.get(self.bytes.clone()).unwrap_or("")
    }

    /// Returns the length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.end - self.bytes.start
    }

    /// Returns true when the range is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at chars {}..{} (score {:.2}, {})",
            self.entity, self.chars.start, self.chars.end, self.score, self.recognizer
        )
    }
}
