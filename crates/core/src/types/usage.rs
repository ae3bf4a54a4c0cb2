use serde::{Deserialize, Serialize};

use super::ExtraFields;

/// Token usage in the OpenAI wire format.
///
/// `prompt_tokens` includes `prompt_tokens_details.cached_tokens` (OpenAI
/// semantics). Backends for providers with other semantics, such as
/// Anthropic, convert into this shape and also fill
/// `prompt_tokens_details.cache_creation_tokens` so cost can be computed
/// without counting any token twice.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens, cached ones included.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Generated tokens, reasoning tokens included.
    #[serde(default)]
    pub completion_tokens: u64,
    /// `prompt_tokens + completion_tokens`.
    #[serde(default)]
    pub total_tokens: u64,
    /// Breakdown of the input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Breakdown of the generated tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

impl Usage {
    /// Creates usage from input and output counts, with no cache details.
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Usage {
            prompt_tokens,
            completion_tokens,
            // Saturates instead of overflowing on absurd counts from a caller.
            total_tokens: prompt_tokens.saturating_add(completion_tokens),
            ..Usage::default()
        }
    }

    /// Returns the input tokens read from a prompt cache.
    pub fn cached_tokens(&self) -> u64 {
        self.prompt_tokens_details
            .as_ref()
            .and_then(|details| details.cached_tokens)
            .unwrap_or(0)
    }

    /// Returns the input tokens written to a prompt cache.
    pub fn cache_creation_tokens(&self) -> u64 {
        self.prompt_tokens_details
            .as_ref()
            .and_then(|details| details.cache_creation_tokens)
            .unwrap_or(0)
    }

    /// Returns the generated tokens spent on hidden reasoning.
    pub fn reasoning_tokens(&self) -> u64 {
        self.completion_tokens_details
            .as_ref()
            .and_then(|details| details.reasoning_tokens)
            .unwrap_or(0)
    }
}

/// Breakdown of `prompt_tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    /// Input tokens served from the provider's prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    /// Input tokens written to the prompt cache (Anthropic's
    /// `cache_creation_input_tokens`); not an OpenAI field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_tokens: Option<u64>,
    /// Input audio tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

/// Breakdown of `completion_tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    /// Tokens of hidden reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// Predicted-output tokens that appeared in the completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_prediction_tokens: Option<u64>,
    /// Predicted-output tokens that did not appear but are billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_prediction_tokens: Option<u64>,
    /// Output audio tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}
