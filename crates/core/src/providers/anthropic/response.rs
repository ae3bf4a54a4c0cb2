//! Conversion of Anthropic Messages responses and usage into the OpenAI
//! format.

use serde::Deserialize;
use serde_json::Value;

use crate::types::{
    ChatCompletion, ChatMessage, Choice, ExtraFields, FinishReason, FunctionCall, MessageContent,
    PromptTokensDetails, Role, ToolCall, Usage,
};

/// Token usage as the Messages API reports it. Absent counts are `None`, so
/// a later report can tell "not sent" from zero.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub(crate) struct AnthropicUsage {
    #[serde(default)]
    pub(crate) input_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) output_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_read_input_tokens: Option<u64>,
}

impl AnthropicUsage {
    /// Takes the counts a later report sends. Every Messages API count is
    /// cumulative for the message, so a repeated count replaces the earlier
    /// one and is never added to it.
    pub(crate) fn update(&mut self, later: &AnthropicUsage) {
        let keep_max = |current: &mut Option<u64>, new: Option<u64>| {
            if let Some(new) = new {
                *current = Some(current.map_or(new, |old| old.max(new)));
            }
        };
        keep_max(&mut self.input_tokens, later.input_tokens);
        keep_max(&mut self.output_tokens, later.output_tokens);
        keep_max(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        keep_max(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
    }

    /// Converts to OpenAI semantics: `prompt_tokens` counts every input token
    /// (uncached, cache writes and cache reads), with the cache reads in
    /// `cached_tokens` and the cache writes in `cache_creation_tokens`.
    pub(crate) fn to_openai(&self) -> Usage {
        let uncached = self.input_tokens.unwrap_or(0);
        let cache_write = self.cache_creation_input_tokens.unwrap_or(0);
        let cache_read = self.cache_read_input_tokens.unwrap_or(0);
        let mut usage = Usage::new(
            uncached + cache_write + cache_read,
            self.output_tokens.unwrap_or(0),
        );
        if self.cache_creation_input_tokens.is_some() || self.cache_read_input_tokens.is_some() {
            usage.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: Some(cache_read),
                cache_creation_tokens: Some(cache_write),
                ..PromptTokensDetails::default()
            });
        }
        usage
    }
}

/// A non-streamed Messages API response.
#[derive(Debug, Deserialize)]
pub(crate) struct MessagesResponse {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) model: String,
    #[serde(default)]
    pub(crate) content: Vec<Value>,
    #[serde(default)]
    pub(crate) stop_reason: Option<String>,
    #[serde(default)]
    pub(crate) stop_sequence: Option<String>,
    #[serde(default)]
    pub(crate) usage: AnthropicUsage,
}

/// Maps an Anthropic `stop_reason` onto an OpenAI finish reason.
pub(crate) fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "end_turn" | "stop_sequence" | "pause_turn" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Returns the current Unix time in seconds, for `created`.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

impl MessagesResponse {
    /// Converts into a `chat.completion`: text blocks joined into the content,
    /// `tool_use` blocks into `tool_calls`; thinking blocks are dropped.
    ///
    /// With `json_output`, the name of the tool that carries a JSON response
    /// format, that tool's input is appended to the content as JSON text (a
    /// forced tool call comes with no text in practice; a stream would have
    /// sent any text first) and its `tool_use` stop reason becomes `stop`.
    pub(crate) fn into_completion(self, json_output: Option<&str>) -> ChatCompletion {
        let mut text = String::new();
        let mut json_text: Option<String> = None;
        let mut tool_calls = Vec::new();
        for block in &self.content {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    text.push_str(block.get("text").and_then(Value::as_str).unwrap_or(""))
                }
                Some("tool_use")
                    if json_output.is_some()
                        && block.get("name").and_then(Value::as_str) == json_output =>
                {
                    let input = block.get("input").cloned().unwrap_or(Value::Null);
                    json_text = Some(input.to_string());
                }
                Some("tool_use") => tool_calls.push(tool_call(block)),
                _ => {}
            }
        }
        let mut stop_reason = self.stop_reason.as_deref().map(finish_reason);
        if let Some(json) = json_text {
            text.push_str(&json);
            if stop_reason == Some(FinishReason::ToolCalls) && tool_calls.is_empty() {
                stop_reason = Some(FinishReason::Stop);
            }
        }

        let mut message = ChatMessage::new(Role::Assistant, "");
        message.content =
            (!text.is_empty() || tool_calls.is_empty()).then_some(MessageContent::Text(text));
        message.tool_calls = (!tool_calls.is_empty()).then_some(tool_calls);
        let mut extra = ExtraFields::new();
        if let Some(sequence) = &self.stop_sequence {
            extra.insert("stop_sequence".to_owned(), Value::String(sequence.clone()));
        }

        ChatCompletion {
            id: self.id,
            object: "chat.completion".to_owned(),
            created: unix_now(),
            model: self.model,
            choices: vec![Choice {
                index: 0,
                message,
                finish_reason: stop_reason,
                logprobs: None,
                extra,
            }],
            usage: Some(self.usage.to_openai()),
            system_fingerprint: None,
            service_tier: None,
            extra: ExtraFields::new(),
        }
    }
}

fn tool_call(block: &Value) -> ToolCall {
    let text_field = |name: &str| {
        block
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let input = block
        .get("input")
        .cloned()
        .unwrap_or_else(|| Value::Object(ExtraFields::new()));
    ToolCall {
        id: text_field("id"),
        kind: "function".to_owned(),
        function: FunctionCall {
            name: text_field("name"),
            arguments: input.to_string(),
            extra: ExtraFields::new(),
        },
        extra: ExtraFields::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, write: Option<u64>, read: Option<u64>, output: u64) -> AnthropicUsage {
        AnthropicUsage {
            input_tokens: Some(input),
            output_tokens: Some(output),
            cache_creation_input_tokens: write,
            cache_read_input_tokens: read,
        }
    }

    #[test]
    fn usage_counts_every_input_token_once() {
        let converted = usage(18, Some(1031), Some(0), 100).to_openai();
        assert_eq!(converted.prompt_tokens, 1049);
        assert_eq!(converted.completion_tokens, 100);
        assert_eq!(converted.total_tokens, 1149);
        assert_eq!(converted.cached_tokens(), 0);
        assert_eq!(converted.cache_creation_tokens(), 1031);
    }

    #[test]
    fn usage_without_cache_fields_has_no_details() {
        let converted = usage(10, None, None, 4).to_openai();
        assert_eq!(converted.prompt_tokens, 10);
        assert_eq!(converted.prompt_tokens_details, None);
    }

    #[test]
    fn repeated_usage_is_not_added() {
        let mut total = usage(10, Some(0), Some(5), 2);
        total.update(&usage(10, Some(0), Some(5), 40));
        total.update(&AnthropicUsage {
            output_tokens: Some(41),
            ..AnthropicUsage::default()
        });
        assert_eq!(total, usage(10, Some(0), Some(5), 41));
    }

    #[test]
    fn stop_reasons_map() {
        assert_eq!(finish_reason("end_turn"), FinishReason::Stop);
        assert_eq!(finish_reason("stop_sequence"), FinishReason::Stop);
        assert_eq!(finish_reason("max_tokens"), FinishReason::Length);
        assert_eq!(finish_reason("tool_use"), FinishReason::ToolCalls);
        assert_eq!(finish_reason("refusal"), FinishReason::ContentFilter);
        assert_eq!(
            finish_reason("new_reason"),
            FinishReason::Other("new_reason".to_owned())
        );
    }
}
