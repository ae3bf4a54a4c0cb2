//! Text normalisation before matching, with a map back to the original offsets.
//!
//! Matching runs on a normalised copy: NFKC per character (full-width digits
//! become ASCII), zero-width characters removed and dash variants unified to
//! `-`. Every normalised character remembers the byte range of the original
//! character it came from, so findings point at the original text.

use std::ops::Range;
use std::sync::OnceLock;

use unicode_normalization::{IsNormalized, UnicodeNormalization};

/// Characters removed before matching: zero-width space, non-joiner, joiner,
/// word joiner, byte order mark and soft hyphen.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// Characters removed before matching: the [`is_invisible`] ones and other
/// format characters that render as nothing. These are left-to-right and
/// right-to-left marks, bidi embeddings and isolates, invisible math
/// operators, the combining grapheme joiner, variation selectors, the
/// Mongolian vowel separator and tag characters. Any of them inside a
/// number would otherwise split it.
fn is_ignorable(c: char) -> bool {
    is_invisible(c)
        || matches!(
            c,
            '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2061}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{034F}'
                | '\u{180E}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// The Turkish capital I with a dot, matched as `I`. Unicode gives it no
/// simple case folding, and its full lower-case form is `i` with a
/// combining dot, so `İGNORE` or `BİRTH` would otherwise match neither a
/// phrase nor a context word.
const DOTTED_CAPITAL_I: char = '\u{130}';

/// Dash and hyphen variants that are unified to ASCII `-`.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' | '\u{30FC}'
    )
}

/// Returns true for characters that normalisation leaves as they are:
/// ASCII, precomposed Hangul syllables (NFKC keeps them), and any other
/// character that is neither removed nor a dash and passes the NFKC quick
/// check. Running NFKC on a Hangul syllable decomposes and recomposes it,
/// which made normalisation the largest cost on Korean text.
fn is_unchanged(c: char) -> bool {
    if c.is_ascii() || ('\u{AC00}'..='\u{D7A3}').contains(&c) {
        return true;
    }
    !is_ignorable(c)
        && !is_dash(c)
        && c != DOTTED_CAPITAL_I
        && unicode_normalization::is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
}

/// Normalised text of one normalised character's origin.
#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Byte offset in the normalised text.
    normalized: usize,
    /// Byte range of the source character in the original text.
    original_start: usize,
    original_end: usize,
}

/// A normalised copy of a text and the map back to the original.
#[derive(Debug, Clone)]
pub struct NormalizedText<'a> {
    original: &'a str,
    text: String,
    /// `None` when the normalised text equals the original byte for byte.
    pieces: Option<Vec<Piece>>,
    /// Maximal runs of ASCII bytes with a digit, found on first use.
    ascii_number_runs: OnceLock<Vec<Range<usize>>>,
}

impl<'a> NormalizedText<'a> {
    /// Normalises `original`.
    ///
    /// NOTE: NFKC runs per character, so sequences that compose across
    /// characters (decomposed Hangul jamo, combining accents) stay decomposed.
    pub fn new(original: &'a str) -> Self {
        if original.chars().all(is_unchanged) {
            return Self {
                original,
                text: original.to_owned(),
                pieces: None,
                ascii_number_runs: OnceLock::new(),
            };
        }
        let mut text = String::with_capacity(original.len());
        let mut pieces = Vec::with_capacity(original.len());
        for (start, c) in original.char_indices() {
            let end = start + c.len_utf8();
            if is_ignorable(c) {
                continue;
            }
            let mut push = |out: char, text: &mut String| {
                pieces.push(Piece {
                    normalized: text.len(),
                    original_start: start,
                    original_end: end,
                });
                text.push(out);
            };
            if is_dash(c) {
                push('-', &mut text);
            } else if c == DOTTED_CAPITAL_I {
                push('I', &mut text);
            } else if is_unchanged(c) {
                push(c, &mut text);
            } else {
                for out in std::iter::once(c).nfkc() {
                    push(out, &mut text);
                }
            }
        }
        Self {
            original,
            text,
            pieces: Some(pieces),
            ascii_number_runs: OnceLock::new(),
        }
    }

    /// Returns the original text.
    pub fn original(&self) -> &'a str {
        self.original
    }

    /// Returns the normalised text that recognizers match on.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Maps a byte range of the normalised text to the byte range of the
    /// original characters it came from. Returns `None` for an empty or
    /// out-of-range input.
    pub fn to_original(&self, range: Range<usize>) -> Option<Range<usize>> {
        if range.start >= range.end || range.end > self.text.len() {
            return None;
        }
        let Some(pieces) = &self.pieces else {
            return Some(range);
        };
        let first = piece_at(pieces, range.start)?;
        let last = piece_at(pieces, range.end - 1)?;
        Some(first.original_start..last.original_end)
    }

    /// Returns the maximal runs of ASCII bytes in the normalised text that
    /// contain an ASCII digit, in order.
    ///
    /// A pattern that matches only ASCII bytes and needs a digit in every
    /// match finds all its matches inside these runs. In Korean text they
    /// are a small part of the bytes.
    pub(crate) fn ascii_number_runs(&self) -> &[Range<usize>] {
        self.ascii_number_runs.get_or_init(|| {
            let mut runs = Vec::new();
            let mut start = None;
            let mut digit = false;
            for (index, &byte) in self.text.as_bytes().iter().enumerate() {
                if byte.is_ascii() {
                    start.get_or_insert(index);
                    digit |= byte.is_ascii_digit();
                } else if let Some(run_start) = start.take() {
                    if digit {
                        runs.push(run_start..index);
                    }
                    digit = false;
                }
            }
            if let (Some(run_start), true) = (start, digit) {
                runs.push(run_start..self.text.len());
            }
            runs
        })
    }
}

