//! The state that verify collects while it links the entries in
//! sequence order.

use crate::checkpoint::Checkpoint;
use crate::hash::Hash;
use crate::log::LogHead;

use super::checkpoints::StoredCheckpoints;
use super::head::HeadRow;
use super::row::{CheckedRow, RecordKind};
use super::{BreakReason, ChainBreak};

/// Reads the lowest sequence number below 0 and the number of such rows.
/// Appends never write a negative sequence number, and the walk starts at
/// 0, so only this query finds those rows.
pub(super) const NEGATIVE_SEQ_SQL: &str =
    "SELECT MIN(seq), COUNT(*) FROM compliance_audit_log WHERE seq < 0";

/// Returns the break for rows with a negative sequence number, given the
/// lowest one and their count as [`NEGATIVE_SEQ_SQL`] returns them.
pub(super) fn negative_seq_break(min_seq: Option<i64>, count: i64) -> Option<ChainBreak> {
    let min_seq = min_seq?;
    Some(ChainBreak {
        seq: 0,
        reason: BreakReason::Inserted,
        detail: format!(
            "{count} stored rows have a negative sequence number (the lowest is {min_seq}), but the log starts at entry 0"
        ),
    })
}

/// The head row and checkpoints read with the entries, and what linking
/// the entries collected.
pub(super) struct Walk {
    /// The head row, read in the same snapshot as the entries.
    pub(super) head: HeadRow,
    /// The stored checkpoints, read in the same snapshot as the entries.
    pub(super) stored_checkpoints: Vec<Checkpoint>,
    /// The problem with the first checkpoint row that could not be read.
    pub(super) damaged_checkpoint: Option<String>,
    /// The hash of every entry that verified, in sequence order.
    pub(super) leaves: Vec<Hash>,
    /// `(seq, at_ms)` of each purged entry.
    purged: Vec<(u64, i64)>,
    /// The latest cut-off of the recorded purges.
    max_cutoff_ms: Option<i64>,
    /// The checkpoints that `checkpoint_signed` entries record.
    pub(super) recorded_checkpoints: Vec<RecordedCheckpoint>,
    /// The entries the chain may hold, from the head row.
    limit: u64,
}

/// A checkpoint as a `checkpoint_signed` entry records it.
pub(super) struct RecordedCheckpoint {
    pub(super) seq: u64,
    pub(super) size: Option<u64>,
    pub(super) key_id: Option<String>,
}

/// The reason an entry could not join the chain.
pub(super) enum LinkFailure {
    /// A break that needs no database lookup to name.
    Break(ChainBreak),
    /// Entries are stored beyond the size that `head` records, and its hash
    /// is not that of the entry before that size. A lookup of the hash
    /// shows whether the head row's size was lowered. Otherwise `problem`
    /// is the break.
    HeadBehind { problem: ChainBreak, head: LogHead },
    /// Entry `seq` links to `linked` instead of `expected`, the hash of
    /// the entry before it; a lookup of `linked` names the break.
    Unlinked {
        seq: u64,
        linked: Hash,
        expected: Hash,
    },
}

impl Walk {
    pub(super) fn new(head: HeadRow, stored: StoredCheckpoints) -> Walk {
        let limit = head.limit();
        Walk {
            head,
            stored_checkpoints: stored.checkpoints,
            damaged_checkpoint: stored.damaged,
            leaves: Vec::new(),
            purged: Vec::new(),
            max_cutoff_ms: None,
            recorded_checkpoints: Vec::new(),
            limit,
        }
    }

