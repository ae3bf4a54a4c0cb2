//! Audit events: what callers append and what the log returns.

use std::fmt;
use std::io::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::canonical::{MAX_SAFE_INTEGER, canonical_json, canonical_value, canonical_value_exact};
use crate::error::{ComplianceError, Result};
use crate::exact_json::{MAX_PAYLOAD_DEPTH, nested_deeper_than};
use crate::hash::Hash;
use crate::merkle::leaf_hash;
use sha2::{Digest, Sha256};

/// The maximum length in bytes of an actor, subject or custom kind.
pub const MAX_NAME_BYTES: usize = 256;

/// The kind of action an audit event records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A call to a model.
    ModelCall,
    /// A guardrail finding on an input or output.
    GuardFinding,
    /// An evaluation score.
    EvalScore,
    /// A decision of a human reviewer.
    OversightDecision,
    /// A change to configuration.
    ConfigChange,
    /// A prompt label moved to another version.
    LabelChange,
    /// A request of a data subject, such as access or erasure.
    DataSubjectRequest,
    /// A kind outside this list: lower-case ASCII letters, digits, `_`, `.` and `-`.
    Custom(String),
}

impl EventKind {
    /// Returns the snake_case name stored in the log.
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::ModelCall => "model_call",
            EventKind::GuardFinding => "guard_finding",
            EventKind::EvalScore => "eval_score",
            EventKind::OversightDecision => "oversight_decision",
            EventKind::ConfigChange => "config_change",
            EventKind::LabelChange => "label_change",
            EventKind::DataSubjectRequest => "data_subject_request",
            EventKind::Custom(name) => name,
        }
    }

    /// Parses a stored kind name; names outside the list become [`EventKind::Custom`].
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidEvent`] for an empty or too long name or one
    /// with a character outside `a-z 0-9 _ . -`.
    pub fn parse(name: &str) -> Result<EventKind> {
        let kind = match name {
            "model_call" => EventKind::ModelCall,
            "guard_finding" => EventKind::GuardFinding,
            "eval_score" => EventKind::EvalScore,
            "oversight_decision" => EventKind::OversightDecision,
            "config_change" => EventKind::ConfigChange,
            "label_change" => EventKind::LabelChange,
            "data_subject_request" => EventKind::DataSubjectRequest,
            _ => EventKind::Custom(name.to_owned()),
        };
        kind.validate()?;
        Ok(kind)
    }

    fn validate(&self) -> Result<()> {
        let EventKind::Custom(name) = self else {
            return Ok(());
        };
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c);
        if name.is_empty() || name.len() > 64 || !name.chars().all(allowed) {
            return Err(ComplianceError::InvalidEvent {
                field: "kind",
                reason: format!(
                    "`{}` must be 1 to 64 characters of a-z, 0-9, `_`, `.` or `-`",
                    name.chars().take(80).collect::<String>()
                ),
            });
        }
        Ok(())
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Personal data of one data subject, kept encrypted in the log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PersonalFields {
    /// The data subject's pseudonymous id, such as a salted user id hash.
    pub(crate) data_subject: String,
    /// The personal fields, a JSON object.
    pub(crate) fields: Map<String, Value>,
}

/// An event to append to the audit log.
///
/// ```
/// use llmops_compliance::{EventKind, NewEvent};
/// use serde_json::json;
///
/// let event = NewEvent::new(EventKind::ModelCall, "gateway", "request:42")
///     .payload(json!({"model": "gpt-4o-mini", "prompt_tokens": 12}))
///     .personal("user-7f3a", json!({"email": "ana@example.com"}));
/// assert_eq!(event.kind, EventKind::ModelCall);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The kind of action recorded.
    pub kind: EventKind,
    /// The acting user, service or reviewer.
    pub actor: String,
    /// The object acted on, such as `request:42` or `prompt:greet`.
    pub subject: String,
    /// Free data that is not personal; a JSON object.
    pub payload: Value,
    /// Personal data, encrypted under a key of its data subject.
    pub personal: Option<(String, Value)>,
    /// The event time in milliseconds since the Unix epoch; the log's clock when `None`.
    pub at_ms: Option<i64>,
}

