//! Scenarios: the reply, usage, timing and injected faults of one request.

use std::time::Duration;

use bytes::Bytes;

use crate::fault::Fault;
use crate::request::split_words;

/// The reply and fault plan for one request, built with chained methods.
///
/// A scenario renders in the protocol of the route that receives it: the
/// same `Scenario::text("Hi")` becomes a `chat.completion` on
/// `/v1/chat/completions` and a `message` on `/v1/messages`, as a stream when
/// the request sets `"stream": true`.
///
/// Stream faults count *events*: one OpenAI `data:` line or one Anthropic
/// `event:` and `data:` pair, including the final `data: [DONE]`. A
/// non-stream body is the single event 0.
///
/// ```
/// use std::time::Duration;
/// use llmops_testkit::{Fault, Scenario};
///
/// let slow = Scenario::text("Hello there").chunk_delay(Duration::from_millis(5));
/// let cut = Scenario::text("Hello there").disconnect_after(2);
/// let limited = Scenario::error(Fault::RateLimit { retry_after_s: Some(1) });
/// # let _ = (slow, cut, limited);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    pub(crate) reply: Reply,
    pub(crate) usage: Option<(u64, u64)>,
    pub(crate) cached_tokens: u64,
    pub(crate) cache_creation_tokens: u64,
    pub(crate) model: Option<String>,
    pub(crate) truncated: bool,
    pub(crate) latency: Duration,
    pub(crate) first_token_delay: Duration,
    pub(crate) chunk_delay: Duration,
    pub(crate) disconnect_after: Option<usize>,
    pub(crate) stall_after: Option<usize>,
    pub(crate) malformed_at: Option<usize>,
    pub(crate) stream_error_after: Option<usize>,
    pub(crate) split: Split,
}

/// The body of a reply before faults apply.
#[derive(Debug, Clone, Default)]
pub(crate) enum Reply {
    /// Text derived from the request, as [`Scenario::echo`] describes.
    #[default]
    Echo,
    /// Text sent as the given stream pieces.
    Text(Vec<String>),
    /// One or more tool calls, after optional text.
    ToolCalls {
        text: Vec<String>,
        calls: Vec<ToolCallSpec>,
    },
    /// An HTTP error.
    Error(Fault),
    /// No reply until the server shuts down.
    Hang,
    /// A recorded body sent as is.
    Replay {
        content_type: &'static str,
        body: Bytes,
    },
}

/// One tool call of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolCallSpec {
    pub(crate) name: String,
    pub(crate) arguments: String,
}

/// Cut points that divide the body into separate writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Split {
    #[default]
    None,
    /// A cut every this many bytes of the body.
    Every(usize),
    /// Cuts at these byte offsets of the body.
    At(Vec<usize>),
}

impl Scenario {
    /// Creates the default reply: the text `You said: ` followed by the first
    /// 32 words of the last user message, or `Hello from the llmops mock
    /// server.` when there is none.
    ///
    /// Without [`Scenario::with_usage`], usage is counted from the request:
    /// prompt tokens are the whitespace-separated words in all message text
    /// (and the Anthropic `system` field), completion tokens are the number
    /// of stream pieces the reply is cut into. A piece is a word with its
    /// leading whitespace, so `You said: hi` is 3 completion tokens.
    pub fn echo() -> Scenario {
        Scenario::default()
    }

    /// Creates a text reply, streamed one word (with its leading
    /// whitespace) per content delta.
    pub fn text(text: impl AsRef<str>) -> Scenario {
        Scenario::text_chunks(split_words(text.as_ref()))
    }

