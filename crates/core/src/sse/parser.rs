//! The incremental event-stream parser.

use memchr::{memchr, memchr2};

use super::event::{SseError, SseEvent};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The default limit on the size of one event, pending line included.
const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// An incremental parser from event-stream bytes to [`SseEvent`]s.
///
/// Feed byte chunks with [`feed`](Self::feed) and take events with
/// [`next_event`](Self::next_event) until it returns `Ok(None)`. When the body
/// ends, call [`finish`](Self::finish) and drain the remaining events: a last
/// event without its closing blank line is still returned, unlike the
/// browser algorithm, because model servers do end streams that way.
///
/// After an error the offending event is dropped and parsing continues with
/// the next line.
#[derive(Debug)]
pub struct SseParser {
    /// Received bytes; everything before `pos` is parsed.
    buf: Vec<u8>,
    pos: usize,
    /// Bytes from `pos` up to here contain no line ending, so the search for
    /// the next one resumes here. This keeps parsing linear when a long line
    /// arrives in small chunks.
    scanned: usize,
    /// Stream offset of `buf[0]`.
    base_offset: u64,
    /// The previous line ended with CR at the end of the buffer, so a leading
    /// LF in the next chunk belongs to that line ending.
    skip_lf: bool,
    bom_checked: bool,
    /// The rest of the current line is dropped after an oversized event.
    discard_line: bool,
    eof: bool,
    max_event_bytes: usize,
    pending: PendingEvent,
}

/// Fields of the event being assembled, still as bytes.
#[derive(Debug, Default)]
struct PendingEvent {
    data: Vec<u8>,
    /// For each data line: its start in `data` and its stream offset, used to
    /// report the offset of invalid UTF-8.
    data_lines: Vec<(usize, u64)>,
    event: Option<String>,
    last_id: Option<String>,
    retry: Option<u64>,
    /// Lines are ignored up to the next blank line after an error.
    skip_event: bool,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// Creates a parser with a 16 MiB limit per event.
    pub fn new() -> Self {
        SseParser {
            buf: Vec::new(),
            pos: 0,
            scanned: 0,
            base_offset: 0,
            skip_lf: false,
            bom_checked: false,
            discard_line: false,
            eof: false,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            pending: PendingEvent::default(),
        }
    }

    /// Sets the maximum size in bytes of one event, including its pending
    /// line; a larger event yields [`SseError::EventTooLarge`]. Default 16 MiB.
    pub fn with_max_event_bytes(mut self, limit: usize) -> Self {
        self.max_event_bytes = limit;
        self
    }

    /// Parses a whole body at once.
    ///
    /// # Errors
    ///
    /// Returns the first [`SseError`] in the body.
    pub fn parse_complete(body: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut parser = SseParser::new();
        parser.feed(body);
        parser.finish();
        let mut events = Vec::new();
        while let Some(event) = parser.next_event()? {
            events.push(event);
        }
        Ok(events)
    }

    /// Appends a chunk of the body. Bytes fed after [`finish`](Self::finish)
    /// are parsed as if they had arrived before it.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base_offset += self.pos as u64;
            self.scanned = self.scanned.saturating_sub(self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Marks the end of the body, so that a final line without a line ending
    /// and a final event without a blank line are returned by
    /// [`next_event`](Self::next_event).
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// Returns the stream offset of the first byte not yet parsed.
    pub fn offset(&self) -> u64 {
        self.base_offset + self.pos as u64
    }

    /// Parses buffered lines until an event is complete.
    ///
    /// Returns `Ok(None)` when the buffered bytes hold no further complete
    /// event; feed more bytes, or call [`finish`](Self::finish) at the end.
    ///
    /// # Errors
    ///
    /// Returns [`SseError::InvalidUtf8`] when a field of the completed event
    /// is not UTF-8, and [`SseError::EventTooLarge`] when an event exceeds the
    /// size limit. The event is dropped and the next call continues after it.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, SseError> {
        if !self.bom_checked && !self.skip_bom() {
            return Ok(None);
        }
        loop {
            if self.skip_lf && !self.skip_crlf_tail() {
                return Ok(None);
            }
            let search_start = self.scanned.max(self.pos);
            let Some(index) = memchr2(b'\n', b'\r', &self.buf[search_start..]) else {
                self.scanned = self.buf.len();
                return self.at_buffer_end();
            };

            let line_start = self.pos;
            let line_end = search_start + index;
            self.pos = line_end + 1;
            if self.buf[line_end] == b'\r' {
                self.skip_lf = true;
            }
            if self.discard_line {
                self.discard_line = false;
                continue;
            }
            let line_offset = self.base_offset + line_start as u64;
            let line = &self.buf[line_start..line_end];
            if let Some(event) =
                self.pending
                    .process_line(line, line_offset, self.max_event_bytes)?
            {
                return Ok(Some(event));
            }
        }
    }

    /// Skips a leading byte order mark; returns `false` while too few bytes
    /// have arrived to tell.
    fn skip_bom(&mut self) -> bool {
        let rest = &self.buf[self.pos..];
        if rest.len() < BOM.len() && BOM.starts_with(rest) && !self.eof {
            return false;
        }
        if rest.starts_with(BOM) {
            self.pos += BOM.len();
        }
        self.bom_checked = true;
        true
    }