impl NewEvent {
    /// Creates an event with an empty payload.
    pub fn new(kind: EventKind, actor: impl Into<String>, subject: impl Into<String>) -> Self {
        NewEvent {
            kind,
            actor: actor.into(),
            subject: subject.into(),
            payload: Value::Object(Map::new()),
            personal: None,
            at_ms: None,
        }
    }

    /// Sets the payload, a JSON object of data that is not personal.
    pub fn payload(mut self, payload: Value) -> Self {
        self.payload = payload;
        self
    }

    /// Sets the personal data of `data_subject`, a JSON object.
    pub fn personal(mut self, data_subject: impl Into<String>, fields: Value) -> Self {
        self.personal = Some((data_subject.into(), fields));
        self
    }

    /// Sets the event time in milliseconds since the Unix epoch.
    pub fn at_ms(mut self, at_ms: i64) -> Self {
        self.at_ms = Some(at_ms);
        self
    }

    /// Checks the fields and splits off the personal data.
    pub(crate) fn validate(&self) -> Result<Option<PersonalFields>> {
        self.kind.validate()?;
        check_name("actor", &self.actor)?;
        check_name("subject", &self.subject)?;
        if !self.payload.is_object() {
            return Err(ComplianceError::InvalidEvent {
                field: "payload",
                reason: "must be a JSON object; wrap a single value as {\"value\": ...}".to_owned(),
            });
        }
        check_depth("payload", &self.payload)?;
        let Some((data_subject, fields)) = &self.personal else {
            return Ok(None);
        };
        check_name("data_subject", data_subject)?;
        check_depth("personal", fields)?;
        let Value::Object(fields) = fields else {
            return Err(ComplianceError::InvalidEvent {
                field: "personal",
                reason: "must be a JSON object of named personal fields".to_owned(),
            });
        };
        Ok(Some(PersonalFields {
            data_subject: data_subject.clone(),
            fields: fields.clone(),
        }))
    }
}

/// Refuses a value nested deeper than [`MAX_PAYLOAD_DEPTH`], which JSON
/// readers could not read back from an extract.
fn check_depth(field: &'static str, value: &Value) -> Result<()> {
    if nested_deeper_than(value, MAX_PAYLOAD_DEPTH) {
        return Err(ComplianceError::InvalidEvent {
            field,
            reason: format!(
                "arrays and objects nest more than {MAX_PAYLOAD_DEPTH} levels deep; flatten the value"
            ),
        });
    }
    Ok(())
}

fn check_name(field: &'static str, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > MAX_NAME_BYTES {
        return Err(ComplianceError::InvalidEvent {
            field,
            reason: format!(
                "must be 1 to {MAX_NAME_BYTES} bytes, got {} bytes",
                value.len()
            ),
        });
    }
    Ok(())
}

/// Personal data as stored: encrypted with XChaCha20-Poly1305 under the key `key_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedFields {
    /// The data subject's pseudonymous id.
    pub data_subject: String,
    /// The id of the data subject's key.
    pub key_id: String,
    /// The 24-byte nonce, hex.
    pub nonce: String,
    /// The ciphertext with its 16-byte tag, hex.
    pub ciphertext: String,
}

/// One entry of the audit log, as stored.
/// Reading one refuses fields it does not have, which no hash would
/// cover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// The position in the log, from 0; also the Merkle leaf index.
    pub seq: u64,
    /// The kind of action recorded.
    pub kind: String,
    /// The acting user, service or reviewer.
    pub actor: String,
    /// The object acted on.
    pub subject: String,
    /// The event time in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The payload that is not personal; `null` once purged.
    pub payload: Value,
    /// The encrypted personal data, if any; `None` once purged.
    pub sealed: Option<SealedFields>,
    /// The SHA-256 of the canonical payload and sealed data, which the
    /// entry hash covers in their place, so they can be purged.
    pub content_digest: Hash,
    /// True when a retention purge removed the payload and sealed data.
    pub purged: bool,
    /// The hash of the previous entry, [`Hash::ZERO`] for the first.
    pub prev_hash: Hash,
    /// The hash of this entry (the RFC 9162 leaf hash of its canonical body).
    pub hash: Hash,
}

