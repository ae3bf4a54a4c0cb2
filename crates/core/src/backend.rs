//! The [`ModelBackend`] trait that every model provider implements.

use std::pin::Pin;

use async_trait::async_trait;
use futures::Stream;

use crate::error::Result;
use crate::types::{ChatCompletion, ChatCompletionChunk, ChatRequest};

/// A stream of completion chunks.
///
/// Dropping the stream cancels the call: HTTP backends close the upstream
/// connection and the local model stops generating.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<ChatCompletionChunk>> + Send>>;

/// A source of chat completions: a provider API, a local model or a mock.
///
/// Requests and responses use the OpenAI Chat Completions wire format
/// whatever the backend speaks underneath, so routers, caches and evaluators
/// handle every backend alike.
#[async_trait]
pub trait ModelBackend: Send + Sync {
    /// Describes the backend: its provider name and the models it serves.
    fn describe(&self) -> BackendInfo;

    /// Runs a request to completion and returns the whole answer.
    ///
    /// # Errors
    ///
    /// Returns an [`Error`](crate::Error) classified for routing when the
    /// provider rejects or fails the call.
    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion>;

    /// Starts a streamed completion.
    ///
    /// The stream yields chunks as they arrive; when the request asks for
    /// `stream_options.include_usage`, the last chunk carries `usage` and no
    /// choices. Errors after the stream started arrive as stream items.
    ///
    /// # Errors
    ///
    /// Returns an [`Error`](crate::Error) when the call fails before the first
    /// chunk.
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream>;
}

/// What a backend is and what it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackendInfo {
    /// The provider name used in logs, metrics and errors, such as `openai`,
    /// `anthropic` or `local`.
    pub provider: String,
    /// The models this backend serves; empty when it passes any name on.
    pub models: Vec<String>,
    /// Whether the backend runs on this machine (no data leaves it).
    pub local: bool,
}

impl BackendInfo {
    /// Creates a description for `provider` serving `models`.
    pub fn new(provider: impl Into<String>, models: Vec<String>) -> Self {
        BackendInfo {
            provider: provider.into(),
            models,
            local: false,
        }
    }

    /// Marks the backend as running on this machine.
    pub fn with_local(mut self, local: bool) -> Self {
        self.local = local;
        self
    }
}

#[async_trait]
impl<T: ModelBackend + ?Sized> ModelBackend for std::sync::Arc<T> {
    fn describe(&self) -> BackendInfo {
        (**self).describe()
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion> {
        (**self).complete(request).await
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        (**self).stream(request).await
    }
}

#[async_trait]
impl<T: ModelBackend + ?Sized> ModelBackend for Box<T> {
    fn describe(&self) -> BackendInfo {
        (**self).describe()
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion> {
        (**self).complete(request).await
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        (**self).stream(request).await
    }
}
