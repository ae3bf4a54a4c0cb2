//! Verification of the whole log: every hash, every link, the head row and
//! every stored checkpoint.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use ed25519_dalek::VerifyingKey;
use llmops_store::SqliteReader;
use sqlx::Row as _;
use sqlx::any::AnyRow;
use tokio::sync::mpsc;

use crate::error::{ComplianceError, Result};
use crate::hash::Hash;
use crate::log::{AuditLog, ENTRY_COLUMNS, LogHead, to_i64};
use crate::merkle;

mod native;
mod page;
mod row;

use native::RawHead;
use page::{EntryPage as _, check_page};
use row::{CheckedRow, RecordKind};

/// Entries read per query on the pool read path.
const PAGE_ENTRIES: u64 = native::PAGE_ROWS as u64;

/// Pages the native read path checks at once, each on a blocking thread.
const CHECKS_IN_FLIGHT: usize = 2;

/// The kind of break at the first broken position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakReason {
    /// The entry's fields no longer hash to its stored hash.
    Edited,
    /// Entries are missing: a gap in sequence numbers, or a head row that
    /// records more entries than are stored.
    Deleted,
    /// The entry links to a hash that no stored entry has: the entry before
    /// it was replaced (with a recomputed hash), or entries were deleted and
    /// the rest renumbered.
    Unlinked,
    /// An entry that no successor links to sits in the chain, or entries
    /// exist beyond the size the head row records.
    Inserted,
    /// The entry links to an entry stored at a later or distant position.
    Reordered,
    /// A row cannot be decoded, such as a payload that is not JSON.
    Unreadable,
    /// An entry's payload was removed, but no recorded retention purge covers its time.
    UnrecordedPurge,
    /// A stored checkpoint's signature does not verify.
    BadCheckpointSignature,
    /// A stored checkpoint verifies, but under a key outside the trusted
    /// keys: the entries may be intact, and the signer is unknown.
    UntrustedCheckpointKey,
    /// A stored checkpoint's root differs from the tree over the entries,
    /// or a checkpoint that the log records is missing.
    CheckpointMismatch,
}

impl fmt::Display for BreakReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            BreakReason::Edited => "edited",
            BreakReason::Deleted => "deleted",
            BreakReason::Unlinked => "unlinked",
            BreakReason::Inserted => "inserted",
            BreakReason::Reordered => "reordered",
            BreakReason::Unreadable => "unreadable",
            BreakReason::UnrecordedPurge => "unrecorded purge",
            BreakReason::BadCheckpointSignature => "bad checkpoint signature",
            BreakReason::UntrustedCheckpointKey => "untrusted checkpoint key",
            BreakReason::CheckpointMismatch => "checkpoint mismatch",
        };
        f.write_str(text)
    }
}

/// The first position where the log fails verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The sequence number where the break shows.
    pub seq: u64,
    /// The kind of break.
    pub reason: BreakReason,
    /// The expected and the found value.
    pub detail: String,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {}: {}: {}", self.seq, self.reason, self.detail)
    }
}

/// The outcome of [`AuditLog::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The number of entries checked before the first break, or all of them.
    pub entries: u64,
    /// The Merkle tree head over the checked entries.
    pub root: Hash,
    /// The number of checkpoints whose signature and root were checked.
    pub checkpoints_verified: usize,
    /// The first break, or `None` when the whole log verifies.
    pub problem: Option<ChainBreak>,
}

impl VerifyReport {
    /// Returns true when no break was found.
    pub fn is_valid(&self) -> bool {
        self.problem.is_none()
    }
}

/// The connection [`AuditLog::verify`] reads a SQLite file's entries
/// through. PostgreSQL and in-memory SQLite always use the store's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadPath {
    /// A read-only native connection to the file
    /// ([`Store::sqlite_reader`](llmops_store::Store::sqlite_reader)) that
    /// scans the entries and the head row in one snapshot, while pages are
    /// checked on two blocking threads.
    #[default]
    Native,
    /// The store's pool, through sqlx's `Any` driver, a page per query
    /// with the next page read while one is checked.
    Pool,
}

/// Settings of [`AuditLog::verify`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    trusted_keys: Vec<VerifyingKey>,
    read_path: ReadPath,
}

