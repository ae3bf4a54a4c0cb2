//! The generic pattern recognizer: regex, boundary check, validator, context.

use std::borrow::Cow;
use std::ops::Range;

use regex::Regex;

use super::context::has_context;
use super::{Candidate, Recognizer};
use crate::entity::EntityType;
use crate::error::Result;
use crate::normalize::NormalizedText;

/// Characters checked on both sides of a match, because the `regex` crate has
/// no look-around and `\b` treats Hangul as a word character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// No ASCII letter or digit next to the match. Also no `-` or `.` between
    /// the match and a digit, or between a letter and the start of the match.
    /// So `9010123456789991` contains no phone number and `SN-2026-0722-991`
    /// contains no number at all, while `082 490 1693-Office` keeps its phone.
    Digit,
    /// No ASCII letter, digit or `_` next to the match.
    Alnum,
    /// No check.
    None,
}

impl Boundary {
    /// Returns true when the match at `start..end` of `text` is bounded.
    pub(crate) fn accepts(self, text: &str, start: usize, end: usize) -> bool {
        let after = text.get(end..).unwrap_or("");
        self.may_start_at(text, start)
            && match self {
                Boundary::None => true,
                Boundary::Alnum => !after.chars().next().is_some_and(is_word),
                Boundary::Digit => {
                    let mut forward = after.chars();
                    !joined(forward.next(), forward.next(), false)
                }
            }
    }

    /// Returns true when the text before `start` lets a match begin there:
    /// the half of [`Boundary::accepts`] that looks back.
    fn may_start_at(self, text: &str, start: usize) -> bool {
        let before = text.get(..start).unwrap_or("");
        match self {
            Boundary::None => true,
            Boundary::Alnum => !before.chars().next_back().is_some_and(is_word),
            Boundary::Digit => {
                let mut back = before.chars().rev();
                !joined(back.next(), back.next(), true)
            }
        }
    }

    /// Returns the first char boundary at or after `position` where a match
    /// may begin, or a position past the end of `text` when there is none.
    ///
    /// After a rejected match the search resumes there instead of one char
    /// later, skipping the starts inside a run of digits or letters that
    /// [`Boundary::accepts`] would reject anyway.
    pub(crate) fn next_start(self, text: &str, mut position: usize) -> usize {
        if self == Boundary::None {
            return position;
        }
        while position < text.len() {
            if text.is_char_boundary(position) && self.may_start_at(text, position) {
                return position;
            }
            position += 1;
        }
        position
    }
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Returns true when `first`, the char next to a match, joins it to more
/// of a number or code. That is an ASCII letter or digit, or a `-` or `.`
/// with `second` beyond it being a digit (or a letter when `letters` is set).
fn joined(first: Option<char>, second: Option<char>, letters: bool) -> bool {
    match first {
        Some(c) if c.is_ascii_alphanumeric() => true,
        Some('-' | '.') => {
            second.is_some_and(|c| c.is_ascii_digit() || (letters && c.is_ascii_alphabetic()))
        }
        _ => false,
    }
}

/// Checks a matched value: `None` rejects it, `Some(score)` keeps it, and a
/// negative score keeps its absolute value but gets no context boost.
pub(crate) type Validator = fn(&str) -> Option<f32>;

/// A regex-based recognizer.
///
/// A rejected match restarts the search one char later, so patterns keep
/// their repetitions bounded: an unbounded prefix that is rejected again and
/// again would make a scan quadratic in the text length.
pub(crate) struct PatternRecognizer {
    pub(crate) name: &'static str,
    pub(crate) entity: EntityType,
    pub(crate) regex: Regex,
    /// Searches only [`NormalizedText::ascii_number_runs`]: the pattern
    /// matches only ASCII bytes and needs a digit in every match.
    pub(crate) in_ascii_numbers: bool,
    /// Capture group whose range is the finding (0 for the whole match).
    pub(crate) group: usize,
    pub(crate) boundary: Boundary,
    pub(crate) validate: Validator,
    /// Lower-case words that raise the score when found near the match.
    pub(crate) context: &'static [&'static str],
    pub(crate) context_boost: f32,
    /// Drops matches without a context word nearby.
    pub(crate) context_required: bool,
    /// Lower-case words that lower the score by `NEGATIVE_CONTEXT_PENALTY`.
    pub(crate) negative_context: &'static [&'static str],
}

