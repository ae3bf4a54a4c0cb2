//! sacreBLEU's `13a` tokenizer in one pass over the bytes.
//!
//! sacreBLEU 2.6.0 (`tokenizers/tokenizer_13a.py` and `tokenizer_re.py`)
//! pads the segment with one space on each side and applies four regular
//! expressions in turn, each a left-to-right `re.sub` without overlapping
//! matches:
//!
//! 1. space around every ASCII symbol except `'`, `,`, `-` and `.`;
//! 2. `([^0-9])([\.,])` to `\1 \2 `;
//! 3. `([\.,])([^0-9])` to ` \1 \2`;
//! 4. `([0-9])(-)` to `\1 \2 `.
//!
//! Here each step is a streaming stage that holds back at most one byte,
//! so feeding bytes through the four stages in a chain gives the same
//! output as running them one after another over whole strings. The last
//! stage splits on whitespace straight into a [`TokenBuffer`].
//!
//! The stages run on UTF-8 bytes: every pattern is ASCII and a UTF-8
//! continuation byte is never `.`, `,`, `-` or a digit, so matches and
//! inserted spaces fall on the same character boundaries as in Python.
//!
//! Most whitespace-separated words contain none of the bytes the rules
//! react to (ASCII symbols, `.`, `,` and `-`), and such a plain word comes
//! out as one token unchanged, so it is copied without the stages. Words
//! with those bytes run through the stages alone, padded with a space on
//! each side. That gives the same tokens as running the whole line: a
//! match never spans two words, because whitespace takes part in a match
//! only as the non-digit before a `.` or `,` (rule 2) or after one (rule
//! 3), next to the word that contains the `.` or `,`, and the padding space
//! plays that part just as well.
//!
//! Most words with rule bytes are simple, too: a decimal, a hyphenated
//! word, a word with a closing `.` or `,`, or one with symbols around it.
//! Their tokens are cut straight out of the line, after a check that no
//! rule acts on them in any other way.

use std::borrow::Cow;

use super::tokenize::is_python_space;
use super::tokens::TokenBuffer;

/// Appends the 13a tokens of `text` to `tokens`, after the trailing
/// whitespace strip that sacreBLEU's BLEU applies to each segment.
pub(crate) fn tokenize_13a_into(text: &str, tokens: &mut TokenBuffer) {
    let line = preprocess(text.trim_end_matches(is_python_space));
    let bytes = line.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if BYTE_CLASSES[usize::from(bytes[start])] == ByteClass::Space {
            start += 1;
            continue;
        }
        let mut end = start;
        // `Plain` is 0, so this is nonzero once a `Rule` byte was seen,
        // without a branch per byte.
        let mut seen = 0;
        while end < bytes.len() {
            let class = BYTE_CLASSES[usize::from(bytes[end])];
            if class == ByteClass::Space {
                break;
            }
            seen |= class as u8;
            end += 1;
        }
        let plain = seen == 0;
        let word = &bytes[start..end];
        // The rules only add spaces around bytes, so a one-byte word such as
        // `.` or `(` is one token too.
        if plain || word.len() == 1 {
            tokens.push_token_of(bytes, start, end);
        } else if simple_word_shape(word) {
            push_simple_word(bytes, start, end, tokens);
        } else {
            tokenize_word_by_rules(word, tokens);
        }
        start = end;
    }
}

/// Returns whether rules 2 to 4 act on `word`, a whitespace-free word, in
/// the simple way [`push_simple_word`] reproduces without the stages.
///
/// Rule 1 cuts the word into segments at its symbols and leaves a space on
/// each side of every segment. The word qualifies when, in every segment:
///
/// - each `.` or `,` has a digit on both sides, or ends the segment after
///   another byte. Rules 2 and 3 leave the first kind alone. They split the
///   second kind off, with the space after the segment, and change nothing
///   else;
/// - no `-` follows a digit, so rule 4 never matches.
///
/// This covers decimals and thousands (`3.5`, `1,000`), hyphenated words,
/// and words with a closing `.` or `,`, such as the last word of a
/// sentence. Any other word goes through the stages.
fn simple_word_shape(word: &[u8]) -> bool {
    word.iter().enumerate().all(|(index, &byte)| {
        let before = index.checked_sub(1).map(|i| word[i]);
        let after = word.get(index + 1).copied();
        match byte {
            b'.' | b',' => {
                let between_digits = before.is_some_and(|b| b.is_ascii_digit())
                    && after.is_some_and(|b| b.is_ascii_digit());
                let closes_segment = after.is_none_or(is_13a_punctuation)
                    && before.is_some_and(|b| !is_13a_punctuation(b));
                between_digits || closes_segment
            }
            b'-' => !before.is_some_and(|b| b.is_ascii_digit()),
            _ => true,
        }
    })
}

