//! Extracts: entries as JSON Lines with inclusion proofs against a signed
//! checkpoint, verifiable offline with only the signer's public key.
//!
//! The first line contains the checkpoint and the selection of entries the
//! extract holds, `{"checkpoint": {...}, "selection": {"ranges": [[first,
//! last], ...]}}`. Each further line contains one entry and its proof,
//! `{"entry": {...}, "proof": ["hex", ...]}`. Personal data stays encrypted
//! in the extract.
//!
//! The checkpoint signs the tree, not the selection, so an extract written
//! with a signing key ([`AuditLog::export_signed_extract`]) signs its
//! selection too. Then a line removed together with its range shows.

use std::io::{BufRead, Read, Write};

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, key_id};
use crate::error::{ComplianceError, Result};
use crate::event::AuditEntry;
use crate::exact_json::{MAX_PAYLOAD_DEPTH, read_exact};
use crate::hash::Hash;
use crate::log::AuditLog;
use crate::merkle;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointLine {
    checkpoint: Checkpoint,
    /// Absent from extracts written before selections were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selection: Option<Selection>,
}

/// The entries an extract holds, as inclusive ranges of sequence numbers
/// in ascending order, and the signature over them when the extract was
/// written with a signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Selection {
    ranges: Vec<[u64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed: Option<SelectionSignature>,
}

/// An Ed25519 signature of [`selection_message`], with the signer's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SelectionSignature {
    public_key: String,
    key_id: String,
    signature: String,
}

/// Returns the bytes a selection signature signs: the tree head the
/// extract's proofs lead to, and the ranges.
fn selection_message(checkpoint: &Checkpoint, ranges: &[[u64; 2]]) -> Vec<u8> {
    let mut message = format!(
        "llmops audit extract selection v1\nsize {}\nroot {}\n",
        checkpoint.size, checkpoint.root
    );
    for [first, last] in ranges {
        message.push_str(&format!("range {first} {last}\n"));
    }
    message.into_bytes()
}

/// Collapses ascending, distinct sequence numbers into inclusive ranges.
fn ranges_of(seqs: &[u64]) -> Vec<[u64; 2]> {
    let mut ranges: Vec<[u64; 2]> = Vec::new();
    for &seq in seqs {
        match ranges.last_mut() {
            Some(range) if range[1].checked_add(1) == Some(seq) => range[1] = seq,
            _ => ranges.push([seq, seq]),
        }
    }
    ranges
}

impl Selection {
    fn new(checkpoint: &Checkpoint, seqs: &[u64], key: Option<&SigningKey>) -> Selection {
        let ranges = ranges_of(seqs);
        let signed = key.map(|key| {
            let public = key.verifying_key();
            SelectionSignature {
                public_key: hex::encode(public.as_bytes()),
                key_id: key_id(&public),
                signature: hex::encode(
                    key.sign(&selection_message(checkpoint, &ranges)).to_bytes(),
                ),
            }
        });
        Selection { ranges, signed }
    }

