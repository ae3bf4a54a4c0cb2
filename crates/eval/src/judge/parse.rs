//! Tolerant parsing of judge output.
//!
//! Judges are asked for `{"reasoning": "...", "score": ...}`, but models
//! wrap the object in code fences, add text before or after it, or write
//! the score as a word. The parser accepts, in this order:
//!
//! 1. The first JSON object in the text that has a `score` key (any case),
//!    wherever it sits; objects without the key are skipped.
//! 2. A `score: X` or `score = X` pair in plain text.
//! 3. A reply that is a single score token, or starts with one followed by
//!    punctuation, such as `4`, `Yes.` or `[[Yes]]`.
//!
//! A score may be a number, a numeric string, `N/MAX` with the scale's
//! maximum, a number word from `zero` to `ten`, a JSON boolean, or one of
//! `yes`, `no`, `pass`, `fail` on a pass/fail scale. Words with no single
//! reading (`excellent`, `good`) are rejected. Every failure returns the
//! reason, which callers turn into an undetermined score, never into 0.

use serde_json::{Map, Value};

use crate::judge::scale::JudgeScale;

/// A parsed rubric verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The score, one of the scale's values.
    pub score: f64,
    /// The judge's reasoning, when it gave one.
    pub reasoning: Option<String>,
}

/// Which of two responses a pairwise judge preferred, by position in the
/// prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preference {
    /// The response shown first (`A`).
    First,
    /// The response shown second (`B`).
    Second,
    /// Neither.
    Tie,
}

/// Upper bound on `{` positions tried as object starts, so a reply full of
/// braces costs at most this many parse attempts.
const MAX_OBJECT_STARTS: usize = 64;

/// Parses a rubric judge's reply into a score on `scale`.
///
/// # Errors
///
/// Returns the reason, in words a reviewer can act on, when the reply has
/// no score or the score is not a value of `scale`.
pub fn parse_verdict(text: &str, scale: JudgeScale) -> Result<Verdict, String> {
    if let Some(object) = first_object_with(text, "score") {
        let reasoning = field(&object, "reasoning")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let value = field(&object, "score").unwrap_or(&Value::Null);
        let score = score_from_value(value, scale)?;
        return Ok(Verdict { score, reasoning });
    }
    if let Some(token) = labelled_token(text, "score") {
        let score = score_from_word(token, scale)?;
        return Ok(Verdict {
            score,
            reasoning: None,
        });
    }
    if let Some(token) = leading_token(text) {
        if let Ok(score) = score_from_word(token, scale) {
            return Ok(Verdict {
                score,
                reasoning: None,
            });
        }
    }
    Err(missing_reason(text, "score"))
}

/// Parses a pairwise judge's reply: `{"winner": "A" | "B" | "tie"}`.
///
/// Also accepts `winner: A` in plain text and a bare `A`, `B` or `tie`.
///
/// # Errors
///
/// Returns the reason when the reply names no winner or an unknown one.
pub fn parse_preference(text: &str) -> Result<Preference, String> {
    if let Some(object) = first_object_with(text, "winner") {
        return match field(&object, "winner") {
            Some(Value::String(word)) => preference_from_word(word),
            Some(other) => Err(format!(
                "the judge's `winner` is {other}, not \"A\", \"B\" or \"tie\""
            )),
            None => Err(missing_reason(text, "winner")),
        };
    }
    if let Some(token) = labelled_token(text, "winner") {
        return preference_from_word(token);
    }
    if let Some(token) = leading_token(text) {
        if let Ok(preference) = preference_from_word(token) {
            return Ok(preference);
        }
    }
    Err(missing_reason(text, "winner"))
}

/// Converts a JSON score to a value of `scale`.
///
/// # Errors
///
/// Returns the reason when the value is not a value of `scale`.
pub fn score_from_value(value: &Value, scale: JudgeScale) -> Result<f64, String> {
    match value {
        Value::Number(number) => {
            let score = number
                .as_f64()
                .ok_or_else(|| format!("score {number} is not a finite number"))?;
            check_on_scale(score, &number.to_string(), scale)
        }
        Value::Bool(passed) => match scale {
            JudgeScale::PassFail => Ok(if *passed { 1.0 } else { 0.0 }),
            JudgeScale::Points { .. } => Err(format!(
                "score {passed} is a boolean, but the scale is {scale} points"
            )),
        },
        Value::String(word) => score_from_word(word, scale),
        Value::Null => Err("the judge's score is null".to_owned()),
        Value::Array(_) | Value::Object(_) => {
            Err("the judge's score is a list or object, not a single value".to_owned())
        }
    }
}

/// Converts a score written as text to a value of `scale`: digits, `N/MAX`,
/// a number word, or a pass/fail word.
///
/// # Errors
///
/// Returns the reason when the text is not an unambiguous value of `scale`.
pub fn score_from_word(word: &str, scale: JudgeScale) -> Result<f64, String> {
    let cleaned = strip_decoration(word).to_lowercase();
    if cleaned.is_empty() {
        return Err("the judge's score is empty".to_owned());
    }
    if let Some((points, out_of)) = cleaned.split_once('/') {
        return score_out_of(points.trim(), out_of.trim(), &cleaned, scale);
    }
    if let Ok(number) = cleaned.parse::<f64>() {
        if !number.is_finite() {
            return Err(format!("score `{cleaned}` is not a finite number"));
        }
        return check_on_scale(number, &cleaned, scale);
    }
    if let Some(number) = number_word(&cleaned) {
        return check_on_scale(number, &cleaned, scale);
    }
    if let Some(passed) = pass_word(&cleaned) {
        return match scale {
            JudgeScale::PassFail => Ok(if passed { 1.0 } else { 0.0 }),
            JudgeScale::Points { .. } => Err(format!(
                "score `{cleaned}` is a pass/fail word, but the scale is {scale} points"
            )),
        };
    }
    Err(format!(
        "score `{}` is not a number or a pass/fail word",
        truncate(&cleaned, 40)
    ))
}