/// Score subtracted when a negative context word such as `sku` or `isbn` is near.
const NEGATIVE_CONTEXT_PENALTY: f32 = 0.3;

impl PatternRecognizer {
    /// Builds a recognizer; the regex is a constant of this crate.
    pub(crate) fn new(
        name: &'static str,
        entity: EntityType,
        pattern: &str,
        validate: Validator,
    ) -> Option<Self> {
        let regex = match Regex::new(pattern) {
            Ok(regex) => regex,
            Err(error) => {
                tracing::error!(recognizer = name, %error, "built-in pattern failed to compile");
                return None;
            }
        };
        Some(Self {
            name,
            entity,
            regex,
            in_ascii_numbers: false,
            group: 0,
            boundary: Boundary::Digit,
            validate,
            context: &[],
            context_boost: 0.0,
            context_required: false,
            negative_context: &[],
        })
    }

    pub(crate) fn boundary(mut self, boundary: Boundary) -> Self {
        self.boundary = boundary;
        self
    }

    /// Limits the search to the runs of ASCII bytes with a digit. This is
    /// only for patterns that match ASCII bytes alone and need a digit in
    /// every match. A test checks every recognizer that sets it.
    pub(crate) fn in_ascii_numbers(mut self) -> Self {
        self.in_ascii_numbers = true;
        self
    }

    pub(crate) fn group(mut self, group: usize) -> Self {
        self.group = group;
        self
    }

    pub(crate) fn context(mut self, words: &'static [&'static str], boost: f32) -> Self {
        self.context = words;
        self.context_boost = boost;
        self
    }

    pub(crate) fn negative_context(mut self, words: &'static [&'static str]) -> Self {
        self.negative_context = words;
        self
    }

    pub(crate) fn require_context(mut self) -> Self {
        self.context_required = true;
        self
    }

    /// Returns the range of the next match at or after `position` and the
    /// range of its finding group. A pattern whose finding is the whole
    /// match skips capture groups, which the regex crate resolves with a
    /// slower engine than the one that finds the match.
    fn find_at(
        &self,
        haystack: &str,
        position: usize,
    ) -> Option<(Range<usize>, Option<Range<usize>>)> {
        if self.group == 0 {
            let whole = self.regex.find_at(haystack, position)?.range();
            return Some((whole.clone(), Some(whole)));
        }
        let captures = self.regex.captures_at(haystack, position)?;
        let whole = captures.get(0).map_or(position..position, |m| m.range());
        let span = captures.get(self.group).map(|m| m.range());
        Some((whole, span))
    }

    /// Adds a candidate for each accepted match that lies in `within`.
    ///
    /// The regex runs on the text up to the end of `within`. A match there
    /// is a match in the whole text, because the patterns have no
    /// look-around. Boundary and context checks look at the whole text.
    fn search(&self, haystack: &str, within: Range<usize>, out: &mut Vec<Candidate>) {
        let searched = &haystack[..within.end];
        let mut position = within.start;
        while position <= searched.len() {
            let Some((whole, span)) = self.find_at(searched, position) else {
                break;
            };
            let accepted = span
                .clone()
                .filter(|span| !span.is_empty())
                .and_then(|span| {
                    if !self.boundary.accepts(haystack, span.start, span.end) {
                        return None;
                    }
                    let score =
                        self.score(haystack, span.start, span.end, &haystack[span.clone()])?;
                    Some((span, score))
                });
            match accepted {
                Some((span, score)) => {
                    out.push(Candidate {
                        entity: self.entity,
                        range: span.clone(),
                        score,
                        recognizer: Cow::Borrowed(self.name),
                    });
                    position = whole.end.max(span.end).max(whole.start + 1);
                }
                // A rejected match may hide a valid one starting inside it.
                None => {
                    position = whole.start
                        + haystack[whole.start..]
                            .chars()
                            .next()
                            .map_or(1, char::len_utf8);
                    // The finding is the whole match, so a start that the
                    // boundary rejects cannot give a finding.
                    if self.group == 0 {
                        position = self.boundary.next_start(haystack, position);
                    }
                }
            }
            while !haystack.is_char_boundary(position.min(haystack.len())) {
                position += 1;
            }
        }
    }

    fn score(&self, text: &str, start: usize, end: usize, value: &str) -> Option<f32> {
        let base = (self.validate)(value)?;
        let context = has_context(text, start, end, self.context);
        if self.context_required && !context {
            return None;
        }
        // A negative validator score means "this score, without a context boost".
        let boost = if context && base > 0.0 {
            self.context_boost
        } else {
            0.0
        };
        let penalty = if has_context(text, start, end, self.negative_context) {
            NEGATIVE_CONTEXT_PENALTY
        } else {
            0.0
        };
        Some((base.abs() + boost - penalty).clamp(0.0, 1.0))
    }
}

