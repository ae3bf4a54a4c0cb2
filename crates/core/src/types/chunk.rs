use serde::Serialize;
use serde_json::Value;

use super::ExtraFields;
use super::extra::deserialize_with_extra;
use super::message::Role;
use super::response::FinishReason;
use super::tools::ToolCallDelta;
use super::usage::Usage;

/// One server-sent event of a streamed completion
/// (`object: "chat.completion.chunk"`).
///
/// With `stream_options.include_usage`, the last chunk before `[DONE]` has
/// empty `choices` and carries `usage`; earlier chunks carry `"usage": null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatCompletionChunk {
    /// The completion id, the same in every chunk of a stream.
    pub id: String,
    /// Always `chat.completion.chunk`.
    pub object: String,
    /// Unix time in seconds when the completion was created.
    pub created: u64,
    /// The model that produced the chunk.
    pub model: String,
    /// Deltas per choice; empty in the final usage chunk.
    pub choices: Vec<ChunkChoice>,
    /// Token usage, in the final chunk only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The backend configuration fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// The service tier that processed the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

fn chunk_object() -> String {
    "chat.completion.chunk".to_owned()
}

deserialize_with_extra!(ChatCompletionChunk, "a chat.completion.chunk object", {
    "id" as id: String = required,
    "object" as object: String = default(chunk_object),
    "created" as created: u64 = default,
    "model" as model: String = default,
    "choices" as choices: Vec<ChunkChoice> = default,
    "usage" as usage: Option<Usage> = default,
    "system_fingerprint" as system_fingerprint: Option<String> = default,
    "service_tier" as service_tier: Option<String> = default,
});

impl ChatCompletionChunk {
    /// Creates a chunk created now, with no usage.
    pub fn new(id: impl Into<String>, model: impl Into<String>, choices: Vec<ChunkChoice>) -> Self {
        ChatCompletionChunk {
            id: id.into(),
            object: chunk_object(),
            created: super::response::unix_now(),
            model: model.into(),
            choices,
            usage: None,
            system_fingerprint: None,
            service_tier: None,
            extra: ExtraFields::new(),
        }
    }

    /// Returns the content text of the first choice's delta, if any.
    pub fn delta_text(&self) -> Option<&str> {
        self.choices.first()?.delta.content.as_deref()
    }
}

/// The delta of one choice in a chunk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkChoice {
    /// The position of the choice this delta extends.
    pub index: u32,
    /// The new content of this chunk.
    pub delta: Delta,
    /// Set on the last chunk of the choice.
    pub finish_reason: Option<FinishReason>,
    /// Token log-probabilities, when requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

deserialize_with_extra!(ChunkChoice, "a chunk choice object", {
    "index" as index: u32 = default,
    "delta" as delta: Delta = default,
    "finish_reason" as finish_reason: Option<FinishReason> = default,
    "logprobs" as logprobs: Option<Value> = default,
});

impl ChunkChoice {
    /// Creates the delta of choice `index`.
    pub fn new(index: u32, delta: Delta, finish_reason: Option<FinishReason>) -> Self {
        ChunkChoice {
            index,
            delta,
            finish_reason,
            logprobs: None,
            extra: ExtraFields::new(),
        }
    }
}

/// New message content in a chunk.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Delta {
    /// The role, in the first chunk only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// A piece of the content text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Tool-call fragments, each with the `index` of its call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// A piece of a refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

deserialize_with_extra!(Delta, "a chunk delta object", {
    "role" as role: Option<Role> = default,
    "content" as content: Option<String> = default,
    "tool_calls" as tool_calls: Option<Vec<ToolCallDelta>> = default,
    "refusal" as refusal: Option<String> = default,
});

impl Delta {
    /// Creates a delta carrying a piece of content text.
    pub fn text(content: impl Into<String>) -> Self {
        Delta {
            content: Some(content.into()),
            ..Delta::default()
        }
    }
}
