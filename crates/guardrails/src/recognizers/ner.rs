//! Plug-in point for model-based recognizers such as NER for names and addresses.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use super::{Candidate, Recognizer};
use crate::entity::EntityType;
use crate::error::Result;
use crate::normalize::NormalizedText;

/// One entity span predicted by a model.
#[derive(Debug, Clone, PartialEq)]
pub struct NerSpan {
    /// Kind of value, usually [`EntityType::Person`] or [`EntityType::Location`].
    pub entity: EntityType,
    /// Byte range in the text passed to [`NerModel::predict`].
    pub range: Range<usize>,
    /// Confidence in `0.0..=1.0`.
    pub score: f32,
}

/// A model that tags entities the patterns cannot find, such as names and addresses.
pub trait NerModel: Send + Sync {
    /// Returns the model name, reported as the finding's recognizer.
    fn name(&self) -> &str;

    /// Returns the entity types the model can tag.
    fn entities(&self) -> Vec<EntityType>;

    /// Predicts entity spans in `text`.
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::Model`](crate::GuardError::Model) when inference fails.
    fn predict(&self, text: &str) -> Result<Vec<NerSpan>>;
}

/// Adapts a [`NerModel`] to the [`Recognizer`] trait. It runs the model on the
/// normalised text and drops spans that are out of range or not on char boundaries.
pub struct NerRecognizer {
    model: Arc<dyn NerModel>,
}

impl NerRecognizer {
    /// Wraps `model`.
    pub fn new(model: Arc<dyn NerModel>) -> Self {
        Self { model }
    }
}

impl Recognizer for NerRecognizer {
    fn name(&self) -> &str {
        self.model.name()
    }

    fn entities(&self) -> Vec<EntityType> {
        self.model.entities()
    }

    fn recognize(&self, text: &NormalizedText<'_>, out: &mut Vec<Candidate>) -> Result<()> {
        let haystack = text.as_str();
        for span in self.model.predict(haystack)? {
            let valid = span.range.start < span.range.end
                && haystack.get(span.range.clone()).is_some()
                && span.score.is_finite();
            if !valid {
                tracing::debug!(
                    model = self.model.name(),
                    "dropped an out-of-range model span"
                );
                continue;
            }
            out.push(Candidate {
                entity: span.entity,
                range: span.range,
                score: span.score.clamp(0.0, 1.0),
                recognizer: Cow::Owned(self.model.name().to_owned()),
            });
        }
        Ok(())
    }
}
