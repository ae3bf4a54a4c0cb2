//! Tokenizers of the reference metrics, written to give the same tokens as
//! the Python packages they are checked against.

use super::mteval::tokenize_13a_into;
use super::tokens::TokenBuffer;

/// Returns whether Python's `str.isspace` holds for `c`: Unicode
/// `White_Space`, plus the ASCII separators U+001C to U+001F.
pub(crate) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Splits on Python whitespace, like `str.split()` without arguments.
pub(crate) fn python_split(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_python_space)
        .filter(|token| !token.is_empty())
}

/// Tokenizes like sacreBLEU's default `13a` tokenizer (the tokenization of
/// mteval-v13a.pl used by WMT), after the trailing-whitespace strip that
/// sacreBLEU's BLEU applies to each segment.
///
/// ```
/// use llmops_eval::text::tokenize_13a;
///
/// assert_eq!(tokenize_13a("Hello, world. 3.5-2"), ["Hello", ",", "world", ".", "3.5", "-", "2"]);
/// ```
pub fn tokenize_13a(text: &str) -> Vec<String> {
    let mut tokens = TokenBuffer::default();
    tokenize_13a_into(text, &mut tokens);
    tokens.strings_from(0)
}

/// Tokenizes like the default tokenizer of Google's `rouge-score` package
/// without stemming: lowercase, then keep maximal runs of ASCII letters and
/// digits.
///
/// ```
/// use llmops_eval::text::tokenize_rouge;
///
/// assert_eq!(tokenize_rouge("The cat's 2 HATS!"), ["the", "cat", "s", "2", "hats"]);
/// ```
pub fn tokenize_rouge(text: &str) -> Vec<String> {
    let mut tokens = TokenBuffer::default();
    tokenize_rouge_into(text, &mut tokens);
    tokens.strings_from(0)
}

/// Appends the ROUGE tokens of `text` to `tokens`: the text is lowercased
/// like Python's `str.lower` and split into maximal runs of `a-z` and
/// `0-9`. Lowercasing char by char gives the same ASCII letters as
/// lowercasing the whole string, because the only context-dependent rule,
/// the final sigma, yields a Greek letter.
pub(crate) fn tokenize_rouge_into(text: &str, tokens: &mut TokenBuffer) {
    if text.is_ascii() {
        for &byte in text.as_bytes() {
            push_rouge_byte(byte.to_ascii_lowercase(), tokens);
        }
    } else {
        for c in text.chars() {
            if c.is_ascii() {
                push_rouge_byte(c.to_ascii_lowercase() as u8, tokens);
                continue;
            }
            for lower in c.to_lowercase() {
                // Any non-ASCII char ends the token, as 0xff does.
                let byte = if lower.is_ascii() { lower as u8 } else { 0xff };
                push_rouge_byte(byte, tokens);
            }
        }
    }
    tokens.end_token();
}

fn push_rouge_byte(byte: u8, tokens: &mut TokenBuffer) {
    if byte.is_ascii_lowercase() || byte.is_ascii_digit() {
        tokens.push_byte(byte);
    } else {
        tokens.end_token();
    }
}
