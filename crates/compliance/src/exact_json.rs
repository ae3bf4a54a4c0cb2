//! Reading JSON text for the audit log without silent changes.
//!
//! A JSON parser keeps the last of two members with the same name and
//! rounds every number to the nearest 64-bit float, so the value it
//! returns can differ from the text a caller wrote. RFC 7493 (I-JSON), on
//! which RFC 8785 builds, forbids duplicate names and numbers beyond a
//! double's precision. [`parse_exact_json`] rejects both instead of
//! storing an event other than the one written.

use std::cell::RefCell;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::{ComplianceError, Result};

/// The deepest nesting of arrays and objects an audit payload may have.
/// An extract nests each payload two levels down in its entry line, and
/// JSON readers such as serde_json stop at 128 levels.
pub const MAX_PAYLOAD_DEPTH: usize = 64;

/// Parses `text` as one JSON value, rejecting what a plain parse would
/// change: an object with two members of the same name, and a number that
/// a 64-bit float does not hold exactly. Integers within the 64-bit
/// integer range are kept exactly; `0.1` and `1.50` are accepted, since
/// their doubles print back as the same decimal.
///
/// Messages name the line and column, never the text, which may hold
/// personal data.
///
/// # Errors
///
/// [`ComplianceError::InvalidEvent`] for `field` when `text` is not JSON,
/// repeats a name in an object, or contains a number that would be rounded.
///
/// # Examples
///
/// ```
/// use llmops_compliance::parse_exact_json;
///
/// assert!(parse_exact_json("payload", r#"{"a": 1, "b": [0.5, 12]}"#).is_ok());
/// assert!(parse_exact_json("payload", r#"{"a": 1, "a": 2}"#).is_err());
/// assert!(parse_exact_json("payload", "123456789012345678901234567890").is_err());
/// ```
pub fn parse_exact_json(field: &'static str, text: &str) -> Result<Value> {
    read_exact(text, MAX_PAYLOAD_DEPTH)
        .map_err(|reason| ComplianceError::InvalidEvent { field, reason })
}

/// Parses `text` as [`parse_exact_json`] does, with at most `max_depth`
/// levels of nesting, and returns the reason for a refusal.
pub(crate) fn read_exact(text: &str, max_depth: usize) -> std::result::Result<Value, String> {
    let raw =
        serde_json::from_str::<&RawValue>(text).map_err(|error| format!("not JSON: {error}"))?;
    let rejected = RefCell::new(None);
    let reader = Reader {
        text,
        max_depth,
        rejected: &rejected,
    };
    reader.value(raw, 1).map_err(|error: serde_json::Error| {
        match rejected.into_inner() {
            Some(Rejection { reason, offset }) => {
                let (line, column) = line_and_column(text, offset);
                format!(
                    "{reason} at line {line} column {column}; write each object key once, numbers that fit a 64-bit float (long identifiers as strings), and at most {max_depth} levels of nesting"
                )
            }
            None => format!("not JSON: {error}"),
        }
    })
}

/// Returns whether `value` nests arrays and objects more than `limit`
/// levels deep, looking no deeper than `limit + 1` levels.
pub(crate) fn nested_deeper_than(value: &Value, limit: usize) -> bool {
    let children: Box<dyn Iterator<Item = &Value>> = match value {
        Value::Array(items) => Box::new(items.iter()),
        Value::Object(members) => Box::new(members.values()),
        _ => return false,
    };
    match limit.checked_sub(1) {
        None => true,
        Some(rest) => children
            .into_iter()
            .any(|child| nested_deeper_than(child, rest)),
    }
}

/// The first reason to refuse the text, and its byte offset.
struct Rejection {
    reason: String,
    offset: usize,
}

/// Reads values of `text`, recording the first [`Rejection`].
#[derive(Clone, Copy)]
struct Reader<'a> {
    text: &'a str,
    max_depth: usize,
    rejected: &'a RefCell<Option<Rejection>>,
}

