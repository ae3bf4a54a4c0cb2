//! Extracts: entries as JSON Lines with inclusion proofs against a signed
//! checkpoint, verifiable offline with only the signer's public key.
//!
//! The first line contains the checkpoint, `{"checkpoint": {...}}`. Each
//! further line contains one entry and its proof, `{"entry": {...}, "proof":
//! ["hex", ...]}`. Personal data stays encrypted in the extract.

use std::io::{BufRead, Read, Write};

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::checkpoint::Checkpoint;
use crate::error::{ComplianceError, Result};
use crate::event::AuditEntry;
use crate::hash::Hash;
use crate::log::AuditLog;
use crate::merkle;

#[derive(Serialize, Deserialize)]
struct CheckpointLine {
    checkpoint: Checkpoint,
}

#[derive(Serialize, Deserialize)]
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
            "audit extract written"
        );
        Ok(written)
    }
}

/// Checks an extract offline: the checkpoint's signature (by one of
/// `trusted` when it is not empty), each entry's hash from its fields, and
/// each inclusion proof against the checkpoint's root. Entries must come in
/// ascending order, each once, and consecutive entries must link by hash,
/// so a duplicated, reordered or swapped line fails.
///
/// NOTE: an extract may hold any selection of entries, and the selection
/// is not signed, so removing a whole entry line leaves a valid extract of
/// fewer entries. Compare the verified sequence numbers with the ones you
/// requested.
///
/// # Errors
///
/// [`ComplianceError::InvalidExtract`] naming the first line that fails,
/// and [`ComplianceError::Io`] when reading fails.
pub fn verify_extract<R: BufRead>(input: R, trusted: &[VerifyingKey]) -> Result<ExtractReport> {
    let (checkpoint, entries) = verify_extract_entries(input, trusted)?;
    Ok(ExtractReport {
        checkpoint,
        entries: entries.iter().map(|entry| entry.seq).collect(),
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
        let CheckpointLine { checkpoint } = serde_json::from_value(first)
            .map_err(|error| invalid(format!("not a checkpoint line: {error}")))?;
        return Ok(checkpoint);
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
    let CheckpointLine { checkpoint } = serde_json::from_str(&first)
        .map_err(|error| invalid(1, format!("not a checkpoint line: {error}")))?;
    checkpoint
        .verify_signature(trusted)
        .map_err(|error| invalid(1, error.to_string()))?;

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
        let EntryLine { entry, proof } = serde_json::from_str(&line)
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
    }
    Ok((checkpoint, entries))
}
