//! The 32-byte SHA-256 digest that entries, tree heads and proofs are made of.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ComplianceError;

/// A SHA-256 digest, written as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero digest, used as the previous hash of the first entry.
    pub const ZERO: Hash = Hash([0; 32]);

    /// Returns the digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Returns the digest as 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        let digits = self.hex_digits();
        // The digits are ASCII, so this cannot fail.
        String::from_utf8_lossy(&digits).into_owned()
    }

    /// Returns the digest as 64 lower-case hex digits without allocating;
    /// appends and verify write two or three per entry.
    pub(crate) fn hex_digits(&self) -> [u8; 64] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0_u8; 64];
        for (pair, byte) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        out
    }
}

/// Returns the value of an ASCII hex digit of either case, or `None`.
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl FromStr for Hash {
    type Err = ComplianceError;

    /// Parses 64 hex digits of either case, as `hex::decode_to_slice` does.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.as_bytes();
        let mut bytes = [0_u8; 32];
        let decoded = digits.len() == 64
            && bytes
                .iter_mut()
                .zip(digits.chunks_exact(2))
                .all(
                    |(byte, pair)| match (hex_value(pair[0]), hex_value(pair[1])) {
                        (Some(high), Some(low)) => {
                            *byte = high << 4 | low;
                            true
                        }
                        _ => false,
                    },
                );
        if decoded {
            return Ok(Hash(bytes));
        }
        // The slow path only names the problem.
        let reason = match hex::decode_to_slice(text, &mut bytes) {
            Err(error) => error.to_string(),
            Ok(()) => "not 64 hex digits".to_owned(),
        };
        Err(ComplianceError::InvalidHash {
            value: text.chars().take(80).collect(),
            reason,
        })
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let hash = Hash([0xab; 32]);
        let text = hash.to_hex();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<Hash>().ok(), Some(hash));
    }

    #[test]
    fn parse_rejects_short_and_non_hex() {
        assert!("abc".parse::<Hash>().is_err());
        assert!("zz".repeat(32).parse::<Hash>().is_err());
        assert!("ab".repeat(33).parse::<Hash>().is_err());
        assert!(format!("{}g", "a".repeat(63)).parse::<Hash>().is_err());
        // A multi-byte character makes 64 bytes that are not 64 digits.
        assert!(format!("{}é", "a".repeat(62)).parse::<Hash>().is_err());
    }

    #[test]
    fn parse_matches_hex_crate() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37 + 5) as u8);
        let lower = hex::encode(bytes);
        assert_eq!(Hash(bytes).to_hex(), lower);
        assert_eq!(lower.parse::<Hash>().ok(), Some(Hash(bytes)));
        let upper = lower.to_uppercase();
        assert_eq!(upper.parse::<Hash>().ok(), Some(Hash(bytes)));
        for byte in 0..=255_u8 {
            let hash = Hash([byte; 32]);
            assert_eq!(hash.to_hex(), hex::encode([byte; 32]));
            assert_eq!(hash.to_hex().parse::<Hash>().ok(), Some(hash));
        }
    }
}