/// Finds the piece whose normalised character contains byte `offset`.
fn piece_at(pieces: &[Piece], offset: usize) -> Option<&Piece> {
    let index = match pieces.binary_search_by_key(&offset, |piece| piece.normalized) {
        Ok(index) => index,
        Err(0) => return None,
        Err(index) => index - 1,
    };
    pieces.get(index)
}

/// Converts byte offsets of one text to `char` offsets.
#[derive(Debug)]
pub(crate) struct CharIndex {
    /// Byte offset of every char start; `None` for ASCII text.
    starts: Option<Vec<usize>>,
    len_bytes: usize,
}

impl CharIndex {
    pub(crate) fn new(text: &str) -> Self {
        let starts = (!text.is_ascii()).then(|| text.char_indices().map(|(i, _)| i).collect());
        Self {
            starts,
            len_bytes: text.len(),
        }
    }

    /// Returns the char offset of byte offset `byte`, which must be a char boundary.
    pub(crate) fn char_offset(&self, byte: usize) -> usize {
        match &self.starts {
            None => byte,
            Some(starts) if byte >= self.len_bytes => starts.len(),
            Some(starts) => starts.partition_point(|&start| start < byte),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_maps_identity() {
        let text = NormalizedText::new("abc 123");
        assert_eq!(text.as_str(), "abc 123");
        assert_eq!(text.to_original(4..7), Some(4..7));
    }

    #[test]
    fn full_width_digits_map_back() {
        let original = "번호 ９００１０１";
        let text = NormalizedText::new(original);
        assert!(text.as_str().ends_with("900101"));
        let start = text.as_str().find('9').unwrap_or(0);
        let range = text.to_original(start..text.as_str().len()).unwrap_or(0..0);
        assert_eq!(&original[range], "９００１０１");
    }

    #[test]
    fn zero_width_removed_and_spanned() {
        let original = "010\u{200B}-1234\u{2013}5678";
        let text = NormalizedText::new(original);
        assert_eq!(text.as_str(), "010-1234-5678");
        let range = text.to_original(0..text.as_str().len()).unwrap_or(0..0);
        assert_eq!(range, 0..original.len());
    }

    #[test]
    fn ascii_number_runs_skip_runs_without_digits() {
        let text =
            NormalizedText::new("전화 010-1234 입니다, 주민 900101-1234567끝 no digits 가 7");
        let runs: Vec<&str> = text
            .ascii_number_runs()
            .iter()
            .map(|run| &text.as_str()[run.clone()])
            .collect();
        assert_eq!(runs, [" 010-1234 ", " 900101-1234567", " 7"]);
        assert!(NormalizedText::new("").ascii_number_runs().is_empty());
        let digits_only = NormalizedText::new("42");
        assert_eq!(digits_only.ascii_number_runs().len(), 1);
        assert_eq!(digits_only.ascii_number_runs()[0], 0..2);
    }

    #[test]
    fn format_characters_inside_numbers_are_removed() {
        for mark in [
            '\u{200E}',
            '\u{202C}',
            '\u{2062}',
            '\u{034F}',
            '\u{FE0F}',
            '\u{E0001}',
        ] {
            let original = format!("번호 900101{mark}-1234568");
            let text = NormalizedText::new(&original);
            assert_eq!(text.as_str(), "번호 900101-1234568", "{mark:?}");
            let start = text.as_str().find('9').unwrap_or(0);
            let range = text.to_original(start..text.as_str().len()).unwrap_or(0..0);
            assert_eq!(
                &original[range],
                &original[original.find('9').unwrap_or(0)..]
            );
        }
    }

    #[test]
    fn dotted_capital_i_matches_as_i() {
        let original = "DATE OF BİRTH";
        let text = NormalizedText::new(original);
        assert_eq!(text.as_str(), "DATE OF BIRTH");
        let start = text.as_str().find("BIRTH").unwrap_or(0);
        let range = text.to_original(start..text.as_str().len()).unwrap_or(0..0);
        assert_eq!(&original[range], "BİRTH");
    }

    #[test]
    fn char_index_counts_scalars() {
        let index = CharIndex::new("가a나");
        assert_eq!(index.char_offset(0), 0);
        assert_eq!(index.char_offset(3), 1);
        assert_eq!(index.char_offset(4), 2);
        assert_eq!(index.char_offset(7), 3);
    }
}
