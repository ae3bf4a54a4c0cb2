//! The server-sent event body of a streamed completion, in the OpenAI
//! format: `data: {chunk}\n\n` per chunk, then `data: [DONE]\n\n`. An error
//! after the head was sent ends the body with an `error` event and no
//! `[DONE]`, so clients see the failure instead of a truncated reply.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use llmops_core::ChatStream;
use llmops_core::Error;
use llmops_core::types::Usage;

use crate::server::error::ApiError;
use crate::server::metrics::Observation;
use crate::server::state::AppState;

const DONE: &[u8] = b"data: [DONE]\n\n";

/// Streams a gateway stream as SSE bytes and records metrics when it ends.
/// Dropping it (the client went away) drops the gateway stream, which
/// cancels the upstream call.
pub(crate) struct SseBody {
    stream: ChatStream,
    state: Arc<AppState>,
    model: String,
    started: Instant,
    first_token: Option<Duration>,
    usage: Option<Usage>,
    finished: bool,
    /// Resolves when the server's drain timeout passed.
    cut: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl SseBody {
    pub(crate) fn new(
        stream: ChatStream,
        state: Arc<AppState>,
        model: String,
        started: Instant,
    ) -> Self {
        let cut = Box::pin(state.cut_signal());
        SseBody {
            stream,
            state,
            cut,
            model,
            started,
            first_token: None,
            usage: None,
            finished: false,
        }
    }

    fn observe(&mut self, status: u16, error_type: Option<&str>) {
        self.finished = true;
        let usage = self.usage.take();
        self.state.metrics.observe(&Observation {
            operation: "chat",
            model: &self.model,
            status,
            error_type,
            duration: self.started.elapsed(),
            time_to_first_token: self.first_token.filter(|_| error_type.is_none()),
            input_tokens: usage.as_ref().map(|usage| usage.prompt_tokens),
            output_tokens: usage.as_ref().map(|usage| usage.completion_tokens),
        });
    }

    fn error_event(&mut self, error: Error) -> Bytes {
        tracing::warn!(model = %self.model, class = error.class(), %error, "stream failed after it started");
        let class = error.class();
        self.api_error_event(ApiError::from(error), class)
    }

    fn api_error_event(&mut self, error: ApiError, class: &str) -> Bytes {
        self.observe(error.status.as_u16(), Some(class));
        Bytes::from(format!("event: error\ndata: {}\n\n", error.body()))
    }
}

impl Stream for SseBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        if this.cut.as_mut().poll(cx).is_ready() {
            tracing::warn!(model = %this.model, "stream cut off by the shutdown drain timeout");
            let event = this.api_error_event(ApiError::shutting_down(), "shutdown");
            return Poll::Ready(Some(Ok(event)));
        }
        match this.stream.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                if this.first_token.is_none() {
                    this.first_token = Some(this.started.elapsed());
                }
                if let Some(usage) = &chunk.usage {
                    this.usage = Some(usage.clone());
                }
                match serde_json::to_vec(&chunk) {
                    Ok(json) => {
                        let mut event = Vec::with_capacity(json.len() + 8);
                        event.extend_from_slice(b"data: ");
                        event.extend_from_slice(&json);
                        event.extend_from_slice(b"\n\n");
                        Poll::Ready(Some(Ok(Bytes::from(event))))
                    }
                    Err(error) => {
                        let error = Error::MalformedResponse {
                            provider: crate::GATEWAY_PROVIDER.to_owned(),
                            message: format!("a chunk could not be encoded as JSON: {error}"),
                        };
                        Poll::Ready(Some(Ok(this.error_event(error))))
                    }
                }
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Ok(this.error_event(error)))),
            Poll::Ready(None) => {
                this.observe(200, None);
                Poll::Ready(Some(Ok(Bytes::from_static(DONE))))
            }
        }
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        if !self.finished {
            tracing::info!(model = %self.model, "client closed the stream; the upstream call is cancelled");
            // 499: the client closed the connection before the response ended.
            self.observe(499, Some("cancelled"));
        }
    }
}