impl VerifyOptions {
    /// Requires every checkpoint to be signed by one of `keys`. By default
    /// any valid signature is accepted, which proves nothing about who signed.
    pub fn trusted_keys(mut self, keys: impl IntoIterator<Item = VerifyingKey>) -> Self {
        self.trusted_keys = keys.into_iter().collect();
        self
    }

    /// Sets how entries of a SQLite file are read. Defaults to
    /// [`ReadPath::Native`]. Both paths apply the same checks.
    pub fn read_path(mut self, read_path: ReadPath) -> Self {
        self.read_path = read_path;
        self
    }
}

/// The data collected while walking the entries.
#[derive(Default)]
struct Walk {
    leaves: Vec<Hash>,
    /// `(seq, at_ms)` of each purged entry.
    purged: Vec<(u64, i64)>,
    /// The latest cut-off of the recorded purges.
    max_cutoff_ms: Option<i64>,
    /// The checkpoints that `checkpoint_signed` entries record.
    recorded_checkpoints: Vec<RecordedCheckpoint>,
}

/// A checkpoint as a `checkpoint_signed` entry records it.
struct RecordedCheckpoint {
    seq: u64,
    size: Option<u64>,
    key_id: Option<String>,
}

impl Walk {
    fn unrecorded_purge(&self) -> Option<ChainBreak> {
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

impl AuditLog {
    /// Walks the whole log in sequence order, recomputes every hash and link,
    /// compares the end with the head row, and checks each stored checkpoint
    /// against the recomputed tree. Reports the first break.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::Store`] when the database fails; tampering is a
    /// [`VerifyReport::problem`], not an error.
    pub async fn verify(&self, options: &VerifyOptions) -> Result<VerifyReport> {
        let mut walk = Walk::default();
        let reader = match options.read_path {
            ReadPath::Native => self.open_sqlite_reader().await?,
            ReadPath::Pool => None,
        };
        let mut problem = match reader {
            Some(reader) => self.verify_chain_native(reader, &mut walk).await?,
            None => match self.verify_chain(&mut walk).await? {
                Some(problem) => Some(problem),
                None => compare_head(&self.head().await?, &walk.leaves),
            },
        };
        if problem.is_none() {
            problem = walk.unrecorded_purge();
        }
        let leaves = std::mem::take(&mut walk.leaves);
        let mut report = VerifyReport {
            entries: leaves.len() as u64,
            root: Hash::ZERO,
            checkpoints_verified: 0,
            problem,
        };
        if report.problem.is_none() {
            self.verify_checkpoints(options, &leaves, &walk.recorded_checkpoints, &mut report)
                .await?;
        } else {
            report.root = merkle::root(&leaves);
        }
        match &report.problem {
            Some(problem) => tracing::warn!(%problem, "audit log verification failed"),
            None => tracing::info!(entries = report.entries, "audit log verified"),
        }
        Ok(report)
    }

    /// Checks hashes and links; `walk` receives the hash of every entry
    /// that verifies and the purges seen.
    ///
    /// Pages are read while the previous page is checked: the check runs on
    /// a blocking thread, and the database reads rows on its own.
    async fn verify_chain(&self, walk: &mut Walk) -> Result<Option<ChainBreak>> {
        let mut rows = self.read_page(0).await?;
        while !rows.is_empty() {
            let from = walk.leaves.len() as u64;
            let full_page = rows.len() as u64 == PAGE_ENTRIES;
            let check = tokio::task::spawn_blocking(move || check_page(&rows, from));
            let (checked, next) = if full_page {
                let (checked, next) = tokio::join!(check, self.read_page(from + PAGE_ENTRIES));
                (checked, Some(next))
            } else {
                (check.await, None)
            };
            let checked = checked.map_err(task_stopped)?;
            let (checked, problem) = checked;
            for (offset, row) in checked.into_iter().enumerate() {
                let expected = from + offset as u64;
                if let Some(problem) = self.link(walk, expected, row).await? {
                    return Ok(Some(problem));
                }
            }
            if let Some(problem) = problem {
                return Ok(Some(problem));
            }
            rows = match next {
                Some(next) => next?,
                None => Vec::new(),
            };
        }
        Ok(None)
    }

    /// Opens a native reader when the store is a SQLite file.
    async fn open_sqlite_reader(&self) -> Result<Option<SqliteReader>> {
        let store = self.store().clone();
        tokio::task::spawn_blocking(move || store.sqlite_reader())
            .await
            .map_err(task_stopped)?
            .map_err(ComplianceError::from)
    }

    /// Checks hashes, links and the head row as [`AuditLog::verify_chain`]
    /// and [`compare_head`] do, reading through `reader` in one snapshot.
    ///
    /// A blocking thread scans the table into pages. Up to
    /// [`CHECKS_IN_FLIGHT`] pages are checked at once on other blocking
    /// threads, and their rows are linked in sequence order here.
    async fn verify_chain_native(
        &self,
        reader: SqliteReader,
        walk: &mut Walk,
    ) -> Result<Option<ChainBreak>> {
        let (sender, mut receiver) = mpsc::channel(native::PAGES_AHEAD);
        let scan = tokio::task::spawn_blocking(move || native::scan(&reader, &sender));
        let mut checks = VecDeque::with_capacity(CHECKS_IN_FLIGHT);
        let mut scan_done = false;
        let mut next_from = 0_u64;
        loop {
            while !scan_done && checks.len() < CHECKS_IN_FLIGHT {
                match receiver.recv().await {
                    Some(page) => {
                        let from = next_from;
                        next_from += page.len() as u64;
                        checks.push_back(tokio::task::spawn_blocking(move || {
                            check_page(&page, from)
                        }));
                    }
                    None => scan_done = true,
                }
            }
            let Some(check) = checks.pop_front() else {
                break;
            };
            let (checked, problem) = check.await.map_err(task_stopped)?;
            let from = walk.leaves.len() as u64;
            for (offset, row) in checked.into_iter().enumerate() {
                if let Some(problem) = self.link(walk, from + offset as u64, row).await? {
                    return Ok(Some(problem));
                }
            }
            if problem.is_some() {
                return Ok(problem);
            }
        }
        // The scan may have failed after its last page, so only its result
        // shows that every row was read.
        let RawHead { size, head_hash } = scan.await.map_err(task_stopped)??;
        Ok(compare_head(
            &LogHead::parse(size, &head_hash)?,
            &walk.leaves,
        ))
    }

    /// Reads up to a page of rows from sequence number `from`.
    async fn read_page(&self, from: u64) -> Result<Vec<AnyRow>> {
        sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM compliance_audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2"
        ))
        .bind(to_i64(from))
        .bind(to_i64(PAGE_ENTRIES))
        .fetch_all(self.store().pool())
        .await
        .map_err(|source| self.store().error(source).into())
    }

