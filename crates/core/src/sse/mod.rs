//! Incremental server-sent event parsing on bytes.
//!
//! [`SseParser`] takes the body of a `text/event-stream` response in byte
//! chunks of any size and returns complete [`SseEvent`]s. It follows the
//! event-stream format of the WHATWG HTML standard ("Server-sent events").
//! It handles LF, CRLF and CR line endings, a leading byte order mark and
//! `:` comment lines. Fields may have a space after the colon or not,
//! multi-line `data` is joined by `\n`, and a blank line dispatches the
//! event. UTF-8 is decoded once per complete event, so a character, a JSON
//! object or a line split across chunks decodes exactly. Invalid UTF-8
//! yields [`SseError::InvalidUtf8`] with the byte offset.
//!
//! [`SseStream`] adapts a stream of byte chunks, such as reqwest's
//! `Response::bytes_stream()`, into a stream of events.
//!
//! # Example
//!
//! ```
//! use llmops_core::sse::SseParser;
//!
//! let mut parser = SseParser::new();
//! parser.feed(b"event: ping\ndata: {\"a\":");
//! assert!(parser.next_event().unwrap().is_none());
//!
//! parser.feed(b"1}\n\ndata: [DONE]\n\n");
//! let first = parser.next_event().unwrap().unwrap();
//! assert_eq!(first.event.as_deref(), Some("ping"));
//! assert_eq!(first.data, "{\"a\":1}");
//! assert!(parser.next_event().unwrap().unwrap().is_done());
//! ```

mod event;
mod parser;
mod stream;

pub use event::{SseError, SseEvent};
pub use parser::SseParser;
pub use stream::{SseStream, SseStreamError};