    /// Checks the ranges' form and, when signed, the signature, by one of
    /// `trusted` when it is not empty; returns the signer's key id.
    fn check(
        &self,
        checkpoint: &Checkpoint,
        trusted: &[VerifyingKey],
    ) -> std::result::Result<Option<String>, String> {
        let mut previous: Option<u64> = None;
        for &[first, last] in &self.ranges {
            let range = format!("selection range [{first}, {last}]");
            if first > last {
                return Err(format!(
                    "{range} ends before it starts; write each range as [first, last]"
                ));
            }
            if last >= checkpoint.size {
                return Err(format!(
                    "{range} reaches beyond the checkpoint, which covers entries 0 to {}",
                    checkpoint.size.saturating_sub(1)
                ));
            }
            match previous {
                Some(end) if first <= end => {
                    return Err(format!(
                        "{range} overlaps or precedes the range ending at {end}; ranges ascend without overlap"
                    ));
                }
                Some(end) if first == end + 1 => {
                    return Err(format!(
                        "{range} continues the range ending at {end}; an extract writes adjacent entries as one range"
                    ));
                }
                _ => {}
            }
            previous = Some(last);
        }
        let Some(signed) = &self.signed else {
            return Ok(None);
        };
        let mut key_bytes = [0_u8; 32];
        hex::decode_to_slice(&signed.public_key, &mut key_bytes)
            .map_err(|_| "the selection's public key is not 32 hex bytes".to_owned())?;
        let public = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| "the selection's public key is not an Ed25519 key".to_owned())?;
        if signed.key_id != key_id(&public) {
            return Err(format!(
                "the selection names key {}, but its public key has id {}",
                signed.key_id,
                key_id(&public)
            ));
        }
        if !trusted.is_empty() && !trusted.contains(&public) {
            return Err(format!(
                "the selection is signed by key {}, which is not among the trusted keys",
                signed.key_id
            ));
        }
        let mut signature = [0_u8; 64];
        hex::decode_to_slice(&signed.signature, &mut signature)
            .map_err(|_| "the selection's signature is not 64 hex bytes".to_owned())?;
        public
            .verify(
                &selection_message(checkpoint, &self.ranges),
                &Signature::from_bytes(&signature),
            )
            .map_err(|_| {
                format!(
                    "the selection's signature by key {} does not verify; lines or ranges were changed",
                    signed.key_id
                )
            })?;
        Ok(Some(signed.key_id.clone()))
    }

    /// Compares the ranges with `seqs`, the ascending entries found.
    /// Returns the first difference as `(seq, listed)`: an entry the
    /// ranges list but `seqs` lacks, or one found outside the ranges.
    fn first_difference(&self, seqs: &[u64]) -> Option<(u64, bool)> {
        let mut listed = self.ranges.iter().flat_map(|&[first, last]| first..=last);
        let mut found = seqs.iter().copied();
        loop {
            match (listed.next(), found.next()) {
                (None, None) => return None,
                (Some(listed), Some(found)) if listed == found => {}
                (Some(listed), Some(found)) if listed < found => return Some((listed, true)),
                (Some(listed), None) => return Some((listed, true)),
                (_, Some(found)) => return Some((found, false)),
            }
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryLine {
    entry: AuditEntry,
    proof: Vec<Hash>,
}

/// The outcome of [`verify_extract`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtractReport {
    /// The checkpoint the proofs lead to.
    pub checkpoint: Checkpoint,
    /// The sequence numbers of the verified entries, in file order.
    pub entries: Vec<u64>,
    /// The sequence number and hash of each verified entry, in file order,
    /// for [`VerifyOptions::kept_entries`](crate::VerifyOptions::kept_entries).
    pub leaves: Vec<(u64, Hash)>,
    /// Whether the first line records which entries the extract holds. An
    /// extract without it cannot show a removed line.
    pub selection_recorded: bool,
    /// The key id that signed the selection, when one did. An unsigned
    /// selection shows lines lost by accident, but not lines removed
    /// together with their range.
    pub selection_signed_by: Option<String>,
}

fn write_line<W: Write, T: Serialize>(out: &mut W, value: &T) -> Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(|error| ComplianceError::Io {
        operation: "write",
        source: error.into(),
    })?;
    out.write_all(b"\n").map_err(|source| ComplianceError::Io {
        operation: "write",
        source,
    })
}

impl AuditLog {
    /// Writes the entries `seqs` with inclusion proofs against `checkpoint`
    /// to `out` as JSON Lines, and returns the number of entries written.
    /// Entries are written in ascending order, each once, whatever order
    /// `seqs` gives. The first line records the selection unsigned, which
    /// shows lines lost by accident; [`AuditLog::export_signed_extract`]
    /// also shows lines removed on purpose.
    ///
    /// The checkpoint's root is checked against the stored hashes first, so
    /// an extract never carries proofs that cannot verify.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidTreeSize`] when an entry is not covered by
    /// the checkpoint, [`ComplianceError::CorruptRow`] when the stored hashes
    /// do not give the checkpoint's root, and [`ComplianceError::Io`] when
    /// writing fails.
    pub async fn export_extract<W: Write>(
        &self,
        out: &mut W,
        seqs: impl IntoIterator<Item = u64>,
        checkpoint: &Checkpoint,
    ) -> Result<u64> {
        self.write_extract(out, seqs, checkpoint, None).await
    }

    /// Writes an extract as [`AuditLog::export_extract`] does, and signs
    /// its selection with `key`, so that [`verify_extract`] finds a line
    /// removed even together with its range.
    ///
    /// # Errors
    ///
    /// As [`AuditLog::export_extract`].
    pub async fn export_signed_extract<W: Write>(
        &self,
        out: &mut W,
        seqs: impl IntoIterator<Item = u64>,
        checkpoint: &Checkpoint,
        key: &SigningKey,
    ) -> Result<u64> {
        self.write_extract(out, seqs, checkpoint, Some(key)).await
    }

