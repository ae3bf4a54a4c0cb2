//! Anonymisers: redact, typed placeholder, mask and keyed hash.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::entity::EntityType;
use crate::error::{GuardError, Result};
use crate::finding::Finding;
use crate::resolve::resolve_overlaps;

type HmacSha256 = Hmac<Sha256>;

/// Replacement method for one finding.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operator {
    /// Replaces the value with `<REDACTED>`.
    Redact,
    /// Replaces the value with a typed placeholder such as `<KR_RRN_1>`. The
    /// same value gets the same placeholder within one [`PlaceholderScope`].
    Placeholder,
    /// Replaces every char but the last `keep_last` with `mask_char`. Values
    /// of `keep_last` chars or fewer are masked completely.
    Mask {
        /// Number of trailing chars kept.
        keep_last: usize,
        /// Char written in place of hidden chars.
        mask_char: char,
    },
    /// Replaces the value with `<ENTITY#hex>`, the first 16 hex digits of
    /// HMAC-SHA256 of the value under `key`, so equal values stay joinable
    /// without being readable.
    Hash {
        /// HMAC key. Keep it secret: with the key, short values such as phone
        /// numbers can be found by trying every candidate.
        key: Vec<u8>,
    },
}

/// The shortest HMAC key [`Operator::Hash`] accepts: 16 bytes, 128 bits.
/// 32 random bytes are recommended.
pub const MIN_HASH_KEY_BYTES: usize = 16;

impl Operator {
    /// Checks the operator's settings.
    ///
    /// # Errors
    ///
    /// [`GuardError::InvalidConfig`] for a hash key shorter than
    /// [`MIN_HASH_KEY_BYTES`], which would let anyone who guesses it find
    /// the hashed values.
    pub fn validate(&self) -> Result<()> {
        match self {
            Operator::Hash { key } if key.len() < MIN_HASH_KEY_BYTES => {
                Err(GuardError::InvalidConfig {
                    message: format!(
                        "the hash key is {} bytes; use at least {MIN_HASH_KEY_BYTES} random bytes, 32 recommended",
                        key.len()
                    ),
                })
            }
            _ => Ok(()),
        }
    }
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Operator::Redact => f.write_str("Redact"),
            Operator::Placeholder => f.write_str("Placeholder"),
            Operator::Mask {
                keep_last,
                mask_char,
            } => f
                .debug_struct("Mask")
                .field("keep_last", keep_last)
                .field("mask_char", mask_char)
                .finish(),
            Operator::Hash { .. } => f.write_str("Hash { key: <hidden> }"),
        }
    }
}

/// Placeholder numbering shared by the texts of one request or conversation.
/// It stores SHA-256 digests of values, never the values.
#[derive(Debug, Default)]
pub struct PlaceholderScope {
    numbers: HashMap<(EntityType, [u8; 32]), usize>,
    counters: HashMap<EntityType, usize>,
}

impl PlaceholderScope {
    /// Creates an empty scope.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the placeholder for `value`, allocating the next number on first use.
    pub fn placeholder(&mut self, entity: EntityType, value: &str) -> String {
        let digest: [u8; 32] = Sha256::digest(value.as_bytes()).into();
        let counters = &mut self.counters;
        let number = *self.numbers.entry((entity, digest)).or_insert_with(|| {
            let counter = counters.entry(entity).or_insert(0);
            *counter += 1;
            *counter
        });
        format!("<{}_{}>", entity.as_str(), number)
    }
}

/// Replaces findings in a text with one [`Operator`] per entity type.
#[derive(Debug, Clone)]
pub struct Anonymizer {
    default: Operator,
    per_entity: HashMap<EntityType, Operator>,
}

impl Default for Anonymizer {
    fn default() -> Self {
        Self::new(Operator::Placeholder)
    }
}

impl Anonymizer {
    /// Creates an anonymizer that applies `default` to every entity type.
    pub fn new(default: Operator) -> Self {
        Self {
            default,
            per_entity: HashMap::new(),
        }
    }

    /// Uses `operator` for `entity` instead of the default.
    pub fn with_operator(mut self, entity: EntityType, operator: Operator) -> Self {
        self.per_entity.insert(entity, operator);
        self
    }

    /// Returns `text` with every finding replaced. Overlaps are resolved first,
    /// so replacements never nest, and findings whose range does not fit
    /// `text` are skipped.
    pub fn anonymize(
        &self,
        text: &str,
        findings: &[Finding],
        scope: &mut PlaceholderScope,
    ) -> String {
        let findings = resolve_overlaps(findings.to_vec());
        let mut out = String::with_capacity(text.len());
        let mut cursor = 0;
        for finding in &findings {
            let Some(value) = text.get(finding.bytes.clone()) else {
                tracing::debug!(entity = %finding.entity, "skipped a finding outside the text");
                continue;
            };
            out.push_str(&text[cursor..finding.bytes.start]);
            let operator = self
                .per_entity
                .get(&finding.entity)
                .unwrap_or(&self.default);
            out.push_str(&apply(operator, finding.entity, value, scope));
            cursor = finding.bytes.end;
        }
        out.push_str(&text[cursor..]);
        out
    }
}

/// Returns the replacement of one value.
fn apply(
    operator: &Operator,
    entity: EntityType,
    value: &str,
    scope: &mut PlaceholderScope,
) -> String {
    match operator {
        Operator::Redact => "<REDACTED>".to_owned(),
        Operator::Placeholder => scope.placeholder(entity, value),
        Operator::Mask {
            keep_last,
            mask_char,
        } => mask(value, *keep_last, *mask_char),
        Operator::Hash { key } => {
            let tag = match HmacSha256::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(value.as_bytes());
                    let bytes = mac.finalize().into_bytes();
                    bytes[..8]
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                }
                // HMAC accepts keys of any length, so this branch is unreachable in practice.
                Err(_) => "0000000000000000".to_owned(),
            };
            format!("<{}#{}>", entity.as_str(), tag)
        }
    }
}

fn mask(value: &str, keep_last: usize, mask_char: char) -> String {
    let count = value.chars().count();
    let keep = if count > keep_last { keep_last } else { 0 };
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i + keep < count { mask_char } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_last_chars() {
        assert_eq!(mask("010-1234-5678", 4, '*'), "*********5678");
        assert_eq!(mask("123", 4, '*'), "***");
        assert_eq!(mask("가나다라", 1, '*'), "***라");
    }

    #[test]
    fn scope_reuses_numbers() {
        let mut scope = PlaceholderScope::new();
        assert_eq!(
            scope.placeholder(EntityType::EmailAddress, "a@b.co"),
            "<EMAIL_ADDRESS_1>"
        );
        assert_eq!(
            scope.placeholder(EntityType::EmailAddress, "c@d.co"),
            "<EMAIL_ADDRESS_2>"
        );
        assert_eq!(
            scope.placeholder(EntityType::EmailAddress, "a@b.co"),
            "<EMAIL_ADDRESS_1>"
        );
        assert_eq!(scope.placeholder(EntityType::KrRrn, "a@b.co"), "<KR_RRN_1>");
    }

    #[test]
    fn hash_operator_debug_hides_key() {
        let operator = Operator::Hash {
            key: b"topsecret".to_vec(),
        };
        assert!(!format!("{operator:?}").contains("topsecret"));
    }
}
