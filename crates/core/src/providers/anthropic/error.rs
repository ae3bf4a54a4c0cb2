//! Mapping Anthropic error responses and error events onto [`Error`].

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::error::Error;
use crate::providers::retry_after_from_headers;
use crate::providers::wire_error::body_snippet;

/// The `error` object of an Anthropic error body:
/// `{"type": "error", "error": {"type": ..., "message": ...}}`.
struct ErrorDetail<'a> {
    kind: &'a str,
    message: &'a str,
}

impl<'a> ErrorDetail<'a> {
    fn from_error_object(error: &'a Value) -> Self {
        ErrorDetail {
            kind: error.get("type").and_then(Value::as_str).unwrap_or(""),
            message: error.get("message").and_then(Value::as_str).unwrap_or(""),
        }
    }

    fn is_prompt_too_long(&self) -> bool {
        self.message.contains("prompt is too long")
    }
}

/// Maps an HTTP error response of the Messages API onto an [`Error`].
///
/// The error `type` decides first: `rate_limit_error` is
/// [`Error::RateLimited`]; `overloaded_error`, and `api_error` with the
/// message "Overloaded", are [`Error::Overloaded`]; `authentication_error`
/// and `permission_error` are [`Error::Authentication`]; an
/// `invalid_request_error` saying "prompt is too long" is
/// [`Error::ContextLengthExceeded`]. Otherwise the status decides: 429, 529,
/// 401/403, other 5xx and other 4xx. A body that is not JSON still gives an
/// error naming the status. The wait comes from `Retry-After`.
pub fn error_from_response(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error_object = parsed
        .as_ref()
        .and_then(|value| value.get("error"))
        .filter(|error| error.is_object());
    let Some(error_object) = error_object else {
        let message = format!("HTTP {status}: {}", body_snippet(body));
        return by_status(provider, status, headers, message);
    };

    let detail = ErrorDetail::from_error_object(error_object);
    let message = if detail.message.is_empty() {
        format!("HTTP {status} {}", detail.kind)
    } else {
        detail.message.to_owned()
    };
    by_type(
        provider,
        &detail,
        retry_after_from_headers(headers),
        message.clone(),
    )
    .unwrap_or_else(|| by_status(provider, status, headers, message))
}

/// Maps the `error` object of a mid-stream `event: error` onto an
/// [`Error`], by its `type`.
pub(crate) fn error_from_event(provider: &str, error: &Value) -> Error {
    let detail = ErrorDetail::from_error_object(error);
    let message = if detail.message.is_empty() {
        format!("error event of type {:?}", detail.kind)
    } else {
        detail.message.to_owned()
    };
    by_type(provider, &detail, None, message.clone()).unwrap_or_else(|| Error::UpstreamServer {
        provider: provider.to_owned(),
        status: 200,
        message: format!("error event in the stream: {message}"),
    })
}

fn by_type(
    provider: &str,
    detail: &ErrorDetail<'_>,
    retry_after: Option<std::time::Duration>,
    message: String,
) -> Option<Error> {
    let provider = provider.to_owned();
    Some(match detail.kind {
        "rate_limit_error" => Error::RateLimited {
            provider,
            retry_after,
            message,
        },
        "overloaded_error" => Error::Overloaded {
            provider,
            retry_after,
            message,
        },
        "api_error" if detail.message.eq_ignore_ascii_case("overloaded") => Error::Overloaded {
            provider,
            retry_after,
            message,
        },
        "authentication_error" | "permission_error" => Error::Authentication { provider, message },
        "invalid_request_error" if detail.is_prompt_too_long() => {
            Error::ContextLengthExceeded { provider, message }
        }
        "invalid_request_error" | "not_found_error" | "request_too_large" => {
            Error::InvalidRequest {
                provider,
                param: None,
                message,
            }
        }
        _ => return None,
    })
}

fn by_status(provider: &str, status: u16, headers: &HeaderMap, message: String) -> Error {
    let provider = provider.to_owned();
    let retry_after = retry_after_from_headers(headers);
    match status {
        429 => Error::RateLimited {
            provider,
            retry_after,
            message,
        },
        529 | 503 => Error::Overloaded {
            provider,
            retry_after,
            message,
        },
        401 | 403 => Error::Authentication { provider, message },
        500..=599 => Error::UpstreamServer {
            provider,
            status,
            message,
        },
        _ => Error::InvalidRequest {
            provider,
            param: None,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_json_529_is_overloaded() {
        let error =
            error_from_response("anthropic", 529, &HeaderMap::new(), b"upstream overloaded");
        assert!(matches!(error, Error::Overloaded { .. }), "{error}");
        assert!(error.to_string().contains("HTTP 529"), "{error}");
    }

    #[test]
    fn unknown_type_falls_back_to_status() {
        let body = br#"{"type":"error","error":{"type":"new_error","message":"odd"}}"#;
        let error = error_from_response("anthropic", 502, &HeaderMap::new(), body);
        assert!(
            matches!(error, Error::UpstreamServer { status: 502, .. }),
            "{error}"
        );
    }

    #[test]
    fn event_error_of_unknown_type_is_upstream() {
        let error = error_from_event(
            "anthropic",
            &serde_json::json!({"type": "api_error", "message": "boom"}),
        );
        assert!(
            matches!(error, Error::UpstreamServer { status: 200, .. }),
            "{error}"
        );
    }
}
