//! HTTP backends for model providers.
//!
//! - [`openai::OpenAiBackend`] (feature `openai`): any server that speaks the
//!   OpenAI Chat Completions API, such as OpenAI, vLLM, Ollama or the
//!   llama.cpp server. [`openai::OpenAiEmbedder`] is an
//!   [`Embedder`](crate::Embedder) over the same servers' embeddings API.
//! - [`anthropic::AnthropicBackend`] (feature `anthropic`): the Anthropic
//!   Messages API, converted to and from the OpenAI wire format.
//!
//! Both hold one pooled HTTP client shared by clones, keep the API key in a
//! [`secrecy::SecretString`], enforce connect, first-token and total
//! [`Timeouts`], and map provider errors onto [`Error`](crate::Error) classes.
//! A [`StreamDecoder`] turns the server-sent events of each provider into
//! [`ChatCompletionChunk`]s; the decoders are public so recorded streams can
//! be replayed without a server.

use std::time::Duration;

use crate::error::Result;
use crate::sse::SseEvent;
use crate::types::ChatCompletionChunk;

#[cfg(feature = "http")]
mod chunk_stream;
#[cfg(feature = "http")]
mod config;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "http")]
mod retry_after;
#[cfg(feature = "http")]
mod wire_error;

#[cfg(feature = "anthropic")]
pub mod anthropic;
#[cfg(feature = "openai")]
pub mod openai;

#[cfg(feature = "http")]
pub use retry_after::retry_after_from_headers;

/// Deadlines of one model call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the TCP and TLS connection. Default 10 s.
    pub connect: Duration,
    /// From sending the request to the first content-bearing chunk, or to
    /// the response head of a non-streamed call. Default 60 s.
    pub first_token: Duration,
    /// From sending the request to the end of the response. Default 600 s.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_token: Duration::from_secs(60),
            total: Duration::from_secs(600),
        }
    }
}

/// Whether a stream continues after a decoded event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecoderStatus {
    /// More events are expected.
    Open,
    /// The provider signalled the end of the stream (`[DONE]`,
    /// `message_stop`); later events are not read.
    Finished,
}

/// A converter from one provider's server-sent events to OpenAI chunks.
pub trait StreamDecoder {
    /// Decodes one event, appending zero or more chunks to `out`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::MalformedResponse`](crate::Error::MalformedResponse)
    /// for an event that cannot be parsed, and the mapped error for an error
    /// event sent by the provider.
    fn decode(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<DecoderStatus>;

    /// Handles the end of the body before the provider's end marker.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Network`](crate::Error::Network), because a stream
    /// cut short has lost output.
    fn finish_early(&mut self) -> Result<()>;
}

/// Returns whether a chunk carries model output, which ends the first-token
/// phase: content, a refusal, a tool-call fragment or a finish reason.
#[cfg(feature = "http")]
pub(crate) fn carries_output(chunk: &ChatCompletionChunk) -> bool {
    chunk.choices.iter().any(|choice| {
        let delta = &choice.delta;
        choice.finish_reason.is_some()
            || delta
                .content
                .as_deref()
                .is_some_and(|text| !text.is_empty())
            || delta
                .refusal
                .as_deref()
                .is_some_and(|text| !text.is_empty())
            || delta
                .tool_calls
                .as_ref()
                .is_some_and(|calls| !calls.is_empty())
    })
}