    async fn write_extract<W: Write>(
        &self,
        out: &mut W,
        seqs: impl IntoIterator<Item = u64>,
        checkpoint: &Checkpoint,
        key: Option<&SigningKey>,
    ) -> Result<u64> {
        let mut seqs: Vec<u64> = seqs.into_iter().collect();
        seqs.sort_unstable();
        seqs.dedup();
        if let Some(&last) = seqs.last()
            && last >= checkpoint.size
        {
            return Err(ComplianceError::InvalidTreeSize {
                size: checkpoint.size,
                reason: format!(
                    "entry {last} is not covered by the checkpoint of {} entries; export entries below it or sign a new checkpoint",
                    checkpoint.size
                ),
            });
        }
        let leaves = self.leaf_hashes(checkpoint.size).await?;
        let root = merkle::root(&leaves);
        if root != checkpoint.root {
            return Err(ComplianceError::CorruptRow {
                seq: checkpoint.size.saturating_sub(1),
                column: "hash",
                reason: format!(
                    "the stored hashes give root {root}, the checkpoint signs {}; run verify",
                    checkpoint.root
                ),
            });
        }

        write_line(
            out,
            &CheckpointLine {
                checkpoint: checkpoint.clone(),
                selection: Some(Selection::new(checkpoint, &seqs, key)),
            },
        )?;
        let mut written = 0;
        for seq in seqs {
            let proof = merkle::inclusion_proof(&leaves, seq)?;
            let entry = self.entry(seq).await?;
            write_line(out, &EntryLine { entry, proof })?;
            written += 1;
        }
        tracing::info!(
            entries = written,
            size = checkpoint.size,
            signed_selection = key.is_some(),
            "audit extract written"
        );
        Ok(written)
    }
}

/// Checks an extract offline: the checkpoint's signature (by one of
/// `trusted` when it is not empty), each entry's hash from its fields, and
/// each inclusion proof against the checkpoint's root. Entries must come in
/// ascending order, each once, and consecutive entries must link by hash,
/// so a duplicated, reordered or swapped line fails. The entries must be
/// exactly those the first line's selection lists, so a removed or added
/// line fails. A signed selection must verify, by one of `trusted` when it
/// is not empty.
///
/// NOTE: an unsigned selection can be edited together with the lines, and
/// an extract written before selections were recorded has none
/// ([`ExtractReport::selection_recorded`]). Compare the verified sequence
/// numbers with the ones you requested.
///
/// # Errors
///
/// [`ComplianceError::InvalidExtract`] naming the first line that fails,
/// and [`ComplianceError::Io`] when reading fails.
pub fn verify_extract<R: BufRead>(input: R, trusted: &[VerifyingKey]) -> Result<ExtractReport> {
    let checked = check_extract(input, trusted)?;
    Ok(ExtractReport {
        checkpoint: checked.checkpoint,
        entries: checked.entries.iter().map(|entry| entry.seq).collect(),
        leaves: checked
            .entries
            .iter()
            .map(|entry| (entry.seq, entry.hash))
            .collect(),
        selection_recorded: checked.selection_recorded,
        selection_signed_by: checked.selection_signed_by,
    })
}

/// Reads a signed tree head kept from earlier: the checkpoint of an
/// extract (its first line, `{"checkpoint": {...}}`), or a checkpoint's
/// JSON object on its own. Only the first JSON value of `input` is read,
/// so a long extract is not read to its end. The signature is not checked
/// here; [`AuditLog::verify`] checks it against the trusted keys.
///
/// # Errors
///
/// [`ComplianceError::InvalidExtract`] when the first JSON value is
/// neither form, and [`ComplianceError::Io`] when reading fails.
pub fn read_tree_head<R: Read>(input: R) -> Result<Checkpoint> {
    let invalid = |reason: String| ComplianceError::InvalidExtract { line: 1, reason };
    let first = serde_json::Deserializer::from_reader(input)
        .into_iter::<serde_json::Value>()
        .next()
        .ok_or_else(|| invalid("the file is empty; it must begin with a checkpoint".to_owned()))?
        .map_err(|error| {
            if error.is_io() {
                ComplianceError::Io {
                    operation: "read",
                    source: error.into(),
                }
            } else {
                invalid(format!("the file does not begin with JSON: {error}"))
            }
        })?;
    if first.get("checkpoint").is_some() {
        let line: CheckpointLine = serde_json::from_value(first)
            .map_err(|error| invalid(format!("not a checkpoint line: {error}")))?;
        return Ok(line.checkpoint);
    }
    serde_json::from_value(first).map_err(|error| {
        invalid(format!(
            "neither an extract's checkpoint line nor a checkpoint: {error}"
        ))
    })
}

/// Checks an extract like [`verify_extract`] and returns the verified
/// entries themselves.
pub(crate) fn verify_extract_entries<R: BufRead>(
    input: R,
    trusted: &[VerifyingKey],
) -> Result<(Checkpoint, Vec<AuditEntry>)> {
    let checked = check_extract(input, trusted)?;
    Ok((checked.checkpoint, checked.entries))
}

