//! Streaming-safe scanning of model output.

use std::sync::Arc;

use crate::analyzer::Analyzer;
use crate::anonymize::{Anonymizer, PlaceholderScope};
use crate::error::Result;
use crate::finding::Finding;

/// Default hold-back window in chars.
pub const DEFAULT_WINDOW_CHARS: usize = 256;

/// Chars of already-emitted text kept as left context, so a boundary check
/// can still read the character before a value that starts a chunk.
const LEFT_CONTEXT_CHARS: usize = 32;

/// Text that is safe to forward and the findings redacted in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamOutput {
    /// Redacted text to forward.
    pub text: String,
    /// Findings, with offsets into the whole stream as received.
    pub findings: Vec<Finding>,
}

/// Most chars a finding that reaches into the window can hold back. A
/// 4096-bit RSA private key in PEM is about 3,300 chars.
pub const MAX_HELD_CHARS: usize = 16_384;

/// Redacts findings in a stream of chunks. It holds back the last
/// `window_chars` chars, and any finding that reaches into them, so a value
/// split across chunks is seen whole.
///
/// A value longer than the window is held back as long as the part received
/// so far is recognized: a PEM private key block counts from its BEGIN line
/// on, whether or not its END line has arrived. A finding that grows past
/// [`MAX_HELD_CHARS`] is redacted up to the window and the rest of it is
/// emitted as it arrives, because the scanner's buffer no longer contains
/// its start.
#[derive(Debug)]
pub struct StreamScanner {
    analyzer: Arc<Analyzer>,
    anonymizer: Anonymizer,
    scope: PlaceholderScope,
    window_chars: usize,
    /// Left context followed by pending text.
    buffer: String,
    /// Bytes at the start of `buffer` that were already emitted.
    context_len: usize,
    /// Stream offsets of the first pending byte and char.
    pending_byte: usize,
    pending_char: usize,
}

impl StreamScanner {
    /// Creates a scanner with the default window of 256 chars.
    pub fn new(analyzer: Arc<Analyzer>, anonymizer: Anonymizer) -> Self {
        Self {
            analyzer,
            anonymizer,
            scope: PlaceholderScope::new(),
            window_chars: DEFAULT_WINDOW_CHARS,
            buffer: String::new(),
            context_len: 0,
            pending_byte: 0,
            pending_char: 0,
        }
    }

    /// Sets the hold-back window in chars; it should exceed the longest value
    /// to catch.
    pub fn with_window_chars(mut self, window_chars: usize) -> Self {
        self.window_chars = window_chars;
        self
    }

    /// Adds a chunk and returns the text that can be forwarded now.
    ///
    /// # Errors
    ///
    /// Returns an error only when a model-based recognizer fails.
    pub fn push(&mut self, chunk: &str) -> Result<StreamOutput> {
        self.buffer.push_str(chunk);
        let pending_chars = self.buffer[self.context_len..].chars().count();
        if pending_chars <= self.window_chars {
            return Ok(StreamOutput::default());
        }
        let keep_from = nth_char_from_end(&self.buffer, self.window_chars);
        self.emit(keep_from)
    }

    /// Flushes all held-back text at the end of the stream.
    ///
    /// # Errors
    ///
    /// Returns an error only when a model-based recognizer fails.
    pub fn finish(&mut self) -> Result<StreamOutput> {
        let end = self.buffer.len();
        self.emit(end)
    }

    /// Emits pending text up to byte `cut` of the buffer, or less when a
    /// finding straddles `cut`.
    fn emit(&mut self, cut: usize) -> Result<StreamOutput> {
        let mut findings = self.analyzer.analyze(&self.buffer)?;
        let mut cut = cut;
        let mut hold_until = cut;
        for finding in &mut findings {
            let straddles = finding.bytes.start < cut
                && finding.bytes.end > cut
                && finding.bytes.start >= self.context_len;
            if !straddles {
                continue;
            }
            let held_chars = self.buffer[finding.bytes.start..].chars().count();
            if held_chars <= MAX_HELD_CHARS {
                hold_until = hold_until.min(finding.bytes.start);
                continue;
            }
            tracing::warn!(
                entity = %finding.entity,
                held_chars,
                "a finding outgrew the stream hold-back limit; redacting the part received"
            );
            let clipped_chars = self.buffer[finding.bytes.start..cut].chars().count();
            finding.bytes.end = cut;
            finding.chars.end = finding.chars.start + clipped_chars;
        }
        cut = hold_until;
        if cut <= self.context_len {
            return Ok(StreamOutput::default());
        }

        // Findings that start in the left context were handled by an earlier call.
        let ready: Vec<Finding> = findings
            .into_iter()
            .filter(|f| f.bytes.start >= self.context_len && f.bytes.end <= cut)
            .map(|f| self.shift(f))
            .collect();
        let local: Vec<Finding> = ready
            .iter()
            .map(|f| {
                let mut local = f.clone();
                local.bytes =
                    (f.bytes.start - self.pending_byte)..(f.bytes.end - self.pending_byte);
                local
            })
            .collect();

        let pending = &self.buffer[self.context_len..cut];
        let text = self.anonymizer.anonymize(pending, &local, &mut self.scope);
        self.pending_byte += pending.len();
        self.pending_char += pending.chars().count();

        // Keep the tail of the emitted text as left context for the next call.
        let context_start = nth_char_from_end(&self.buffer[..cut], LEFT_CONTEXT_CHARS);
        self.buffer.drain(..context_start);
        self.context_len = cut - context_start;
        Ok(StreamOutput {
            text,
            findings: ready,
        })
    }

    /// Converts buffer offsets to stream offsets.
    fn shift(&self, mut finding: Finding) -> Finding {
        let byte_delta = self.pending_byte - self.context_len;
        let context_chars = self.buffer[..self.context_len].chars().count();
        let char_delta = self.pending_char - context_chars;
        finding.bytes = (finding.bytes.start + byte_delta)..(finding.bytes.end + byte_delta);
        finding.chars = (finding.chars.start + char_delta)..(finding.chars.end + char_delta);
        finding
    }
}

/// Returns the byte offset where the last `n` chars of `text` begin.
fn nth_char_from_end(text: &str, n: usize) -> usize {
    if n == 0 {
        return text.len();
    }
    text.char_indices().rev().nth(n - 1).map_or(0, |(i, _)| i)
}
