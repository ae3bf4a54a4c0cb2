use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::ExtraFields;
use super::message::ChatMessage;
use super::usage::Usage;

/// Why generation of a choice ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FinishReason {
    /// A natural end or a stop sequence (`stop`).
    Stop,
    /// The token cap was reached (`length`).
    Length,
    /// The model called tools (`tool_calls`).
    ToolCalls,
    /// A content filter removed output (`content_filter`).
    ContentFilter,
    /// The legacy function call (`function_call`).
    FunctionCall,
    /// A reason this version does not know, kept verbatim.
    Other(String),
}

impl FinishReason {
    /// Returns the wire name of the reason.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::FunctionCall => "function_call",
            FinishReason::Other(reason) => reason,
        }
    }
}

impl From<&str> for FinishReason {
    fn from(reason: &str) -> Self {
        match reason {
            "stop" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "tool_calls" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            "function_call" => FinishReason::FunctionCall,
            other => FinishReason::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FinishReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let reason = String::deserialize(deserializer)?;
        Ok(FinishReason::from(reason.as_str()))
    }
}

/// A non-streamed Chat Completions response (`object: "chat.completion"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// The completion id, such as `chatcmpl-...`.
    pub id: String,
    /// Always `chat.completion`.
    #[serde(default = "chat_completion_object")]
    pub object: String,
    /// Unix time in seconds when the completion was created.
    #[serde(default)]
    pub created: u64,
    /// The model that produced the completion, as the provider names it.
    pub model: String,
    /// The generated choices.
    pub choices: Vec<Choice>,
    /// Token usage, when the provider reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The backend configuration fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// The service tier that processed the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

fn chat_completion_object() -> String {
    "chat.completion".to_owned()
}

impl ChatCompletion {
    /// Returns the text of the first choice, or an empty string.
    pub fn text(&self) -> String {
        self.choices
            .first()
            .map(|choice| choice.message.text())
            .unwrap_or_default()
    }
}

/// One choice of a non-streamed completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The position of the choice.
    #[serde(default)]
    pub index: u32,
    /// The generated assistant message.
    pub message: ChatMessage,
    /// Why generation ended; `null` only in malformed responses.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Token log-probabilities, when requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}
