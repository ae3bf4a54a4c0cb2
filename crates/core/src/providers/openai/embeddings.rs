//! The [`Embedder`] for OpenAI-compatible `POST {base_url}/embeddings`
//! servers.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::Serialize;
use tracing::instrument;

use super::config::OpenAiConfig;
use super::embedding_response::parse_embeddings;
use super::error::error_from_response;
use crate::embed::Embedder;
use crate::error::{Error, Result};
use crate::providers::http::{Deadlines, read_body, send};

/// Inputs sent per request by default. The OpenAI API reference
/// (developers.openai.com/api/reference/resources/embeddings) limits one
/// call to 2,048 inputs and 300,000 tokens summed over them.
pub const DEFAULT_MAX_INPUTS_PER_REQUEST: usize = 2_048;

/// The encoding of vectors in the response body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmbeddingEncoding {
    /// JSON arrays of numbers, which every OpenAI-compatible server
    /// supports.
    #[default]
    Float,
    /// Base64 of the little-endian `f32` values: about a quarter of the
    /// size of the JSON numbers, and exact. OpenAI supports it; some
    /// compatible servers do not.
    Base64,
}

impl EmbeddingEncoding {
    fn wire_name(self) -> &'static str {
        match self {
            EmbeddingEncoding::Float => "float",
            EmbeddingEncoding::Base64 => "base64",
        }
    }
}

/// Settings of an [`OpenAiEmbedder`]: model, vector length, batching,
/// encoding and retries, built with chained setters.
///
/// ```
/// use llmops_core::providers::openai::EmbeddingOptions;
///
/// let options = EmbeddingOptions::new("text-embedding-3-small", 512)
///     .request_dimensions(true)
///     .max_inputs_per_request(256);
/// assert_eq!(options.dimensions(), 512);
/// ```
#[derive(Debug, Clone)]
pub struct EmbeddingOptions {
    model: String,
    dimensions: usize,
    request_dimensions: bool,
    max_inputs_per_request: usize,
    encoding: EmbeddingEncoding,
    max_retries: u32,
    initial_backoff: Duration,
    max_retry_after: Duration,
}

impl EmbeddingOptions {
    /// Creates options for `model`, whose vectors have `dimensions` values.
    /// Every response vector is checked against that length.
    pub fn new(model: impl Into<String>, dimensions: usize) -> Self {
        EmbeddingOptions {
            model: model.into(),
            dimensions,
            request_dimensions: false,
            max_inputs_per_request: DEFAULT_MAX_INPUTS_PER_REQUEST,
            encoding: EmbeddingEncoding::Float,
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(30),
        }
    }

    /// Sends `dimensions` in each request, so models that can shorten
    /// their vectors (OpenAI's `text-embedding-3-*`) return that length.
    /// Default false, because servers that cannot shorten vectors may
    /// reject the field.
    pub fn request_dimensions(mut self, send: bool) -> Self {
        self.request_dimensions = send;
        self
    }

    /// Sets the maximum number of inputs sent in one request; longer batches
    /// are split into several requests. Default
    /// [`DEFAULT_MAX_INPUTS_PER_REQUEST`].
    ///
    /// NOTE: batches are cut by input count only. 2,048 long texts can pass
    /// OpenAI's 300,000-token limit per request, so lower this for long
    /// inputs.
    pub fn max_inputs_per_request(mut self, inputs: usize) -> Self {
        self.max_inputs_per_request = inputs;
        self
    }

