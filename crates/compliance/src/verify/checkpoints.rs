//! The checks of signed tree heads against a chain that verified: the
//! checkpoints stored in the log, those its entries record, the tree heads
//! that the caller kept, and the caller's minimum size.

use std::collections::HashMap;

use crate::checkpoint::Checkpoint;
use crate::error::ComplianceError;
use crate::hash::Hash;
use crate::merkle;

use super::head;
use super::walk::RecordedCheckpoint;
use super::{BreakReason, ChainBreak, VerifyOptions, VerifyReport};

/// Reads every column of the stored checkpoints as text, so a value of
/// the wrong type (which SQLite stores as given) can be named in a break
/// instead of failing the read. The ORDER BY names are qualified so that
/// PostgreSQL sorts by the stored columns, not by the text output columns
/// that it names `size` and `key_id` too.
pub(super) const CHECKPOINT_TEXTS_SQL: &str = "SELECT CAST(size AS TEXT), CAST(key_id AS TEXT), \
     CAST(root AS TEXT), CAST(at_ms AS TEXT), CAST(public_key AS TEXT), \
     CAST(signature AS TEXT) FROM compliance_checkpoints \
     ORDER BY compliance_checkpoints.size, compliance_checkpoints.key_id";

/// The columns of [`CHECKPOINT_TEXTS_SQL`], in order.
pub(super) const CHECKPOINT_COLUMNS: [&str; 6] =
    ["size", "key_id", "root", "at_ms", "public_key", "signature"];

/// The stored checkpoints that verify read, and what is wrong with the
/// first row that could not be read.
#[derive(Debug, Default)]
pub(super) struct StoredCheckpoints {
    pub(super) checkpoints: Vec<Checkpoint>,
    pub(super) damaged: Option<String>,
}

impl StoredCheckpoints {
    /// Adds the row whose columns [`CHECKPOINT_TEXTS_SQL`] returned as
    /// `texts`, `None` for NULL.
    pub(super) fn push(&mut self, texts: [Option<String>; 6]) {
        match parse_checkpoint(texts) {
            Ok(checkpoint) => self.checkpoints.push(checkpoint),
            Err(detail) => self.mark_damaged(detail),
        }
    }

    /// Records `detail` unless an earlier row was damaged already.
    pub(super) fn mark_damaged(&mut self, detail: String) {
        self.damaged.get_or_insert(detail);
    }
}

/// Parses one checkpoint row, or describes the first column that cannot
/// be read, naming the row by its size and key_id.
fn parse_checkpoint(texts: [Option<String>; 6]) -> Result<Checkpoint, String> {
    let row = format!(
        "the compliance_checkpoints row with size {} and key_id {}",
        shown(texts[0].as_deref()),
        shown(texts[1].as_deref())
    );

    let [size, key_id, root, at_ms, public_key, signature] = texts;
    let required = |value: Option<String>, slot: usize| {
        value.ok_or_else(|| format!("{row}: column {} is NULL", CHECKPOINT_COLUMNS[slot]))
    };
    let integer = |text: String, slot: usize| {
        text.parse::<i64>().map_err(|_| {
            format!(
                "{row}: column {} is {}, which is not an integer",
                CHECKPOINT_COLUMNS[slot],
                shown(Some(&text))
            )
        })
    };

    let size = integer(required(size, 0)?, 0)?;
    let key_id = required(key_id, 1)?;
    let root = required(root, 2)?;
    let at_ms = integer(required(at_ms, 3)?, 3)?;
    let public_key = required(public_key, 4)?;
    let signature = required(signature, 5)?;

    if let Err(error) = root.parse::<Hash>() {
        return Err(format!(
            "{row}: column root is {}, which is not a hash: {error}",
            shown(Some(&root))
        ));
    }
    Checkpoint::from_columns(size, key_id, &root, at_ms, public_key, signature)
        .map_err(|error| format!("{row}: {error}"))
}

/// Quotes a stored value for a detail as [`head::shown`] does, or
/// returns `NULL`.
fn shown(text: Option<&str>) -> String {
    text.map_or_else(|| "NULL".to_owned(), head::shown)
}

/// The origin of a signed tree head that verify checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The log's checkpoint table.
    Stored,
    /// [`VerifyOptions::tree_heads`], kept outside the database.
    Given,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Stored => "the checkpoint",
            Source::Given => "the kept tree head",
        }
    }
}

