//! A model-based entity recognizer over any chat [`ModelBackend`]: a local
//! model, an on-premises server or a cloud API.

mod reply;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use llmops_core::ModelBackend;
use llmops_core::types::{ChatMessage, ChatRequest};
use serde::{Deserialize, Serialize};

use crate::entity::EntityType;
use crate::error::{GuardError, Result};
use crate::finding::Finding;
use crate::mention::{EntityMention, locate_mentions};

/// Default time limit of one model call.
pub const DEFAULT_ENTITY_MODEL_TIMEOUT: Duration = Duration::from_secs(10);

/// Default score of a mention the model names. Chat models return no
/// calibrated confidence, so every mention gets this score; at 0.8 it
/// passes the default minimum score of 0.5.
pub const DEFAULT_MENTION_SCORE: f32 = 0.8;

/// Chars of text sent per model call by default; longer texts are split
/// into overlapping windows.
pub const DEFAULT_MAX_CHARS_PER_CALL: usize = 8_000;

/// Chars that consecutive windows share, so a mention of up to this length
/// that straddles a window boundary is whole in one of them.
const WINDOW_OVERLAP_CHARS: usize = 200;

/// Handling of a request whose entity model call fails or times out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailurePolicy {
    /// Reject the request, so no text goes on without the model's check.
    FailClosed,
    /// Go on with the pattern recognizers' findings only, and log a warning.
    FailOpen,
}

/// Finds person names and locations (places and addresses) by asking a chat
/// model for them under a strict JSON schema, then locating every returned
/// mention in the text.
///
/// The model returns the text of each mention, not offsets, because models
/// count offsets poorly. [`locate_mentions`] finds every occurrence at char
/// boundaries and drops mentions that are not in the text.
///
/// Model calls are async, so the extractor is not a synchronous
/// [`NerModel`](crate::recognizers::NerModel). Its mentions go to
/// [`Pipeline::check_with_mentions`](crate::Pipeline::check_with_mentions),
/// which merges them with the pattern findings before anonymisation.
/// `GuardHook` runs the extractor on every request when built with one.
///
/// The request uses `response_format` `json_schema` with `strict: true`,
/// temperature 0 and `max_tokens` 1024 by default. The extractor does not
/// retry; a [`ModelBackend`] with retries, such as the gateway, can.
///
/// The model receives the text before redaction. Use a backend the data may
/// go to, such as the local model or an on-premises server
/// ([`BackendInfo::local`](llmops_core::BackendInfo) tells), and never a
/// gateway whose pre-call hooks include this extractor, which would call
/// itself.
#[derive(Clone)]
pub struct ChatEntityExtractor {
    backend: Arc<dyn ModelBackend>,
    model: String,
    recognizer: Cow<'static, str>,
    entities: Vec<EntityType>,
    timeout: Duration,
    score: f32,
    max_tokens: u32,
    max_chars_per_call: usize,
}

impl std::fmt::Debug for ChatEntityExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatEntityExtractor")
            .field("provider", &self.backend.describe().provider)
            .field("model", &self.model)
            .field("entities", &self.entities)
            .field("timeout", &self.timeout)
            .field("score", &self.score)
            .finish_non_exhaustive()
    }
}

impl ChatEntityExtractor {
    /// Creates an extractor that requests [`EntityType::Person`] and
    /// [`EntityType::Location`] mentions from `model` on `backend`.
    pub fn new(backend: Arc<dyn ModelBackend>, model: impl Into<String>) -> Self {
        let model = model.into();
        ChatEntityExtractor {
            backend,
            recognizer: Cow::Owned(format!("chat_ner:{model}")),
            model,
            entities: vec![EntityType::Person, EntityType::Location],
            timeout: DEFAULT_ENTITY_MODEL_TIMEOUT,
            score: DEFAULT_MENTION_SCORE,
            max_tokens: 1024,
            max_chars_per_call: DEFAULT_MAX_CHARS_PER_CALL,
        }
    }

