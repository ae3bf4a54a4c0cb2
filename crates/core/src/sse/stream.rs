//! A [`Stream`] adapter from byte chunks to server-sent events.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

use super::event::{SseError, SseEvent};
use super::parser::SseParser;

/// A failure of an [`SseStream`]: the byte stream failed, or its bytes are
/// not a valid event stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SseStreamError<E> {
    /// The underlying byte stream returned an error.
    #[error("reading the event stream failed: {0}")]
    Transport(#[source] E),
    /// The bytes could not be parsed.
    #[error(transparent)]
    Parse(#[from] SseError),
}

/// A stream of [`SseEvent`]s parsed from a stream of byte chunks.
///
/// The byte stream's items may be of any type that implements
/// `AsRef<[u8]>`, such as `bytes::Bytes` from
/// `reqwest::Response::bytes_stream()`. When the byte stream ends, a final
/// event without its closing blank line is still returned. Dropping this
/// stream drops the byte stream.
pub struct SseStream<S> {
    bytes: Pin<Box<S>>,
    parser: SseParser,
    bytes_ended: bool,
}

impl<S> std::fmt::Debug for SseStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseStream")
            .field("parser", &self.parser)
            .field("bytes_ended", &self.bytes_ended)
            .finish_non_exhaustive()
    }
}

impl<S> SseStream<S> {
    /// Wraps a byte stream, parsing it with a default [`SseParser`].
    pub fn new(bytes: S) -> Self {
        Self::with_parser(bytes, SseParser::new())
    }

    /// Wraps a byte stream, parsing it with `parser`.
    pub fn with_parser(bytes: S, parser: SseParser) -> Self {
        SseStream {
            bytes: Box::pin(bytes),
            parser,
            bytes_ended: false,
        }
    }
}

impl<S, B, E> Stream for SseStream<S>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    type Item = Result<SseEvent, SseStreamError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match this.parser.next_event() {
                Ok(Some(event)) => return Poll::Ready(Some(Ok(event))),
                Err(error) => return Poll::Ready(Some(Err(SseStreamError::Parse(error)))),
                Ok(None) if this.bytes_ended => return Poll::Ready(None),
                Ok(None) => {}
            }

            match this.bytes.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => this.parser.feed(chunk.as_ref()),
                Poll::Ready(Some(Err(error))) => {
                    return Poll::Ready(Some(Err(SseStreamError::Transport(error))));
                }
                Poll::Ready(None) => {
                    this.parser.finish();
                    this.bytes_ended = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn stream_splits_and_flushes_last_event() {
        let chunks: Vec<Result<&[u8], std::io::Error>> = vec![
            Ok(b"data: he"),
            Ok(b"llo\n\nevent: end\ndata: \xC3"),
            Ok(b"\xA9"),
        ];
        let events: Vec<_> = SseStream::new(futures::stream::iter(chunks))
            .map(|item| item.unwrap())
            .collect()
            .await;
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].data, "hello");
        assert_eq!(events[1].kind(), "end");
        assert_eq!(events[1].data, "é");
    }

    #[tokio::test]
    async fn stream_passes_transport_error() {
        let chunks: Vec<Result<&[u8], std::io::Error>> = vec![
            Ok(b"data: a\n\n"),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "reset",
            )),
        ];
        let mut stream = SseStream::new(futures::stream::iter(chunks));
        assert_eq!(stream.next().await.unwrap().unwrap().data, "a");
        let error = stream.next().await.unwrap().unwrap_err();
        assert!(matches!(error, SseStreamError::Transport(_)), "{error}");
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn stream_reports_invalid_utf8() {
        let chunks: Vec<Result<&[u8], std::io::Error>> = vec![Ok(b"data: ok\n\ndata: \xFF\n\n")];
        let items: Vec<_> = SseStream::new(futures::stream::iter(chunks))
            .collect()
            .await;
        assert_eq!(items.len(), 2);
        assert!(matches!(
            items[1],
            Err(SseStreamError::Parse(SseError::InvalidUtf8 {
                field: "data",
                offset: 16
            }))
        ));
    }
}
