//! Incremental text output: bytes of generated tokens to valid UTF-8, and
//! stop sequences that may span several tokens.

/// Turns token bytes into UTF-8 text piece by piece.
///
/// A byte-level BPE token can end in the middle of a multi-byte character
/// (an emoji often takes two or three tokens), so the bytes of an unfinished
/// character are held back until the token that completes it arrives.
/// Bytes that can never form a character become U+FFFD.
#[derive(Debug, Default)]
pub(crate) struct Utf8Decoder {
    pending: Vec<u8>,
}

impl Utf8Decoder {
    /// Appends `bytes` and returns the text that is now complete.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut text = String::new();
        let mut start = 0;
        loop {
            match std::str::from_utf8(&self.pending[start..]) {
                Ok(valid) => {
                    text.push_str(valid);
                    start = self.pending.len();
                    break;
                }
                Err(error) => {
                    let valid_end = start + error.valid_up_to();
                    text.push_str(&String::from_utf8_lossy(&self.pending[start..valid_end]));
                    match error.error_len() {
                        // An invalid sequence: replace it and go on after it.
                        Some(invalid_len) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            start = valid_end + invalid_len;
                        }
                        // The start of a character whose last bytes are still to come.
                        None => {
                            start = valid_end;
                            break;
                        }
                    }
                }
            }
        }
        self.pending.drain(..start);
        text
    }

    /// Drops the held-back bytes of an unfinished character and returns
    /// how many there were. Output cut off by a token limit can end inside a
    /// character, and leaving it out is better than ending with U+FFFD.
    pub(crate) fn discard_unfinished(&mut self) -> usize {
        let dropped = self.pending.len();
        self.pending.clear();
        dropped
    }
}

/// What [`StopMatcher::push`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StopScan {
    /// No stop sequence yet: this text is safe to send.
    Continue(String),
    /// A stop sequence matched: this text precedes it, and generation ends.
    Stopped(String),
}

/// Finds stop sequences in generated text without sending any part of one.
///
/// Text that could be the start of a stop sequence is held back until later
/// text either completes the sequence (generation stops and the sequence is
/// never sent) or rules it out (the text is sent).
#[derive(Debug)]
pub(crate) struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

impl StopMatcher {
    /// Creates a matcher for `stops`; empty sequences are ignored.
    pub(crate) fn new(stops: Vec<String>) -> Self {
        let stops = stops.into_iter().filter(|stop| !stop.is_empty()).collect();
        StopMatcher {
            stops,
            held: String::new(),
        }
    }

    /// Appends generated text and returns what can be sent now.
    pub(crate) fn push(&mut self, text: &str) -> StopScan {
        self.held.push_str(text);
        // The earliest match wins, whichever sequence it is.
        let first_match = self
            .stops
            .iter()
            .filter_map(|stop| self.held.find(stop.as_str()))
            .min();
        if let Some(position) = first_match {
            let before = self.held[..position].to_owned();
            self.held.clear();
            return StopScan::Stopped(before);
        }

        let keep = self.partial_match_len();
        let send_len = self.held.len() - keep;
        let rest = self.held.split_off(send_len);
        let send = std::mem::replace(&mut self.held, rest);
        StopScan::Continue(send)
    }

