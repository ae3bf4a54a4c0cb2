//! Reads the fields of an incoming request body that shape the mock reply.

use serde_json::Value;

/// Maximum number of words of the last user message that an echo reply
/// repeats, so large prompts do not produce large replies.
const ECHO_MAX_WORDS: usize = 32;

/// Fields of a chat or messages request that shape the mock reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RequestSummary {
    /// The `model` field, empty when missing.
    pub(crate) model: String,
    /// Whether `stream` is `true`.
    pub(crate) stream: bool,
    /// Whether `stream_options.include_usage` is `true`.
    pub(crate) include_usage: bool,
    /// Whitespace-separated words in all message text and the Anthropic
    /// `system` field; the default prompt token count.
    pub(crate) input_words: u64,
    /// The text of the last message with role `user`.
    pub(crate) last_user_text: String,
}

impl RequestSummary {
    /// Reads a parsed request body. Missing or mistyped fields read as
    /// their defaults, because the mock server replies to any well-formed
    /// JSON.
    pub(crate) fn from_json(body: &Value) -> Self {
        let mut summary = RequestSummary {
            model: body
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
            include_usage: body
                .pointer("/stream_options/include_usage")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            ..RequestSummary::default()
        };

        if let Some(system) = body.get("system") {
            summary.input_words += count_words(system);
        }
        let messages = body.get("messages").and_then(Value::as_array);
        for message in messages.into_iter().flatten() {
            let Some(content) = message.get("content") else {
                continue;
            };
            summary.input_words += count_words(content);
            if message.get("role").and_then(Value::as_str) == Some("user") {
                summary.last_user_text = content_text(content);
            }
        }
        summary
    }

    /// Returns the text of the default reply: `You said: ` and the first
    /// words of the last user message, or a fixed greeting without one.
    pub(crate) fn echo_text(&self) -> String {
        let words: Vec<&str> = self
            .last_user_text
            .split_whitespace()
            .take(ECHO_MAX_WORDS)
            .collect();
        if words.is_empty() {
            return "Hello from the llmops mock server.".to_owned();
        }
        format!("You said: {}", words.join(" "))
    }
}

/// Counts words in a content value: a string, or a list of parts whose
/// `text` fields count.
fn count_words(content: &Value) -> u64 {
    let count = |text: &str| text.split_whitespace().count() as u64;
    match content {
        Value::String(text) => count(text),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .map(count)
            .sum(),
        _ => 0,
    }
}

/// Joins the text of a content value with single spaces between parts.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Splits text into stream pieces: each piece is a run of whitespace
/// followed by a run of non-whitespace, so `"a b"` becomes `["a", " b"]`.
/// Concatenating the pieces gives the text back.
pub(crate) fn split_words(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut piece_has_word = false;
    let mut previous_is_space = false;
    for (index, character) in text.char_indices() {
        let is_space = character.is_whitespace();
        if is_space && !previous_is_space && piece_has_word {
            pieces.push(text[start..index].to_owned());
            start = index;
            piece_has_word = false;
        }
        piece_has_word |= !is_space;
        previous_is_space = is_space;
    }
    if start < text.len() {
        pieces.push(text[start..].to_owned());
    }
    pieces
}

/// Splits JSON text where a run of letters or digits meets a run of other
/// characters, as `{"`, `city`, `":"`, `Seoul`, `"}`. Recorded tool-call
/// argument fragments break at the same places.
pub(crate) fn split_json_fragments(json: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut previous_class: Option<bool> = None;
    for (index, character) in json.char_indices() {
        let class = character.is_alphanumeric();
        if previous_class.is_some_and(|previous| previous != class) {
            pieces.push(json[start..index].to_owned());
            start = index;
        }
        previous_class = Some(class);
    }
    if start < json.len() {
        pieces.push(json[start..].to_owned());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn summary_reads_openai_request() {
        let body = json!({
            "model": "gpt-4o-mini",
            "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "안녕하세요 세계"}]}
            ]
        });
        let summary = RequestSummary::from_json(&body);
        assert_eq!(summary.model, "gpt-4o-mini");
        assert!(summary.stream);
        assert!(summary.include_usage);
        assert_eq!(summary.input_words, 4);
        assert_eq!(summary.last_user_text, "안녕하세요 세계");
    }

    #[test]
    fn summary_counts_anthropic_system() {
        let body = json!({
            "model": "claude-haiku-4-5",
            "system": [{"type": "text", "text": "one two three"}],
            "messages": [{"role": "user", "content": "four"}]
        });
        let summary = RequestSummary::from_json(&body);
        assert_eq!(summary.input_words, 4);
        assert!(!summary.stream);
    }

    #[test]
    fn echo_text_without_user_message() {
        let summary = RequestSummary::from_json(&json!({"model": "m", "messages": []}));
        assert_eq!(summary.echo_text(), "Hello from the llmops mock server.");
    }

    #[test]
    fn split_words_keeps_leading_space() {
        assert_eq!(split_words("The capital  of"), ["The", " capital", "  of"]);
        assert_eq!(split_words("  lead"), ["  lead"]);
        assert_eq!(split_words(""), Vec::<String>::new());
        assert_eq!(split_words("안녕 👋🏽 세계"), ["안녕", " 👋🏽", " 세계"]);
    }

    #[test]
    fn split_json_fragments_matches_recorded_shape() {
        assert_eq!(
            split_json_fragments(r#"{"country":"UK"}"#),
            [r#"{""#, "country", r#"":""#, "UK", r#""}"#]
        );
    }

    proptest! {
        #[test]
        fn split_words_concatenates_back(text in "\\PC{0,40}") {
            prop_assert_eq!(split_words(&text).concat(), text);
        }

        #[test]
        fn split_json_fragments_concatenates_back(text in "\\PC{0,40}") {
            let pieces = split_json_fragments(&text);
            prop_assert!(pieces.iter().all(|piece| !piece.is_empty()));
            prop_assert_eq!(pieces.concat(), text);
        }
    }
}
