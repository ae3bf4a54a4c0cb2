//! Tokenizers of the reference metrics, written to give the same tokens as
//! the Python packages they are checked against.

use super::mteval::tokenize_13a_into;
use super::porter::stem_ascii;
use super::rouge::RougeOptions;
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
    tokenize_rouge_with(text, RougeOptions::default())
}

/// Tokenizes like the default tokenizer of Google's `rouge-score` package,
/// stemming tokens longer than 3 characters when `options` ask for it.
///
/// ```
/// use llmops_eval::text::{RougeOptions, tokenize_rouge_with};
///
/// let options = RougeOptions::default().with_stemmer(true);
/// assert_eq!(tokenize_rouge_with("The cats were running", options), ["the", "cat", "were", "run"]);
/// ```
pub fn tokenize_rouge_with(text: &str, options: RougeOptions) -> Vec<String> {
    let mut tokens = TokenBuffer::default();
    tokenize_rouge_into(text, &mut tokens);
    if !options.use_stemmer() {
        return tokens.strings_from(0);
    }
    let mut stemmed = TokenBuffer::default();
    stem_rouge_tokens(&tokens, 0, &mut stemmed, &mut Vec::new());
    stemmed.strings_from(0)
}

/// Appends the tokens of `tokens` from index `start` on to `stemmed`,
/// running the Porter stemmer on those longer than 3 bytes, as rouge-score
/// does with `use_stemmer=True`. `word` is scratch space. ROUGE tokens are
/// ASCII, so bytes and characters count alike.
pub(crate) fn stem_rouge_tokens(
    tokens: &TokenBuffer,
    start: usize,
    stemmed: &mut TokenBuffer,
    word: &mut Vec<u8>,
) {
    for index in start..tokens.len() {
        let token = tokens.token(index);
        if token.len() <= 3 {
            stemmed.push_token(token);
            continue;
        }
        word.clear();
        word.extend_from_slice(token);
        stem_ascii(word);
        stemmed.push_token(word);
    }
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
