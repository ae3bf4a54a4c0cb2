//! Errors of the server: OpenAI-shaped HTTP error replies, and failures to
//! start or reload it.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use llmops_core::Error;
use serde_json::json;

/// An HTTP error reply with an OpenAI-shaped body:
/// `{"error":{"message","type","param","code"}}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) param: Option<String>,
    pub(crate) code: Option<&'static str>,
    pub(crate) retry_after: Option<Duration>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            param: None,
            code: None,
            retry_after: None,
        }
    }

    /// Creates a 400 `invalid_request_error` about the field `param`.
    pub(crate) fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        let mut error = ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message);
        error.param = Some(param.into());
        error
    }

    /// Creates a 400 `invalid_request_error` about the body as a whole.
    pub(crate) fn invalid_body(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// Creates a 413 for a body over the configured limit.
    pub(crate) fn body_too_large(limit_bytes: usize) -> Self {
        let mut error = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            format!(
                "the request body exceeds the server's limit of {limit_bytes} bytes; send a smaller request or raise the limit (--max-body-bytes)"
            ),
        );
        error.code = Some("request_too_large");
        error
    }

    /// Creates a 401 for a missing or unknown API key.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        let mut error = ApiError::new(StatusCode::UNAUTHORIZED, "authentication_error", message);
        error.code = Some("invalid_api_key");
        error
    }

    /// Creates a 403 for a key that lacks permission for the request.
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "permission_error", message)
    }

    /// Creates a 404 for a model the caller may not see or the server does not serve.
    pub(crate) fn model_not_found(message: impl Into<String>) -> Self {
        let mut error = ApiError::new(StatusCode::NOT_FOUND, "invalid_request_error", message);
        error.param = Some("model".to_owned());
        error.code = Some("model_not_found");
        error
    }

    /// Creates a 404 for a path or record that does not exist.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found_error", message)
    }

    /// Creates a 503 for a request cut off because the server shut down.
    pub(crate) fn shutting_down() -> Self {
        let mut error = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "the server shut down before the answer ended; retry the request",
        );
        error.code = Some("server_shutdown");
        error
    }

    /// Creates a 500 for a failure inside the server, such as its key store.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message)
    }

    /// Returns the JSON body of the error.
    pub(crate) fn body(&self) -> serde_json::Value {
        json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        })
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        let retry_after = error.retry_after();
        let (status, kind, code) = match &error {
            Error::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                Some("rate_limit_exceeded"),
            ),
            Error::Overloaded { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                Some("overloaded"),
            ),
            Error::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "server_error", Some("timeout")),
            Error::ContextLengthExceeded { .. } => (
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("context_length_exceeded"),
            ),
            Error::ContentPolicy { .. } => (
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("content_policy_violation"),
            ),
            Error::Authentication { .. } => (
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                Some("upstream_authentication_failed"),
            ),
            Error::InvalidRequest { .. } => {
                (StatusCode::BAD_REQUEST, "invalid_request_error", None)
            }
            Error::UnknownModel { .. } => (
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                Some("model_not_found"),
            ),
            Error::UpstreamServer { .. }
            | Error::Network { .. }
            | Error::MalformedResponse { .. }
            | Error::Backend { .. } => (
                StatusCode::BAD_GATEWAY,
                "server_error",
                Some("upstream_error"),
            ),
            // 499 is the de facto status for a request its client abandoned.
            Error::Cancelled => (
                StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
                "server_error",
                Some("cancelled"),
            ),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", None),
        };
        let param = match &error {
            Error::InvalidRequest { param, .. } => param.clone(),
            Error::UnknownModel { .. } => Some("model".to_owned()),
            Error::ContextLengthExceeded { .. } => Some("messages".to_owned()),
            _ => None,
        };
        ApiError {
            status,
            kind,
            message,
            param,
            code,
            retry_after,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(wait) = self.retry_after {
            // Retry-After takes whole seconds; round up so a client never
            // comes back early.
            let seconds = wait.as_millis().div_ceil(1_000).max(1);
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// The server could not start, reload or store a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The gateway could not be built from its configuration.
    #[error(transparent)]
    Gateway(#[from] crate::GatewayError),

    /// The key store failed.
    #[error("the API key store failed: {0}")]
    Store(#[from] llmops_store::StoreError),

    /// A stored key record could not be read back.
    #[error("the stored API key {id:?} is corrupt: {message}; revoke it and create a new one")]
    CorruptKey {
        /// The key id.
        id: String,
        /// The field that could not be read, and why.
        message: String,
    },

    /// A key request is invalid.
    #[error("invalid API key settings at {field}: {message}")]
    InvalidKey {
        /// The field, such as `models`.
        field: String,
        /// The problem and its fix.
        message: String,
    },

    /// A reload was requested but the server was built without a source
    /// to rebuild the gateway from.
    #[error(
        "this server has no configuration to reload; start it with a configuration file (--config) to reload"
    )]
    ReloadUnavailable,

    /// A reload task failed to run to its end.
    #[error("the reload task failed: {0}")]
    ReloadTask(String),

    /// Binding or serving the socket failed.
    #[error("cannot serve on {address}: {source}")]
    Io {
        /// The address.
        address: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_maps_to_429_with_retry_after() {
        let error = ApiError::from(Error::RateLimited {
            provider: "openai".to_owned(),
            retry_after: Some(Duration::from_millis(1_200)),
            message: "slow down".to_owned(),
        });
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            response
                .headers()
                .get(header::RETRY_AFTER)
                .map(|v| v.as_bytes()),
            Some(&b"2"[..])
        );
    }

    #[test]
    fn classes_map_to_statuses() {
        let cases = [
            (
                Error::Overloaded {
                    provider: "p".into(),
                    retry_after: None,
                    message: "busy".into(),
                },
                503,
            ),
            (
                Error::Timeout {
                    provider: "p".into(),
                    phase: llmops_core::TimeoutPhase::Total,
                    after: Duration::from_secs(1),
                },
                504,
            ),
            (
                Error::Authentication {
                    provider: "p".into(),
                    message: "bad key".into(),
                },
                401,
            ),
            (Error::invalid_request("n", "bad n"), 400),
            (
                Error::UpstreamServer {
                    provider: "p".into(),
                    status: 500,
                    message: "boom".into(),
                },
                502,
            ),
            (
                Error::Network {
                    provider: "p".into(),
                    message: "reset".into(),
                },
                502,
            ),
            (
                Error::UnknownModel {
                    model: "m".into(),
                    hint: "h".into(),
                },
                404,
            ),
        ];
        for (error, status) in cases {
            let class = error.class();
            assert_eq!(ApiError::from(error).status.as_u16(), status, "{class}");
        }
    }

    #[test]
    fn context_length_has_its_code() {
        let error = ApiError::from(Error::ContextLengthExceeded {
            provider: "p".into(),
            message: "too long".into(),
        });
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.body()["error"]["code"], "context_length_exceeded");
    }

    #[test]
    fn invalid_request_names_param() {
        let body = ApiError::from(Error::invalid_request("temperature", "too hot")).body();
        assert_eq!(body["error"]["param"], "temperature");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
}