impl Recognizer for PatternRecognizer {
    fn name(&self) -> &str {
        self.name
    }

    fn entities(&self) -> Vec<EntityType> {
        vec![self.entity]
    }

    fn recognize(&self, text: &NormalizedText<'_>, out: &mut Vec<Candidate>) -> Result<()> {
        let haystack = text.as_str();
        if self.in_ascii_numbers {
            for run in text.ascii_number_runs() {
                self.search(haystack, run.clone(), out);
            }
        } else {
            self.search(haystack, 0..haystack.len(), out);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use regex_syntax::hir::{Class, Hir, HirKind};

    use super::*;

    /// Searches as before [`Boundary::next_start`]: after a rejected match
    /// it always resumes one char later.
    fn restart_every_char(recognizer: &PatternRecognizer, haystack: &str) -> Vec<Candidate> {
        let mut out = Vec::new();
        let mut position = 0;
        while position <= haystack.len() {
            let Some((whole, span)) = recognizer.find_at(haystack, position) else {
                break;
            };
            let accepted = span
                .clone()
                .filter(|span| !span.is_empty())
                .filter(|span| recognizer.boundary.accepts(haystack, span.start, span.end))
                .and_then(|span| {
                    let value = &haystack[span.clone()];
                    Some((
                        span.clone(),
                        recognizer.score(haystack, span.start, span.end, value)?,
                    ))
                });
            match accepted {
                Some((span, score)) => {
                    out.push(Candidate {
                        entity: recognizer.entity,
                        range: span.clone(),
                        score,
                        recognizer: Cow::Borrowed(recognizer.name),
                    });
                    position = whole.end.max(span.end).max(whole.start + 1);
                }
                None => {
                    position = whole.start
                        + haystack[whole.start..]
                            .chars()
                            .next()
                            .map_or(1, char::len_utf8);
                }
            }
            while !haystack.is_char_boundary(position.min(haystack.len())) {
                position += 1;
            }
        }
        out
    }

    /// Digits, separators, letters and Hangul next to one another, so that
    /// generated texts hold numbers that the boundaries accept and reject.
    const PIECES: &[&str] = &[
        "0", "1", "5", "9", "12", "010", "900101", "1234567", "-", ".", " ", "+82", "(", ")", "x",
        "ext", "a", "Z", "_", "가", "년", "월", "일", "@", "AKIA", "sk-", ":", "/",
    ];

    fn all_recognizers() -> Vec<PatternRecognizer> {
        super::super::korean::recognizers()
            .into_iter()
            .chain(super::super::international::recognizers())
            .chain(super::super::secrets::recognizers())
            .collect()
    }

    proptest! {
        #[test]
        fn search_finds_what_full_scan_finds(
            picks in prop::collection::vec(0..PIECES.len(), 0..48),
        ) {
            let text: String = picks.iter().map(|&i| PIECES[i]).collect();
            let normalized = NormalizedText::new(&text);
            for recognizer in all_recognizers() {
                let mut found = Vec::new();
                prop_assert!(recognizer.recognize(&normalized, &mut found).is_ok());
                prop_assert_eq!(
                    &found,
                    &restart_every_char(&recognizer, normalized.as_str()),
                    "recognizer {} on {:?}",
                    recognizer.name,
                    text
                );
            }
        }
    }

    /// Returns true when every byte `hir` can match is ASCII and it has no
    /// look-around assertion.
    fn ascii_only(hir: &Hir) -> bool {
        match hir.kind() {
            HirKind::Empty => true,
            HirKind::Literal(literal) => literal.0.is_ascii(),
            HirKind::Class(Class::Unicode(class)) => {
                class.ranges().iter().all(|range| range.end().is_ascii())
            }
            HirKind::Class(Class::Bytes(class)) => {
                class.ranges().iter().all(|range| range.end().is_ascii())
            }
            HirKind::Look(_) => false,
            HirKind::Repetition(repetition) => ascii_only(&repetition.sub),
            HirKind::Capture(capture) => ascii_only(&capture.sub),
            HirKind::Concat(parts) | HirKind::Alternation(parts) => parts.iter().all(ascii_only),
        }
    }

    /// Returns true when every match of `hir` contains an ASCII digit.
    fn needs_digit(hir: &Hir) -> bool {
        match hir.kind() {
            HirKind::Literal(literal) => literal.0.iter().any(u8::is_ascii_digit),
            HirKind::Class(Class::Unicode(class)) => class
                .ranges()
                .iter()
                .all(|range| range.start() >= '0' && range.end() <= '9'),
            HirKind::Class(Class::Bytes(class)) => class
                .ranges()
                .iter()
                .all(|range| range.start() >= b'0' && range.end() <= b'9'),
            HirKind::Repetition(repetition) => repetition.min >= 1 && needs_digit(&repetition.sub),
            HirKind::Capture(capture) => needs_digit(&capture.sub),
            HirKind::Concat(parts) => parts.iter().any(needs_digit),
            HirKind::Alternation(parts) => parts.iter().all(needs_digit),
            HirKind::Empty | HirKind::Look(_) => false,
        }
    }

    #[test]
    fn ascii_number_patterns_need_ascii_digits() {
        let marked: Vec<PatternRecognizer> = all_recognizers()
            .into_iter()
            .filter(|recognizer| recognizer.in_ascii_numbers)
            .collect();
        assert_eq!(marked.len(), 14);
        for recognizer in marked {
            let hir = regex_syntax::parse(recognizer.regex.as_str()).unwrap();
            assert!(
                ascii_only(&hir),
                "{} matches non-ASCII bytes",
                recognizer.name
            );
            assert!(
                needs_digit(&hir),
                "{} matches text without a digit",
                recognizer.name
            );
        }
    }

    #[test]
    fn digit_checks_reject_wider_patterns() {
        let parse = |pattern: &str| regex_syntax::parse(pattern).unwrap();
        assert!(!ascii_only(&parse(r"[0-9]{4}년")));
        assert!(!ascii_only(&parse(r"\b[0-9]+")));
        assert!(!needs_digit(&parse(r"[0-9A-F]{0,4}(?::[0-9A-F]{0,4}){2}")));
        assert!(!needs_digit(&parse(r"[0-9]+|ab")));
        assert!(needs_digit(&parse(r"(?:\+82|0)[0-9]?")));
    }

    #[test]
    fn next_start_skips_runs_the_boundary_rejects() {
        let text = "x12345 7-9 ab_c 가1";
        // The digits are joined to the "x"; the "7" after the space may start.
        assert_eq!(Boundary::Digit.next_start(text, 2), 7);
        // "-9" is joined to the "7", so the next start is the "a".
        assert_eq!(Boundary::Digit.next_start(text, 8), 11);
        // `_` is a word char for `Alnum`.
        assert_eq!(Boundary::Alnum.next_start(text, 12), 16);
        // A Hangul char is not ASCII, so a match may start after it.
        let hangul = text.find('가').unwrap();
        assert_eq!(Boundary::Digit.next_start(text, hangul + 1), hangul + 3);
        assert_eq!(Boundary::None.next_start(text, 3), 3);
        assert_eq!(Boundary::Digit.next_start(text, text.len()), text.len());
    }
}