/// The checkpoint, entries and selection that [`check_extract`] verified.
struct CheckedExtract {
    checkpoint: Checkpoint,
    entries: Vec<AuditEntry>,
    selection_recorded: bool,
    selection_signed_by: Option<String>,
}

fn check_extract<R: BufRead>(input: R, trusted: &[VerifyingKey]) -> Result<CheckedExtract> {
    let mut lines = input.lines().enumerate();
    let invalid = |line: usize, reason: String| ComplianceError::InvalidExtract { line, reason };

    let Some((_, first)) = lines.next() else {
        return Err(invalid(
            1,
            "the extract is empty; the first line must hold the checkpoint".to_owned(),
        ));
    };
    let first = first.map_err(|source| ComplianceError::Io {
        operation: "read",
        source,
    })?;
    let CheckpointLine {
        checkpoint,
        selection,
    } = serde_json::from_str(&first)
        .map_err(|error| invalid(1, format!("not a checkpoint line: {error}")))?;
    checkpoint
        .verify_signature(trusted)
        .map_err(|error| invalid(1, error.to_string()))?;
    let selection_signed_by = match &selection {
        Some(selection) => selection
            .check(&checkpoint, trusted)
            .map_err(|reason| invalid(1, reason))?,
        None => None,
    };
    // The line number of each entry in `entries`.
    let mut entry_lines = Vec::new();

    let mut entries = Vec::new();
    let mut previous: Option<(u64, Hash)> = None;
    for (index, line) in lines {
        let number = index + 1;
        let line = line.map_err(|source| ComplianceError::Io {
            operation: "read",
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        // A line whose JSON a reader could take another way, such as a
        // key given twice, is refused before its hash is checked.
        let value = read_exact(&line, MAX_PAYLOAD_DEPTH + 2)
            .map_err(|reason| invalid(number, format!("not an entry line: {reason}")))?;
        let EntryLine { entry, proof } = serde_json::from_value(value)
            .map_err(|error| invalid(number, format!("not an entry line: {error}")))?;
        if !entry.content_matches()? {
            return Err(invalid(
                number,
                format!(
                    "entry {} payload does not match its content digest",
                    entry.seq
                ),
            ));
        }
        let computed = entry.compute_hash()?;
        if computed != entry.hash {
            return Err(invalid(
                number,
                format!(
                    "entry {} fields hash to {computed}, the line states {}",
                    entry.seq, entry.hash
                ),
            ));
        }
        if !merkle::verify_inclusion(
            entry.seq,
            checkpoint.size,
            &entry.hash,
            &proof,
            &checkpoint.root,
        ) {
            return Err(invalid(
                number,
                format!(
                    "the inclusion proof of entry {} does not lead to the checkpoint root {} of size {}",
                    entry.seq, checkpoint.root, checkpoint.size
                ),
            ));
        }
        if let Some((previous_seq, previous_hash)) = &previous {
            if entry.seq <= *previous_seq {
                return Err(invalid(
                    number,
                    format!(
                        "entry {} comes after entry {previous_seq}; an extract lists each entry once, in ascending order",
                        entry.seq
                    ),
                ));
            }
            if entry.seq == previous_seq + 1 && entry.prev_hash != *previous_hash {
                return Err(invalid(
                    number,
                    format!(
                        "entry {} does not link to entry {previous_seq} before it",
                        entry.seq
                    ),
                ));
            }
        }
        previous = Some((entry.seq, entry.hash));
        entries.push(entry);
        entry_lines.push(number);
    }
    if let Some(selection) = &selection {
        let seqs: Vec<u64> = entries.iter().map(|entry| entry.seq).collect();
        // The line where the entry `seq` is, or would be in order.
        let line_of = |seq: u64| {
            let index = seqs.partition_point(|found| *found < seq);
            entry_lines
                .get(index)
                .copied()
                .unwrap_or_else(|| entry_lines.last().map_or(2, |last| last + 1))
        };
        match selection.first_difference(&seqs) {
            None => {}
            Some((seq, true)) => {
                return Err(invalid(
                    line_of(seq),
                    format!(
                        "the selection on line 1 lists entry {seq}, but no line holds it; a line was removed"
                    ),
                ));
            }
            Some((seq, false)) => {
                return Err(invalid(
                    line_of(seq),
                    format!("entry {seq} is outside the selection on line 1; a line was added"),
                ));
            }
        }
    }
    Ok(CheckedExtract {
        checkpoint,
        entries,
        selection_recorded: selection.is_some(),
        selection_signed_by,
    })
}
