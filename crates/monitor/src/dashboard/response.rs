//! Error responses of the dashboard routes, in the OpenAI error shape the
//! gateway uses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::MonitorError;

/// An error response: its status and the fields of the OpenAI error body.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    /// The request field at fault, such as `rating`.
    pub(crate) param: Option<&'static str>,
    /// A machine-readable code, such as `invalid_value`.
    pub(crate) code: &'static str,
}

impl ApiError {
    /// Builds a 400 naming the field at fault.
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            param: Some(field),
            code: "invalid_value",
        }
    }

    /// Builds a 400 for a body that is not the expected JSON.
    pub(crate) fn invalid_body(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            param: None,
            code: "invalid_body",
        }
    }

    /// Builds a 413 for a body over the server's size limit.
    pub(crate) fn body_too_large(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: message.into(),
            param: None,
            code: "body_too_large",
        }
    }

    /// Builds a 404 for something the server does not have.
    pub(crate) fn not_found(param: Option<&'static str>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            param,
            code: "not_found",
        }
    }

    /// Builds a 503 for a feature the server runs without.
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
            param: None,
            code: "unavailable",
        }
    }

    /// Builds a 500 for a failure behind the route.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
            param: None,
            code: "internal_error",
        }
    }

    fn error_type(&self) -> &'static str {
        match self.status {
            StatusCode::BAD_REQUEST => "invalid_request_error",
            StatusCode::NOT_FOUND => "not_found_error",
            StatusCode::SERVICE_UNAVAILABLE => "service_unavailable_error",
            _ => "server_error",
        }
    }
}

impl From<MonitorError> for ApiError {
    fn from(error: MonitorError) -> Self {
        match error {
            MonitorError::Invalid { field, .. } => ApiError::invalid(field, error.to_string()),
            MonitorError::Source { .. }
            | MonitorError::Store(_)
            | MonitorError::Notify { .. }
            | MonitorError::Export { .. } => ApiError::internal(error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "message": self.message,
                "type": self.error_type(),
                "param": self.param,
                "code": self.code,
            }
        });
        (self.status, Json(body)).into_response()
    }
}
