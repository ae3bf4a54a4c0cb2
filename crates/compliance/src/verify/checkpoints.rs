//! The checks of signed tree heads against a chain that verified: the
//! checkpoints stored in the log, those its entries record, the tree heads
//! that the caller kept, and the caller's minimum size.

use std::collections::HashMap;

use crate::checkpoint::Checkpoint;
use crate::error::ComplianceError;
use crate::hash::Hash;
use crate::merkle;

use super::walk::RecordedCheckpoint;
use super::{BreakReason, ChainBreak, VerifyOptions, VerifyReport};

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

    if let Some(problem) = missing_checkpoint(recorded, stored) {
        report.problem = Some(problem);
        return;
    }
    for (checkpoint, source) in heads {
        let problem = check_one(options, checkpoint, source, &roots, stored_entries)
            .or_else(|| check_recorded(checkpoint, source, recorded, stored_entries));
        if let Some(problem) = problem {
            report.problem = Some(problem);
            return;
        }
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

/// Checks one signed tree head: its signature when it is stored, then
/// that the entries it covers are stored and give its root.
fn check_one(
    options: &VerifyOptions,
    checkpoint: &Checkpoint,
    source: Source,
    roots: &HashMap<u64, Hash>,
    stored_entries: u64,
) -> Option<ChainBreak> {
    let size = checkpoint.size;
    // The break names the last covered entry, or the first missing one.
    let at = size.saturating_sub(1).min(stored_entries);
    if source == Source::Stored
        && let Err(error) = checkpoint.verify_signature(&options.trusted_keys)
    {
        let reason = match error {
            ComplianceError::UntrustedKey { .. } => BreakReason::UntrustedCheckpointKey,
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
        Some(root) if *root != checkpoint.root => Some(ChainBreak {
            seq: at,
            reason: BreakReason::CheckpointMismatch,
            detail: format!(
                "{what} of size {size} signs root {}, the entries give {root}",
                checkpoint.root
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
