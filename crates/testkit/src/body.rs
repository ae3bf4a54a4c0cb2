//! Writes a response body event by event, applying delays, cuts, malformed
//! JSON and aborts.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::Stream;
use tokio::sync::watch;

use crate::counters::DisconnectGuard;
use crate::scenario::{Scenario, Split};

/// One unit of a response body: an SSE event, or a whole non-stream body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) bytes: Bytes,
    /// Whether the event carries generated content, which
    /// `first_token_delay` waits for.
    pub(crate) token: bool,
}

impl Event {
    pub(crate) fn frame(bytes: impl Into<Bytes>) -> Event {
        Event {
            bytes: bytes.into(),
            token: false,
        }
    }

    pub(crate) fn token(bytes: impl Into<Bytes>) -> Event {
        Event {
            bytes: bytes.into(),
            token: true,
        }
    }
}

/// One action of the body writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Hand these bytes to the HTTP layer as one frame.
    Write(Bytes),
    /// Return `Pending` once, so the HTTP layer flushes what it holds.
    Flush,
    Sleep(Duration),
    /// Wait until the server shuts down.
    Stall,
    /// Fail the body, which makes the HTTP layer close the connection.
    Abort,
}

/// The writer's steps and the length of the body they would send if no
/// abort cut it short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) steps: Vec<Step>,
    pub(crate) full_length: usize,
}

/// Turns events into writer steps under the scenario's stream faults.
/// `error_event` is what `stream_error_after` sends.
pub(crate) fn plan(events: Vec<Event>, scenario: &Scenario, error_event: Option<Bytes>) -> Plan {
    let mut writes: Vec<(Duration, Bytes)> = Vec::with_capacity(events.len() + 1);
    let mut full_length = 0;
    let mut tail = Vec::new();
    let mut first_token_sent = false;
    let event_count = events.len();

    // Malformed events are transformed up front, so `full_length` also
    // counts the events an abort leaves unsent.
    let events: Vec<Event> = events
        .into_iter()
        .enumerate()
        .map(|(index, event)| {
            let bytes = if scenario.malformed_at == Some(index) {
                malform(&event.bytes)
            } else {
                event.bytes
            };
            full_length += bytes.len();
            Event { bytes, ..event }
        })
        .collect();
    let mut events = events.into_iter();

    for index in 0..=event_count {
        let delay = |token: bool, first_token_sent: bool| {
            if token && !first_token_sent && !scenario.first_token_delay.is_zero() {
                scenario.first_token_delay
            } else if index > 0 {
                scenario.chunk_delay
            } else {
                Duration::ZERO
            }
        };
        if scenario.disconnect_after == Some(index) {
            // Without the flush, the HTTP layer would drop the head and the
            // events it still buffers when the body fails.
            tail.extend([Step::Flush, Step::Abort]);
            break;
        }
        if scenario.stall_after == Some(index) {
            tail.extend([Step::Stall, Step::Abort]);
            break;
        }
        if scenario.stream_error_after == Some(index) {
            if let Some(error_event) = error_event {
                writes.push((delay(false, first_token_sent), error_event));
            }
            break;
        }
        let Some(event) = events.next() else {
            break;
        };
        let delay = delay(event.token, first_token_sent);
        first_token_sent |= event.token;
        writes.push((delay, event.bytes));
    }

    let mut steps = Vec::with_capacity(writes.len() * 2 + tail.len());
    let mut offset = 0;
    for (delay, bytes) in writes {
        if !delay.is_zero() {
            steps.push(Step::Sleep(delay));
        }
        let length = bytes.len();
        push_split_writes(&mut steps, bytes, offset, &scenario.split);
        offset += length;
    }
    steps.extend(tail);
    Plan { steps, full_length }
}

/// Pushes `bytes`, which start at `offset` in the body, as one write per
/// piece between the cut points that fall inside it.
fn push_split_writes(steps: &mut Vec<Step>, bytes: Bytes, offset: usize, split: &Split) {
    let end = offset + bytes.len();
    let cuts: Vec<usize> = match split {
        Split::None => Vec::new(),
        Split::Every(size) => {
            let first = (offset / size + 1) * size;
            (first..end).step_by(*size).collect()
        }
        Split::At(offsets) => offsets
            .iter()
            .copied()
            .filter(|cut| *cut > offset && *cut < end)
            .collect(),
    };
    let mut start = 0;
    for cut in cuts {
        steps.push(Step::Write(bytes.slice(start..cut - offset)));
        steps.push(Step::Flush);
        start = cut - offset;
    }
    // An empty frame would end a chunked body early on some HTTP stacks.
    if start < bytes.len() {
        steps.push(Step::Write(bytes.slice(start..)));
    }
    if !matches!(split, Split::None) {
        steps.push(Step::Flush);
    }
}

/// Keeps the first half of the JSON in an event and its framing around it:
/// `data: {"a":1}\n\n` becomes `data: {"a\n\n`. The cut moves back to a
/// UTF-8 character boundary so the result is still valid UTF-8.
pub(crate) fn malform(bytes: &[u8]) -> Bytes {
    let payload_start = bytes
        .iter()
        .position(|byte| *byte == b'{' || *byte == b'[')
        .unwrap_or(0);
    let payload_end = bytes
        .iter()
        .rposition(|byte| !byte.is_ascii_whitespace())
        .map_or(bytes.len(), |last| last + 1);
    if payload_end <= payload_start {
        return Bytes::copy_from_slice(bytes);
    }

    let mut cut = payload_start + (payload_end - payload_start) / 2;
    while cut > payload_start && (bytes[cut] & 0b1100_0000) == 0b1000_0000 {
        cut -= 1;
    }
    let mut malformed = BytesMut::with_capacity(bytes.len());
    malformed.extend_from_slice(&bytes[..cut]);
    malformed.extend_from_slice(&bytes[payload_end..]);
    malformed.freeze()
}

