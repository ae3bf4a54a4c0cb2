//! Response bodies recorded from the real OpenAI and Anthropic APIs, embedded
//! byte for byte.
//!
//! Parser tests can send these over HTTP with
//! [`Scenario::replay_sse`](crate::Scenario::replay_sse) or
//! [`Scenario::replay_json`](crate::Scenario::replay_json). The files live in
//! the crate's `data/` folder, whose README gives each file's source
//! repository, commit and licence. Bodies named `*_REPORTED` were copied from
//! bug reports in which users pasted what the API returned. The README gives
//! the fidelity of each one.

/// OpenAI Chat Completions and embeddings bodies.
pub mod openai {
    /// Stream of a `tool_calls` reply with `include_usage` (gpt-4o-mini, 2026):
    /// id and name in the first fragment, `obfuscation` fields, usage 53/15/68.
    pub const CHAT_STREAM_TOOL_CALLS: &[u8] =
        include_bytes!("../data/openai/chat_stream_tool_calls_include_usage.sse");
    /// Stream of a text reply with `include_usage` (gpt-4o-mini, 2026); usage 78/9/87.
    pub const CHAT_STREAM_TEXT: &[u8] =
        include_bytes!("../data/openai/chat_stream_text_include_usage.sse");
    /// Stream of a `tool_calls` reply recorded in May 2025, without
    /// `obfuscation`; usage 54/20/74.
    pub const CHAT_STREAM_TOOL_CALLS_2025_05: &[u8] =
        include_bytes!("../data/openai/chat_stream_tool_calls_include_usage_2025-05.sse");
    /// Stream of a text reply recorded in May 2025; usage 87/26/113.
    pub const CHAT_STREAM_TEXT_2025_05: &[u8] =
        include_bytes!("../data/openai/chat_stream_text_after_tool_include_usage_2025-05.sse");
    /// Stream with `finish_reason: length` and 1280 cached prompt tokens
    /// (gpt-4o-2024-08-06); usage 1420 prompt, 100 completion.
    pub const CHAT_STREAM_CACHED_TOKENS: &[u8] =
        include_bytes!("../data/openai/chat_stream_cached_tokens_include_usage.sse");
    /// Azure OpenAI stream: a first chunk with empty `choices` and
    /// `prompt_filter_results`, `content_filter_results` on every chunk, no usage.
    pub const AZURE_CHAT_STREAM: &[u8] =
        include_bytes!("../data/openai/azure_chat_stream_with_prompt_filter_results.sse");
    /// Responses API stream (`response.created` to `response.completed`).
    pub const RESPONSES_STREAM_TEXT: &[u8] =
        include_bytes!("../data/openai/responses_api_stream_text.sse");
    /// Non-stream `chat.completion` with one tool call.
    pub const CHAT_COMPLETION_TOOL_CALLS: &[u8] =
        include_bytes!("../data/openai/chat_completion_tool_calls.json");
    /// Non-stream `chat.completion` with the text `YES`; usage 146/3/149.
    pub const CHAT_COMPLETION_TEXT: &[u8] =
        include_bytes!("../data/openai/chat_completion_text.json");
    /// Non-stream `chat.completion` with 1152 cached tokens, `service_tier`
    /// and `system_fingerprint`; usage 1220/100.
    pub const CHAT_COMPLETION_CACHED_TOKENS: &[u8] =
        include_bytes!("../data/openai/chat_completion_cached_tokens.json");
    /// 401 body for an invalid API key, pretty-printed with 4 spaces and a
    /// trailing newline.
    pub const ERROR_401_INVALID_API_KEY: &[u8] =
        include_bytes!("../data/openai/error_401_invalid_api_key.json");
    /// 400 `model_not_found` body, pretty-printed with 2 spaces.
    pub const ERROR_400_MODEL_NOT_FOUND: &[u8] =
        include_bytes!("../data/openai/error_400_model_not_found_responses_api.json");
    /// 400 `context_length_exceeded` body, pretty-printed (reported, 2023).
    pub const ERROR_400_CONTEXT_LENGTH_REPORTED: &[u8] =
        include_bytes!("../data/openai/error_400_context_length_exceeded.json");
    /// 400 `context_length_exceeded` body in compact form (reported, 2023).
    pub const ERROR_400_CONTEXT_LENGTH_COMPACT_REPORTED: &[u8] =
        include_bytes!("../data/openai/error_400_context_length_exceeded_compact.json");
    /// 429 `insufficient_quota` body with `code: null` (reported, 2023).
    pub const ERROR_429_INSUFFICIENT_QUOTA_2023_REPORTED: &[u8] =
        include_bytes!("../data/openai/error_429_insufficient_quota_2023.json");
    /// 429 `insufficient_quota` body with `code: "insufficient_quota"`
    /// (reported, December 2023).
    pub const ERROR_429_INSUFFICIENT_QUOTA_REPORTED: &[u8] =
        include_bytes!("../data/openai/error_429_insufficient_quota.json");
    /// 429 `rate_limit_exceeded` body on tokens per minute (reported, 2025;
    /// key order rebuilt from an SDK object dump).
    pub const ERROR_429_RATE_LIMIT_REPORTED: &[u8] =
        include_bytes!("../data/openai/error_429_rate_limit_exceeded.json");
    /// 429 `rate_limit_exceeded` body for a single request larger than the
    /// limit (reported, 2024; rebuilt from a Python dict).
    pub const ERROR_429_REQUEST_TOO_LARGE_REPORTED: &[u8] =
        include_bytes!("../data/openai/error_429_request_too_large.json");
}

