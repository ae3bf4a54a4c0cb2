//! The event and error types of the SSE parser.

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event` field, or `None` for the default type `message`.
    pub event: Option<String>,
    /// The `data` lines of the event, joined by `\n`.
    pub data: String,
    /// The last event id seen in the stream so far (the `id` field persists
    /// across events, as the standard requires).
    pub id: Option<String>,
    /// The reconnection time in milliseconds, when this event set one.
    pub retry: Option<u64>,
}

impl SseEvent {
    /// Creates a `message` event with `data`.
    pub fn message(data: impl Into<String>) -> Self {
        SseEvent {
            data: data.into(),
            ..SseEvent::default()
        }
    }

    /// Returns the event type, `message` when the stream named none.
    pub fn kind(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }

    /// Returns whether the data is the OpenAI end-of-stream marker `[DONE]`.
    pub fn is_done(&self) -> bool {
        self.data == "[DONE]"
    }
}

/// A failure to parse an event stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A field of an event is not valid UTF-8.
    #[error("invalid UTF-8 in the `{field}` field of an event at byte {offset} of the stream")]
    InvalidUtf8 {
        /// The field name: `data`, `event` or `id`.
        field: &'static str,
        /// The offset of the first invalid byte from the start of the stream.
        offset: u64,
    },

    /// An event grew past the configured size limit before it was dispatched.
    #[error(
        "an event at byte {offset} of the stream exceeds {limit} bytes; raise the limit with SseParser::with_max_event_bytes"
    )]
    EventTooLarge {
        /// The configured limit in bytes.
        limit: usize,
        /// The offset of the line that crossed the limit.
        offset: u64,
    },
}