type Wait = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A response body that runs a [`Plan`].
pub(crate) struct PlannedBody {
    steps: std::vec::IntoIter<Step>,
    wait: Option<Wait>,
    shutdown: watch::Receiver<bool>,
    guard: DisconnectGuard,
}

impl PlannedBody {
    pub(crate) fn new(
        plan: Plan,
        shutdown: watch::Receiver<bool>,
        guard: DisconnectGuard,
    ) -> PlannedBody {
        PlannedBody {
            steps: plan.steps.into_iter(),
            wait: None,
            shutdown,
            guard,
        }
    }
}

/// Resolves when the server starts shutting down.
pub(crate) async fn shutdown_signal(mut shutdown: watch::Receiver<bool>) {
    // An error means the server handle is gone, which also means shutdown.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

impl Stream for PlannedBody {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(wait) = this.wait.as_mut() {
                if wait.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.wait = None;
            }
            match this.steps.next() {
                None => {
                    this.guard.finish();
                    return Poll::Ready(None);
                }
                Some(Step::Write(bytes)) => return Poll::Ready(Some(Ok(bytes))),
                Some(Step::Flush) => {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Some(Step::Sleep(delay)) => {
                    let shutdown = shutdown_signal(this.shutdown.clone());
                    this.wait = Some(Box::pin(async move {
                        tokio::select! {
                            () = tokio::time::sleep(delay) => {}
                            () = shutdown => {}
                        }
                    }));
                }
                Some(Step::Stall) => {
                    this.wait = Some(Box::pin(shutdown_signal(this.shutdown.clone())));
                }
                Some(Step::Abort) => {
                    this.guard.finish();
                    let error = io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "mock scenario aborted the response",
                    );
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn writes(plan: &Plan) -> Vec<Bytes> {
        plan.steps
            .iter()
            .filter_map(|step| match step {
                Step::Write(bytes) => Some(bytes.clone()),
                _ => None,
            })
            .collect()
    }

    fn events(texts: &[&'static str]) -> Vec<Event> {
        texts.iter().map(|text| Event::token(*text)).collect()
    }

    #[test]
    fn malform_keeps_sse_framing() {
        assert_eq!(&malform(b"data: {\"a\":12}\n\n")[..], b"data: {\"a\"\n\n");
    }

    #[test]
    fn malform_cuts_on_char_boundary() {
        let event = "data: {\"t\":\"한한한\"}\n\n".as_bytes();
        let malformed = malform(event);
        assert!(std::str::from_utf8(&malformed).is_ok());
        assert!(malformed.len() < event.len());
        assert!(malformed.ends_with(b"\n\n"));
    }

    #[test]
    fn disconnect_after_two_events() {
        let scenario = Scenario::text("x").disconnect_after(2);
        let plan = plan(events(&["a", "b", "c"]), &scenario, None);
        assert_eq!(writes(&plan), ["a", "b"]);
        assert_eq!(plan.steps.last(), Some(&Step::Abort));
    }

    #[test]
    fn stream_error_replaces_rest() {
        let scenario = Scenario::text("x").stream_error_after(1);
        let error = Bytes::from_static(b"E");
        let plan = plan(events(&["a", "b"]), &scenario, Some(error));
        assert_eq!(writes(&plan), ["a", "E"]);
        assert!(!plan.steps.contains(&Step::Abort));
    }

    #[test]
    fn split_every_cuts_across_events() {
        let scenario = Scenario::text("x").split_every(2);
        let plan = plan(events(&["abc", "de"]), &scenario, None);
        assert_eq!(writes(&plan), ["ab", "c", "d", "e"]);
        assert_eq!(plan.full_length, 5);
    }

    #[test]
    fn first_token_delay_skips_frames() {
        let scenario = Scenario::text("x").first_token_delay(Duration::from_millis(7));
        let frames = vec![Event::frame("head"), Event::token("a"), Event::token("b")];
        let plan = plan(frames, &scenario, None);
        let sleep_at = plan
            .steps
            .iter()
            .position(|step| *step == Step::Sleep(Duration::from_millis(7)));
        assert_eq!(sleep_at, Some(1));
        let sleeps = plan.steps.iter().filter(|s| matches!(s, Step::Sleep(_)));
        assert_eq!(sleeps.count(), 1);
    }

    proptest! {
        #[test]
        fn split_preserves_bytes(
            texts in proptest::collection::vec("\\PC{0,12}", 1..6),
            size in 1usize..9,
            offsets in proptest::collection::vec(0usize..80, 0..6),
        ) {
            let events: Vec<Event> = texts.iter().map(|t| Event::token(t.clone())).collect();
            let whole: Vec<u8> = texts.concat().into_bytes();
            for scenario in [Scenario::echo().split_every(size), Scenario::echo().split_at(offsets.clone())] {
                let plan = plan(events.clone(), &scenario, None);
                let joined: Vec<u8> = writes(&plan).iter().flat_map(|b| b.to_vec()).collect();
                prop_assert_eq!(&joined, &whole);
                prop_assert_eq!(plan.full_length, whole.len());
            }
        }
    }
}