/// Checks the signed tree heads against `leaves`, every entry of a chain
/// that verified, and fills in the report's root, counts and first break.
/// The signatures of the given tree heads were checked before the walk.
pub(super) fn check_tree_heads(
    options: &VerifyOptions,
    leaves: &[Hash],
    recorded: &[RecordedCheckpoint],
    stored: &[Checkpoint],
    report: &mut VerifyReport,
) {
    let stored_entries = leaves.len() as u64;
    let mut heads: Vec<(&Checkpoint, Source)> = stored
        .iter()
        .map(|checkpoint| (checkpoint, Source::Stored))
        .chain(options.tree_heads.iter().map(|head| (head, Source::Given)))
        .collect();
    // Stable, so at one size the stored checkpoints come first.
    heads.sort_by_key(|(checkpoint, _)| checkpoint.size);
    let mut sizes: Vec<u64> = heads
        .iter()
        .map(|(checkpoint, _)| checkpoint.size)
        .collect();
    sizes.push(stored_entries);
    let roots = roots_at(leaves, &sizes);
    report.root = roots
        .get(&stored_entries)
        .copied()
        .unwrap_or_else(|| merkle::root(leaves));

    if let Some(problem) = changed_kept_entry(&options.kept_entries, leaves) {
        report.problem = Some(problem);
        return;
    }
    if let Some(problem) = missing_checkpoint(recorded, stored) {
        report.problem = Some(problem);
        return;
    }
    // Every tree head that matched proves the entries it covers, so a
    // mismatch lies at or after the largest smaller one, or after the last
    // kept entry below it. Two heads of one size that disagree prove
    // nothing about each other.
    let mut matched: Vec<u64> = Vec::new();
    for (checkpoint, source) in heads {
        let proven = matched
            .iter()
            .rev()
            .find(|size| **size < checkpoint.size)
            .copied()
            .unwrap_or(0)
            .max(proven_by_kept(&options.kept_entries, checkpoint.size));
        let problem = check_one(options, checkpoint, source, &roots, stored_entries, proven)
            .or_else(|| check_recorded(checkpoint, source, recorded, stored_entries));
        if let Some(problem) = problem {
            report.problem = Some(problem);
            return;
        }
        matched.push(checkpoint.size);
        match source {
            Source::Stored => {
                report.checkpoints_verified += 1;
                report.max_checkpoint_size = report.max_checkpoint_size.max(Some(checkpoint.size));
            }
            Source::Given => report.tree_heads_verified += 1,
        }
    }
    if let Some(min_size) = options
        .min_size
        .filter(|min_size| *min_size > stored_entries)
    {
        report.problem = Some(ChainBreak {
            seq: stored_entries,
            reason: BreakReason::Deleted,
            detail: format!(
                "the log holds {stored_entries} entries, fewer than the minimum of {min_size} that was expected"
            ),
        });
    }
}

/// Returns the break for the first checkpoint that an entry records but
/// the checkpoint table lacks.
fn missing_checkpoint(
    recorded: &[RecordedCheckpoint],
    stored: &[Checkpoint],
) -> Option<ChainBreak> {
    let entry = recorded.iter().find(|entry| {
        !stored.iter().any(|checkpoint| {
            Some(checkpoint.size) == entry.size
                && entry.key_id.as_deref() == Some(checkpoint.key_id.as_str())
        })
    })?;
    Some(ChainBreak {
        seq: entry.seq,
        reason: BreakReason::CheckpointMismatch,
        detail: format!(
            "the entry records a checkpoint of size {} by key {}, which is missing from the checkpoint table",
            entry
                .size
                .map_or("unknown".to_owned(), |size| size.to_string()),
            entry.key_id.as_deref().unwrap_or("unknown")
        ),
    })
}

/// Returns the break for the first entry whose hash differs from the
/// kept hash of its position, `kept` sorted by position.
///
/// The chain verified, so a kept entry that matches proves every entry up
/// to it. The first changed entry lies after the last one that matched,
/// and the break is placed there.
fn changed_kept_entry(kept: &[(u64, Hash)], leaves: &[Hash]) -> Option<ChainBreak> {
    let mut proven = 0;
    for (seq, hash) in kept {
        let stored = usize::try_from(*seq)
            .ok()
            .and_then(|index| leaves.get(index))?;
        if stored == hash {
            proven = seq + 1;
            continue;
        }
        let which = if proven == *seq {
            format!("the log differs from entry {seq} on")
        } else {
            format!("the first entry that differs is one of entries {proven} to {seq}")
        };
        return Some(ChainBreak {
            seq: proven,
            reason: BreakReason::Edited,
            detail: format!(
                "entry {seq} hashes to {stored}, but the kept extract holds hash {hash} for it; {which}"
            ),
        });
    }
    None
}

