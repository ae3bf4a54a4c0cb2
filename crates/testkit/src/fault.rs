//! HTTP error replies with the bodies and headers real providers send.

use bytes::Bytes;

use crate::recorded::{anthropic, openai};

/// An HTTP error reply that a [`Scenario`](crate::Scenario) sends in place
/// of a model reply.
///
/// Provider-named variants send the same recorded body on every route. The
/// variants without a provider name ([`Fault::Unauthorized`],
/// [`Fault::ContextLengthExceeded`], [`Fault::RateLimit`]) pick the OpenAI
/// or the Anthropic body by the route that received the request. Bodies are
/// the files in [`recorded`](crate::recorded), sent byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// OpenAI 401 `invalid_api_key`.
    OpenAiInvalidApiKey,
    /// OpenAI 400 `model_not_found`.
    OpenAiModelNotFound,
    /// OpenAI 400 `context_length_exceeded`, pretty-printed.
    OpenAiContextLengthExceeded,
    /// OpenAI 429 `rate_limit_exceeded` on tokens per minute.
    OpenAiRateLimit {
        /// Value of the `retry-after` header in seconds; `None` omits it.
        retry_after_s: Option<u64>,
    },
    /// OpenAI 429 `insufficient_quota`, which no retry fixes.
    OpenAiInsufficientQuota,
    /// Anthropic 400 `invalid_request_error`.
    AnthropicInvalidRequest,
    /// Anthropic 401 `authentication_error`.
    AnthropicAuthentication,
    /// Anthropic 400 `prompt is too long: 208310 tokens > 200000 maximum`.
    AnthropicPromptTooLong,
    /// Anthropic 429 `rate_limit_error`.
    AnthropicRateLimit {
        /// Value of the `retry-after` header in seconds; `None` omits it.
        retry_after_s: Option<u64>,
    },
    /// Anthropic 529 `overloaded_error`.
    AnthropicOverloaded,
    /// Anthropic 500 `api_error` with the message `Overloaded`.
    AnthropicOverloadedAs500,
    /// 401 in the protocol of the route.
    Unauthorized,
    /// 400 context window exceeded in the protocol of the route.
    ContextLengthExceeded,
    /// 429 rate limit in the protocol of the route.
    RateLimit {
        /// Value of the `retry-after` header in seconds; `None` omits it.
        retry_after_s: Option<u64>,
    },
    /// Any status with a body of your choice.
    Status {
        /// HTTP status code, 100 to 999.
        status: u16,
        /// Response body, sent unchanged.
        body: Bytes,
        /// Value of the `content-type` header.
        content_type: String,
        /// Extra response headers as name and value pairs.
        headers: Vec<(String, String)>,
    },
}

impl Fault {
    /// Creates a [`Fault::Status`] with a JSON body and no extra headers.
    pub fn status(status: u16, body: impl Into<Bytes>) -> Fault {
        Fault::Status {
            status,
            body: body.into(),
            content_type: "application/json".to_owned(),
            headers: Vec::new(),
        }
    }
}

/// The wire protocol of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// OpenAI Chat Completions, embeddings and models.
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
}

/// A fault turned into status, headers and body for one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorReply {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
    pub(crate) headers: Vec<(String, String)>,
}

/// OpenAI sends this content type on its JSON error bodies.
const OPENAI_ERROR_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// Anthropic sends this content type on its JSON error bodies.
const ANTHROPIC_ERROR_CONTENT_TYPE: &str = "application/json";

