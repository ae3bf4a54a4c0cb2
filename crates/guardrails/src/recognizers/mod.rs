//! Recognizers: pattern rules with validation and context words, plus the
//! trait for in-process model-based recognizers. Models behind an async chat
//! API are used through [`ChatEntityExtractor`](crate::ChatEntityExtractor)
//! instead, because a [`Recognizer`] runs synchronously.

mod context;
mod international;
mod korean;
mod ner;
mod pattern;
mod secrets;
pub(crate) mod validate;

use std::borrow::Cow;
use std::ops::Range;

pub use ner::{NerModel, NerRecognizer, NerSpan};
pub use pattern::Boundary;

use crate::entity::EntityType;
use crate::error::Result;
use crate::normalize::NormalizedText;

/// A match in the normalised text, before offsets are mapped back.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Kind of value.
    pub entity: EntityType,
    /// Byte range in the normalised text ([`NormalizedText::as_str`]).
    pub range: Range<usize>,
    /// Confidence in `0.0..=1.0`.
    pub score: f32,
    /// Name of the recognizer.
    pub recognizer: Cow<'static, str>,
}

/// Finds values of one or more entity types in a normalised text.
///
/// The trait is object-safe, so an [`Analyzer`](crate::Analyzer)
/// stores `Box<dyn Recognizer>`.
pub trait Recognizer: Send + Sync {
    /// Returns the recognizer's name, reported in every finding.
    fn name(&self) -> &str;

    /// Returns the entity types it can report.
    fn entities(&self) -> Vec<EntityType>;

    /// Appends candidates found in `text` to `out`.
    ///
    /// # Errors
    ///
    /// Returns an error when a model-based recognizer fails. The built-in
    /// pattern recognizers always return `Ok`.
    fn recognize(&self, text: &NormalizedText<'_>, out: &mut Vec<Candidate>) -> Result<()>;
}

/// Returns the built-in pattern recognizers for every supported entity type.
pub fn default_recognizers() -> Vec<Box<dyn Recognizer>> {
    let mut all: Vec<Box<dyn Recognizer>> = Vec::new();
    for recognizer in korean::recognizers()
        .into_iter()
        .chain(international::recognizers())
        .chain(secrets::recognizers())
    {
        all.push(Box::new(recognizer));
    }
    all
}
