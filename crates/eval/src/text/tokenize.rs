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
    // applied left to right without overlapping matches.
    let mut chars: Vec<char> = Vec::with_capacity(line.len() + 8);
    for c in line.chars() {
        if is_13a_punctuation(c) {
            chars.extend([' ', c, ' ']);
        } else {
            chars.push(c);
        }
    }
    let chars = substitute_pairs(
        &chars,
        |a, b| !a.is_ascii_digit() && is_period_or_comma(b),
        |a, b| [a, ' ', b, ' '],
    );
    let chars = substitute_pairs(
        &chars,
        |a, b| is_period_or_comma(a) && !b.is_ascii_digit(),
        |a, b| [' ', a, ' ', b],
    );
    let chars = substitute_pairs(
        &chars,
        |a, b| a.is_ascii_digit() && b == '-',
        |a, b| [a, ' ', b, ' '],
    );

    let joined: String = chars.into_iter().collect();
    python_split(&joined).map(str::to_owned).collect()
}

/// The characters mteval-v13a surrounds with spaces: ASCII symbols other than
/// `'`, `,`, `-` and `.`.
fn is_13a_punctuation(c: char) -> bool {
    matches!(c, '{'..='~' | '['..='`' | ' '..='&' | '('..='+' | ':'..='@' | '/')
}

fn is_period_or_comma(c: char) -> bool {
    c == '.' || c == ','
}

/// Rewrites each leftmost non-overlapping pair `(a, b)` matching `test` into
/// `rewrite(a, b)`, as `re.sub` does for a two-character pattern.
fn substitute_pairs(
    chars: &[char],
    test: impl Fn(char, char) -> bool,
    rewrite: impl Fn(char, char) -> [char; 4],
) -> Vec<char> {
    let mut out = Vec::with_capacity(chars.len() + 8);
    let mut index = 0;
    while index < chars.len() {
        let current = chars[index];
        match chars.get(index + 1) {
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
    let lowered = if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    };
    lowered
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
        .collect()
}
