use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::ExtraFields;
use super::chunk::{ChatCompletionChunk, ChunkChoice, Delta};
use super::message::{ChatMessage, MessageContent};
use super::tools::{FunctionCallDelta, ToolCallDelta};
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
    /// Creates a completion created now, with no usage.
    pub fn new(id: impl Into<String>, model: impl Into<String>, choices: Vec<Choice>) -> Self {
        ChatCompletion {
            id: id.into(),
            object: chat_completion_object(),
            created: unix_now(),
            model: model.into(),
            choices,
            usage: None,
            system_fingerprint: None,
            service_tier: None,
            extra: ExtraFields::new(),
        }
    }

    /// Converts the completion into the chunks a stream of it would carry:
    /// a role chunk and a content chunk per choice (tool calls as fragments
    /// with their `index`), then a usage chunk when `include_usage` is set.
    pub fn to_chunks(&self, include_usage: bool) -> Vec<ChatCompletionChunk> {
        let mut chunks = Vec::new();
        for choice in &self.choices {
            let message = &choice.message;
            let role_delta = Delta {
                role: Some(message.role.clone()),
                content: Some(String::new()),
                ..Delta::default()
            };
            chunks.push(self.chunk(ChunkChoice::new(choice.index, role_delta, None)));

            let tool_calls = message.tool_calls.as_ref().map(|calls| {
                calls
                    .iter()
                    .zip(0u32..)
                    .map(|(call, index)| ToolCallDelta {
                        index,
                        id: Some(call.id.clone()),
                        kind: Some(call.kind.clone()),
                        function: Some(FunctionCallDelta {
                            name: Some(call.function.name.clone()),
                            arguments: Some(call.function.arguments.clone()),
                            extra: ExtraFields::new(),
                        }),
                        extra: ExtraFields::new(),
                    })
                    .collect()
            });
            let content_delta = Delta {
                content: message.content.as_ref().map(MessageContent::text),
                tool_calls,
                refusal: message.refusal.clone(),
                ..Delta::default()
            };
            let finish = choice.finish_reason.clone();
            chunks.push(self.chunk(ChunkChoice::new(choice.index, content_delta, finish)));
        }
        if include_usage {
            if let Some(usage) = &self.usage {
                let mut chunk = self.chunk_without_choices();
                chunk.usage = Some(usage.clone());
                chunks.push(chunk);
            }
        }
        chunks
    }

    fn chunk(&self, choice: ChunkChoice) -> ChatCompletionChunk {
        let mut chunk = self.chunk_without_choices();
        chunk.choices.push(choice);
        chunk
    }

    fn chunk_without_choices(&self) -> ChatCompletionChunk {
        let mut chunk = ChatCompletionChunk::new(self.id.clone(), self.model.clone(), Vec::new());
        chunk.created = self.created;
        chunk
            .system_fingerprint
            .clone_from(&self.system_fingerprint);
        chunk
    }

    /// Returns the text of the first choice, or an empty string.
    pub fn text(&self) -> String {
        self.choices
            .first()
            .map(|choice| choice.message.text())
            .unwrap_or_default()
    }
}

impl Choice {
    /// Creates a choice from a message and the reason generation ended.
    pub fn new(index: u32, message: ChatMessage, finish_reason: Option<FinishReason>) -> Self {
        Choice {
            index,
            message,
            finish_reason,
            logprobs: None,
            extra: ExtraFields::new(),
        }
    }
}

/// Returns the current Unix time in seconds, as `created` fields carry it.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
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
