//! Canonical JSON bytes (RFC 8785, JSON Canonicalization Scheme).
//!
//! Hashes in the audit log are taken over these bytes, so two writers that
//! build the same event with keys in another order, or numbers written
//! differently, get the same hash. JCS sorts object keys by their UTF-16
//! code units, writes numbers the way ECMAScript prints them and removes all
//! insignificant white space.

use serde::Serialize;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

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

    #[test]
    fn empty_object_and_array() {
        assert_eq!(canonical_json(&json!({})).unwrap(), b"{}");
        assert_eq!(canonical_json(&json!([])).unwrap(), b"[]");
    }
}
