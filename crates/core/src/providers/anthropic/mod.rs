//! The backend for the Anthropic Messages API.
//!
//! [`AnthropicBackend`] accepts OpenAI-format requests, sends them to
//! `POST {base_url}/v1/messages` with the `x-api-key` and
//! `anthropic-version` headers, and converts responses and stream events
//! back into the OpenAI format. Usage follows OpenAI semantics:
//! `prompt_tokens` counts uncached input, cache writes and cache reads, with
//! the reads in `prompt_tokens_details.cached_tokens` and the writes in
//! `prompt_tokens_details.cache_creation_tokens`.

mod config;
mod error;
mod json_output;
mod request;
mod response;
mod stream;

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use tracing::instrument;

pub use config::{
    AnthropicConfig, DEFAULT_ANTHROPIC_BASE_URL, DEFAULT_ANTHROPIC_VERSION, DEFAULT_MAX_TOKENS,
};
pub use error::error_from_response;
pub use stream::AnthropicStreamDecoder;

use self::json_output::{JsonOutputTool, json_output_tool};
use crate::backend::{BackendInfo, ChatStream, ModelBackend};
use crate::error::{Error, Result};
use crate::providers::chunk_stream::chunk_stream;
use crate::providers::http::{Deadlines, read_body, send};
use crate::providers::wire_error::describe_json_error;
use crate::types::{ChatCompletion, ChatRequest};

/// A [`ModelBackend`] for the Anthropic Messages API.
///
/// Clones share one pooled HTTP client. Dropping a stream returned by
/// [`stream`](ModelBackend::stream) closes its connection.
///
/// ```
/// use llmops_core::ModelBackend;
/// use llmops_core::providers::anthropic::{AnthropicBackend, AnthropicConfig};
///
/// let backend = AnthropicBackend::new(AnthropicConfig::new().api_key("sk-ant-example")).unwrap();
/// assert_eq!(backend.describe().provider, "anthropic");
/// ```
#[derive(Debug, Clone)]
pub struct AnthropicBackend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: AnthropicConfig,
    client: reqwest::Client,
    endpoint: String,
}

impl AnthropicBackend {
    /// Creates a backend from `config`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] when the base URL, a header or a
    /// timeout is invalid.
    pub fn new(config: AnthropicConfig) -> Result<Self> {
        let client = config.http.build_client("anthropic")?;
        let endpoint = config.http.endpoint("v1/messages");
        Ok(AnthropicBackend {
            inner: Arc::new(Inner {
                config,
                client,
                endpoint,
            }),
        })
    }

    /// Creates a backend from `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL`.
    ///
    /// # Errors
    ///
    /// See [`AnthropicConfig::from_env`] and [`AnthropicBackend::new`].
    pub fn from_env() -> Result<Self> {
        Self::new(AnthropicConfig::from_env()?)
    }

    fn provider(&self) -> &str {
        &self.inner.config.http.provider
    }

    fn post(
        &self,
        request: &ChatRequest,
        stream: bool,
        json_output: Option<&JsonOutputTool>,
    ) -> Result<reqwest::RequestBuilder> {
        let config = &self.inner.config;
        let body =
            request::to_messages_body(request, config.default_max_tokens, stream, json_output)?;
        let mut builder = self
            .inner
            .client
            .post(&self.inner.endpoint)
            .header("anthropic-version", &config.version)
            .json(&body);
        if let Some(key) = &config.http.api_key {
            let mut value =
                reqwest::header::HeaderValue::from_str(key.expose_secret()).map_err(|_| {
                    Error::invalid_config(
                        "anthropic.api_key",
                        "the API key contains characters not allowed in a header",
                    )
                })?;
            value.set_sensitive(true);
            builder = builder.header("x-api-key", value);
        }
        Ok(builder)
    }
}

#[async_trait]
impl ModelBackend for AnthropicBackend {
    fn describe(&self) -> BackendInfo {
        BackendInfo::new(self.provider(), self.inner.config.http.models.clone())
    }

    #[instrument(skip_all, fields(provider = %self.provider(), model = %request.model))]
    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion> {
        let deadlines = Deadlines::start(self.inner.config.http.timeouts);
        let json_output = json_output_tool(&request)?;
        let post = self.post(&request, false, json_output.as_ref())?;

        let response = send(self.provider(), post, &deadlines, error_from_response).await?;
        let bytes = read_body(self.provider(), response, &deadlines).await?;
        let message =
            serde_json::from_slice::<response::MessagesResponse>(&bytes).map_err(|error| {
                Error::MalformedResponse {
                    provider: self.provider().to_owned(),
                    message: format!(
                        "response is not a Messages API message: {}",
                        describe_json_error(&error)
                    ),
                }
            })?;
        let completion =
            message.into_completion(json_output.as_ref().map(|tool| tool.name.as_str()));
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
        let json_output = json_output_tool(&request)?;
        let post = self.post(&request, true, json_output.as_ref())?;

        let response = send(self.provider(), post, &deadlines, error_from_response).await?;
        let mut decoder =
            AnthropicStreamDecoder::new(self.provider(), request.wants_stream_usage());
        if let Some(tool) = json_output {
            decoder = decoder.with_json_output(tool.name);
        }
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
        let backend =
            AnthropicBackend::new(AnthropicConfig::new().api_key("sk-ant-hidden-5")).unwrap();
        let debug = format!("{backend:?}");
        assert!(!debug.contains("sk-ant-hidden-5"), "{debug}");
        assert!(debug.contains("api.anthropic.com"), "{debug}");
    }

    #[test]
    fn endpoint_is_v1_messages() {
        let backend =
            AnthropicBackend::new(AnthropicConfig::new().base_url("http://127.0.0.1:9/")).unwrap();
        assert_eq!(backend.inner.endpoint, "http://127.0.0.1:9/v1/messages");
    }
}