/// Pushes the tokens of `text[start..end]`, a word for which
/// [`simple_word_shape`] holds: every symbol alone, every `.` or `,` that
/// closes a segment alone, and the rest of each segment as one token.
fn push_simple_word(text: &[u8], start: usize, end: usize, tokens: &mut TokenBuffer) {
    let mut token_start = start;
    for index in start..end {
        let byte = text[index];
        let closes = match byte {
            b'.' | b',' => text
                .get(index + 1)
                .is_none_or(|&next| index + 1 == end || is_13a_punctuation(next)),
            _ => is_13a_punctuation(byte),
        };
        if closes {
            tokens.push_token_of(text, token_start, index);
            tokens.push_token_of(text, index, index + 1);
            token_start = index + 1;
        }
    }
    tokens.push_token_of(text, token_start, end);
}

/// Runs one whitespace-free word through the four rules, padded with a
/// space on each side like the whole line in sacreBLEU.
fn tokenize_word_by_rules(word: &[u8], tokens: &mut TokenBuffer) {
    let mut stages = Stages {
        period_before: None,
        period_after: None,
        dash: None,
        tokens,
    };
    stages.feed(b' ');
    for &byte in word {
        stages.feed(byte);
    }
    stages.feed(b' ');
    stages.finish();
}

/// The tokenizer's class of a byte of the preprocessed line.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum ByteClass {
    /// A byte that no rule reacts to: letters, digits, `'`, control bytes
    /// that are not whitespace, and every byte of a non-ASCII character.
    Plain = 0,
    /// Whitespace: separates words.
    Space = 1,
    /// An ASCII symbol, `.`, `,` or `-`: the word goes through the rules.
    Rule = 2,
}

const BYTE_CLASSES: [ByteClass; 256] = {
    let mut classes = [ByteClass::Plain; 256];
    let mut byte = 0;
    while byte < 128 {
        let value = byte as u8;
        classes[byte] = if is_ascii_python_space(value) {
            ByteClass::Space
        } else if is_13a_punctuation(value) || matches!(value, b'.' | b',' | b'-') {
            ByteClass::Rule
        } else {
            ByteClass::Plain
        };
        byte += 1;
    }
    classes
};

/// Applies the plain-text replacements that come before the regular
/// expressions, and turns non-ASCII whitespace into a space. The last step
/// does not change the tokens: both kinds of whitespace separate tokens,
/// neither is a digit, `.`, `,` or `-`, and only the byte before a `.` or
/// `,` or after one matters to the rules. It lets the splitter test ASCII
/// bytes only.
fn preprocess(line: &str) -> Cow<'_, str> {
    let bytes = line.as_bytes();
    // Every non-ASCII character that Python's `str.isspace` accepts (U+0085,
    // U+00A0, U+1680, U+2000 to U+205F, U+3000) starts with one of the
    // UTF-8 lead bytes 0xc2 and 0xe1 to 0xe3, so most lines need no
    // decoding. `memchr` checks a vector of bytes at a time.
    let unchanged = memchr::memchr3(b'<', b'\n', b'&', bytes).is_none()
        && memchr::memchr(0xc2, bytes).is_none()
        && memchr::memchr3(0xe1, 0xe2, 0xe3, bytes).is_none();
    if unchanged {
        return Cow::Borrowed(line);
    }
    let needs_replace = bytes.iter().any(|&b| matches!(b, b'<' | b'\n' | b'&'));
    let has_unicode_space = !line.is_ascii() && line.chars().any(is_unicode_space);
    if !needs_replace && !has_unicode_space {
        return Cow::Borrowed(line);
    }

    let mut owned = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if owned.contains('&') {
        owned = owned
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    if has_unicode_space {
        owned = owned
            .chars()
            .map(|c| if is_unicode_space(c) { ' ' } else { c })
            .collect();
    }
    Cow::Owned(owned)
}

