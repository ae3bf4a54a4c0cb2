//! Tokenizers of the reference metrics, written to give the same tokens as
//! the Python packages they are checked against.

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
    python_split(&spaced_13a(text)).map(str::to_owned).collect()
}

/// Applies the 13a rules and returns the text with spaces around every
/// token; splitting it on whitespace gives the tokens.
pub(crate) fn spaced_13a(text: &str) -> String {
    let stripped = text.trim_end_matches(is_python_space);
    let mut line = stripped
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }

    // Each step below is one regular-expression substitution of mteval-v13a,
    // applied left to right without overlapping matches. They run on UTF-8
    // bytes: every pattern is ASCII, a UTF-8 continuation byte is never `.`,
    // `,` or a digit, so matches and inserted spaces fall on the same
    // character boundaries as in a character-level pass.
    let mut bytes: Vec<u8> = Vec::with_capacity(line.len() * 2 + 8);
    for &byte in line.as_bytes() {
        if is_13a_punctuation(byte) {
            bytes.extend([b' ', byte, b' ']);
        } else {
            bytes.push(byte);
        }
    }
    let bytes = substitute_pairs(
        &bytes,
        |a, b| !a.is_ascii_digit() && is_period_or_comma(b),
        |a, b| [a, b' ', b, b' '],
    );
    let bytes = substitute_pairs(
        &bytes,
        |a, b| is_period_or_comma(a) && !b.is_ascii_digit(),
        |a, b| [b' ', a, b' ', b],
    );
    let bytes = substitute_pairs(
        &bytes,
        |a, b| a.is_ascii_digit() && b == b'-',
        |a, b| [a, b' ', b, b' '],
    );
    String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// Returns whether mteval-v13a surrounds `byte` with spaces: true for ASCII
/// symbols other than `'`, `,`, `-` and `.`.
fn is_13a_punctuation(byte: u8) -> bool {
    matches!(byte, b'{'..=b'~' | b'['..=b'`' | b' '..=b'&' | b'('..=b'+' | b':'..=b'@' | b'/')
}

fn is_period_or_comma(byte: u8) -> bool {
    byte == b'.' || byte == b','
}

/// Rewrites each leftmost non-overlapping pair `(a, b)` matching `test` into
/// `rewrite(a, b)`, as `re.sub` does for a two-character pattern.
fn substitute_pairs(
    bytes: &[u8],
    test: impl Fn(u8, u8) -> bool,
    rewrite: impl Fn(u8, u8) -> [u8; 4],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 8);
    let mut index = 0;
    while index < bytes.len() {
        let current = bytes[index];
        match bytes.get(index + 1) {
            Some(&next) if test(current, next) => {
                out.extend(rewrite(current, next));
                index += 2;
            }
            _ => {
                out.push(current);
                index += 1;
            }
        }
    }
    out
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
    rouge_words(&lowercase(text)).map(str::to_owned).collect()
}

/// Lowercases like Python's `str.lower`, with an ASCII fast path.
pub(crate) fn lowercase(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    }
}

/// Splits lowercased text into ROUGE tokens: runs of `a-z` and `0-9`.
pub(crate) fn rouge_words(lowered: &str) -> impl Iterator<Item = &str> {
    lowered
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|token| !token.is_empty())
}
