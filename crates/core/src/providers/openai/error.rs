//! Mapping OpenAI-compatible error responses onto [`Error`].

use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::providers::retry_after_from_headers;
use crate::providers::wire_error::body_snippet;

/// The error fields an OpenAI-compatible server returns.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct OpenAiErrorBody {
    pub(crate) message: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) param: Option<String>,
}

#[derive(Deserialize)]
struct ErrorFields {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    param: Option<Value>,
}

impl From<ErrorFields> for OpenAiErrorBody {
    fn from(fields: ErrorFields) -> Self {
        OpenAiErrorBody {
            message: fields.message,
            kind: fields.kind,
            code: fields.code.as_ref().and_then(value_text),
            param: fields.param.as_ref().and_then(value_text),
        }
    }
}

/// Returns a string or number as text; `null` and other values as `None`.
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

impl OpenAiErrorBody {
    /// Parses the shapes servers use: OpenAI's `{"error": {...}}`, Ollama's
    /// `{"error": "text"}`, vLLM's top-level `{"object": "error", ...}` and
    /// FastAPI's `{"detail": "text"}`. Returns `None` for other bodies.
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let object = value.as_object()?;
        match object.get("error") {
            Some(Value::String(message)) => {
                return Some(OpenAiErrorBody {
                    message: Some(message.clone()),
                    ..OpenAiErrorBody::default()
                });
            }
            Some(error @ Value::Object(_)) => {
                return ErrorFields::deserialize(error).ok().map(Into::into);
            }
            _ => {}
        }
        if let Some(Value::String(detail)) = object.get("detail") {
            return Some(OpenAiErrorBody {
                message: Some(detail.clone()),
                ..OpenAiErrorBody::default()
            });
        }
        if object.contains_key("message") {
            return ErrorFields::deserialize(&value).ok().map(Into::into);
        }
        None
    }

    fn is_context_length(&self) -> bool {
        let message = self.message.as_deref().unwrap_or("");
        self.code.as_deref() == Some("context_length_exceeded")
            || message.contains("maximum context length")
            || message.contains("context_length_exceeded")
    }

    fn is_content_policy(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("content_policy_violation" | "content_filter")
        ) || self.kind.as_deref() == Some("content_policy_violation")
    }
}

/// Maps an HTTP error response of an OpenAI-compatible server onto an
/// [`Error`].
///
/// - 429: [`Error::RateLimited`], with the wait from `retry-after-ms` or
///   `Retry-After`.
/// - 401 and 403: [`Error::Authentication`].
/// - 503: [`Error::Overloaded`]; other 5xx: [`Error::UpstreamServer`].
/// - Other statuses (400, 404, 422 and the rest): [`Error::ContextLengthExceeded`]
///   or [`Error::ContentPolicy`] when the body's code or message names that
///   cause, else [`Error::InvalidRequest`] with the offending `param`.
///
/// A body that is not JSON still gives an error naming the status.
pub fn error_from_response(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let provider = provider.to_owned();
    let parsed = OpenAiErrorBody::parse(body);
    let message = match &parsed {
        Some(OpenAiErrorBody {
            message: Some(message),
            ..
        }) => message.clone(),
        _ => format!("HTTP {status}: {}", body_snippet(body)),
    };
    let parsed = parsed.unwrap_or_default();
    let retry_after = retry_after_from_headers(headers);

    match status {
        429 => Error::RateLimited {
            provider,
            retry_after,
            message,
        },
        401 | 403 => Error::Authentication { provider, message },
        503 => Error::Overloaded {
            provider,
            retry_after,
            message,
        },
        500..=599 => Error::UpstreamServer {
            provider,
            status,
            message,
        },
        _ if parsed.is_context_length() => Error::ContextLengthExceeded { provider, message },
        _ if parsed.is_content_policy() => Error::ContentPolicy { provider, message },
        _ => Error::InvalidRequest {
            provider,
            param: parsed.param,
            message,
        },
    }
}

/// Maps an error sent inside a `200 OK` event stream onto an [`Error`],
/// classifying by its `code` and `type`.
pub(crate) fn error_from_stream_payload(provider: &str, body: &OpenAiErrorBody) -> Error {
    let provider = provider.to_owned();
    let message = body
        .message
        .clone()
        .unwrap_or_else(|| "error event without a message".to_owned());
    let code = body.code.as_deref().unwrap_or("");
    let kind = body.kind.as_deref().unwrap_or("");

    if body.is_context_length() {
        Error::ContextLengthExceeded { provider, message }
    } else if body.is_content_policy() {
        Error::ContentPolicy { provider, message }
    } else if code == "rate_limit_exceeded" || kind == "rate_limit_error" {
        Error::RateLimited {
            provider,
            retry_after: None,
            message,
        }
    } else if kind == "invalid_request_error" {
        Error::InvalidRequest {
            provider,
            param: body.param.clone(),
            message,
        }
    } else {
        Error::UpstreamServer {
            provider,
            status: 200,
            message: format!("error event in the stream: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_shapes() {
        let ollama = OpenAiErrorBody::parse(br#"{"error":"model 'x' not found"}"#).unwrap();
        assert_eq!(ollama.message.as_deref(), Some("model 'x' not found"));

        let vllm = OpenAiErrorBody::parse(
            br#"{"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400}"#,
        )
        .unwrap();
        assert_eq!(vllm.kind.as_deref(), Some("BadRequestError"));
        assert_eq!(vllm.code.as_deref(), Some("400"));
        assert_eq!(vllm.param, None);

        let fastapi = OpenAiErrorBody::parse(br#"{"detail":"Not Found"}"#).unwrap();
        assert_eq!(fastapi.message.as_deref(), Some("Not Found"));

        assert_eq!(OpenAiErrorBody::parse(b"<html>502</html>"), None);
        assert_eq!(OpenAiErrorBody::parse(br#"{"unrelated":1}"#), None);
    }

    #[test]
    fn non_json_body_names_status() {
        let error = error_from_response(
            "openai",
            502,
            &HeaderMap::new(),
            b"<html>Bad Gateway</html>",
        );
        assert!(
            matches!(error, Error::UpstreamServer { status: 502, .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("HTTP 502: <html>Bad Gateway</html>"),
            "{error}"
        );
    }

    #[test]
    fn vllm_context_message_detected() {
        let body = br#"{"object":"error","message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.","type":"BadRequestError","param":null,"code":400}"#;
        let error = error_from_response("vllm", 400, &HeaderMap::new(), body);
        assert!(
            matches!(error, Error::ContextLengthExceeded { .. }),
            "{error}"
        );
    }

    #[test]
    fn content_filter_is_content_policy() {
        let body = br#"{"error":{"message":"filtered","type":null,"param":"prompt","code":"content_filter"}}"#;
        let error = error_from_response("azure", 400, &HeaderMap::new(), body);
        assert!(matches!(error, Error::ContentPolicy { .. }), "{error}");
    }
}
