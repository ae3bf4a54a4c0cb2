//! Reading JSON text for the audit log without silent changes.
//!
//! A JSON parser keeps the last of two members with the same name and
//! rounds every number to the nearest 64-bit float, so the value it
//! returns can differ from the text a caller wrote. RFC 7493 (I-JSON), on
//! which RFC 8785 builds, forbids duplicate names and numbers beyond a
//! double's precision. [`parse_exact_json`] rejects both instead of
//! storing an event other than the one written.

use std::collections::HashSet;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::{ComplianceError, Result};

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
/// repeats a name in an object, or holds a number that would be rounded.
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
    serde_json::from_str::<&RawValue>(text)
        .and_then(exact_raw)
        .map_err(|error| ComplianceError::InvalidEvent {
            field,
            reason: if error.is_data() {
                format!(
                    "{error}; write each object key once, and numbers that fit a 64-bit float (long identifiers as strings)"
                )
            } else {
                format!("not JSON: {error}")
            },
        })
}

/// Parses one JSON value, checking every number and object below it.
fn exact_value(text: &str) -> serde_json::Result<Value> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = deserializer.deserialize_any(ExactVisitor)?;
    deserializer.end()?;
    Ok(value)
}

/// Checks one raw value found inside an array or object. Nested values
/// are parsed again from their own text, which RFC 7493's limits on
/// nesting depth keep cheap.
fn exact_raw<E: de::Error>(raw: &RawValue) -> Result<Value, E> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'-' | b'0'..=b'9') => exact_number(text).map_err(E::custom),
        _ => exact_value(text).map_err(E::custom),
    }
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
        .map_err(|_| format!("a number of {} characters is not a JSON number", text.len()))?;
    let kept = decimal_parts(text).is_some_and(|parts| {
        double.is_finite() && decimal_parts(&format!("{double:e}")) == Some(parts)
    });
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
/// Every zero gives the same parts.
fn decimal_parts(text: &str) -> Option<(bool, String, i64)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], rest[at + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
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
    let power = exponent.checked_add(whole)?.checked_sub(leading)?;
    Some((negative, significant.to_owned(), power))
}

/// Builds a [`Value`] from a deserializer, checking arrays and objects
/// member by member.
struct ExactVisitor;

impl<'de> Visitor<'de> for ExactVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        // Unreached: `exact_raw` checks numbers itself before this
        // visitor sees them.
        serde_json::Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number is not finite"))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(raw) = seq.next_element::<&RawValue>()? {
            items.push(exact_raw(raw)?);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        let mut names = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if !names.insert(name.clone()) {
                return Err(de::Error::custom(format!(
                    "an object repeats a key ({} characters), and a parser keeps only one of its values",
                    name.chars().count()
                )));
            }
            let raw = map.next_value::<&RawValue>()?;
            members.insert(name, exact_raw(raw)?);
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
            ("[-0.0]", json!([-0.0])),
            ("[1E+2]", json!([100.0])),
            ("[9007199254740993]", json!([9_007_199_254_740_993_u64])),
            ("[-9223372036854775808]", json!([i64::MIN])),
        ] {
            assert_eq!(parse(text).unwrap(), expected, "{text}");
        }
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
        fn shortest_double_text_is_exact(value in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
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
