//! Streams through the gateway: fail-over before the first content, then
//! pass-through with accounting when the stream ends or is dropped.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use llmops_core::types::{ChatCompletionChunk, StreamAccumulator};
use llmops_core::{ChatStream, Error};

use crate::deployment::{Deployment, InFlight};
use crate::gateway::{Gateway, Pending};
use crate::record::RequestStatus;
use crate::settle::Settlement;

/// The accounting of a stream in progress, awaited before the stream ends.
type Settling = Pin<Box<dyn Future<Output = ()> + Send>>;

/// An upstream stream that has produced its first content: the chunks read
/// so far and the rest.
pub(crate) struct Opened {
    buffered: VecDeque<ChatCompletionChunk>,
    rest: ChatStream,
    in_flight: InFlight,
    first_content_at: Instant,
}

/// Whether a chunk carries something a client acts on, as opposed to the
/// role-only opening chunk or Azure's filter-results preamble.
fn carries_content(chunk: &ChatCompletionChunk) -> bool {
    chunk.usage.is_some()
        || chunk.choices.iter().any(|choice| {
            choice.finish_reason.is_some()
                || choice.delta.tool_calls.is_some()
                || choice.delta.refusal.is_some()
                || choice
                    .delta
                    .content
                    .as_deref()
                    .is_some_and(|text| !text.is_empty())
        })
}

/// Reads `stream` up to its first content-bearing chunk. An error or the
/// end of the stream before that fails the attempt, so the gateway can
/// still try another deployment: nothing has reached the client yet.
pub(crate) async fn open(mut stream: ChatStream, in_flight: InFlight) -> Result<Opened, Error> {
    let mut buffered = VecDeque::new();
    loop {
        match stream.next().await {
            Some(Ok(chunk)) => {
                let content = carries_content(&chunk);
                buffered.push_back(chunk);
                if content {
                    return Ok(Opened {
                        buffered,
                        rest: stream,
                        in_flight,
                        first_content_at: Instant::now(),
                    });
                }
            }
            Some(Err(error)) => return Err(error),
            None => {
                return Err(Error::Network {
                    provider: crate::GATEWAY_PROVIDER.to_owned(),
                    message: "the upstream stream ended before any content".to_owned(),
                });
            }
        }
    }
}

/// The stream handed to the client.
pub(crate) struct GatewayStream {
    gateway: Gateway,
    pending: Option<Pending>,
    deployment: Arc<Deployment>,
    buffered: VecDeque<ChatCompletionChunk>,
    rest: ChatStream,
    accumulator: StreamAccumulator,
    time_to_first_token: Duration,
    in_flight: Option<InFlight>,
    done: bool,
    /// The accounting started when the upstream stream ended.
    settling: Option<Settling>,
    /// The item returned once `settling` completes: the upstream error, or
    /// none for the end of the stream.
    last_item: Option<Result<ChatCompletionChunk, Error>>,
}

impl GatewayStream {
    pub(crate) fn start(
        gateway: Gateway,
        pending: Pending,
        deployment: Arc<Deployment>,
        opened: Opened,
    ) -> ChatStream {
        let time_to_first_token = opened
            .first_content_at
            .saturating_duration_since(pending.started);
        Box::pin(GatewayStream {
            gateway,
            pending: Some(pending),
            deployment,
            buffered: opened.buffered,
            rest: opened.rest,
            accumulator: StreamAccumulator::default(),
            time_to_first_token,
            in_flight: Some(opened.in_flight),
            done: false,
            settling: None,
            last_item: None,
        })
    }

    /// Writes the record once: on the end of the stream, its error, or
    /// drop. Returns the accounting still to do, or none after the first
    /// call.
    fn finish(&mut self, status: RequestStatus, error: Option<&Error>) -> Option<Settlement> {
        let pending = self.pending.take()?;
        self.in_flight = None;
        let now = Instant::now();
        match (&status, error) {
            (RequestStatus::Success, _) => {
                self.deployment
                    .breaker
                    .record(now, true, self.time_to_first_token);
            }
            (_, Some(error)) if error.retry_may_help() => {
                self.deployment
                    .breaker
                    .record(now, false, self.time_to_first_token);
            }
            _ => self.deployment.breaker.release_probe(),
        }
        let accumulator = std::mem::take(&mut self.accumulator);
        let usage = accumulator.usage().cloned();
        let completion = accumulator.finish();
        Some(self.gateway.finish(
            pending,
            Some(&self.deployment),
            status,
            usage,
            Some(self.time_to_first_token),
            Some(&completion),
        ))
    }

    /// Starts the accounting and returns `last_item` once it completes.
    fn end_with(
        &mut self,
        last_item: Option<Result<ChatCompletionChunk, Error>>,
        settlement: Option<Settlement>,
    ) {
        self.done = true;
        self.last_item = last_item;
        self.settling = settlement.map(|settlement| Box::pin(settlement.run()) as Settling);
    }
}

impl Stream for GatewayStream {
    type Item = Result<ChatCompletionChunk, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(settling) = this.settling.as_mut() {
            if settling.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.settling = None;
            return Poll::Ready(this.last_item.take());
        }
        if this.done {
            return Poll::Ready(this.last_item.take());
        }
        if let Some(chunk) = this.buffered.pop_front() {
            this.accumulator.push(&chunk);
            return Poll::Ready(Some(Ok(chunk)));
        }
        match this.rest.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                this.accumulator.push(&chunk);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => {
                let status = RequestStatus::Error {
                    class: error.class().to_owned(),
                    message: error.to_string(),
                };
                let settlement = this.finish(status, Some(&error));
                this.end_with(Some(Err(error)), settlement);
                Pin::new(this).poll_next(cx)
            }
            Poll::Ready(None) => {
                let settlement = this.finish(RequestStatus::Success, None);
                this.end_with(None, settlement);
                Pin::new(this).poll_next(cx)
            }
        }
    }
}

impl Drop for GatewayStream {
    fn drop(&mut self) {
        if let Some(settlement) = self.finish(RequestStatus::Cancelled, None) {
            settlement.spawn();
        }
        if let Some(settling) = self.settling.take() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(settling);
            }
        }
    }
}
