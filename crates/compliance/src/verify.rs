//! Verification of the whole log: every hash, every link, the head row and
//! every stored checkpoint.

use std::collections::VecDeque;
use std::fmt;

use ed25519_dalek::VerifyingKey;
use llmops_store::SqliteReader;
use sqlx::{AnyConnection, Row as _};
use tokio::sync::mpsc;

use crate::checkpoint::Checkpoint;
use crate::error::{ComplianceError, Result};
use crate::hash::Hash;
use crate::log::{AuditLog, to_i64};
use crate::merkle;

mod checkpoints;
mod head;
mod native;
mod page;
mod pool;
mod row;
mod walk;

use head::lowered_size_break;
use page::{EntryPage as _, check_page};
use walk::{LinkFailure, Walk};

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
    /// Entries are missing: a gap in sequence numbers, or fewer entries
    /// than the head row or the expected minimum requires. A stored
    /// checkpoint or a given tree head may also lack the entries it covers
    /// or the later entry that records it.
    Deleted,
    /// The entry links to a hash that no stored entry has: the entry before
    /// it was replaced (with a recomputed hash), or entries were deleted and
    /// the rest renumbered.
    Unlinked,
    /// An entry that no successor links to sits in the chain, entries
    /// exist beyond the size the head row records, or a row has a negative
    /// sequence number.
    Inserted,
    /// The head row, which records the log's size and last hash, is
    /// missing.
    HeadMissing,
    /// The head row records a size or hash that the log never writes,
    /// such as a negative size, or a size below that of the entry whose
    /// hash it records.
    HeadDamaged,
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
    /// A stored checkpoint row contains a value that the log never writes.
    /// Examples are a size that is not an integer, a root that is not a
    /// hash, or a key id that is not the id of the row's public key.
    CheckpointDamaged,
    /// A stored checkpoint's or a given tree head's root differs from the
    /// tree over the entries, or a checkpoint that the log records is
    /// missing.
    CheckpointMismatch,
}

impl fmt::Display for BreakReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            BreakReason::Edited => "edited",
            BreakReason::Deleted => "deleted",
            BreakReason::Unlinked => "unlinked",
            BreakReason::Inserted => "inserted",
            BreakReason::HeadMissing => "head missing",
            BreakReason::HeadDamaged => "head damaged",
            BreakReason::Reordered => "reordered",
            BreakReason::Unreadable => "unreadable",
            BreakReason::UnrecordedPurge => "unrecorded purge",
            BreakReason::BadCheckpointSignature => "bad checkpoint signature",
            BreakReason::UntrustedCheckpointKey => "untrusted checkpoint key",
            BreakReason::CheckpointMismatch => "checkpoint mismatch",
            BreakReason::CheckpointDamaged => "checkpoint damaged",
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
    /// The number of entries verified before the first break, which is
    /// the break's position, or all of them.
    pub entries: u64,
    /// The Merkle tree head over the verified entries.
    pub root: Hash,
    /// The number of stored checkpoints whose signature and root were
    /// checked.
    pub checkpoints_verified: usize,
    /// The largest size among the stored checkpoints that verified, or
    /// `None` when none did. Entries past it are checked only against the
    /// head row, which anyone with write access to the database can rewrite.
    pub max_checkpoint_size: Option<u64>,
    /// The number of [`VerifyOptions::tree_heads`] whose root was checked.
    pub tree_heads_verified: usize,
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
    /// scans the entries, the head row and the checkpoints in one
    /// snapshot, while pages are checked on two blocking threads.
    #[default]
    Native,
    /// A read transaction on the store's pool
    /// ([`Store::begin_read`](llmops_store::Store::begin_read)), through
    /// sqlx's `Any` driver, a page per query with the next page read while
    /// one is checked.
    Pool,
}