    /// Returns the held-back text once generation ended for another reason.
    pub(crate) fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// Returns the length of the longest end of the held text that is the
    /// start of a stop sequence.
    fn partial_match_len(&self) -> usize {
        let mut longest = 0;
        for stop in &self.stops {
            for (start, _) in self.held.char_indices() {
                let tail = &self.held[start..];
                if tail.len() > longest && stop.starts_with(tail) {
                    longest = tail.len();
                    break;
                }
            }
        }
        longest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(bytes: &[u8], piece_len: usize) -> Vec<String> {
        let mut decoder = Utf8Decoder::default();
        let pieces: Vec<String> = bytes
            .chunks(piece_len)
            .map(|chunk| decoder.push(chunk))
            .collect();
        assert_eq!(decoder.discard_unfinished(), 0);
        pieces
    }

    #[test]
    fn utf8_split_emoji_held_back() {
        let mut decoder = Utf8Decoder::default();
        let emoji = "🦀".as_bytes();
        assert_eq!(decoder.push(&emoji[..1]), "");
        assert_eq!(decoder.push(&emoji[1..3]), "");
        assert_eq!(decoder.push(&emoji[3..]), "🦀");
        assert_eq!(decoder.discard_unfinished(), 0);
    }

    #[test]
    fn utf8_every_split_keeps_text() {
        let text = "a🦀 한국어 ü€ end";
        for piece_len in 1..=5 {
            let pieces = decode_in_pieces(text.as_bytes(), piece_len);
            assert_eq!(pieces.concat(), text, "piece length {piece_len}");
            for piece in &pieces {
                assert!(!piece.contains(char::REPLACEMENT_CHARACTER));
            }
        }
    }

    #[test]
    fn utf8_korean_split_mid_syllable() {
        let mut decoder = Utf8Decoder::default();
        let bytes = "한글".as_bytes();
        assert_eq!(decoder.push(&bytes[..2]), "");
        assert_eq!(decoder.push(&bytes[2..4]), "한");
        assert_eq!(decoder.push(&bytes[4..]), "글");
    }

    #[test]
    fn utf8_invalid_bytes_replaced() {
        let mut decoder = Utf8Decoder::default();
        assert_eq!(decoder.push(&[b'a', 0xFF, b'b']), "a\u{FFFD}b");
        // A continuation byte with no start byte is invalid at once.
        assert_eq!(decoder.push(&[0x80]), "\u{FFFD}");
    }

    #[test]
    fn utf8_unfinished_char_at_end() {
        let mut decoder = Utf8Decoder::default();
        assert_eq!(decoder.push(&"é".as_bytes()[..1]), "");
        assert_eq!(decoder.discard_unfinished(), 1);
        assert_eq!(decoder.discard_unfinished(), 0);
        assert_eq!(decoder.push("b".as_bytes()), "b");
    }

    #[test]
    fn utf8_empty_push() {
        let mut decoder = Utf8Decoder::default();
        assert_eq!(decoder.push(&[]), "");
        assert_eq!(decoder.discard_unfinished(), 0);
    }

    #[test]
    fn stop_within_one_piece() {
        let mut matcher = StopMatcher::new(vec!["END".to_owned()]);
        assert_eq!(
            matcher.push("abc END def"),
            StopScan::Stopped("abc ".to_owned())
        );
    }

    #[test]
    fn stop_across_pieces_never_sent() {
        let mut matcher = StopMatcher::new(vec!["</answer>".to_owned()]);
        assert_eq!(matcher.push("42 </"), StopScan::Continue("42 ".to_owned()));
        assert_eq!(matcher.push("ans"), StopScan::Continue(String::new()));
        assert_eq!(matcher.push("wer> tail"), StopScan::Stopped(String::new()));
    }

    #[test]
    fn stop_false_start_released() {
        let mut matcher = StopMatcher::new(vec!["\n\n".to_owned()]);
        assert_eq!(
            matcher.push("line\n"),
            StopScan::Continue("line".to_owned())
        );
        assert_eq!(
            matcher.push("next"),
            StopScan::Continue("\nnext".to_owned())
        );
        assert_eq!(matcher.finish(), "");
    }

    #[test]
    fn stop_earliest_of_several() {
        let mut matcher = StopMatcher::new(vec!["world".to_owned(), "o".to_owned()]);
        assert_eq!(
            matcher.push("hello world"),
            StopScan::Stopped("hell".to_owned())
        );
    }

    #[test]
    fn stop_held_text_flushed_at_end() {
        let mut matcher = StopMatcher::new(vec!["STOP".to_owned()]);
        assert_eq!(
            matcher.push("ends with ST"),
            StopScan::Continue("ends with ".to_owned())
        );
        assert_eq!(matcher.finish(), "ST");
    }

    #[test]
    fn stop_multibyte_sequence() {
        let mut matcher = StopMatcher::new(vec!["🦀🦀".to_owned()]);
        assert_eq!(
            matcher.push("crab 🦀"),
            StopScan::Continue("crab ".to_owned())
        );
        assert_eq!(matcher.push("🦀 more"), StopScan::Stopped(String::new()));
    }

    #[test]
    fn stop_none_configured() {
        let mut matcher = StopMatcher::new(vec![String::new()]);
        assert_eq!(
            matcher.push("anything"),
            StopScan::Continue("anything".to_owned())
        );
    }
}