impl Reader<'_> {
    /// Records why the value at `raw` is refused and returns an error that
    /// stops the parse.
    fn reject<E: de::Error>(&self, raw: &RawValue, reason: String) -> E {
        // `raw` borrows from `text`, so its address gives its offset.
        let offset = (raw.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        self.rejected
            .borrow_mut()
            .get_or_insert(Rejection { reason, offset });
        E::custom("refused")
    }

    /// Reads the value `raw` at nesting `depth`, checking every number
    /// and object in it. Arrays and objects are read from their own text
    /// again, at most `max_depth` times over.
    fn value<E: de::Error>(&self, raw: &RawValue, depth: usize) -> Result<Value, E> {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'-' | b'0'..=b'9') => {
                exact_number(text).map_err(|reason| self.reject(raw, reason))
            }
            Some(b'[' | b'{') if depth > self.max_depth => Err(self.reject(
                raw,
                format!(
                    "arrays and objects nest more than {} levels deep",
                    self.max_depth
                ),
            )),
            Some(b'[' | b'{') => serde_json::Deserializer::from_str(text)
                .deserialize_any(ExactVisitor {
                    reader: *self,
                    depth,
                })
                .map_err(E::custom),
            _ => serde_json::from_str(text).map_err(E::custom),
        }
    }
}

/// Returns the 1-based line and byte column of `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
    (line, column)
}

/// Parses a number literal, or describes how a double would change it.
fn exact_number(text: &str) -> std::result::Result<Value, String> {
    let integer = !text.contains(['.', 'e', 'E']);
    if integer {
        if let Ok(value) = text.parse::<i64>() {
            return Ok(Value::from(value));
        }
        if let Ok(value) = text.parse::<u64>() {
            return Ok(Value::from(value));
        }
    }
    let double = text
        .parse::<f64>()
        .map_err(|_| "a number is not a JSON number".to_owned())?;
    if double == 0.0 && double.is_sign_negative() {
        return Err("a negative zero would be stored as 0, as RFC 8785 writes it".to_owned());
    }
    let kept = double.is_finite()
        && decimal_parts(text)
            .is_some_and(|parts| decimal_parts(&format!("{double:e}")) == Some(parts));
    if !kept {
        return Err(format!(
            "a number of {} digits would be stored as the nearest 64-bit float, another value",
            text.bytes().filter(u8::is_ascii_digit).count()
        ));
    }
    serde_json::Number::from_f64(double)
        .map(Value::Number)
        .ok_or_else(|| "a number is not finite".to_owned())
}

/// Splits a decimal literal into its sign, its significant digits and the
/// power of ten of the first digit, so `1.50`, `15e-1` and `0.15e1` agree.
/// Every zero gives the same parts, whatever its exponent.
fn decimal_parts(text: &str) -> Option<(bool, String, i64)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, "0"),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let significant = digits.trim_start_matches('0');
    let leading = digits.len() - significant.len();
    let significant = significant.trim_end_matches('0');
    if significant.is_empty() {
        return Some((false, String::new(), 0));
    }
    let whole = i64::try_from(whole.len()).ok()?;
    let leading = i64::try_from(leading).ok()?;
    let power = exponent
        .parse::<i64>()
        .ok()?
        .checked_add(whole)?
        .checked_sub(leading)?;
    Some((negative, significant.to_owned(), power))
}

/// Builds a [`Value`] from a deserializer, checking arrays and objects
/// member by member.
struct ExactVisitor<'a> {
    reader: Reader<'a>,
    /// The nesting level of the array or object visited, from 1.
    depth: usize,
}

impl<'de> Visitor<'de> for ExactVisitor<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON array or object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(raw) = seq.next_element::<&RawValue>()? {
            items.push(self.reader.value(raw, self.depth + 1)?);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            let raw = map.next_value::<&RawValue>()?;
            if members.contains_key(&name) {
                return Err(self.reader.reject(
                    raw,
                    "an object repeats a key, and a parser keeps only one of its values; the second value starts"
                        .to_owned(),
                ));
            }
            let value = self.reader.value(raw, self.depth + 1)?;
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<Value> {
        parse_exact_json("payload", text)
    }