    /// Creates a text reply streamed as exactly these content deltas.
    pub fn text_chunks<I, S>(chunks: I) -> Scenario
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Scenario {
            reply: Reply::Text(chunks.into_iter().map(Into::into).collect()),
            ..Scenario::default()
        }
    }

    /// Creates a reply with one tool call. `arguments` is the JSON text of
    /// the arguments; streams send it in fragments cut where letters and
    /// digits meet punctuation, as the real APIs do.
    pub fn tool_call(name: impl Into<String>, arguments: impl Into<String>) -> Scenario {
        Scenario {
            reply: Reply::ToolCalls {
                text: Vec::new(),
                calls: vec![ToolCallSpec {
                    name: name.into(),
                    arguments: arguments.into(),
                }],
            },
            ..Scenario::default()
        }
    }

    /// Adds a tool call after the existing content. On a text reply the text
    /// stays and comes first: an OpenAI message with both `content` and
    /// `tool_calls`, or an Anthropic text block before the `tool_use` block.
    /// On any other scenario, this call replaces the reply.
    pub fn and_tool_call(mut self, name: impl Into<String>, arguments: impl Into<String>) -> Self {
        let call = ToolCallSpec {
            name: name.into(),
            arguments: arguments.into(),
        };
        self.reply = match std::mem::take(&mut self.reply) {
            Reply::ToolCalls { text, mut calls } => {
                calls.push(call);
                Reply::ToolCalls { text, calls }
            }
            Reply::Text(text) => Reply::ToolCalls {
                text,
                calls: vec![call],
            },
            _ => Reply::ToolCalls {
                text: Vec::new(),
                calls: vec![call],
            },
        };
        self
    }

    /// Creates an HTTP error reply.
    pub fn error(fault: Fault) -> Scenario {
        Scenario {
            reply: Reply::Error(fault),
            ..Scenario::default()
        }
    }

    /// Creates a scenario that never sends a response head, for timeout
    /// tests. The request ends, with an aborted connection, only when the
    /// server shuts down.
    pub fn hang() -> Scenario {
        Scenario {
            reply: Reply::Hang,
            ..Scenario::default()
        }
    }

    /// Creates a 200 reply that sends a recorded server-sent event body as
    /// `text/event-stream; charset=utf-8`, whatever the request asked. Each
    /// event ends at a blank line (`\n\n`), so the stream faults and delays
    /// apply per recorded event.
    pub fn replay_sse(body: impl Into<Bytes>) -> Scenario {
        Scenario {
            reply: Reply::Replay {
                content_type: "text/event-stream; charset=utf-8",
                body: body.into(),
            },
            ..Scenario::default()
        }
    }

    /// Creates a 200 reply that sends a recorded JSON body as
    /// `application/json`, whatever the request asked.
    pub fn replay_json(body: impl Into<Bytes>) -> Scenario {
        Scenario {
            reply: Reply::Replay {
                content_type: "application/json",
                body: body.into(),
            },
            ..Scenario::default()
        }
    }

    /// Sets the reported usage. `prompt_tokens` counts all input tokens the
    /// OpenAI way, cached ones included; Anthropic replies report
    /// `input_tokens` as `prompt_tokens` minus cached and cache-write tokens.
    pub fn with_usage(mut self, prompt_tokens: u64, completion_tokens: u64) -> Self {
        self.usage = Some((prompt_tokens, completion_tokens));
        self
    }

    /// Sets the input tokens read from the prompt cache: OpenAI
    /// `prompt_tokens_details.cached_tokens`, Anthropic
    /// `cache_read_input_tokens`. Default 0.
    pub fn with_cached_tokens(mut self, tokens: u64) -> Self {
        self.cached_tokens = tokens;
        self
    }

    /// Sets the input tokens written to the prompt cache, reported only by
    /// Anthropic replies as `cache_creation_input_tokens`. Default 0.
    pub fn with_cache_creation_tokens(mut self, tokens: u64) -> Self {
        self.cache_creation_tokens = tokens;
        self
    }

    /// Sets the model name in the reply. Default: the request's `model`.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Ends the reply as if it reached the output token limit:
    /// `finish_reason: "length"` on OpenAI routes, `stop_reason:
    /// "max_tokens"` on Anthropic routes. Default: a normal stop.
    pub fn truncated(mut self) -> Self {
        self.truncated = true;
        self
    }

    /// Waits this long before sending the response head. Default zero.
    pub fn latency(mut self, delay: Duration) -> Self {
        self.latency = delay;
        self
    }

    /// Waits this long, after the head and the events before the first
    /// content delta, before that delta. Streams only. Default zero.
    pub fn first_token_delay(mut self, delay: Duration) -> Self {
        self.first_token_delay = delay;
        self
    }

    /// Waits this long before each event after the first, except where
    /// [`Scenario::first_token_delay`] applies. Default zero.
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    /// Sends `events` events, then closes the connection abruptly: no
    /// further events, no `[DONE]` and no end of the chunked body.
    pub fn disconnect_after(mut self, events: usize) -> Self {
        self.disconnect_after = Some(events);
        self
    }

    /// Sends `events` events, then sends nothing more and keeps the
    /// connection open until the server shuts down, for idle-timeout tests.
    pub fn stall_after(mut self, events: usize) -> Self {
        self.stall_after = Some(events);
        self
    }

    /// Replaces the JSON of event `event` with its first half, keeping the
    /// SSE framing, so the client reads a well-framed event with invalid
    /// JSON. On a non-stream reply, the body is cut in half.
    pub fn malformed_at(mut self, event: usize) -> Self {
        self.malformed_at = Some(event);
        self
    }

    /// Sends `events` events, then an error event, then ends the stream.
    /// Anthropic routes send `event: error` with the recorded `overloaded_error`
    /// payload; OpenAI routes send a `data:` line with an `error` object.
    pub fn stream_error_after(mut self, events: usize) -> Self {
        self.stream_error_after = Some(events);
        self
    }

    /// Cuts the body into separate writes of `bytes` bytes each, so clients
    /// see lines, JSON objects and UTF-8 characters split across reads. Each
    /// write is its own HTTP chunk. Zero turns splitting off.
    pub fn split_every(mut self, bytes: usize) -> Self {
        self.split = if bytes == 0 {
            Split::None
        } else {
            Split::Every(bytes)
        };
        self
    }

    /// Cuts the body into separate writes at these byte offsets of the whole
    /// body (after faults apply). Offsets past the end are ignored.
    pub fn split_at(mut self, offsets: impl IntoIterator<Item = usize>) -> Self {
        let mut offsets: Vec<usize> = offsets.into_iter().collect();
        offsets.sort_unstable();
        offsets.dedup();
        self.split = Split::At(offsets);
        self
    }

    /// Returns whether the body needs the event-by-event writer instead of
    /// a single write.
    pub(crate) fn needs_planned_body(&self) -> bool {
        !self.first_token_delay.is_zero()
            || !self.chunk_delay.is_zero()
            || self.disconnect_after.is_some()
            || self.stall_after.is_some()
            || self.malformed_at.is_some()
            || self.stream_error_after.is_some()
            || self.split != Split::None
    }
}