fn is_unicode_space(c: char) -> bool {
    !c.is_ascii() && is_python_space(c)
}

/// The four rules as a chain of streaming stages; each `Option` is the byte
/// a stage holds back until it sees the next one.
struct Stages<'a> {
    period_before: Option<u8>,
    period_after: Option<u8>,
    dash: Option<u8>,
    tokens: &'a mut TokenBuffer,
}

impl Stages<'_> {
    /// Rule 1: space around symbols.
    #[inline]
    fn feed(&mut self, byte: u8) {
        if is_13a_punctuation(byte) {
            self.split_period_before(b' ');
            self.split_period_before(byte);
            self.split_period_before(b' ');
        } else {
            self.split_period_before(byte);
        }
    }

    /// Rule 2: a non-digit then `.` or `,` becomes `a . `.
    #[inline]
    fn split_period_before(&mut self, byte: u8) {
        match self.period_before.take() {
            Some(held) if !held.is_ascii_digit() && is_period_or_comma(byte) => {
                self.split_period_after(held);
                self.split_period_after(b' ');
                self.split_period_after(byte);
                self.split_period_after(b' ');
            }
            Some(held) => {
                self.split_period_after(held);
                self.period_before = Some(byte);
            }
            None => self.period_before = Some(byte),
        }
    }

    /// Rule 3: `.` or `,` then a non-digit becomes ` . b`.
    #[inline]
    fn split_period_after(&mut self, byte: u8) {
        match self.period_after.take() {
            Some(held) if is_period_or_comma(held) && !byte.is_ascii_digit() => {
                self.split_dash(b' ');
                self.split_dash(held);
                self.split_dash(b' ');
                self.split_dash(byte);
            }
            Some(held) => {
                self.split_dash(held);
                self.period_after = Some(byte);
            }
            None => self.period_after = Some(byte),
        }
    }

    /// Rule 4: a digit then `-` becomes `d - `.
    #[inline]
    fn split_dash(&mut self, byte: u8) {
        match self.dash.take() {
            Some(held) if held.is_ascii_digit() && byte == b'-' => {
                self.split_words(held);
                self.split_words(b' ');
                self.split_words(byte);
                self.split_words(b' ');
            }
            Some(held) => {
                self.split_words(held);
                self.dash = Some(byte);
            }
            None => self.dash = Some(byte),
        }
    }

    /// Splits on whitespace, like Python's `str.split()` on ASCII text.
    #[inline]
    fn split_words(&mut self, byte: u8) {
        if is_ascii_python_space(byte) {
            self.tokens.end_token();
        } else {
            self.tokens.push_byte(byte);
        }
    }

    /// Flushes the held bytes through the later stages.
    fn finish(&mut self) {
        if let Some(held) = self.period_before.take() {
            self.split_period_after(held);
        }
        if let Some(held) = self.period_after.take() {
            self.split_dash(held);
        }
        if let Some(held) = self.dash.take() {
            self.split_words(held);
        }
        self.tokens.end_token();
    }
}

/// Returns whether rule 1 surrounds `byte` with spaces: true for ASCII
/// symbols and the space, except `'`, `,`, `-` and `.`.
const fn is_13a_punctuation(byte: u8) -> bool {
    matches!(byte, b'{'..=b'~' | b'['..=b'`' | b' '..=b'&' | b'('..=b'+' | b':'..=b'@' | b'/')
}

fn is_period_or_comma(byte: u8) -> bool {
    byte == b'.' || byte == b','
}

/// Python's `str.isspace` on ASCII: space, `\t` to `\r`, and U+001C to
/// U+001F.
const fn is_ascii_python_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t'..=b'\r' | 0x1c..=0x1f)
}

#[cfg(test)]
mod tests;
