//! The backend for OpenAI-compatible Chat Completions servers.
//!
//! [`OpenAiBackend`] talks to any server that implements
//! `POST {base_url}/chat/completions`: OpenAI, Azure OpenAI behind a proxy,
//! vLLM, Ollama, the llama.cpp server and others. Requests and responses
//! already use the OpenAI wire format, so they pass through unchanged,
//! unknown fields included. [`OpenAiEmbedder`] calls
//! `POST {base_url}/embeddings` on the same servers.

mod config;
mod embedding_response;
mod embeddings;
mod error;
mod stream;

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use tracing::instrument;

pub use config::{DEFAULT_OPENAI_BASE_URL, OpenAiConfig};
pub use embeddings::{
    DEFAULT_MAX_INPUTS_PER_REQUEST, EmbeddingEncoding, EmbeddingOptions, OpenAiEmbedder,
};
pub use error::error_from_response;
pub use stream::OpenAiStreamDecoder;

use crate::backend::{BackendInfo, ChatStream, ModelBackend};
use crate::error::{Error, Result};
use crate::providers::chunk_stream::chunk_stream;
use crate::providers::http::{Deadlines, read_body, send};
use crate::providers::wire_error::describe_json_error;
use crate::types::{ChatCompletion, ChatRequest};

/// A [`ModelBackend`] for an OpenAI-compatible server.
///
/// Clones share one pooled HTTP client. Dropping a stream returned by
/// [`stream`](ModelBackend::stream) closes its connection.
///
/// ```
/// use llmops_core::ModelBackend;
/// use llmops_core::providers::openai::{OpenAiBackend, OpenAiConfig};
///
/// let backend = OpenAiBackend::new(
///     OpenAiConfig::new().base_url("http://127.0.0.1:11434/v1").provider("ollama"),
/// )
/// .unwrap();
/// assert_eq!(backend.describe().provider, "ollama");
/// ```
#[derive(Debug, Clone)]
pub struct OpenAiBackend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: OpenAiConfig,
    client: reqwest::Client,
    endpoint: String,
}

impl OpenAiBackend {
    /// Creates a backend from `config`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] when the base URL, a header or a
    /// timeout is invalid.
    pub fn new(config: OpenAiConfig) -> Result<Self> {
        let client = config.http.build_client("openai")?;
        let endpoint = config.http.endpoint("chat/completions");
        Ok(OpenAiBackend {
            inner: Arc::new(Inner {
                config,
                client,
                endpoint,
            }),
        })
    }

    /// Creates a backend from `OPENAI_API_KEY` and `OPENAI_BASE_URL`.
    ///
    /// # Errors
    ///
    /// See [`OpenAiConfig::from_env`] and [`OpenAiBackend::new`].
    pub fn from_env() -> Result<Self> {
        Self::new(OpenAiConfig::from_env()?)
    }

    fn provider(&self) -> &str {
        &self.inner.config.http.provider
    }

    fn post(&self, body: &ChatRequest) -> reqwest::RequestBuilder {
        let request = self.inner.client.post(&self.inner.endpoint).json(body);
        match &self.inner.config.http.api_key {
            Some(key) => request.bearer_auth(key.expose_secret()),
            None => request,
        }
    }
}

#[async_trait]
impl ModelBackend for OpenAiBackend {
    fn describe(&self) -> BackendInfo {
        BackendInfo::new(self.provider(), self.inner.config.http.models.clone())
    }

    #[instrument(skip_all, fields(provider = %self.provider(), model = %request.model))]
    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion> {
        let deadlines = Deadlines::start(self.inner.config.http.timeouts);
        let mut body = request;
        body.stream = None;
        body.stream_options = None;

        let response = send(
            self.provider(),
            self.post(&body),
            &deadlines,
            error_from_response,
        )
        .await?;
        let bytes = read_body(self.provider(), response, &deadlines).await?;
        let completion = serde_json::from_slice::<ChatCompletion>(&bytes).map_err(|error| {
            Error::MalformedResponse {
                provider: self.provider().to_owned(),
                message: format!(
                    "response is not a chat completion: {}",
                    describe_json_error(&error)
                ),
            }
        })?;
        tracing::debug!(
            prompt_tokens = completion.usage.as_ref().map(|usage| usage.prompt_tokens),
            completion_tokens = completion
                .usage
                .as_ref()
                .map(|usage| usage.completion_tokens),
            "completion received"
        );
        Ok(completion)
    }

    #[instrument(skip_all, fields(provider = %self.provider(), model = %request.model))]
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let deadlines = Deadlines::start(self.inner.config.http.timeouts);
        let mut body = request;
        body.stream = Some(true);

        let response = send(
            self.provider(),
            self.post(&body),
            &deadlines,
            error_from_response,
        )
        .await?;
        let decoder = OpenAiStreamDecoder::new(self.provider());
        Ok(chunk_stream(
            self.provider().to_owned(),
            response,
            decoder,
            deadlines,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_backend_hides_key() {
        let backend = OpenAiBackend::new(OpenAiConfig::new().api_key("sk-hidden-987")).unwrap();
        let debug = format!("{backend:?}");
        assert!(!debug.contains("sk-hidden-987"), "{debug}");
        assert!(debug.contains("api.openai.com"), "{debug}");
    }

    #[test]
    fn invalid_base_url_rejected() {
        let error = OpenAiBackend::new(OpenAiConfig::new().base_url("not a url")).unwrap_err();
        assert!(matches!(error, Error::InvalidConfig { .. }), "{error}");
        let error = OpenAiBackend::new(OpenAiConfig::new().base_url("ftp://host/v1")).unwrap_err();
        assert!(error.to_string().contains("ftp"), "{error}");
    }

    #[test]
    fn invalid_header_rejected() {
        let error = OpenAiBackend::new(OpenAiConfig::new().header("bad header", "x")).unwrap_err();
        assert!(error.to_string().contains("bad header"), "{error}");
    }

    #[test]
    fn endpoint_joins_one_slash() {
        let backend =
            OpenAiBackend::new(OpenAiConfig::new().base_url("http://127.0.0.1:9/v1/")).unwrap();
        assert_eq!(
            backend.inner.endpoint,
            "http://127.0.0.1:9/v1/chat/completions"
        );
    }
}