/// Computes the content digest of an entry: SHA-256 of the RFC 8785
/// canonical JSON of `{"payload": ..., "sealed": ...}`.
///
/// # Errors
///
/// [`ComplianceError::Canonical`] when the payload cannot be canonicalized.
pub fn content_digest(payload: &Value, sealed: Option<&SealedFields>) -> Result<Hash> {
    let payload = canonical_value_text(payload)?;
    let sealed = sealed.map(canonical_text).transpose()?;
    Ok(content_digest_of_texts(&payload, sealed.as_deref()))
}

/// Returns the RFC 8785 canonical JSON of a JSON value as text.
pub(crate) fn canonical_value_text(value: &Value) -> Result<String> {
    String::from_utf8(canonical_value(value)?).map_err(|error| ComplianceError::Canonical {
        reason: error.to_string(),
    })
}

/// Returns the text to store for a payload and the canonical text it
/// hashes to, the same string unless canonical JSON rounds one of its
/// integers (beyond ±(2^53 - 1)); then serde_json's text keeps the digits.
pub(crate) fn payload_texts(payload: &Value) -> Result<(Option<String>, String)> {
    let (bytes, exact) = canonical_value_exact(payload)?;
    let canonical = String::from_utf8(bytes).map_err(|error| ComplianceError::Canonical {
        reason: error.to_string(),
    })?;
    let stored = (!exact).then(|| payload.to_string());
    Ok((stored, canonical))
}

/// Returns the RFC 8785 canonical JSON of `value` as text.
pub(crate) fn canonical_text<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    String::from_utf8(canonical_json(value)?).map_err(|error| ComplianceError::Canonical {
        reason: error.to_string(),
    })
}

/// Computes the content digest from the canonical texts of the payload and
/// the sealed data.
///
/// RFC 8785 writes `{"payload": ..., "sealed": ...}` as the two canonical
/// values joined by fixed bytes, keys in that order and `null` for absent
/// sealed data, so hashing the parts gives [`content_digest`] without
/// canonicalizing the whole object. Texts that are not canonical give a
/// different digest.
pub(crate) fn content_digest_of_texts(payload: &str, sealed: Option<&str>) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(b"{\"payload\":");
    hasher.update(payload.as_bytes());
    hasher.update(b",\"sealed\":");
    hasher.update(sealed.unwrap_or("null").as_bytes());
    hasher.update(b"}");
    Hash(hasher.finalize().into())
}

/// The fields an entry's hash covers, serialized as RFC 8785 canonical JSON.
#[derive(Serialize)]
struct EntryBody<'a> {
    v: u32,
    kind: &'a str,
    actor: &'a str,
    subject: &'a str,
    at_ms: i64,
    content: &'a Hash,
    prev: &'a Hash,
}

/// Computes an entry's hash: the RFC 9162 leaf hash of the canonical JSON of
/// its kind, actor, subject, time, content digest and the previous hash.
///
/// The sequence number is not hashed: the chain of previous hashes fixes
/// each entry's position.
///
/// # Errors
///
/// [`ComplianceError::Canonical`] when a field cannot be canonicalized.
pub fn entry_hash(
    kind: &str,
    actor: &str,
    subject: &str,
    at_ms: i64,
    content: &Hash,
    prev: &Hash,
) -> Result<Hash> {
    if at_ms.unsigned_abs() > MAX_SAFE_INTEGER {
        let body = EntryBody {
            v: 1,
            kind,
            actor,
            subject,
            at_ms,
            content,
            prev,
        };
        return Ok(leaf_hash(&canonical_json(&body)?));
    }
    Ok(leaf_hash(&entry_body_bytes(
        kind, actor, subject, at_ms, content, prev,
    )?))
}

