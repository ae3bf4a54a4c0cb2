//! The analyzer: runs recognizers on normalised text and maps findings back.

use std::sync::Arc;

use crate::entity::EntityType;
use crate::error::{GuardError, Result};
use crate::finding::Finding;
use crate::mention::{EntityMention, locate_mentions};
use crate::normalize::{CharIndex, NormalizedText};
use crate::recognizers::{Candidate, NerModel, NerRecognizer, Recognizer, default_recognizers};
use crate::resolve::resolve_overlaps;

/// Default minimum score a finding needs to be reported.
pub const DEFAULT_MIN_SCORE: f32 = 0.5;

/// Runs a set of recognizers over a text.
pub struct Analyzer {
    recognizers: Vec<Box<dyn Recognizer>>,
    min_score: f32,
    entities: Option<Vec<EntityType>>,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.recognizers.iter().map(|r| r.name()).collect();
        f.debug_struct("Analyzer")
            .field("recognizers", &names)
            .field("min_score", &self.min_score)
            .finish()
    }
}

impl Analyzer {
    /// Creates an analyzer with every built-in recognizer and a minimum score of
    /// [`DEFAULT_MIN_SCORE`].
    pub fn new() -> Self {
        Self {
            recognizers: default_recognizers(),
            min_score: DEFAULT_MIN_SCORE,
            entities: None,
        }
    }

    /// Creates an analyzer without recognizers.
    pub fn empty() -> Self {
        Self {
            recognizers: Vec::new(),
            min_score: DEFAULT_MIN_SCORE,
            entities: None,
        }
    }

    /// Adds a recognizer.
    pub fn with_recognizer(mut self, recognizer: Box<dyn Recognizer>) -> Self {
        self.recognizers.push(recognizer);
        self
    }

    /// Adds a model-based recognizer, for example NER for names and addresses.
    pub fn with_ner(self, model: Arc<dyn NerModel>) -> Self {
        self.with_recognizer(Box::new(NerRecognizer::new(model)))
    }

    /// Sets the minimum score of reported findings (default 0.5).
    pub fn with_min_score(mut self, min_score: f32) -> Self {
        self.min_score = min_score;
        self
    }

    /// Restricts reported findings to `entities` (default: all).
    pub fn with_entities(mut self, entities: Vec<EntityType>) -> Self {
        self.entities = Some(entities);
        self
    }

    /// Returns findings at or above the minimum score, with overlaps resolved,
    /// sorted by start.
    ///
    /// # Errors
    ///
    /// Returns an error only when a model-based recognizer fails.
    pub fn analyze(&self, text: &str) -> Result<Vec<Finding>> {
        self.analyze_with_mentions(text, &[])
    }

    /// Returns the findings of [`Analyzer::analyze`] merged with every
    /// occurrence of `mentions` in `text`, such as names from a
    /// [`ChatEntityExtractor`](crate::ChatEntityExtractor). Mentions pass
    /// the same entity filter and minimum score, and overlaps between them
    /// and pattern findings are resolved together.
    ///
    /// # Errors
    ///
    /// Returns an error only when a model-based recognizer fails.
    pub fn analyze_with_mentions(
        &self,
        text: &str,
        mentions: &[EntityMention],
    ) -> Result<Vec<Finding>> {
        let mut findings = self.analyze_all(text)?;
        findings.extend(locate_mentions(text, mentions));
        if let Some(entities) = &self.entities {
            findings.retain(|f| entities.contains(&f.entity));
        }
        findings.retain(|f| f.score >= self.min_score);
        Ok(resolve_overlaps(findings))
    }

    /// Returns every candidate of every recognizer, without the score
    /// threshold and without overlap resolution.
    ///
    /// # Errors
    ///
    /// Returns an error only when a model-based recognizer fails.
    pub fn analyze_all(&self, text: &str) -> Result<Vec<Finding>> {
        let normalized = NormalizedText::new(text);
        let mut candidates = Vec::new();
        for recognizer in &self.recognizers {
            recognizer.recognize(&normalized, &mut candidates)?;
        }
        if let Some(entities) = &self.entities {
            candidates.retain(|c| entities.contains(&c.entity));
        }
        let index = CharIndex::new(text);
        Ok(candidates
            .into_iter()
            .filter_map(|c| to_finding(&normalized, &index, c))
            .collect())
    }

    /// Decodes `bytes` as UTF-8 and analyzes the text.
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::InvalidUtf8`] with the offset of the first invalid byte.
    pub fn analyze_bytes(&self, bytes: &[u8]) -> Result<Vec<Finding>> {
        let text = std::str::from_utf8(bytes).map_err(|e| GuardError::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        self.analyze(text)
    }

    /// Decodes `bytes` with invalid sequences replaced by U+FFFD and analyzes
    /// the result. Offsets of the findings refer to the returned text, not to
    /// `bytes`, because each replaced sequence changes length.
    ///
    /// # Errors
    ///
    /// Returns an error only when a model-based recognizer fails.
    pub fn analyze_bytes_lossy(&self, bytes: &[u8]) -> Result<(String, Vec<Finding>)> {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let findings = self.analyze(&text)?;
        Ok((text, findings))
    }
}

fn to_finding(
    normalized: &NormalizedText<'_>,
    index: &CharIndex,
    candidate: Candidate,
) -> Option<Finding> {
    let bytes = normalized.to_original(candidate.range)?;
    let chars = index.char_offset(bytes.start)..index.char_offset(bytes.end);
    Some(Finding {
        entity: candidate.entity,
        bytes,
        chars,
        score: candidate.score,
        recognizer: candidate.recognizer,
    })
}