/// Settings of [`AuditLog::verify`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    trusted_keys: Vec<VerifyingKey>,
    read_path: ReadPath,
    tree_heads: Vec<Checkpoint>,
    kept_entries: Vec<(u64, Hash)>,
    min_size: Option<u64>,
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

    /// Checks the log against signed tree heads kept outside the
    /// database, such as the checkpoint of an earlier extract: the log
    /// must still hold every entry a tree head covers, with the same root.
    /// It must also hold the later entry that records the tree head, which
    /// [`AuditLog::sign_checkpoint`] appends.
    /// The stored checkpoints cannot show a log cut back together with its
    /// later checkpoints and head row; a kept tree head can. Each must be
    /// signed by one of the trusted keys, or by any key when none is set.
    /// Defaults to none.
    pub fn tree_heads(mut self, heads: impl IntoIterator<Item = Checkpoint>) -> Self {
        self.tree_heads = heads.into_iter().collect();
        self
    }

    /// Compares the log with entry hashes kept from earlier, such as the
    /// `(seq, hash)` pairs of an extract that verified against a kept tree
    /// head ([`ExtractReport::leaves`](crate::ExtractReport::leaves)). The
    /// first stored entry whose hash differs is an
    /// [`BreakReason::Edited`] break. A rewrite that recomputed every later
    /// hash, the head row and the checkpoints fails a kept tree head
    /// anyway, but only these hashes name the entry it changed. Entries
    /// beyond the log's end are left to the tree head checks. Defaults to
    /// none.
    pub fn kept_entries(mut self, entries: impl IntoIterator<Item = (u64, Hash)>) -> Self {
        self.kept_entries = entries.into_iter().collect();
        self.kept_entries.sort_unstable_by_key(|(seq, _)| *seq);
        self
    }

    /// Requires the log to hold at least `entries` entries, such as the
    /// size an auditor noted earlier; fewer is a [`BreakReason::Deleted`]
    /// break. Defaults to no minimum.
    pub fn min_size(mut self, entries: u64) -> Self {
        self.min_size = Some(entries);
        self
    }
}

impl AuditLog {
    /// Walks the whole log in sequence order, recomputes every hash and link,
    /// compares the end with the head row, and checks each stored checkpoint
    /// and each given tree head against the recomputed tree. Reports the
    /// first break.
    ///
    /// The entries, the head row and the stored checkpoints are read in one
    /// snapshot, so appends that commit meanwhile do not show as breaks.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::BadSignature`] or [`ComplianceError::UntrustedKey`]
    /// for a tree head in [`VerifyOptions::tree_heads`] whose signature
    /// fails, and [`ComplianceError::Store`] when the database fails;
    /// tampering is a [`VerifyReport::problem`], not an error.
    pub async fn verify(&self, options: &VerifyOptions) -> Result<VerifyReport> {
        for head in &options.tree_heads {
            head.verify_signature(&options.trusted_keys)?;
        }
        let reader = match options.read_path {
            ReadPath::Native => self.open_sqlite_reader().await?,
            ReadPath::Pool => None,
        };
        let (walk, mut problem) = match reader {
            Some(reader) => self.verify_chain_native(reader).await?,
            None => self.verify_chain_pool().await?,
        };
        if problem.is_none() {
            problem = walk.unrecorded_purge();
        }
        let mut report = VerifyReport {
            entries: walk.len(),
            root: Hash::ZERO,
            checkpoints_verified: 0,
            max_checkpoint_size: None,
            tree_heads_verified: 0,
            problem: problem.map(|problem| walk.with_head_problem(problem)),
        };
        if report.problem.is_none() {
            report.problem = walk.damaged_checkpoint_break();
        }
        if report.problem.is_none() {
            checkpoints::check_tree_heads(
                options,
                &walk.leaves,
                &walk.recorded_checkpoints,
                &walk.stored_checkpoints,
                &mut report,
            );
        }
        if let Some(problem) = &report.problem {
            // Only the entries before the break count as verified.
            report.entries = report.entries.min(problem.seq);
            let verified = usize::try_from(report.entries).unwrap_or(usize::MAX);
            report.root = merkle::root(walk.leaves.get(..verified).unwrap_or(&walk.leaves));
        }
        match &report.problem {
            Some(problem) => tracing::warn!(%problem, "audit log verification failed"),
            None => tracing::info!(entries = report.entries, "audit log verified"),
        }
        Ok(report)
    }