    /// Checks that the entry at `expected` links to the previous one, and
    /// adds it to `walk`.
    async fn link(
        &self,
        walk: &mut Walk,
        expected: u64,
        row: CheckedRow,
    ) -> Result<Option<ChainBreak>> {
        let prev = walk.leaves.last().copied().unwrap_or(Hash::ZERO);
        if row.prev != prev {
            return Ok(Some(self.classify_link(expected, &row.prev, &prev).await?));
        }
        if row.purged {
            walk.purged.push((expected, row.at_ms));
        }
        match &row.record {
            Some((RecordKind::Purge, payload)) => {
                let cutoff = payload.get("cutoff_ms").and_then(|value| value.as_i64());
                walk.max_cutoff_ms = walk.max_cutoff_ms.max(cutoff);
            }
            Some((RecordKind::Checkpoint, payload)) => {
                walk.recorded_checkpoints.push(RecordedCheckpoint {
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
        walk.leaves.push(row.hash);
        Ok(None)
    }

    /// Names the break when entry `seq` links to `linked` instead of `expected`.
    async fn classify_link(&self, seq: u64, linked: &Hash, expected: &Hash) -> Result<ChainBreak> {
        let row = sqlx::query(
            "SELECT seq FROM compliance_audit_log WHERE hash = $1 ORDER BY seq LIMIT 1",
        )
        .bind(linked.to_hex())
        .fetch_optional(self.store().pool())
        .await
        .map_err(|source| self.store().error(source))?;
        let linked_seq: Option<i64> = match row {
            Some(row) => Some(
                row.try_get(0)
                    .map_err(|source| self.store().error(source))?,
            ),
            None => None,
        };
        let detail_base = format!(
            "links to {linked}, but entry {} has hash {expected}",
            seq.saturating_sub(1)
        );
        let break_at = |seq, reason, detail| ChainBreak {
            seq,
            reason,
            detail,
        };
        Ok(match linked_seq {
            None => break_at(
                seq,
                BreakReason::Unlinked,
                format!("{detail_base}; no stored entry has the linked hash"),
            ),
            Some(found) if seq >= 2 && found == to_i64(seq - 2) => break_at(
                seq - 1,
                BreakReason::Inserted,
                format!(
                    "entry {} links to entry {found}, so entry {} is not part of the chain",
                    seq,
                    seq - 1
                ),
            ),
            Some(found) => break_at(
                seq,
                BreakReason::Reordered,
                format!("{detail_base}; the linked entry is stored at {found}"),
            ),
        })
    }

    async fn verify_checkpoints(
        &self,
        options: &VerifyOptions,
        leaves: &[Hash],
        recorded: &[RecordedCheckpoint],
        report: &mut VerifyReport,
    ) -> Result<()> {
        let stored = self.checkpoints().await?;
        let mut sizes: Vec<u64> = stored.iter().map(|checkpoint| checkpoint.size).collect();
        sizes.push(leaves.len() as u64);
        let roots = roots_at(leaves, &sizes);
        report.root = roots
            .get(&(leaves.len() as u64))
            .copied()
            .unwrap_or_else(|| merkle::root(leaves));

        let missing = recorded.iter().find(|entry| {
            !stored.iter().any(|checkpoint| {
                Some(checkpoint.size) == entry.size
                    && entry.key_id.as_deref() == Some(checkpoint.key_id.as_str())
            })
        });
        if let Some(entry) = missing {
            report.problem = Some(ChainBreak {
                seq: entry.seq,
                reason: BreakReason::CheckpointMismatch,
                detail: format!(
                    "the entry records a checkpoint of size {} by key {}, which is missing from the checkpoint table",
                    entry
                        .size
                        .map_or("unknown".to_owned(), |size| size.to_string()),
                    entry.key_id.as_deref().unwrap_or("unknown")
                ),
            });
            return Ok(());
        }

        for checkpoint in stored {
            let at = checkpoint.size.saturating_sub(1);
            if let Err(error) = checkpoint.verify_signature(&options.trusted_keys) {
                let reason = match error {
                    ComplianceError::UntrustedKey { .. } => BreakReason::UntrustedCheckpointKey,
                    _ => BreakReason::BadCheckpointSignature,
                };
                report.problem = Some(ChainBreak {
                    seq: at,
                    reason,
                    detail: error.to_string(),
                });
                return Ok(());
            }
            let root = roots.get(&checkpoint.size).copied();
            if root != Some(checkpoint.root) {
                let detail = match root {
                    Some(root) => format!(
                        "checkpoint of size {} signs root {}, the entries give {root}",
                        checkpoint.size, checkpoint.root
                    ),
                    None => format!(
                        "checkpoint of size {} covers more than the {} entries stored",
                        checkpoint.size,
                        leaves.len()
                    ),
                };
                report.problem = Some(ChainBreak {
                    seq: at,
                    reason: BreakReason::CheckpointMismatch,
                    detail,
                });
                return Ok(());
            }
            report.checkpoints_verified += 1;
        }
        Ok(())
    }
}

/// Compares the end of the verified chain with the head row.
fn compare_head(head: &LogHead, leaves: &[Hash]) -> Option<ChainBreak> {
    let size = leaves.len() as u64;
    let last = leaves.last().copied().unwrap_or(Hash::ZERO);
    if head.size > size {
        return Some(ChainBreak {
            seq: size,
            reason: BreakReason::Deleted,
            detail: format!(
                "the head row records {} entries, {size} are stored",
                head.size
            ),
        });
    }
    if head.size < size {
        return Some(ChainBreak {
            seq: head.size,
            reason: BreakReason::Inserted,
            detail: format!(
                "the head row records {} entries, {size} are stored",
                head.size
            ),
        });
    }
    if head.head_hash != last {
        return Some(ChainBreak {
            seq: size.saturating_sub(1),
            reason: BreakReason::Edited,
            detail: format!(
                "the head row records hash {}, the last entry has {last}",
                head.head_hash
            ),
        });
    }
    None
}

fn task_stopped(error: tokio::task::JoinError) -> ComplianceError {
    ComplianceError::Canonical {
        reason: format!("the verify task stopped: {error}"),
    }
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