impl ErrorReply {
    /// Resolves `fault` for a request on a route of `protocol`; `request_id`
    /// fills the provider's request id header.
    pub(crate) fn new(fault: &Fault, protocol: Protocol, request_id: &str) -> ErrorReply {
        use Fault as F;
        match (fault, protocol) {
            (F::OpenAiInvalidApiKey, _) | (F::Unauthorized, Protocol::OpenAi) => {
                openai_reply(401, openai::ERROR_401_INVALID_API_KEY, request_id, None)
            }
            (F::OpenAiModelNotFound, _) => {
                openai_reply(400, openai::ERROR_400_MODEL_NOT_FOUND, request_id, None)
            }
            (F::OpenAiContextLengthExceeded, _) | (F::ContextLengthExceeded, Protocol::OpenAi) => {
                let body = openai::ERROR_400_CONTEXT_LENGTH_REPORTED;
                openai_reply(400, body, request_id, None)
            }
            (F::OpenAiRateLimit { retry_after_s }, _)
            | (F::RateLimit { retry_after_s }, Protocol::OpenAi) => {
                let body = openai::ERROR_429_RATE_LIMIT_REPORTED;
                openai_reply(429, body, request_id, *retry_after_s)
            }
            (F::OpenAiInsufficientQuota, _) => {
                let body = openai::ERROR_429_INSUFFICIENT_QUOTA_REPORTED;
                openai_reply(429, body, request_id, None)
            }
            (F::AnthropicInvalidRequest, _) => {
                anthropic_reply(400, anthropic::ERROR_400_INVALID_REQUEST, request_id, None)
            }
            (F::AnthropicAuthentication, _) | (F::Unauthorized, Protocol::Anthropic) => {
                anthropic_reply(401, anthropic::ERROR_401_AUTHENTICATION, request_id, None)
            }
            (F::AnthropicPromptTooLong, _) | (F::ContextLengthExceeded, Protocol::Anthropic) => {
                let body = anthropic::ERROR_400_PROMPT_TOO_LONG_REPORTED;
                anthropic_reply(400, body, request_id, None)
            }
            (F::AnthropicRateLimit { retry_after_s }, _)
            | (F::RateLimit { retry_after_s }, Protocol::Anthropic) => {
                let body = anthropic::ERROR_429_RATE_LIMIT_REPORTED;
                anthropic_reply(429, body, request_id, *retry_after_s)
            }
            (F::AnthropicOverloaded, _) => {
                let body = anthropic::ERROR_529_OVERLOADED_REPORTED;
                let mut reply = anthropic_reply(529, body, request_id, None);
                // The recorded 529 reply carried this header.
                let cache_control = ("cache-control".to_owned(), "no-store, no-cache".to_owned());
                reply.headers.push(cache_control);
                reply
            }
            (F::AnthropicOverloadedAs500, _) => anthropic_reply(
                500,
                anthropic::ERROR_500_OVERLOADED_REPORTED,
                request_id,
                None,
            ),
            (
                F::Status {
                    status,
                    body,
                    content_type,
                    headers,
                },
                _,
            ) => {
                let mut all_headers = vec![("content-type".to_owned(), content_type.clone())];
                all_headers.extend(headers.iter().cloned());
                ErrorReply {
                    status: *status,
                    body: body.clone(),
                    headers: all_headers,
                }
            }
        }
    }
}

/// Builds an OpenAI error reply with `x-request-id` and, when given,
/// `retry-after`.
fn openai_reply(
    status: u16,
    body: &'static [u8],
    request_id: &str,
    retry_after_s: Option<u64>,
) -> ErrorReply {
    let mut headers = vec![
        (
            "content-type".to_owned(),
            OPENAI_ERROR_CONTENT_TYPE.to_owned(),
        ),
        ("x-request-id".to_owned(), request_id.to_owned()),
    ];
    if let Some(seconds) = retry_after_s {
        headers.push(("retry-after".to_owned(), seconds.to_string()));
    }
    ErrorReply {
        status,
        body: Bytes::from_static(body),
        headers,
    }
}

/// Builds an Anthropic error reply with `request-id`, `x-should-retry`
/// (`true` for 429 and 5xx, as the recorded replies show) and, when given,
/// `retry-after`.
fn anthropic_reply(
    status: u16,
    body: &'static [u8],
    request_id: &str,
    retry_after_s: Option<u64>,
) -> ErrorReply {
    let should_retry = status == 429 || status >= 500;
    let mut headers = vec![
        (
            "content-type".to_owned(),
            ANTHROPIC_ERROR_CONTENT_TYPE.to_owned(),
        ),
        ("request-id".to_owned(), request_id.to_owned()),
        ("x-should-retry".to_owned(), should_retry.to_string()),
    ];
    if let Some(seconds) = retry_after_s {
        headers.push(("retry-after".to_owned(), seconds.to_string()));
    }
    ErrorReply {
        status,
        body: Bytes::from_static(body),
        headers,
    }
}
