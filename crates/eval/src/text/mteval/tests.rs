use proptest::prelude::*;
use regex::Regex;

use super::*;
use crate::text::tokenize::python_split;

fn fast(text: &str) -> Vec<String> {
    let mut tokens = TokenBuffer::default();
    tokenize_13a_into(text, &mut tokens);
    tokens.strings_from(0)
}

fn replace_entities(text: &str) -> String {
    let mut line = text
        .trim_end_matches(is_python_space)
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
    line
}

/// sacreBLEU 2.6.0's four regular expressions, applied one after another to
/// the padded line with the `regex` crate, whose `replace_all` is leftmost
/// and non-overlapping like Python's `re.sub`.
fn regex_oracle(text: &str) -> Vec<String> {
    let rules = [
        (r"([\{-\~\[-\` -\&\(-\+\:-\@\/])", " ${1} "),
        (r"([^0-9])([\.,])", "${1} ${2} "),
        (r"([\.,])([^0-9])", " ${1} ${2}"),
        (r"([0-9])(-)", "${1} ${2} "),
    ];
    let mut line = format!(" {} ", replace_entities(text));
    for (pattern, replacement) in rules {
        let regex = Regex::new(pattern).unwrap();
        line = regex.replace_all(&line, replacement).into_owned();
    }
    python_split(&line).map(str::to_owned).collect()
}

/// The earlier multi-pass implementation, one buffer per rule, with the
/// padding spaces it lacked added.
fn multi_pass_oracle(text: &str) -> Vec<String> {
    let line = format!(" {} ", replace_entities(text));
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
    let spaced = String::from_utf8(bytes).unwrap();
    python_split(&spaced).map(str::to_owned).collect()
}

fn substitute_pairs(
    bytes: &[u8],
    test: impl Fn(u8, u8) -> bool,
    rewrite: impl Fn(u8, u8) -> [u8; 4],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 8);
    let mut index = 0;
    while index < bytes.len() {
        match bytes.get(index + 1) {
            Some(&next) if test(bytes[index], next) => {
                out.extend(rewrite(bytes[index], next));
                index += 2;
            }
            _ => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    out
}

/// The whole preprocessed line through the rule stages at once, without
/// the split into words and the plain-word shortcut.
fn whole_line_by_rules(text: &str) -> Vec<String> {
    let line = preprocess(text.trim_end_matches(is_python_space));
    let mut tokens = TokenBuffer::default();
    tokenize_word_by_rules(line.as_bytes(), &mut tokens);
    tokens.strings_from(0)
}

/// Sentences of plain words with a few rule bytes, like model output.
fn word_text() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "the",
        "model",
        "it's",
        "naïve",
        "東京",
        "3.5",
        "e.g.",
        "state-of-the-art",
        "(a)",
        "x,y",
        "2026",
        "-",
        ".",
        ",",
        "5-",
        "U.S.",
        "$10",
        "don't",
        "🎉",
        "a\u{1c}b",
    ]);
    let separators = prop::sample::select(vec![" ", " ", " ", "  ", "\t", "\u{a0}", "\n"]);
    prop::collection::vec((words, separators), 0..30).prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(word, separator)| [word, separator])
            .collect()
    })
}

/// Strings built from the pieces the rules and replacements react to.
fn tricky_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "Z",
        "0",
        "9",
        ".",
        ",",
        "-",
        "'",
        " ",
        "  ",
        "\t",
        "\n",
        "&",
        "<",
        ">",
        ";",
        "%",
        "$",
        "(",
        "é",
        "東京",
        "İ",
        "\u{a0}",
        "\u{2003}",
        "\u{3000}",
        "\u{1c}",
        "\u{85}",
        "&amp;",
        "&quot;",
        "&lt;",
        "<skipped>",
        "-\n",
        "3.5",
        "e.g.",
        "🎉",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
}