    /// Sets the encoding of vectors in the response. Default
    /// [`EmbeddingEncoding::Float`].
    pub fn encoding(mut self, encoding: EmbeddingEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Sets how many times a request is retried after a rate limit (429),
    /// a server error (5xx), a network error or a timeout. Default 2.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets the wait before the first retry when the server sent no
    /// `Retry-After`; it doubles after each retry. Default 500 ms.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Sets the longest `Retry-After` wait honoured. When a server requests
    /// a longer wait, its error is returned at once. Default 30 s.
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Returns the vector length.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn validate(&self) -> Result<()> {
        if self.model.trim().is_empty() {
            return Err(Error::invalid_config(
                "embedding.model",
                "the model name is empty; set it to the server's embedding model, such as text-embedding-3-small",
            ));
        }
        if self.dimensions == 0 {
            return Err(Error::invalid_config(
                "embedding.dimensions",
                "0 is not a vector length; set it to the length the model returns, such as 1536",
            ));
        }
        if self.max_inputs_per_request == 0 {
            return Err(Error::invalid_config(
                "embedding.max_inputs_per_request",
                "0 would send nothing; set at least 1",
            ));
        }
        Ok(())
    }
}

/// An [`Embedder`] for any server that implements the OpenAI embeddings
/// API: OpenAI, vLLM, Ollama, the llama.cpp server, text-embeddings-inference
/// and others.
///
/// Each call to [`embed`](Embedder::embed) sends the texts in requests of
/// at most [`EmbeddingOptions::max_inputs_per_request`] inputs, one after
/// another, and returns the vectors in input order (sorted by the `index`
/// each response item carries). A response with a missing, repeated or
/// out-of-range index, or a vector of the wrong length, is an
/// [`Error::MalformedResponse`]. Rate limits, server errors, network
/// errors and timeouts are retried, honouring `retry-after-ms` and
/// `Retry-After`. The API key is only sent as `Authorization: Bearer` and
/// never logged. Clones share one pooled HTTP client.
///
/// ```
/// use llmops_core::Embedder;
/// use llmops_core::providers::openai::{EmbeddingOptions, OpenAiConfig, OpenAiEmbedder};
///
/// let embedder = OpenAiEmbedder::new(
///     OpenAiConfig::new().base_url("http://127.0.0.1:11434/v1").provider("ollama"),
///     EmbeddingOptions::new("nomic-embed-text", 768),
/// )
/// .unwrap();
/// assert_eq!(embedder.dimensions(), 768);
/// ```
#[derive(Debug, Clone)]
pub struct OpenAiEmbedder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: OpenAiConfig,
    options: EmbeddingOptions,
    client: reqwest::Client,
    endpoint: String,
}

/// The request body of `POST /embeddings`.
#[derive(Serialize)]
struct EmbeddingsRequest<'a> {
    model: &'a str,
    input: &'a [String],
    encoding_format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<usize>,
}

impl OpenAiEmbedder {
    /// Creates an embedder from a connection `config` and `options`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] when the base URL, a header or a
    /// timeout is invalid, the model name is empty, or the vector length or
    /// batch size is 0.
    pub fn new(config: OpenAiConfig, options: EmbeddingOptions) -> Result<Self> {
        options.validate()?;
        let client = config.http.build_client("openai")?;
        let endpoint = config.http.endpoint("embeddings");
        Ok(OpenAiEmbedder {
            inner: Arc::new(Inner {
                config,
                options,
                client,
                endpoint,
            }),
        })
    }

    /// Creates an embedder from `OPENAI_API_KEY` and `OPENAI_BASE_URL`.
    ///
    /// # Errors
    ///
    /// See [`OpenAiConfig::from_env`] and [`OpenAiEmbedder::new`].
    pub fn from_env(options: EmbeddingOptions) -> Result<Self> {
        Self::new(OpenAiConfig::from_env()?, options)
    }

    fn provider(&self) -> &str {
        &self.inner.config.http.provider
    }