/// Writes the canonical JSON of an entry body without the generic
/// canonicalizer, which is the hot path of appends and verify.
///
/// The keys are written in RFC 8785 order (`actor`, `at_ms`, `content`,
/// `kind`, `prev`, `subject`, `v`). serde_json escapes strings the way RFC
/// 8785 requires: the two-character escapes for `"`, `\\`, backspace, form
/// feed, newline, carriage return and tab, `\u00xx` with lower-case hex for
/// other control characters, and everything else as UTF-8. A test compares
/// the output with the generic canonicalizer.
fn entry_body_bytes(
    kind: &str,
    actor: &str,
    subject: &str,
    at_ms: i64,
    content: &Hash,
    prev: &Hash,
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256 + actor.len() + subject.len() + kind.len());
    let string = |out: &mut Vec<u8>, text: &str| {
        serde_json::to_writer(out, text).map_err(|error| ComplianceError::Canonical {
            reason: error.to_string(),
        })
    };
    out.extend_from_slice(b"{\"actor\":");
    string(&mut out, actor)?;
    out.extend_from_slice(b",\"at_ms\":");
    // Writing an integer to a `Vec` cannot fail.
    let _ = write!(out, "{at_ms}");
    out.extend_from_slice(b",\"content\":\"");
    out.extend_from_slice(&content.hex_digits());
    out.extend_from_slice(b"\",\"kind\":");
    string(&mut out, kind)?;
    out.extend_from_slice(b",\"prev\":\"");
    out.extend_from_slice(&prev.hex_digits());
    out.extend_from_slice(b"\",\"subject\":");
    string(&mut out, subject)?;
    out.extend_from_slice(b",\"v\":1}");
    Ok(out)
}

impl AuditEntry {
    /// Recomputes this entry's hash from its fields and stored content digest.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::Canonical`] when a field cannot be canonicalized.
    pub fn compute_hash(&self) -> Result<Hash> {
        entry_hash(
            &self.kind,
            &self.actor,
            &self.subject,
            self.at_ms,
            &self.content_digest,
            &self.prev_hash,
        )
    }