    /// Skips the LF of a CRLF split across chunks; returns `false` while the
    /// next byte has not arrived.
    fn skip_crlf_tail(&mut self) -> bool {
        match self.buf.get(self.pos) {
            Some(b'\n') => {
                self.pos += 1;
                self.skip_lf = false;
                true
            }
            Some(_) => {
                self.skip_lf = false;
                true
            }
            None if self.eof => {
                self.skip_lf = false;
                true
            }
            None => false,
        }
    }

    /// Handles a buffer without a further line ending: waits for more bytes,
    /// or at the end of the body parses the last line and dispatches.
    fn at_buffer_end(&mut self) -> Result<Option<SseEvent>, SseError> {
        let partial_len = self.buf.len() - self.pos;
        if !self.eof {
            let pending_len = partial_len + self.pending.data.len();
            if pending_len > self.max_event_bytes {
                let offset = self.offset();
                self.pos = self.buf.len();
                self.discard_line = true;
                self.pending.reset();
                self.pending.skip_event = true;
                return Err(SseError::EventTooLarge {
                    limit: self.max_event_bytes,
                    offset,
                });
            }
            return Ok(None);
        }

        if partial_len > 0 && !self.discard_line {
            let line_start = self.pos;
            let line_offset = self.offset();
            self.pos = self.buf.len();
            let line = &self.buf[line_start..];
            if let Some(event) =
                self.pending
                    .process_line(line, line_offset, self.max_event_bytes)?
            {
                return Ok(Some(event));
            }
        }
        self.pos = self.buf.len();
        self.discard_line = false;
        self.pending.dispatch()
    }
}

impl PendingEvent {
    /// Applies one line; returns the event when the line is blank.
    fn process_line(
        &mut self,
        line: &[u8],
        line_offset: u64,
        max_event_bytes: usize,
    ) -> Result<Option<SseEvent>, SseError> {
        if line.is_empty() {
            if self.skip_event {
                self.skip_event = false;
                return Ok(None);
            }
            return self.dispatch();
        }
        if line[0] == b':' || self.skip_event {
            return Ok(None);
        }

        let (name, value, value_start) = match memchr(b':', line) {
            Some(colon) => {
                let skip = usize::from(line.get(colon + 1) == Some(&b' '));
                let value_start = colon + 1 + skip;
                (&line[..colon], &line[value_start..], value_start)
            }
            None => (line, &line[line.len()..], line.len()),
        };
        let value_offset = line_offset + value_start as u64;

        let applied = match name {
            b"data" => self.push_data(value, value_offset, max_event_bytes),
            b"event" => decode_field("event", value, value_offset).map(|text| {
                self.event = (!text.is_empty()).then(|| text.to_owned());
            }),
            // The standard ignores an id containing NUL.
            b"id" if memchr(0, value).is_none() => {
                decode_field("id", value, value_offset).map(|text| {
                    self.last_id = (!text.is_empty()).then(|| text.to_owned());
                })
            }
            b"retry" => {
                if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
                    // The value is all digits, so parsing fails only on u64
                    // overflow, and an overflowing value is ignored.
                    self.retry = std::str::from_utf8(value)
                        .ok()
                        .and_then(|digits| digits.parse().ok());
                }
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(error) = applied {
            self.reset();
            self.skip_event = true;
            return Err(error);
        }
        Ok(None)
    }

    fn push_data(
        &mut self,
        value: &[u8],
        value_offset: u64,
        max_event_bytes: usize,
    ) -> Result<(), SseError> {
        if !self.data_lines.is_empty() {
            self.data.push(b'\n');
        }
        if self.data.len() + value.len() > max_event_bytes {
            return Err(SseError::EventTooLarge {
                limit: max_event_bytes,
                offset: value_offset,
            });
        }
        self.data_lines.push((self.data.len(), value_offset));
        self.data.extend_from_slice(value);
        Ok(())
    }

    /// Completes the event; an event without data lines is not dispatched.
    fn dispatch(&mut self) -> Result<Option<SseEvent>, SseError> {
        if self.data_lines.is_empty() {
            self.event = None;
            self.retry = None;
            return Ok(None);
        }

        let bytes = std::mem::take(&mut self.data);
        let data = match String::from_utf8(bytes) {
            Ok(data) => data,
            Err(error) => {
                let bad = error.utf8_error().valid_up_to();
                let offset = self.stream_offset_of_data(bad);
                self.reset();
                return Err(SseError::InvalidUtf8 {
                    field: "data",
                    offset,
                });
            }
        };
        self.data_lines.clear();
        Ok(Some(SseEvent {
            event: self.event.take(),
            data,
            id: self.last_id.clone(),
            retry: self.retry.take(),
        }))
    }

    /// Maps a position in the joined data to its offset in the stream.
    fn stream_offset_of_data(&self, position: usize) -> u64 {
        let line = self
            .data_lines
            .partition_point(|&(start, _)| start <= position)
            .saturating_sub(1);
        match self.data_lines.get(line) {
            Some(&(start, offset)) => offset + (position - start) as u64,
            None => 0,
        }
    }

    /// Drops the event being assembled; the last event id persists.
    fn reset(&mut self) {
        self.data.clear();
        self.data_lines.clear();
        self.event = None;
        self.retry = None;
    }
}

fn decode_field<'a>(
    field: &'static str,
    value: &'a [u8],
    offset: u64,
) -> Result<&'a str, SseError> {
    std::str::from_utf8(value).map_err(|error| SseError::InvalidUtf8 {
        field,
        offset: offset + error.valid_up_to() as u64,
    })
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