    /// Sends one batch, retrying retryable failures.
    async fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let options = &self.inner.options;
        let mut retries = 0;
        loop {
            let error = match self.send_once(texts).await {
                Ok(vectors) => return Ok(vectors),
                Err(error) => error,
            };
            if retries >= options.max_retries || !is_retryable(&error) {
                return Err(error);
            }
            let wait = match error.retry_after() {
                Some(wait) if wait > options.max_retry_after => {
                    tracing::warn!(
                        wait_ms = wait.as_millis() as u64,
                        class = error.class(),
                        "embedding request not retried: the server asked to wait longer than max_retry_after"
                    );
                    return Err(error);
                }
                Some(wait) => wait,
                None => options.initial_backoff.saturating_mul(1 << retries.min(16)),
            };
            retries += 1;
            tracing::warn!(
                retry = retries,
                wait_ms = wait.as_millis() as u64,
                class = error.class(),
                error = %error,
                "embedding request failed; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let options = &self.inner.options;
        let deadlines = Deadlines::start(self.inner.config.http.timeouts);
        let body = EmbeddingsRequest {
            model: &options.model,
            input: texts,
            encoding_format: options.encoding.wire_name(),
            dimensions: options.request_dimensions.then_some(options.dimensions),
        };
        let mut request = self.inner.client.post(&self.inner.endpoint).json(&body);
        if let Some(key) = &self.inner.config.http.api_key {
            request = request.bearer_auth(key.expose_secret());
        }

        let response = send(self.provider(), request, &deadlines, error_from_response).await?;
        let bytes = read_body(self.provider(), response, &deadlines).await?;
        parse_embeddings(self.provider(), &bytes, texts.len(), options.dimensions)
    }
}

/// Returns whether a failure is worth another identical request: a rate
/// limit, an overload, another 5xx, a network error or a timeout. A
/// malformed response is not retried, because a server that sends one
/// usually sends it again.
fn is_retryable(error: &Error) -> bool {
    matches!(
        error,
        Error::RateLimited { .. }
            | Error::Overloaded { .. }
            | Error::UpstreamServer { .. }
            | Error::Network { .. }
            | Error::Timeout { .. }
    )
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    #[instrument(skip_all, fields(provider = %self.provider(), model = %self.inner.options.model, inputs = texts.len()))]
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        if let Some(position) = texts.iter().position(|text| text.is_empty()) {
            return Err(Error::invalid_request(
                format!("input[{position}]"),
                "the text is empty, which OpenAI-compatible servers reject; leave empty texts out",
            ));
        }
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.inner.options.max_inputs_per_request) {
            vectors.extend(self.embed_batch(batch).await?);
        }
        tracing::debug!(vectors = vectors.len(), "embeddings received");
        Ok(vectors)
    }

    fn dimensions(&self) -> usize {
        self.inner.options.dimensions
    }

    fn model(&self) -> &str {
        &self.inner.options.model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_options_rejected() {
        let config = || OpenAiConfig::new().api_key("sk-x");
        for (options, key) in [
            (EmbeddingOptions::new(" ", 8), "embedding.model"),
            (EmbeddingOptions::new("m", 0), "embedding.dimensions"),
            (
                EmbeddingOptions::new("m", 8).max_inputs_per_request(0),
                "embedding.max_inputs_per_request",
            ),
        ] {
            let error = OpenAiEmbedder::new(config(), options).unwrap_err();
            assert!(error.to_string().contains(key), "{error}");
        }
    }

    #[test]
    fn endpoint_is_embeddings_under_base() {
        let embedder = OpenAiEmbedder::new(
            OpenAiConfig::new().base_url("http://127.0.0.1:9/v1/"),
            EmbeddingOptions::new("m", 4),
        )
        .unwrap();
        assert_eq!(embedder.inner.endpoint, "http://127.0.0.1:9/v1/embeddings");
    }

    #[test]
    fn debug_hides_key() {
        let embedder = OpenAiEmbedder::new(
            OpenAiConfig::new().api_key("sk-embed-hidden-42"),
            EmbeddingOptions::new("m", 4),
        )
        .unwrap();
        let debug = format!("{embedder:?}");
        assert!(!debug.contains("sk-embed-hidden-42"), "{debug}");
    }

    #[test]
    fn request_body_shape() {
        let input = vec!["a".to_owned(), "b".to_owned()];
        let body = EmbeddingsRequest {
            model: "m",
            input: &input,
            encoding_format: "float",
            dimensions: None,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"model":"m","input":["a","b"],"encoding_format":"float"}"#
        );
    }
}