    /// Sets the entity types to request (default `PERSON` and `LOCATION`).
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::InvalidConfig`] when `entities` is empty or
    /// contains a type other than `PERSON`, `LOCATION` and `ORGANIZATION`.
    pub fn with_entities(mut self, entities: Vec<EntityType>) -> Result<Self> {
        let supported = [
            EntityType::Person,
            EntityType::Location,
            EntityType::Organization,
        ];
        if let Some(other) = entities.iter().find(|e| !supported.contains(e)) {
            return Err(GuardError::InvalidConfig {
                message: format!(
                    "the entity model cannot be asked for {other}; use PERSON, LOCATION or ORGANIZATION, and patterns for the rest"
                ),
            });
        }
        if entities.is_empty() {
            return Err(GuardError::InvalidConfig {
                message: "the entity model needs at least one entity type, such as PERSON"
                    .to_owned(),
            });
        }
        self.entities = entities;
        Ok(self)
    }

    /// Sets the time limit of one model call (default 10 s).
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::InvalidConfig`] for a zero timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self> {
        if timeout.is_zero() {
            return Err(GuardError::InvalidConfig {
                message: "the entity model timeout is 0; use a timeout such as 10 s".to_owned(),
            });
        }
        self.timeout = timeout;
        Ok(self)
    }

    /// Sets the score of every mention (default 0.8).
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::InvalidConfig`] for a score outside 0 to 1.
    pub fn with_score(mut self, score: f32) -> Result<Self> {
        if !(0.0..=1.0).contains(&score) {
            return Err(GuardError::InvalidConfig {
                message: format!("the entity model score is {score}; use a score from 0 to 1"),
            });
        }
        self.score = score;
        Ok(self)
    }

    /// Sets the cap on generated tokens per call (default 1024).
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens.max(1);
        self
    }

    /// Sets the chars of text per model call (default 8,000). Longer texts
    /// are split into windows that overlap by 200 chars.
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::InvalidConfig`] below 1,000 chars, because the
    /// window overlap would then be a large share of every call.
    pub fn with_max_chars_per_call(mut self, max_chars: usize) -> Result<Self> {
        if max_chars < 1_000 {
            return Err(GuardError::InvalidConfig {
                message: format!(
                    "max_chars_per_call is {max_chars}; use at least 1000 chars, such as 8000"
                ),
            });
        }
        self.max_chars_per_call = max_chars;
        Ok(self)
    }

    /// Returns the recognizer name reported in findings, `chat_ner:<model>`.
    pub fn name(&self) -> &str {
        &self.recognizer
    }

    /// Requests the mentions in `text` from the model. Blank text returns no
    /// mentions without a call. Mentions are not checked against the text;
    /// [`locate_mentions`] drops those that are not in it.
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::ModelTimeout`] when a call takes longer than
    /// the timeout, and [`GuardError::Model`] when the backend fails or the
    /// reply does not match the schema.
    pub async fn extract(&self, text: &str) -> Result<Vec<EntityMention>> {
        let mut mentions: Vec<EntityMention> = Vec::new();
        if text.trim().is_empty() {
            return Ok(mentions);
        }
        for window in windows(text, self.max_chars_per_call, WINDOW_OVERLAP_CHARS) {
            for (entity, mention) in self.call(window).await? {
                let known = mentions
                    .iter()
                    .any(|m| m.entity == entity && m.text == mention);
                if !known {
                    mentions.push(EntityMention {
                        entity,
                        text: mention,
                        score: self.score,
                        recognizer: self.recognizer.clone(),
                    });
                }
            }
        }
        Ok(mentions)
    }

    /// Requests the mentions in `text` from the model and returns a finding
    /// for every occurrence, sorted by start and possibly overlapping.
    ///
    /// # Errors
    ///
    /// Returns the errors of [`ChatEntityExtractor::extract`].
    pub async fn find(&self, text: &str) -> Result<Vec<Finding>> {
        let mentions = self.extract(text).await?;
        Ok(locate_mentions(text, &mentions))
    }

    async fn call(&self, text: &str) -> Result<Vec<(EntityType, String)>> {
        let labels = reply::labels(&self.entities);
        let mut request = ChatRequest::new(
            self.model.clone(),
            vec![reply::system_message(&labels), ChatMessage::user(text)],
        );
        request.temperature = Some(0.0);
        request.max_tokens = Some(self.max_tokens);
        request.response_format = Some(reply::response_format(&labels));

        let call = self.backend.complete(request);
        let completion = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(completion)) => completion,
            Ok(Err(error)) => {
                return Err(GuardError::Model {
                    model: self.model.clone(),
                    message: format!("the call failed ({}): {error}", error.class()),
                });
            }
            Err(_) => {
                return Err(GuardError::ModelTimeout {
                    model: self.model.clone(),
                    timeout_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
                });
            }
        };
        reply::parse(&self.model, &completion, &self.entities, self.max_tokens)
    }
}

/// Splits `text` into windows of at most `max_chars` chars, each starting
/// `overlap` chars before the end of the previous one.
fn windows(text: &str, max_chars: usize, overlap: usize) -> Vec<&str> {
    let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if starts.len() <= max_chars {
        return vec![text];
    }
    let step = max_chars.saturating_sub(overlap).max(1);
    let mut out = Vec::new();
    let mut first = 0;
    loop {
        let last = first + max_chars;
        let end = starts.get(last).copied().unwrap_or(text.len());
        out.push(&text[starts[first]..end]);
        if last >= starts.len() {
            break;
        }
        first += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_window() {
        assert_eq!(windows("홍길동", 1000, 200), vec!["홍길동"]);
    }

    #[test]
    fn windows_overlap_and_cover() {
        let text: String = "가나다라마바사아자차".repeat(30);
        let parts = windows(&text, 100, 20);
        assert_eq!(parts.len(), 4);
        assert!(parts.iter().all(|p| p.chars().count() <= 100));
        assert_eq!(parts[0].chars().count(), 100);
        // Every window after the first starts 20 chars before the end of
        // the previous one.
        assert!(parts[0].ends_with(&parts[1][..20 * 3]));
        assert!(text.ends_with(parts[3]));
        let covered = 80 * (parts.len() - 1) + parts[3].chars().count();
        assert_eq!(covered, 300);
    }
}
