//! The driver from an HTTP event-stream body to a [`ChatStream`].

use std::collections::VecDeque;

use futures::{Stream, StreamExt};
use tokio::time::timeout_at;

use super::http::{Deadlines, from_reqwest};
use super::{DecoderStatus, StreamDecoder, carries_output};
use crate::backend::ChatStream;
use crate::error::{Error, Result};
use crate::sse::{SseStream, SseStreamError};
use crate::types::ChatCompletionChunk;

/// Turns a successful streaming response into chunks.
///
/// Until the first chunk with output, each read must finish before the
/// first-token deadline; after it, before the total deadline. The stream ends
/// after the decoder reports [`DecoderStatus::Finished`] or after the first
/// error. Dropping it drops the response body, which closes the connection.
pub(crate) fn chunk_stream<D>(
    provider: String,
    response: reqwest::Response,
    decoder: D,
    deadlines: Deadlines,
) -> ChatStream
where
    D: StreamDecoder + Send + 'static,
{
    let state = ChunkStreamState {
        provider,
        events: SseStream::new(response.bytes_stream()),
        decoder,
        deadlines,
        queue: VecDeque::new(),
        scratch: Vec::new(),
        saw_output: false,
        finished: false,
        chunk_count: 0,
    };
    Box::pin(futures::stream::unfold(state, |mut state| async move {
        let item = state.next_chunk().await?;
        Some((item, state))
    }))
}

struct ChunkStreamState<S, D> {
    provider: String,
    events: SseStream<S>,
    decoder: D,
    deadlines: Deadlines,
    queue: VecDeque<ChatCompletionChunk>,
    scratch: Vec<ChatCompletionChunk>,
    saw_output: bool,
    finished: bool,
    chunk_count: usize,
}

impl<S, D> ChunkStreamState<S, D>
where
    S: Stream<Item = reqwest::Result<bytes::Bytes>>,
    D: StreamDecoder,
{
    async fn next_chunk(&mut self) -> Option<Result<ChatCompletionChunk>> {
        loop {
            if let Some(chunk) = self.queue.pop_front() {
                self.saw_output |= carries_output(&chunk);
                self.chunk_count += 1;
                return Some(Ok(chunk));
            }
            if self.finished {
                return None;
            }
            if let Err(error) = self.read_event().await {
                self.finished = true;
                tracing::debug!(chunks = self.chunk_count, error = %error, "stream failed");
                return Some(Err(error));
            }
        }
    }

    /// Reads and decodes one event, queueing its chunks.
    async fn read_event(&mut self) -> Result<()> {
        let deadline = if self.saw_output {
            self.deadlines.total()
        } else {
            self.deadlines.before_output()
        };
        let event = match timeout_at(deadline.at, self.events.next()).await {
            Err(_) => return Err(deadline.error(&self.provider)),
            Ok(None) => {
                self.finished = true;
                return self.decoder.finish_early();
            }
            Ok(Some(Err(SseStreamError::Transport(error)))) => {
                return Err(from_reqwest(
                    &self.provider,
                    error,
                    self.deadlines.timeouts(),
                ));
            }
            Ok(Some(Err(SseStreamError::Parse(error)))) => {
                return Err(Error::MalformedResponse {
                    provider: self.provider.clone(),
                    message: error.to_string(),
                });
            }
            Ok(Some(Ok(event))) => event,
        };

        let status = self.decoder.decode(&event, &mut self.scratch)?;
        self.queue.extend(self.scratch.drain(..));
        if status == DecoderStatus::Finished {
            self.finished = true;
            tracing::debug!(
                chunks = self.chunk_count + self.queue.len(),
                "stream finished"
            );
        }
        Ok(())
    }
}
