//! Canonical JSON bytes (RFC 8785, JSON Canonicalization Scheme).
//!
//! Hashes in the audit log are taken over these bytes, so two writers that
//! build the same event with keys in another order, or numbers written
//! differently, get the same hash. JCS sorts object keys by their UTF-16
//! code units, writes numbers the way ECMAScript prints them and removes all
//! insignificant white space.

use serde::Serialize;
use serde_json::{Number, Value};

use crate::error::{ComplianceError, Result};

/// Serializes `value` to RFC 8785 canonical JSON bytes.
///
/// # Errors
///
/// [`ComplianceError::Canonical`] when `value` does not serialize to JSON,
/// such as a map with non-string keys.
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    serde_jcs::to_vec(value).map_err(|error| ComplianceError::Canonical {
        reason: error.to_string(),
    })
}

/// JavaScript's `Number.MAX_SAFE_INTEGER`, 2^53 - 1: every integer up to it
/// has a double of its own, so its decimal digits survive the conversion.
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Writes the RFC 8785 canonical JSON of a JSON value: the same bytes as
/// [`canonical_json`], several times faster. Every append canonicalizes
/// its payload, so this is on the hot path.
///
/// Object keys are sorted by their UTF-16 code units. Integers within
/// ±(2^53 - 1) keep their decimal digits; every other number is written
/// from its double the way ECMAScript prints it. serde_json escapes strings
/// exactly as RFC 8785 requires (see `entry_body_bytes` in the event
/// module). A property test compares the output with [`canonical_json`].
///
/// # Errors
///
/// [`ComplianceError::Canonical`] when a string cannot be written, which
/// writing to memory never causes.
pub fn canonical_value(value: &Value) -> Result<Vec<u8>> {
    Ok(canonical_value_exact(value)?.0)
}

/// As [`canonical_value`], and also returns whether the bytes parse back to
/// the same numbers: false when an integer beyond ±(2^53 - 1) was rounded
/// to its nearest double.
pub(crate) fn canonical_value_exact(value: &Value) -> Result<(Vec<u8>, bool)> {
    let mut out = Vec::with_capacity(128);
    let mut exact = true;
    write_value(&mut out, &mut exact, value)?;
    Ok((out, exact))
}