    /// Returns the number of entries that joined the chain.
    pub(super) fn len(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// Adds the entry at `expected`, which must link to the previous one
    /// and lie within the size that the head row records.
    pub(super) fn link(&mut self, expected: u64, row: CheckedRow) -> Result<(), LinkFailure> {
        if expected >= self.limit {
            let problem = self.beyond_head();
            return Err(match self.head {
                HeadRow::Found(head) if problem.reason == BreakReason::Edited => {
                    LinkFailure::HeadBehind { problem, head }
                }
                _ => LinkFailure::Break(problem),
            });
        }
        let prev = self.leaves.last().copied().unwrap_or(Hash::ZERO);
        // A copy of the previous row links where that row does, so the
        // link check below would blame the genuine row instead of the copy.
        if row.hash == prev && !self.leaves.is_empty() {
            return Err(LinkFailure::Break(ChainBreak {
                seq: expected,
                reason: BreakReason::Inserted,
                detail: format!(
                    "entry {expected} duplicates entry {}, whose hash {prev} it repeats",
                    expected - 1
                ),
            }));
        }
        if row.prev != prev {
            return Err(LinkFailure::Unlinked {
                seq: expected,
                linked: row.prev,
                expected: prev,
            });
        }
        if row.purged {
            self.purged.push((expected, row.at_ms));
        }
        match &row.record {
            Some((RecordKind::Purge, payload)) => {
                let cutoff = payload.get("cutoff_ms").and_then(|value| value.as_i64());
                self.max_cutoff_ms = self.max_cutoff_ms.max(cutoff);
            }
            Some((RecordKind::Checkpoint, payload)) => {
                self.recorded_checkpoints.push(RecordedCheckpoint {
                    seq: expected,
                    size: payload.get("size").and_then(|value| value.as_u64()),
                    key_id: payload
                        .get("key_id")
                        .and_then(|value| value.as_str())
                        .map(str::to_owned),
                });
            }
            None => {}
        }
        self.leaves.push(row.hash);
        Ok(())
    }

    /// Returns the break to report for `problem`, which a page check found
    /// after the rows before it joined the chain: a row at or past the
    /// recorded size is beyond the head, whatever else is wrong with it.
    pub(super) fn page_break(&self, problem: ChainBreak) -> ChainBreak {
        if problem.seq >= self.limit {
            self.beyond_head()
        } else {
            problem
        }
    }

    /// Returns the break at the end of a chain that ends because no rows
    /// follow, if the head row disagrees with it.
    pub(super) fn end_break(&self) -> Option<ChainBreak> {
        self.head.end_break(&self.leaves, false)
    }

    /// Returns the break for a stored row at the recorded size.
    fn beyond_head(&self) -> ChainBreak {
        self.head
            .end_break(&self.leaves, true)
            .unwrap_or_else(|| ChainBreak {
                seq: self.len(),
                reason: BreakReason::Inserted,
                detail: format!("entry {} is beyond the recorded head", self.len()),
            })
    }

    /// Adds what is wrong with the head row to `problem`, a break found
    /// before the end of the chain, so a report names both.
    pub(super) fn with_head_problem(&self, mut problem: ChainBreak) -> ChainBreak {
        let head_break = matches!(
            problem.reason,
            BreakReason::HeadMissing | BreakReason::HeadDamaged
        );
        if let Some(head_problem) = self.head.problem().filter(|_| !head_break) {
            problem.detail = format!("{}; {head_problem}", problem.detail);
        }
        problem
    }

    /// Returns the break for the first checkpoint row that could not be
    /// read, placed after the entries that verified.
    pub(super) fn damaged_checkpoint_break(&self) -> Option<ChainBreak> {
        let detail = self.damaged_checkpoint.as_ref()?;
        Some(ChainBreak {
            seq: self.len(),
            reason: BreakReason::CheckpointDamaged,
            detail: detail.clone(),
        })
    }

    /// Returns the first purged entry that no recorded purge covers.
    pub(super) fn unrecorded_purge(&self) -> Option<ChainBreak> {
        let cutoff = self.max_cutoff_ms;
        let &(seq, at_ms) = self
            .purged
            .iter()
            .find(|(_, at_ms)| cutoff.is_none_or(|cutoff| *at_ms >= cutoff))?;
        Some(ChainBreak {
            seq,
            reason: BreakReason::UnrecordedPurge,
            detail: match cutoff {
                Some(cutoff) => format!(
                    "the payload of an entry from {at_ms} ms was removed, but the latest recorded purge cut-off is {cutoff} ms"
                ),
                None => format!(
                    "the payload of an entry from {at_ms} ms was removed, but the log records no purge"
                ),
            },
        })
    }
}
