//! Decoding OpenAI chat-completion event streams.

use crate::error::{Error, Result};
use crate::providers::wire_error::describe_json_error;
use crate::providers::{DecoderStatus, StreamDecoder};
use crate::sse::SseEvent;
use crate::types::ChatCompletionChunk;

use super::error::{OpenAiErrorBody, error_from_stream_payload};

/// A [`StreamDecoder`] for `chat.completion.chunk` events.
///
/// Each `data` event is one chunk; `data: [DONE]` ends the stream. An event
/// whose JSON is an error object (`{"error": {...}}`), or an `event: error`,
/// becomes the mapped [`Error`]. Unknown fields survive in the chunks'
/// `extra` maps.
#[derive(Debug, Clone)]
pub struct OpenAiStreamDecoder {
    provider: String,
}

impl OpenAiStreamDecoder {
    /// Creates a decoder whose errors name `provider`.
    pub fn new(provider: impl Into<String>) -> Self {
        OpenAiStreamDecoder {
            provider: provider.into(),
        }
    }
}

impl StreamDecoder for OpenAiStreamDecoder {
    fn decode(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<DecoderStatus> {
        if event.is_done() {
            return Ok(DecoderStatus::Finished);
        }
        if event.kind() != "error" {
            match serde_json::from_str::<ChatCompletionChunk>(&event.data) {
                Ok(chunk) => {
                    out.push(chunk);
                    return Ok(DecoderStatus::Open);
                }
                Err(error) if OpenAiErrorBody::parse(event.data.as_bytes()).is_none() => {
                    return Err(Error::MalformedResponse {
                        provider: self.provider.clone(),
                        message: format!(
                            "stream event is not a chat completion chunk: {}",
                            describe_json_error(&error)
                        ),
                    });
                }
                Err(_) => {}
            }
        }

        let body = OpenAiErrorBody::parse(event.data.as_bytes()).unwrap_or_default();
        Err(error_from_stream_payload(&self.provider, &body))
    }

    fn finish_early(&mut self) -> Result<()> {
        Err(Error::Network {
            provider: self.provider.clone(),
            message: "stream ended before [DONE]".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(data: &str) -> (Result<DecoderStatus>, Vec<ChatCompletionChunk>) {
        let mut decoder = OpenAiStreamDecoder::new("openai");
        let mut out = Vec::new();
        let status = decoder.decode(&SseEvent::message(data), &mut out);
        (status, out)
    }

    #[test]
    fn chunk_and_done() {
        let (status, out) = decode(
            r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"hi"}}],"obfuscation":"x"}"#,
        );
        assert_eq!(status.unwrap(), DecoderStatus::Open);
        assert_eq!(out[0].delta_text(), Some("hi"));
        assert_eq!(out[0].extra["obfuscation"], "x");

        let (status, out) = decode("[DONE]");
        assert_eq!(status.unwrap(), DecoderStatus::Finished);
        assert!(out.is_empty());
    }

    #[test]
    fn malformed_json_is_malformed_response() {
        let (status, _) = decode(r#"{"id":"c1","choices":[{"delta":{"content":"secret text"#);
        let error = status.unwrap_err();
        assert!(matches!(error, Error::MalformedResponse { .. }), "{error}");
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn error_payload_mapped() {
        let (status, _) = decode(
            r#"{"error":{"message":"This model's maximum context length is 10 tokens","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
        );
        assert!(matches!(
            status.unwrap_err(),
            Error::ContextLengthExceeded { .. }
        ));

        let (status, _) = decode(r#"{"error":{"message":"boom","type":"server_error"}}"#);
        let error = status.unwrap_err();
        assert!(
            matches!(error, Error::UpstreamServer { status: 200, .. }),
            "{error}"
        );
    }

    #[test]
    fn missing_done_is_network_error() {
        let error = OpenAiStreamDecoder::new("vllm").finish_early().unwrap_err();
        assert!(matches!(error, Error::Network { .. }));
        assert!(
            error.to_string().contains("stream ended before [DONE]"),
            "{error}"
        );
    }
}