fn write_value(out: &mut Vec<u8>, exact: &mut bool, value: &Value) -> Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, exact, number),
        Value::String(text) => write_string(out, text)?,
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(out, exact, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_string(out, key)?;
                out.push(b':');
                write_value(out, exact, item)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_number(out: &mut Vec<u8>, exact: &mut bool, number: &Number) {
    let safe = number
        .as_i64()
        .filter(|value| value.unsigned_abs() <= MAX_SAFE_INTEGER)
        .map(i128::from)
        .or_else(|| {
            number
                .as_u64()
                .filter(|value| *value <= MAX_SAFE_INTEGER)
                .map(i128::from)
        });
    match safe {
        Some(integer) => out.extend_from_slice(integer.to_string().as_bytes()),
        None => {
            *exact &= number.is_f64();
            let double = number.as_f64().unwrap_or(0.0);
            out.extend_from_slice(ryu_js::Buffer::new().format(double).as_bytes());
        }
    }
}

fn write_string(out: &mut Vec<u8>, text: &str) -> Result<()> {
    serde_json::to_writer(out, text).map_err(|error| ComplianceError::Canonical {
        reason: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn canonical_text(input: &str) -> String {
        let value: Value = serde_json::from_str(input).unwrap();
        String::from_utf8(canonical_json(&value).unwrap()).unwrap()
    }

    /// The input of RFC 8785 section 3.2.2 and its output in section 3.2.4.
    #[test]
    fn rfc8785_numbers_and_literals() {
        let input = r#"{
            "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        let expected = r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#;
        assert_eq!(canonical_text(input), expected);
    }

    /// The sorting example of RFC 8785 section 3.2.3: keys compare by UTF-16
    /// code units, so U+1F600 (a surrogate pair) sorts before U+FB33.
    #[test]
    fn rfc8785_key_order_by_utf16() {
        let input = r#"{
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\ud83d\ude00": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let value: Value = serde_json::from_str(input).unwrap();
        let text = String::from_utf8(canonical_json(&value).unwrap()).unwrap();
        let order = [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small Letter O With Diaeresis",
            "Euro Sign",
            "Emoji: Grinning Face",
            "Hebrew Letter Dalet With Dagesh",
        ];
        let positions: Vec<usize> = order.iter().map(|name| text.find(name).unwrap()).collect();
        let mut sorted = positions.clone();
        sorted.sort_unstable();
        assert_eq!(positions, sorted);
    }

    /// Number forms that RFC 8785 section 3.2.2.3 takes from ECMAScript's
    /// Number.prototype.toString: shortest round-trip digits, exponent
    /// notation from 1e21 up and below 1e-6, and no negative zero.
    #[test]
    fn rfc8785_number_samples() {
        let samples = [
            ("0", "0"),
            ("-0", "0"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("9007199254740992", "9007199254740992"),
            ("9007199254740994", "9007199254740994"),
            ("295147905179352830000", "295147905179352830000"),
            ("1e21", "1e+21"),
            ("1e23", "1e+23"),
            ("999999999999999868928", "999999999999999900000"),
            ("0.000001", "0.000001"),
            ("1e-7", "1e-7"),
        ];
        for (input, expected) in samples {
            let value: f64 = input.parse().unwrap();
            let text = String::from_utf8(canonical_json(&value).unwrap()).unwrap();
            assert_eq!(text, expected, "input {input}");
        }
    }

    #[test]
    fn key_order_does_not_change_bytes() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "é"}});
        let b = json!({"a": {"x": "é", "y": [1, 2]}, "b": 1});
        assert_eq!(canonical_json(&a).unwrap(), canonical_json(&b).unwrap());
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-(1i64 << 54)..(1i64 << 54)).prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |value| value.is_finite())
                .prop_map(Value::from),
            prop_oneof![Just(-0.0), Just(1e21), Just(1e-7), Just(0.1), Just(5e-324)]
                .prop_map(Value::from),
            "\\PC{0,8}|[\\x00-\\x1f\\x7f\"\\\\/€😀\u{e000}\u{fb33}]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                proptest::collection::btree_map(
                    "[a-zA-Z0-9\\x00-\\x1f\u{80}é€😀\u{e000}\u{fb33}\u{ffff}]{0,4}",
                    inner,
                    0..5
                )
                .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn value_writer_matches_generic_canonicalizer(value in json_value()) {
            prop_assert_eq!(canonical_value(&value).unwrap(), canonical_json(&value).unwrap());
        }
    }

    #[test]
    fn value_writer_orders_keys_by_utf16() {
        let value: Value =
            serde_json::from_str(r#"{"\ufb33": 1, "\ud83d\ude00": 2, "a": 3}"#).unwrap();
        let text = String::from_utf8(canonical_value(&value).unwrap()).unwrap();
        assert_eq!(text, "{\"a\":3,\"😀\":2,\"\u{fb33}\":1}");
    }

    #[test]
    fn value_writer_writes_large_integers_as_doubles() {
        let value = serde_json::json!([
            9007199254740993_u64,
            -9007199254740993_i64,
            9007199254740991_u64
        ]);
        let text = String::from_utf8(canonical_value(&value).unwrap()).unwrap();
        assert_eq!(
            text,
            "[9007199254740992,-9007199254740992,9007199254740991]"
        );
    }

    #[test]
    fn rounded_integers_are_reported() {
        let exact = |value: Value| canonical_value_exact(&value).unwrap().1;
        assert!(exact(json!({"a": [1, -2, 0.5, 1.0, 9007199254740991_u64]})));
        assert!(!exact(json!({"a": [9007199254740992_u64]})));
        assert!(!exact(json!({"cutoff_ms": i64::MAX})));
    }

    #[test]
    fn empty_object_and_array() {
        assert_eq!(canonical_json(&json!({})).unwrap(), b"{}");
        assert_eq!(canonical_json(&json!([])).unwrap(), b"[]");
    }
}
