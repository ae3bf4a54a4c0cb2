//! Questions generated back from an answer, for Ragas-style answer
//! relevance.

use std::sync::Arc;
use std::time::Duration;

use llmops_core::ModelBackend;
use llmops_core::types::ChatMessage;
use serde_json::{Value, json};

use crate::error::{EvalError, Result};
use crate::judge::call::{JudgeOptions, RetryPolicy, call_judge};
use crate::judge::parse::{field, first_object_with, truncate};

/// The maximum number of questions generated per answer.
pub const MAX_GENERATED_QUESTIONS: u32 = 10;

const SYSTEM_PROMPT: &str = "You reverse-engineer questions from answers. \
Given an answer, write questions that this answer fully responds to, in the answer's language. \
Also decide whether the answer is noncommittal: evasive, vague or declining to answer, \
such as \"I don't know\" or \"I cannot say\". \
Reply with one JSON object and nothing else: \
{\"questions\": [\"...\"], \"noncommittal\": false}";

/// Questions an LLM wrote back from an answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GeneratedQuestions {
    /// The questions, in the order the model wrote them.
    pub questions: Vec<String>,
    /// Whether the model judged the answer evasive or vague.
    pub noncommittal: bool,
}

/// Asks a [`ModelBackend`] for questions that an answer would answer.
///
/// The model gets a fixed prompt and must reply with
/// `{"questions": [...], "noncommittal": bool}`. The reply is parsed
/// tolerantly, like judge replies: the first JSON object with a
/// `questions` key anywhere in the text, else the lines that end with `?`
/// (with list markers removed) and a `noncommittal: yes` label.
#[derive(Clone)]
pub struct QuestionGenerator {
    backend: Arc<dyn ModelBackend>,
    model: String,
    questions: u32,
    options: JudgeOptions,
}

impl std::fmt::Debug for QuestionGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuestionGenerator")
            .field("model", &self.model)
            .field("questions", &self.questions)
            .finish_non_exhaustive()
    }
}

impl QuestionGenerator {
    /// Creates a generator of 3 questions per answer (the Ragas default)
    /// at temperature 0, with the output schema sent as `response_format`.
    pub fn new(backend: Arc<dyn ModelBackend>, model: impl Into<String>) -> Self {
        QuestionGenerator {
            backend,
            model: model.into(),
            questions: 3,
            options: JudgeOptions::default(),
        }
    }

    /// Sets the questions requested per answer.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] when `count` is 0 or above
    /// [`MAX_GENERATED_QUESTIONS`].
    pub fn questions(mut self, count: u32) -> Result<Self> {
        if count == 0 || count > MAX_GENERATED_QUESTIONS {
            return Err(EvalError::InvalidParameter {
                name: "questions",
                value: count.to_string(),
                reason: format!("use 1 to {MAX_GENERATED_QUESTIONS} questions per answer"),
            });
        }
        self.questions = count;
        Ok(self)
    }

    /// Sets whether to send the output schema as `response_format`
    /// (default: on). Turn it off for backends that reject JSON formats.
    pub fn structured_output(mut self, enabled: bool) -> Self {
        self.options.structured_output = enabled;
        self
    }

    /// Sets the attempts per call, the first included (default 3), and
    /// the wait before the first retry (default 500 ms, doubled per retry,
    /// each wait capped at 20 s); only retryable failures are retried.
    pub fn retries(mut self, max_attempts: u32, initial_backoff: Duration) -> Self {
        let cap = RetryPolicy::default().max_backoff;
        self.options.retry = RetryPolicy::new(max_attempts, initial_backoff, cap);
        self
    }

    /// Returns the model name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Generates questions for `answer`; at most the configured count is
    /// kept.
    ///
    /// # Errors
    ///
    /// The reason, as text, when the call fails or the reply has no
    /// question.
    pub async fn generate(&self, answer: &str) -> std::result::Result<GeneratedQuestions, String> {
        let count = self.questions;
        let messages = vec![
            ChatMessage::system(SYSTEM_PROMPT),
            ChatMessage::user(format!(
                "Write exactly {count} distinct questions.\n\nAnswer:\n{answer}"
            )),
        ];
        let schema = json!({
            "type": "object",
            "properties": {
                "questions": { "type": "array", "items": { "type": "string" } },
                "noncommittal": { "type": "boolean" },
            },
            "required": ["questions", "noncommittal"],
            "additionalProperties": false,
        });
        let reply = call_judge(
            self.backend.as_ref(),
            &self.model,
            messages,
            &self.options,
            Some(schema),
            0,
        )
        .await?;
        let mut generated = parse_generated_questions(&reply)?;
        generated.questions.truncate(count as usize);
        Ok(generated)
    }
}