    #[test]
    fn plain_json_parses_like_serde_json() {
        let text = r#"{"a": [1, -2, 0.5, 1e3, true, null, "x"], "b": {"c": 18446744073709551615}}"#;
        assert_eq!(
            parse(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn duplicate_keys_are_rejected_at_any_depth() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"x":{"a":1,"a":1}}"#,
            r#"[{"b":1},{"c":2,"c":3}]"#,
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains("repeats a key"), "{text}: {error}");
        }
    }

    #[test]
    fn rounded_numbers_are_rejected() {
        for text in [
            "123456789012345678901234567890",
            "[0.1000000000000000000001]",
            r#"{"n": 1e-400}"#,
            r#"{"n": 9007199254740993.0}"#,
            "-18446744073709551616",
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains("64-bit float"), "{text}: {error}");
        }
    }

    #[test]
    fn numbers_a_double_keeps_are_accepted() {
        for (text, expected) in [
            ("[1.50]", json!([1.5])),
            ("[15e-1]", json!([1.5])),
            ("[0.1]", json!([0.1])),
            ("[-0]", json!([0])),
            ("[1E+2]", json!([100.0])),
            ("[9007199254740993]", json!([9_007_199_254_740_993_u64])),
            ("[-9223372036854775808]", json!([i64::MIN])),
        ] {
            assert_eq!(parse(text).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn positions_count_from_the_start_of_the_text() {
        let error = parse("{\"x\": {\"y\": {\"a\": 1, \"a\": 22}}}")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 1 column 27"), "{error}");
        let error = parse("{\n  \"x\": [0, 1,\n    0.10000000000000000000001]\n}")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 3 column 5"), "{error}");
    }

    #[test]
    fn nesting_beyond_the_limit_is_refused_without_overflow() {
        let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        assert!(parse(&nested(MAX_PAYLOAD_DEPTH)).is_ok());
        let error = parse(&nested(MAX_PAYLOAD_DEPTH + 1))
            .unwrap_err()
            .to_string();
        assert!(error.contains("nest more than 64 levels"), "{error}");
        // serde_json's own limit stops text nested thousands deep.
        for depth in [200, 5_000, 100_000] {
            assert!(parse(&nested(depth)).is_err(), "{depth}");
        }
        let value = serde_json::from_str::<Value>(&nested(MAX_PAYLOAD_DEPTH)).unwrap();
        assert!(!nested_deeper_than(&value, MAX_PAYLOAD_DEPTH));
        assert!(nested_deeper_than(&value, MAX_PAYLOAD_DEPTH - 1));
        assert!(!nested_deeper_than(&json!(1), 0));
        assert!(nested_deeper_than(&json!([]), 0));
    }

    #[test]
    fn negative_zero_is_refused() {
        for text in ["[-0.0]", "[-0e5]", "{\"a\": -0.000}"] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains("negative zero"), "{text}: {error}");
        }
        // An integer -0 is the integer 0 in every reader.
        assert_eq!(parse("[-0]").unwrap(), json!([0]));
    }

    #[test]
    fn zero_with_any_exponent_is_exact() {
        assert_eq!(parse("[0e999999999999999999999]").unwrap(), json!([0.0]));
        assert_eq!(parse("[0.000e-5]").unwrap(), json!([0.0]));
    }

    #[test]
    fn errors_never_quote_the_text() {
        let error = parse(r#"{"secret-name": 1, "secret-name": 2}"#)
            .unwrap_err()
            .to_string();
        assert!(!error.contains("secret"), "{error}");
        let error = parse(r#"{"a": "secret"#).unwrap_err().to_string();
        assert!(error.contains("payload"), "{error}");
    }

    #[test]
    fn invalid_json_and_trailing_text_are_rejected() {
        for text in ["", "{", "[1,]", "{} {}", "nul", "[1] x"] {
            assert!(parse(text).is_err(), "{text}");
        }
    }

    proptest! {
        /// Every double's shortest text is kept, whatever its form.
        #[test]
        fn shortest_double_text_is_exact(
            value in any::<f64>().prop_filter("finite, not -0", |v| v.is_finite() && !(*v == 0.0 && v.is_sign_negative()))
        ) {
            for text in [format!("{value:e}"), format!("{value}"), format!("{value:?}")] {
                let parsed = parse(&format!("[{text}]")).unwrap();
                prop_assert_eq!(parsed[0].as_f64(), Some(value), "{}", text);
            }
        }

        /// Appending a digit that changes the value beyond a double's 17
        /// significant digits is caught.
        #[test]
        fn extra_digits_are_caught(whole in 1_u64..1_000_000, fraction in 0_u64..1_000_000_000) {
            let text = format!("[{whole}.{fraction:09}000000000000000000001]");
            prop_assert!(parse(&text).is_err(), "{}", text);
        }
    }
}