    /// Opens a native reader when the store is a SQLite file.
    async fn open_sqlite_reader(&self) -> Result<Option<SqliteReader>> {
        let store = self.store().clone();
        tokio::task::spawn_blocking(move || store.sqlite_reader())
            .await
            .map_err(task_stopped)?
            .map_err(ComplianceError::from)
    }

    /// Checks hashes, links and the head row as
    /// [`AuditLog::verify_chain_pool`] does, reading through `reader` in
    /// one snapshot.
    ///
    /// A blocking thread scans the table into pages. Up to
    /// [`CHECKS_IN_FLIGHT`] pages are checked at once on other blocking
    /// threads, and their rows are linked in sequence order here.
    async fn verify_chain_native(
        &self,
        reader: SqliteReader,
    ) -> Result<(Walk, Option<ChainBreak>)> {
        let (reader, snapshot) = tokio::task::spawn_blocking(move || {
            let snapshot = native::begin_snapshot(&reader);
            (reader, snapshot)
        })
        .await
        .map_err(task_stopped)?;
        let snapshot = snapshot?;
        let mut walk = Walk::new(snapshot.head, snapshot.checkpoints);
        if let Some(problem) = snapshot.negative_seq {
            return Ok((walk, Some(problem)));
        }

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
            let from = walk.len();
            for (offset, row) in checked.into_iter().enumerate() {
                if let Err(failure) = walk.link(from + offset as u64, row) {
                    let mut connection = self.connection().await?;
                    let problem = self.name_break(&mut connection, failure).await?;
                    return Ok((walk, Some(problem)));
                }
            }
            if let Some(problem) = problem {
                let problem = walk.page_break(problem);
                return Ok((walk, Some(problem)));
            }
        }
        // The scan may have failed after its last page, so only its result
        // shows that every row was read.
        scan.await.map_err(task_stopped)??;
        let problem = walk.end_break();
        Ok((walk, problem))
    }

    /// Returns the break that `failure` shows, looking up the linked hash
    /// on `connection` when the entry links to another one than expected.
    async fn name_break(
        &self,
        connection: &mut AnyConnection,
        failure: LinkFailure,
    ) -> Result<ChainBreak> {
        match failure {
            LinkFailure::Break(problem) => Ok(problem),
            LinkFailure::HeadBehind { problem, head } => {
                let found = self
                    .find_hash_from(connection, &head.head_hash, head.size)
                    .await?;
                Ok(match found {
                    Some(found) => lowered_size_break(&head, found),
                    None => problem,
                })
            }
            LinkFailure::Unlinked {
                seq,
                linked,
                expected,
            } => {
                self.classify_link(connection, seq, &linked, &expected)
                    .await
            }
        }
    }

    /// Returns the lowest sequence number from `from` on of an entry whose
    /// stored hash is `hash`.
    async fn find_hash_from(
        &self,
        connection: &mut AnyConnection,
        hash: &Hash,
        from: u64,
    ) -> Result<Option<u64>> {
        let row = sqlx::query(
            "SELECT seq FROM compliance_audit_log WHERE hash = $1 AND seq >= $2 ORDER BY seq LIMIT 1",
        )
        .bind(hash.to_hex())
        .bind(to_i64(from))
        .fetch_optional(connection)
        .await
        .map_err(|source| self.store().error(source))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let seq: i64 = row
            .try_get(0)
            .map_err(|source| self.store().error(source))?;
        Ok(u64::try_from(seq).ok())
    }

    /// Names the break when entry `seq` links to `linked` instead of `expected`.
    async fn classify_link(
        &self,
        connection: &mut AnyConnection,
        seq: u64,
        linked: &Hash,
        expected: &Hash,
    ) -> Result<ChainBreak> {
        let row = sqlx::query(
            "SELECT seq FROM compliance_audit_log WHERE hash = $1 ORDER BY seq LIMIT 1",
        )
        .bind(linked.to_hex())
        .fetch_optional(connection)
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
}

fn task_stopped(error: tokio::task::JoinError) -> ComplianceError {
    ComplianceError::Canonical {
        reason: format!("the verify task stopped: {error}"),
    }
}