    /// Returns true when the payload and sealed data match the content
    /// digest, or were purged: then the payload is `null` and no sealed
    /// data is left, so a purged entry can hide its content but never
    /// show other content.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::Canonical`] when the payload cannot be canonicalized.
    pub fn content_matches(&self) -> Result<bool> {
        if self.purged {
            return Ok(self.payload.is_null() && self.sealed.is_none());
        }
        Ok(content_digest(&self.payload, self.sealed.as_ref())? == self.content_digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kind_names_round_trip() {
        for kind in [
            EventKind::ModelCall,
            EventKind::GuardFinding,
            EventKind::EvalScore,
            EventKind::OversightDecision,
            EventKind::ConfigChange,
            EventKind::LabelChange,
            EventKind::DataSubjectRequest,
            EventKind::Custom("retention.purge".into()),
        ] {
            assert_eq!(EventKind::parse(kind.as_str()).unwrap(), kind);
        }
    }

    #[test]
    fn invalid_custom_kinds_rejected() {
        for name in ["", "Upper", "with space", "ü", &"x".repeat(65)] {
            assert!(EventKind::parse(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn validation_names_the_field() {
        let event = NewEvent::new(EventKind::ModelCall, "", "s");
        let error = event.validate().unwrap_err().to_string();
        assert!(error.contains("`actor`"), "{error}");

        let event = NewEvent::new(EventKind::ModelCall, "a", "s").payload(json!([1]));
        let error = event.validate().unwrap_err().to_string();
        assert!(error.contains("`payload`"), "{error}");

        let event = NewEvent::new(EventKind::ModelCall, "a", "s").personal("u", json!("x"));
        let error = event.validate().unwrap_err().to_string();
        assert!(error.contains("`personal`"), "{error}");
    }

    #[test]
    fn digest_ignores_key_order_but_not_values() {
        let a = content_digest(&json!({"x": 1, "y": "ü"}), None).unwrap();
        let b = content_digest(&json!({"y": "ü", "x": 1}), None).unwrap();
        let c = content_digest(&json!({"y": "ü", "x": 2}), None).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    fn generic_body(
        kind: &str,
        actor: &str,
        subject: &str,
        at_ms: i64,
        content: &Hash,
        prev: &Hash,
    ) -> Vec<u8> {
        let body = EntryBody {
            v: 1,
            kind,
            actor,
            subject,
            at_ms,
            content,
            prev,
        };
        canonical_json(&body).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn fast_body_matches_canonicalizer(
            kind in "\\PC{0,12}",
            actor in proptest::prelude::any::<String>(),
            subject in "[\\x00-\\x1f\"\\\\/\\x7f a-zé€😀]{0,24}",
            at_ms in -(MAX_SAFE_INTEGER as i64)..=(MAX_SAFE_INTEGER as i64),
            content in proptest::prelude::any::<[u8; 32]>(),
        ) {
            let content = Hash(content);
            let prev = Hash([0xa5; 32]);
            let fast = entry_body_bytes(&kind, &actor, &subject, at_ms, &content, &prev).unwrap();
            proptest::prop_assert_eq!(fast, generic_body(&kind, &actor, &subject, at_ms, &content, &prev));
        }
    }

    /// The digest as first defined: the canonical JSON of the whole
    /// `{"payload": ..., "sealed": ...}` object.
    fn whole_object_digest(payload: &Value, sealed: Option<&SealedFields>) -> Hash {
        let content = json!({ "payload": payload, "sealed": sealed });
        Hash(Sha256::digest(canonical_json(&content).unwrap()).into())
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |value| value.is_finite())
                .prop_map(Value::from),
            "\\PC{0,8}|[\\x00-\\x1f\"\\\\€😀\u{e000}]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-z😀\u{e000}\u{fb33}]{0,4}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn digest_of_parts_matches_whole_object(
            payload in json_value(),
            sealed in proptest::option::of("[0-9a-f]{0,8}"),
        ) {
            let sealed = sealed.map(|hex| SealedFields {
                data_subject: "subject-é".into(),
                key_id: "key-1".into(),
                nonce: hex.clone(),
                ciphertext: hex,
            });
            proptest::prop_assert_eq!(
                content_digest(&payload, sealed.as_ref()).unwrap(),
                whole_object_digest(&payload, sealed.as_ref())
            );
        }
    }

    #[test]
    fn non_canonical_text_changes_the_digest() {
        let payload = json!({"b": 1, "a": [1.0, "x"]});
        let digest = content_digest(&payload, None).unwrap();
        assert_eq!(
            content_digest_of_texts(r#"{"a":[1,"x"],"b":1}"#, None),
            digest
        );
        assert_ne!(
            content_digest_of_texts(&payload.to_string(), None),
            digest,
            "serde_json writes 1.0 where RFC 8785 writes 1"
        );
    }

    #[test]
    fn large_times_use_canonicalizer() {
        let content = Hash([1; 32]);
        let big = i64::MAX;
        let expected = leaf_hash(&generic_body("k", "a", "s", big, &content, &Hash::ZERO));
        assert_eq!(
            entry_hash("k", "a", "s", big, &content, &Hash::ZERO).unwrap(),
            expected
        );
        let edge = MAX_SAFE_INTEGER as i64;
        let expected = leaf_hash(&generic_body("k", "a", "s", edge, &content, &Hash::ZERO));
        assert_eq!(
            entry_hash("k", "a", "s", edge, &content, &Hash::ZERO).unwrap(),
            expected
        );
    }

    #[test]
    fn hash_covers_every_field() {
        let content = Hash([5; 32]);
        let base = entry_hash("k", "a", "s", 1, &content, &Hash::ZERO).unwrap();
        let changed = [
            entry_hash("j", "a", "s", 1, &content, &Hash::ZERO).unwrap(),
            entry_hash("k", "b", "s", 1, &content, &Hash::ZERO).unwrap(),
            entry_hash("k", "a", "t", 1, &content, &Hash::ZERO).unwrap(),
            entry_hash("k", "a", "s", 2, &content, &Hash::ZERO).unwrap(),
            entry_hash("k", "a", "s", 1, &Hash([6; 32]), &Hash::ZERO).unwrap(),
            entry_hash("k", "a", "s", 1, &content, &Hash([1; 32])).unwrap(),
        ];
        for other in changed {
            assert_ne!(base, other);
        }
    }
}
