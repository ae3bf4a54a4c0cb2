//! One entry row as stored, and the checks that need no other row: its
//! content digest and its hash.
//!
//! Appends store the payload and the sealed data as the canonical texts
//! they hashed, so verify hashes the stored texts first. It parses them only
//! when that digest differs, as in logs written before the texts were
//! stored canonically, or when it reads a field of a purge or checkpoint
//! record.

use serde::de::IgnoredAny;
use serde_json::Value;

use crate::checkpoint::CHECKPOINT_KIND;
use crate::event::{SealedFields, content_digest, content_digest_of_texts, entry_hash};
use crate::hash::Hash;
use crate::retention::PURGE_KIND;

use super::{BreakReason, ChainBreak};

/// The columns of one entry row after its sequence number, in
/// `ENTRY_COLUMNS` order, unparsed and borrowed from the row as read.
pub(super) struct StoredRow<'a> {
    pub(super) kind: &'a str,
    pub(super) actor: &'a str,
    pub(super) subject: &'a str,
    pub(super) at_ms: i64,
    pub(super) payload: Option<&'a str>,
    pub(super) sealed: Option<&'a str>,
    pub(super) content: &'a str,
    pub(super) prev: &'a str,
    pub(super) hash: &'a str,
}

/// A row whose digest and hash verified on their own.
pub(super) struct CheckedRow {
    /// The entry's stored (and recomputed) hash.
    pub(super) hash: Hash,
    /// The hash the entry links to.
    pub(super) prev: Hash,
    /// The entry's time.
    pub(super) at_ms: i64,
    /// True when retention removed the payload.
    pub(super) purged: bool,
    /// The record kind when verify reads its payload, with the payload.
    pub(super) record: Option<(RecordKind, Value)>,
}

/// The records whose payload verify reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecordKind {
    Purge,
    Checkpoint,
}

impl StoredRow<'_> {
    /// Checks the content digest and the hash of the entry at `seq`.
    pub(super) fn check(&self, seq: u64) -> Result<CheckedRow, ChainBreak> {
        let unreadable = |detail: String| ChainBreak {
            seq,
            reason: BreakReason::Unreadable,
            detail,
        };
        let parse_hash = |column: &str, text: &str| {
            text.parse::<Hash>()
                .map_err(|error| unreadable(format!("column {column}: {error}")))
        };
        let content = parse_hash("content_digest", self.content)?;
        let prev = parse_hash("prev_hash", self.prev)?;
        let hash = parse_hash("hash", self.hash)?;

        let record = match self.kind {
            PURGE_KIND => Some(RecordKind::Purge),
            CHECKPOINT_KIND => Some(RecordKind::Checkpoint),
            _ => None,
        };
        let mut record_payload = None;
        if let Some(payload) = self.payload {
            let stored_match = self.stored_content_matches(payload, &content);
            if !stored_match || record.is_some() {
                let (value, sealed) = self.parse_content(payload).map_err(unreadable)?;
                if !stored_match {
                    let digest = content_digest(&value, sealed.as_ref())
                        .map_err(|error| unreadable(error.to_string()))?;
                    if digest != content {
                        return Err(ChainBreak {
                            seq,
                            reason: BreakReason::Edited,
                            detail: format!(
                                "the payload or sealed data do not match the content digest {content}"
                            ),
                        });
                    }
                }
                record_payload = Some(value);
            }
        }

        let computed = entry_hash(
            self.kind,
            self.actor,
            self.subject,
            self.at_ms,
            &content,
            &prev,
        )
        .map_err(|error| unreadable(error.to_string()))?;
        if computed != hash {
            return Err(ChainBreak {
                seq,
                reason: BreakReason::Edited,
                detail: format!("the fields hash to {computed}, the stored hash is {hash}"),
            });
        }
        Ok(CheckedRow {
            hash,
            prev,
            at_ms: self.at_ms,
            purged: self.payload.is_none(),
            record: record.zip(record_payload),
        })
    }

    /// Returns true when the stored texts are well-formed JSON whose bytes
    /// hash to `content`. Well-formed texts cannot trade bytes at the seam
    /// between payload and sealed data, so equal digests mean the texts are
    /// the canonical ones that were hashed.
    fn stored_content_matches(&self, payload: &str, content: &Hash) -> bool {
        let well_formed = |text: &str| serde_json::from_str::<IgnoredAny>(text).is_ok();
        well_formed(payload)
            && self.sealed.is_none_or(well_formed)
            && content_digest_of_texts(payload, self.sealed) == *content
    }

    fn parse_content(&self, payload: &str) -> Result<(Value, Option<SealedFields>), String> {
        let value: Value =
            serde_json::from_str(payload).map_err(|error| format!("column payload: {error}"))?;
        let sealed = match self.sealed {
            Some(text) => Some(
                serde_json::from_str(text).map_err(|error| format!("column sealed: {error}"))?,
            ),
            None => None,
        };
        Ok((value, sealed))
    }
}