fn score_out_of(points: &str, out_of: &str, whole: &str, scale: JudgeScale) -> Result<f64, String> {
    let (Ok(points), Ok(out_of)) = (points.parse::<f64>(), out_of.parse::<f64>()) else {
        return Err(format!("score `{}` is not N/MAX", truncate(whole, 40)));
    };
    let max = scale.range().max;
    if out_of != max {
        return Err(format!(
            "score `{whole}` is out of {out_of}, but the scale is {scale}"
        ));
    }
    check_on_scale(points, whole, scale)
}

fn check_on_scale(score: f64, written: &str, scale: JudgeScale) -> Result<f64, String> {
    if scale.contains(score) {
        return Ok(score);
    }
    Err(format!(
        "score `{}` is not a value of the {scale} scale",
        truncate(written, 40)
    ))
}

fn number_word(word: &str) -> Option<f64> {
    const WORDS: [&str; 11] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    let index = WORDS.iter().position(|candidate| *candidate == word)?;
    u32::try_from(index).ok().map(f64::from)
}

fn pass_word(word: &str) -> Option<bool> {
    match word {
        "yes" | "pass" | "passed" | "true" => Some(true),
        "no" | "fail" | "failed" | "false" => Some(false),
        _ => None,
    }
}

fn preference_from_word(word: &str) -> Result<Preference, String> {
    let cleaned = strip_decoration(word).to_lowercase();
    let cleaned = cleaned
        .strip_prefix("response ")
        .or_else(|| cleaned.strip_prefix("output "))
        .unwrap_or(&cleaned);
    match cleaned {
        "a" | "1" | "first" => Ok(Preference::First),
        "b" | "2" | "second" => Ok(Preference::Second),
        "tie" | "draw" | "equal" | "neither" | "both" => Ok(Preference::Tie),
        other => Err(format!(
            "winner `{}` is not \"A\", \"B\" or \"tie\"",
            truncate(other, 40)
        )),
    }
}

/// Returns the first JSON object in `text` with `key` (any case).
pub(crate) fn first_object_with(text: &str, key: &str) -> Option<Map<String, Value>> {
    text.match_indices('{')
        .take(MAX_OBJECT_STARTS)
        .filter_map(|(start, _)| {
            let mut values =
                serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
            match values.next() {
                Some(Ok(Value::Object(object))) => Some(object),
                _ => None,
            }
        })
        .find(|object| field(object, key).is_some())
}

pub(crate) fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
        .map(|(_, value)| value)
}

/// Returns the token after `label:` or `label =` in plain text, such as `4`
/// in `Score: 4/5`.
fn labelled_token<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    text.char_indices()
        .filter(|(index, _)| {
            text.get(*index..index + label.len())
                .is_some_and(|candidate| candidate.eq_ignore_ascii_case(label))
        })
        .find_map(|(start, _)| token_after_label(text.get(start + label.len()..)?))
}

fn token_after_label(rest: &str) -> Option<&str> {
    let is_filler = |c: char| c == '*' || c == '"' || c.is_whitespace();
    let rest = rest.trim_start_matches(is_filler);
    let rest = rest.strip_prefix([':', '='])?;
    let rest = rest.trim_start_matches(is_filler);
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '}' | '*'))
        .unwrap_or(rest.len());
    let token = rest.get(..end)?;
    (!token.is_empty()).then_some(token)
}

/// Returns the reply's first token when it is the whole reply or is
/// followed by punctuation, so `Yes.` counts and `No idea` does not.
fn leading_token(text: &str) -> Option<&str> {
    let trimmed = strip_decoration(text);
    let end = trimmed
        .find(|c: char| c.is_whitespace() || matches!(c, '.' | ',' | ';' | ':' | '!' | ']'))
        .unwrap_or(trimmed.len());
    let token = trimmed.get(..end)?;
    let rest = trimmed.get(end..)?;
    let followed_by_text = rest.starts_with(|c: char| c.is_whitespace())
        && rest.trim_start().starts_with(char::is_alphanumeric);
    if token.is_empty() || followed_by_text {
        return None;
    }
    Some(token)
}

fn strip_decoration(text: &str) -> &str {
    text.trim().trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '[' | ']' | '*' | '"' | '\'' | '`' | '.' | '!' | '(' | ')'
            )
    })
}

fn missing_reason(text: &str, key: &str) -> String {
    if text.trim().is_empty() {
        return "the judge returned an empty reply".to_owned();
    }
    format!(
        "the judge's reply has no `{key}`: `{}`",
        truncate(text.trim(), 80)
    )
}

/// Returns at most `max_chars` characters, with `…` when cut.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