/// Anthropic Messages bodies.
pub mod anthropic {
    /// Stream of a short text reply (claude-haiku-4-5, 2025) with cache
    /// fields in `message_start` and the server's padding spaces.
    pub const MESSAGES_STREAM_TEXT: &[u8] =
        include_bytes!("../data/anthropic/messages_stream_text.sse");
    /// Stream of a `tool_use` block with an empty `input_json_delta`.
    pub const MESSAGES_STREAM_TOOL_USE: &[u8] =
        include_bytes!("../data/anthropic/messages_stream_tool_use.sse");
    /// Stream with `thinking_delta` and `signature_delta` blocks, then text.
    pub const MESSAGES_STREAM_THINKING: &[u8] =
        include_bytes!("../data/anthropic/messages_stream_thinking.sse");
    /// Stream that writes 1031 tokens to the prompt cache; `max_tokens` stop.
    pub const MESSAGES_STREAM_CACHE_WRITE: &[u8] =
        include_bytes!("../data/anthropic/messages_stream_cache_write.sse");
    /// Stream that reads 1031 tokens from the prompt cache.
    pub const MESSAGES_STREAM_CACHE_READ: &[u8] =
        include_bytes!("../data/anthropic/messages_stream_cache_read.sse");
    /// Stream of a text block, then a `tool_use` block with five
    /// `input_json_delta` fragments (claude-3-opus, 2024 usage format).
    pub const MESSAGES_STREAM_TEXT_THEN_TOOL_USE: &[u8] =
        include_bytes!("../data/anthropic/messages_stream_text_then_tool_use_claude3opus.sse");
    /// Non-stream reply that wrote 2055 tokens to the prompt cache.
    pub const MESSAGES_CACHE_WRITE: &[u8] =
        include_bytes!("../data/anthropic/messages_cache_write.json");
    /// Non-stream reply that read 2055 tokens from the prompt cache.
    pub const MESSAGES_CACHE_READ: &[u8] =
        include_bytes!("../data/anthropic/messages_cache_read.json");
    /// Non-stream reply with a text block and a `tool_use` block.
    pub const MESSAGES_TOOL_USE: &[u8] = include_bytes!("../data/anthropic/messages_tool_use.json");
    /// 400 `invalid_request_error` body (2024, without `request_id`).
    pub const ERROR_400_INVALID_REQUEST: &[u8] =
        include_bytes!("../data/anthropic/error_400_invalid_request.json");
    /// 401 `authentication_error` body.
    pub const ERROR_401_AUTHENTICATION: &[u8] =
        include_bytes!("../data/anthropic/error_401_authentication.json");
    /// 529 `overloaded_error` body, 75 bytes (reported, 2024, with headers).
    pub const ERROR_529_OVERLOADED_REPORTED: &[u8] =
        include_bytes!("../data/anthropic/error_529_overloaded.json");
    /// 529 `overloaded_error` body with a top-level `request_id` (reported, 2026).
    pub const ERROR_529_OVERLOADED_WITH_REQUEST_ID_REPORTED: &[u8] =
        include_bytes!("../data/anthropic/error_529_overloaded_with_request_id.json");
    /// 500 `api_error` body with the message `Overloaded` and a null
    /// `request_id` (reported, 2025).
    pub const ERROR_500_OVERLOADED_REPORTED: &[u8] =
        include_bytes!("../data/anthropic/error_500_overloaded.json");
    /// Payload of a mid-stream `event: error` (reported, 2025; rebuilt from a
    /// Python dict).
    pub const STREAM_ERROR_OVERLOADED_REPORTED: &[u8] =
        include_bytes!("../data/anthropic/stream_error_overloaded.json");
    /// 400 `prompt is too long: 208310 tokens > 200000 maximum` (reported, 2025).
    pub const ERROR_400_PROMPT_TOO_LONG_REPORTED: &[u8] =
        include_bytes!("../data/anthropic/error_400_prompt_too_long.json");
    /// 400 prompt too long against a 1M-token window (reported).
    pub const ERROR_400_PROMPT_TOO_LONG_1M_REPORTED: &[u8] =
        include_bytes!("../data/anthropic/error_400_prompt_too_long_1m.json");
    /// 429 `rate_limit_error` on input tokens per minute (reported, 2025).
    pub const ERROR_429_RATE_LIMIT_REPORTED: &[u8] =
        include_bytes!("../data/anthropic/error_429_rate_limit.json");
}