/// Space-separated words made of the bytes that decide between the simple
/// word shortcut and the stages.
fn rule_words() -> impl Strategy<Value = String> {
    let bytes = prop::sample::select(vec![
        "a", "Z", "0", "9", ".", ",", "-", "(", ")", "%", "'", "é", "東",
    ]);
    let word = prop::collection::vec(bytes, 1..8).prop_map(|bytes| bytes.concat());
    prop::collection::vec(word, 0..6).prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn simple_word_shortcut_matches_rules(text in rule_words()) {
        prop_assert_eq!(fast(&text), regex_oracle(&text));
        prop_assert_eq!(fast(&text), whole_line_by_rules(&text));
    }

    #[test]
    fn single_pass_matches_regex_rules(text in tricky_text()) {
        prop_assert_eq!(fast(&text), regex_oracle(&text));
    }

    #[test]
    fn single_pass_matches_multi_pass(text in tricky_text()) {
        prop_assert_eq!(fast(&text), multi_pass_oracle(&text));
    }

    #[test]
    fn single_pass_matches_on_any_unicode(text in any::<String>()) {
        prop_assert_eq!(fast(&text), regex_oracle(&text));
    }

    #[test]
    fn plain_word_shortcut_matches_rules(text in word_text()) {
        prop_assert_eq!(fast(&text), regex_oracle(&text));
        prop_assert_eq!(fast(&text), whole_line_by_rules(&text));
    }

    #[test]
    fn plain_word_shortcut_matches_on_tricky_text(text in tricky_text()) {
        prop_assert_eq!(fast(&text), whole_line_by_rules(&text));
    }
}

#[test]
fn edges_split_like_padded_sacrebleu() {
    // Values from sacreBLEU 2.6.0's Tokenizer13a, which pads the line with
    // a space on each side before the rules run.
    let cases: [(&str, &[&str]); 6] = [
        ("5.", &["5", "."]),
        (".5", &[".", "5"]),
        ("x.5,", &["x", ".", "5", ","]),
        ("a..b", &["a", ".", ".", "b"]),
        ("3-", &["3", "-"]),
        ("5, x", &["5", ",", "x"]),
    ];
    for (text, expected) in cases {
        assert_eq!(fast(text), expected, "{text:?}");
    }
}

#[test]
fn simple_words_split_like_sacrebleu() {
    // Each word takes the shortcut; the expected tokens follow the four
    // rules by hand.
    let cases: [(&str, &[&str]); 8] = [
        ("3.5", &["3.5"]),
        ("1,000", &["1,000"]),
        ("state-of-the-art", &["state-of-the-art"]),
        ("mat.", &["mat", "."]),
        ("2026,", &["2026", ","]),
        ("(see", &["(", "see"]),
        ("end.)", &["end", ".", ")"]),
        ("$3.5%", &["$", "3.5", "%"]),
    ];
    for (text, expected) in cases {
        assert!(simple_word_shape(text.as_bytes()), "{text:?}");
        assert_eq!(fast(text), expected, "{text:?}");
    }
    for text in ["e.g.", "5-3", ".5", "a..b", "x,y", "(.5"] {
        assert!(!simple_word_shape(text.as_bytes()), "{text:?}");
    }
}

#[test]
fn empty_and_blank_give_no_tokens() {
    assert!(fast("").is_empty());
    assert!(fast(" \t\u{a0}\n").is_empty());
}

#[test]
fn tokens_append_after_existing_ones() {
    let mut tokens = TokenBuffer::default();
    tokenize_13a_into("a b", &mut tokens);
    tokenize_13a_into("c.", &mut tokens);
    assert_eq!(tokens.strings_from(0), ["a", "b", "c", "."]);
    assert_eq!(tokens.strings_from(2), ["c", "."]);
}

#[test]
fn unicode_spaces_start_with_listed_lead_bytes() {
    for c in (0..=0x10ffff).filter_map(char::from_u32) {
        if c.is_ascii() || !is_python_space(c) {
            continue;
        }
        let mut encoded = [0u8; 4];
        let lead = c.encode_utf8(&mut encoded).as_bytes()[0];
        assert!(
            matches!(lead, 0xc2 | 0xe1..=0xe3),
            "U+{:04X} starts with {lead:#x}",
            u32::from(c)
        );
    }
}
