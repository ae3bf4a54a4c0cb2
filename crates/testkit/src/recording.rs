//! Requests as the server received them, for test assertions.

use axum::http::{HeaderMap, Method};
use bytes::Bytes;
use serde_json::Value;

use crate::rules::Route;

/// One received request.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: Method,
    /// Path and query, such as `/v1/chat/completions`.
    pub path: String,
    /// The route that served it; `None` for unknown paths.
    pub route: Option<Route>,
    /// All request headers, including `authorization` and `x-api-key`.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
    /// The body parsed as JSON; `None` when empty or not JSON.
    pub json: Option<Value>,
}

impl RecordedRequest {
    /// Returns a header value as text, `None` when missing or not UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Returns the `model` field of the JSON body.
    pub fn model(&self) -> Option<&str> {
        self.json.as_ref()?.get("model")?.as_str()
    }
}