/// Parses a question-generation reply; see [`QuestionGenerator`] for the
/// accepted forms.
///
/// # Errors
///
/// The reason, as text, when the reply has no non-blank question.
pub fn parse_generated_questions(reply: &str) -> std::result::Result<GeneratedQuestions, String> {
    let parsed = match first_object_with(reply, "questions") {
        Some(object) => GeneratedQuestions {
            questions: field(&object, "questions")
                .map(questions_from_value)
                .unwrap_or_default(),
            noncommittal: field(&object, "noncommittal").is_some_and(flag_from_value),
        },
        None => GeneratedQuestions {
            questions: questions_from_lines(reply),
            noncommittal: noncommittal_label(reply),
        },
    };
    if parsed.questions.is_empty() {
        return Err(format!(
            "the question generator's reply has no question: `{}`",
            truncate(reply.trim(), 80)
        ));
    }
    Ok(parsed)
}

/// Reads an array of strings, or of objects with a `question` field.
fn questions_from_value(value: &Value) -> Vec<String> {
    let Some(items) = value.as_array() else {
        return value
            .as_str()
            .map(|text| vec![text.trim().to_owned()])
            .unwrap_or_default()
            .into_iter()
            .filter(|q| !q.is_empty())
            .collect();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::String(text) => Some(text.trim().to_owned()),
            Value::Object(object) => field(object, "question")
                .and_then(Value::as_str)
                .map(|text| text.trim().to_owned()),
            _ => None,
        })
        .filter(|question| !question.is_empty())
        .collect()
}

/// Reads a JSON boolean, 0 or 1, or a yes/no/true/false string.
fn flag_from_value(value: &Value) -> bool {
    match value {
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => yes_word(text),
        _ => false,
    }
}

fn yes_word(text: &str) -> bool {
    let word = text.trim().trim_matches(|c: char| !c.is_alphanumeric());
    ["yes", "true", "1"]
        .iter()
        .any(|yes| word.eq_ignore_ascii_case(yes))
}

/// Returns the lines that end with `?`, without list markers such as `1.`,
/// `-` or `*`.
fn questions_from_lines(reply: &str) -> Vec<String> {
    reply
        .lines()
        .map(str::trim)
        .filter(|line| line.ends_with('?'))
        .map(|line| {
            line.trim_start_matches(|c: char| {
                c.is_ascii_digit() || matches!(c, '.' | ')' | '-' | '*' | '•') || c.is_whitespace()
            })
            .trim_start_matches("Q:")
            .trim()
            .to_owned()
        })
        .filter(|question| question.len() > 1)
        .collect()
}

/// Returns true for a `noncommittal: yes` (or `= true`, `: 1`) label.
fn noncommittal_label(reply: &str) -> bool {
    let lower = reply.to_lowercase();
    lower.match_indices("noncommittal").any(|(start, label)| {
        let rest = lower[start + label.len()..].trim_start_matches(['*', '"', ' ']);
        let Some(value) = rest.strip_prefix([':', '=']) else {
            return false;
        };
        value.split_whitespace().next().is_some_and(yes_word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_reply_parses() {
        let parsed = parse_generated_questions(
            r#"{"questions": ["Where is Paris?", " "], "noncommittal": false}"#,
        )
        .unwrap();
        assert_eq!(parsed.questions, ["Where is Paris?"]);
        assert!(!parsed.noncommittal);
    }

    #[test]
    fn fenced_json_with_prose_parses() {
        let reply = "Sure!\n```json\n{\"Questions\": [{\"question\": \"What is 2+2?\"}], \"NonCommittal\": 1}\n```";
        let parsed = parse_generated_questions(reply).unwrap();
        assert_eq!(parsed.questions, ["What is 2+2?"]);
        assert!(parsed.noncommittal);
    }

    #[test]
    fn noncommittal_as_string_parses() {
        let reply = r#"{"questions": ["Why?"], "noncommittal": "Yes"}"#;
        assert!(parse_generated_questions(reply).unwrap().noncommittal);
    }

    #[test]
    fn plain_list_parses() {
        let reply =
            "1. Wann wurde die Brücke eröffnet?\n- Where is it?\nnot a question\nNoncommittal: no";
        let parsed = parse_generated_questions(reply).unwrap();
        assert_eq!(
            parsed.questions,
            ["Wann wurde die Brücke eröffnet?", "Where is it?"]
        );
        assert!(!parsed.noncommittal);
    }

    #[test]
    fn plain_noncommittal_label_parses() {
        let reply = "Q: What is the answer?\n**Noncommittal**: yes";
        assert!(parse_generated_questions(reply).unwrap().noncommittal);
    }

    #[test]
    fn reply_without_questions_is_an_error() {
        for reply in ["", "I cannot help.", r#"{"questions": []}"#] {
            let error = parse_generated_questions(reply).unwrap_err();
            assert!(error.contains("no question"), "{reply:?}: {error}");
        }
    }
}