/// Returns the number of entries the kept hashes prove below `size`: all
/// up to the last kept entry under it, since each kept entry matched.
fn proven_by_kept(kept: &[(u64, Hash)], size: u64) -> u64 {
    kept.iter()
        .rev()
        .find(|(seq, _)| *seq < size)
        .map_or(0, |(seq, _)| seq + 1)
}

/// Checks one signed tree head: its signature when it is stored, then
/// that the entries it covers are stored and give its root. The first
/// `proven` entries gave the root of a smaller tree head already.
fn check_one(
    options: &VerifyOptions,
    checkpoint: &Checkpoint,
    source: Source,
    roots: &HashMap<u64, Hash>,
    stored_entries: u64,
    proven: u64,
) -> Option<ChainBreak> {
    let size = checkpoint.size;
    // The break names the last covered entry, or the first missing one.
    let at = size.saturating_sub(1).min(stored_entries);
    if source == Source::Stored
        && let Err(error) = checkpoint.verify_signature(&options.trusted_keys)
    {
        let reason = match error {
            ComplianceError::UntrustedKey { .. } => BreakReason::UntrustedCheckpointKey,
            ComplianceError::KeyIdMismatch { .. } => BreakReason::CheckpointDamaged,
            _ => BreakReason::BadCheckpointSignature,
        };
        return Some(ChainBreak {
            seq: at,
            reason,
            detail: error.to_string(),
        });
    }
    let what = source.name();
    match roots.get(&size) {
        None => Some(ChainBreak {
            seq: stored_entries,
            reason: BreakReason::Deleted,
            detail: format!(
                "{what} of size {size} covers entries {stored_entries} to {}, which are missing",
                size.saturating_sub(1)
            ),
        }),
        // The tree cannot tell which entry changed: the break is at the
        // first one that no smaller tree head proves.
        Some(root) if *root != checkpoint.root => Some(ChainBreak {
            seq: proven,
            reason: BreakReason::CheckpointMismatch,
            detail: format!(
                "{what} of size {size} signs root {}, the entries give {root}; one of entries {proven} to {} differs from what was signed",
                checkpoint.root,
                size.saturating_sub(1)
            ),
        }),
        Some(_) => None,
    }
}

/// Checks that an entry after the ones `checkpoint` covers records it.
///
/// [`AuditLog::sign_checkpoint`](crate::AuditLog::sign_checkpoint) appends
/// that entry in the transaction that stores the checkpoint, so without
/// tampering the log contains more entries than any checkpoint covers. A log
/// cut back to exactly a checkpoint's size, with the head row set to
/// match, fails here. The entry is usually at the checkpoint's size, but
/// an append that commits between reading the tree head and storing the
/// checkpoint moves it later, so any later position is accepted.
fn check_recorded(
    checkpoint: &Checkpoint,
    source: Source,
    recorded: &[RecordedCheckpoint],
    stored_entries: u64,
) -> Option<ChainBreak> {
    let size = checkpoint.size;
    let what = source.name();
    if stored_entries <= size {
        return Some(ChainBreak {
            seq: size,
            reason: BreakReason::Deleted,
            detail: format!(
                "{what} of size {size} is recorded at entry {size} or later, but the log ends before entry {size}"
            ),
        });
    }
    let found = recorded.iter().any(|entry| {
        entry.seq >= size
            && entry.size == Some(size)
            && entry.key_id.as_deref() == Some(checkpoint.key_id.as_str())
    });
    if found {
        return None;
    }
    Some(ChainBreak {
        seq: size,
        reason: BreakReason::CheckpointMismatch,
        detail: format!(
            "{what} of size {size} by key {} is recorded by no entry from {size} on",
            checkpoint.key_id
        ),
    })
}

/// Returns the tree head at each of `sizes` that is at most the number of
/// leaves, in one pass over `leaves`.
fn roots_at(leaves: &[Hash], sizes: &[u64]) -> HashMap<u64, Hash> {
    let mut wanted: Vec<u64> = sizes.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut wanted = wanted.into_iter().peekable();
    let mut roots = HashMap::new();
    let mut builder = merkle::RootBuilder::new();
    while let Some(&size) = wanted.peek() {
        if size == builder.size() {
            roots.insert(size, builder.root());
            wanted.next();
            continue;
        }
        let Some(leaf) = usize::try_from(builder.size())
            .ok()
            .and_then(|next| leaves.get(next))
        else {
            break;
        };
        builder.push(*leaf);
    }
    roots
}
