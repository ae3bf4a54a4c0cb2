//! The append-only audit log on the store.
//!
//! Appends take the log's head row under the write lock (SQLite's
//! `BEGIN IMMEDIATE`, PostgreSQL's `SELECT ... FOR UPDATE`), so writers in
//! other connections and processes queue up and each batch extends the chain
//! the previous one left. The entries and the new head commit together: a
//! transaction that never commits leaves the log as it was. The primary key
//! on `seq` rejects a second entry at the same position should the lock
//! ever fail.

use llmops_store::{Dialect, Store, StoreError, StoreTransaction, now_ms};
use serde_json::Value;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::error::{ComplianceError, Result};
use crate::event::EventKind;
use crate::event::{
    AuditEntry, MAX_NAME_BYTES, NewEvent, SealedFields, canonical_text, content_digest_of_texts,
    entry_hash, payload_texts,
};
use crate::hash::Hash;
use crate::schema::MIGRATIONS;
use crate::shred::{self, ErasureReport, PersonalData, Sealer};

/// Entries per multi-row `INSERT`. Two runs each appended batches of 1,000
/// to a SQLite file with `?` parameters on a 2-core VM at a load average
/// of 7 to 10. They reached 49,000 and 74,000 events/s with 32 rows per
/// statement, 100,000 and 92,000 with 128, and 67,000 and 133,000 with 512.
/// With numbered `$N` parameters, statements of over about 50 rows were
/// slower, because binding them takes time in the square of their number.
const INSERT_CHUNK_ROWS: usize = 128;

/// Event kinds that only the crate writes: verify trusts purge and
/// checkpoint records, and the transparency report counts the review
/// queue's records, so callers must not forge them.
pub const RESERVED_KINDS: &[&str] = &[
    crate::retention::PURGE_KIND,
    crate::checkpoint::CHECKPOINT_KIND,
    crate::retention::HOLD_PLACED_KIND,
    crate::retention::HOLD_RELEASED_KIND,
    "oversight_decision",
    "oversight_enqueued",
    "oversight_transition",
    crate::assessment::ASSESSMENT_KIND,
    crate::incident::INCIDENT_KIND,
    crate::bundle::BUNDLE_KIND,
    crate::bundle::BUNDLE_FAILED_KIND,
];

/// The canonical JSON texts an entry row stores for its payload and sealed
/// data.
struct StoredTexts {
    payload: String,
    sealed: Option<String>,
}

/// Times an append starts again after SQLite reported the database locked.
const LOCKED_RETRIES: u32 = 5;

pub(crate) const ENTRY_COLUMNS: &str =
    "seq, kind, actor, subject, at_ms, payload, sealed, content_digest, prev_hash, hash";

/// Columns per entry row.
const ENTRY_COLUMN_COUNT: usize = 10;

/// The tables that the log's first migration creates, which verify and
/// export read.
const AUDIT_TABLES: [&str; 3] = [
    "compliance_audit_log",
    "compliance_audit_head",
    "compliance_checkpoints",
];

/// Reads the head row.
const HEAD_SQL: &str = "SELECT size, head_hash FROM compliance_audit_head WHERE id = 1";

/// The tamper-evident audit log.
///
/// Cloning is cheap and shares the store's pool.
#[derive(Debug, Clone)]
pub struct AuditLog {
    store: Store,
}

/// The log's size and the hash of its last entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogHead {
    /// The number of entries.
    pub size: u64,
    /// The hash of the last entry, [`Hash::ZERO`] for an empty log.
    pub head_hash: Hash,
}

impl LogHead {
    /// Builds the head from the stored columns of the head row.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidHeadRow`] for a negative size or a hash
    /// that is not 64 hex digits.
    pub(crate) fn parse(size: i64, head_hash: &str) -> Result<LogHead> {
        let invalid = |reason| ComplianceError::InvalidHeadRow { reason };
        let size = u64::try_from(size)
            .map_err(|_| invalid(format!("its size is {size}, which is negative")))?;
        let head_hash = head_hash.parse().map_err(|error: ComplianceError| {
            invalid(format!("its head_hash {head_hash:?} is invalid: {error}"))
        })?;
        Ok(LogHead { size, head_hash })
    }
}

impl AuditLog {
    /// Opens the log on `store`, applying the compliance migrations.
    ///
    /// # Errors
    ///
    /// A [`ComplianceError::Store`] when migrating fails.
    pub async fn open(store: Store) -> Result<AuditLog> {
        store.migrate(MIGRATIONS).await?;
        Ok(AuditLog { store })
    }

    /// Opens the log that `store` already holds, without applying
    /// migrations, so opening writes nothing: for verify and export,
    /// which must not turn another database into an empty log.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::NoAuditLog`] when the database has none of the
    /// log's tables, [`ComplianceError::AuditTablesMissing`] when it has
    /// only some, and [`ComplianceError::Store`] when the database fails.
    pub async fn open_existing(store: Store) -> Result<AuditLog> {
        let mut missing = Vec::new();
        for table in AUDIT_TABLES {
            if !store.table_exists(table).await? {
                missing.push(table);
            }
        }
        let url = store.url().to_owned();
        if missing.len() == AUDIT_TABLES.len() {
            return Err(ComplianceError::NoAuditLog { url });
        }
        if !missing.is_empty() {
            return Err(ComplianceError::AuditTablesMissing {
                url,
                tables: missing.join(", "),
            });
        }
        Ok(AuditLog { store })
    }

    /// Returns the store the log writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Takes a connection from the store's pool.
    pub(crate) async fn connection(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        self.store
            .pool()
            .acquire()
            .await
            .map_err(|source| ComplianceError::from(self.store.error(source)))
    }

    /// Appends one event and returns its entry.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidEvent`] for a bad event (nothing is written)
    /// and [`ComplianceError::Store`] when the database fails.
    pub async fn append(&self, event: NewEvent) -> Result<AuditEntry> {
        let mut entries = self.append_batch(std::slice::from_ref(&event)).await?;
        entries.pop().ok_or_else(|| ComplianceError::InvalidEvent {
            field: "events",
            reason: "the append wrote no entry".to_owned(),
        })
    }

    /// Appends `events` in order in one transaction: all of them or none.
    ///
    /// # Errors
    ///
    /// As [`AuditLog::append`]; when one event is invalid none is written.
    pub async fn append_batch(&self, events: &[NewEvent]) -> Result<Vec<AuditEntry>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.try_append_batch(events).await;
            match result {
                Err(ComplianceError::Store(StoreError::Locked { .. }))
                    if attempt <= LOCKED_RETRIES =>
                {
                    tracing::debug!(attempt, "audit log locked, retrying the append");
                }
                other => return other,
            }
        }
    }

    async fn try_append_batch(&self, events: &[NewEvent]) -> Result<Vec<AuditEntry>> {
        let mut transaction = self.store.begin().await?;
        let entries = self.append_in(&mut transaction, events).await?;
        transaction
            .commit()
            .await
            .map_err(|source| self.store.error(source))?;
        tracing::debug!(count = entries.len(), "audit entries appended");
        Ok(entries)
    }

    /// Appends `events` inside `transaction`, which must come from
    /// [`Store::begin`] on this log's store. The entries exist only if the
    /// caller commits; other writers wait until it commits or rolls back.
    ///
    /// # Errors
    ///
    /// As [`AuditLog::append`], and [`ComplianceError::InvalidEvent`] for a
    /// kind in [`RESERVED_KINDS`], which only the log itself writes.
    pub async fn append_in(
        &self,
        transaction: &mut StoreTransaction,
        events: &[NewEvent],
    ) -> Result<Vec<AuditEntry>> {
        if let Some(event) = events
            .iter()
            .find(|event| RESERVED_KINDS.contains(&event.kind.as_str()))
        {
            return Err(ComplianceError::InvalidEvent {
                field: "kind",
                reason: format!(
                    "`{}` is written only by the log itself, because verify trusts it; choose another kind",
                    event.kind
                ),
            });
        }
        self.append_trusted_in(transaction, events).await
    }

    /// Appends `events` without the reserved-kind check, for the crate's own records.
    pub(crate) async fn append_trusted_in(
        &self,
        transaction: &mut StoreTransaction,
        events: &[NewEvent],
    ) -> Result<Vec<AuditEntry>> {
        let personal: Vec<_> = events
            .iter()
            .map(NewEvent::validate)
            .collect::<Result<_>>()?;
        if events.is_empty() {
            return Ok(Vec::new());
        }

        let head = self.lock_head(transaction).await?;
        let mut sealer = Sealer::new();
        let mut entries = Vec::with_capacity(events.len());
        // The texts of payload and sealed data, stored as they were hashed
        // (unless that rounds an integer), so verify can hash them without
        // parsing.
        let mut texts = Vec::with_capacity(events.len());
        let mut prev_hash = head.head_hash;
        let clock_ms = now_ms();
        for (offset, (event, personal)) in events.iter().zip(&personal).enumerate() {
            let sealed = match personal {
                Some(fields) => Some(sealer.seal(&self.store, transaction, fields).await?),
                None => None,
            };
            let at_ms = event.at_ms.unwrap_or(clock_ms);
            let kind = event.kind.as_str();
            let (exact_text, payload_text) = payload_texts(&event.payload)?;
            let sealed_text = sealed.as_ref().map(canonical_text).transpose()?;
            let content = content_digest_of_texts(&payload_text, sealed_text.as_deref());
            let payload_text = exact_text.unwrap_or(payload_text);
            let hash = entry_hash(
                kind,
                &event.actor,
                &event.subject,
                at_ms,
                &content,
                &prev_hash,
            )?;
            entries.push(AuditEntry {
                seq: head.size + offset as u64,
                kind: kind.to_owned(),
                actor: event.actor.clone(),
                subject: event.subject.clone(),
                at_ms,
                payload: event.payload.clone(),
                sealed,
                content_digest: content,
                purged: false,
                prev_hash,
                hash,
            });
            texts.push(StoredTexts {
                payload: payload_text,
                sealed: sealed_text,
            });
            prev_hash = hash;
        }

        for (chunk, texts) in entries
            .chunks(INSERT_CHUNK_ROWS)
            .zip(texts.chunks(INSERT_CHUNK_ROWS))
        {
            self.insert_entries(transaction, chunk, texts).await?;
        }
        let new_head = LogHead {
            size: head.size + entries.len() as u64,
            head_hash: prev_hash,
        };
        sqlx::query("UPDATE compliance_audit_head SET size = $1, head_hash = $2 WHERE id = 1")
            .bind(to_i64(new_head.size))
            .bind(new_head.head_hash.to_hex())
            .execute(&mut **transaction)
            .await
            .map_err(|source| self.store.error(source))?;
        Ok(entries)
    }

    /// Reads the head row, holding it locked until the transaction ends.
    async fn lock_head(&self, transaction: &mut StoreTransaction) -> Result<LogHead> {
        let locking_sql;
        let sql = match self.store.dialect() {
            Dialect::Postgres => {
                locking_sql = format!("{HEAD_SQL} FOR UPDATE");
                &locking_sql
            }
            _ => HEAD_SQL,
        };
        let row = sqlx::query(sql)
            .fetch_optional(&mut **transaction)
            .await
            .map_err(|source| self.store.error(source))?;
        Self::decode_head(row.as_ref())
    }

    fn decode_head(row: Option<&AnyRow>) -> Result<LogHead> {
        let Some(row) = row else {
            return Err(ComplianceError::InvalidHeadRow {
                reason: "compliance_audit_head has no row with id 1".to_owned(),
            });
        };
        let unreadable = |column: &str, error: sqlx::Error| ComplianceError::InvalidHeadRow {
            reason: format!("its {column} cannot be read: {error}"),
        };
        let size: i64 = row.try_get(0).map_err(|error| unreadable("size", error))?;
        let head_hash: String = row
            .try_get(1)
            .map_err(|error| unreadable("head_hash", error))?;
        LogHead::parse(size, &head_hash)
    }

    async fn insert_entries(
        &self,
        transaction: &mut StoreTransaction,
        entries: &[AuditEntry],
        texts: &[StoredTexts],
    ) -> Result<()> {
        let rows = self
            .store
            .dialect()
            .positional_values_rows(entries.len(), ENTRY_COLUMN_COUNT);
        let sql = format!("INSERT INTO compliance_audit_log ({ENTRY_COLUMNS}) VALUES {rows}");
        let mut query = sqlx::query(&sql);
        for (entry, texts) in entries.iter().zip(texts) {
            query = query
                .bind(to_i64(entry.seq))
                .bind(entry.kind.as_str())
                .bind(entry.actor.as_str())
                .bind(entry.subject.as_str())
                .bind(entry.at_ms)
                .bind(texts.payload.as_str())
                .bind(texts.sealed.as_deref())
                .bind(entry.content_digest.to_hex())
                .bind(entry.prev_hash.to_hex())
                .bind(entry.hash.to_hex());
        }
        query
            .execute(&mut **transaction)
            .await
            .map_err(|source| self.store.error(source))?;
        Ok(())
    }

    /// Returns the log's size and head hash as the head row records them.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidHeadRow`] when the head row is missing or
    /// damaged, and [`ComplianceError::Store`] when the database fails.
    pub async fn head(&self) -> Result<LogHead> {
        let row = sqlx::query(HEAD_SQL)
            .fetch_optional(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        Self::decode_head(row.as_ref())
    }

    /// Returns the entry at `seq`.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::EntryNotFound`] when there is none.
    pub async fn entry(&self, seq: u64) -> Result<AuditEntry> {
        let mut entries = self.entries(seq, 1).await?;
        match entries.pop() {
            Some(entry) if entry.seq == seq => Ok(entry),
            _ => Err(ComplianceError::EntryNotFound {
                seq,
                size: self.head().await?.size,
            }),
        }
    }

    /// Returns up to `limit` entries in sequence order, starting at `from`.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::CorruptRow`] for a row the log cannot have written,
    /// and [`ComplianceError::Store`] when the database fails.
    pub async fn entries(&self, from: u64, limit: u64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM compliance_audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2"
        ))
        .bind(to_i64(from))
        .bind(to_i64(limit))
        .fetch_all(self.store.pool())
        .await
        .map_err(|source| self.store.error(source))?;
        rows.iter().map(|row| self.decode_entry(row)).collect()
    }

    pub(crate) fn decode_entry(&self, row: &AnyRow) -> Result<AuditEntry> {
        let error = |source| self.store.error(source);
        let seq: i64 = row.try_get(0).map_err(error)?;
        let seq = u64::try_from(seq).unwrap_or(u64::MAX);
        let corrupt = |column: &'static str, reason: String| ComplianceError::CorruptRow {
            seq,
            column,
            reason,
        };

        let payload: Option<String> = row.try_get(5).map_err(error)?;
        let purged = payload.is_none();
        let payload: Value = match payload {
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| corrupt("payload", e.to_string()))?
            }
            None => Value::Null,
        };

        let sealed: Option<String> = row.try_get(6).map_err(error)?;
        let sealed: Option<SealedFields> = match sealed {
            Some(text) => {
                Some(serde_json::from_str(&text).map_err(|e| corrupt("sealed", e.to_string()))?)
            }
            None => None,
        };

        let content: String = row.try_get(7).map_err(error)?;
        let prev_hash: String = row.try_get(8).map_err(error)?;
        let hash: String = row.try_get(9).map_err(error)?;
        Ok(AuditEntry {
            seq,
            kind: row.try_get(1).map_err(error)?,
            actor: row.try_get(2).map_err(error)?,
            subject: row.try_get(3).map_err(error)?,
            at_ms: row.try_get(4).map_err(error)?,
            payload,
            sealed,
            content_digest: content
                .parse()
                .map_err(|e: ComplianceError| corrupt("content_digest", e.to_string()))?,
            purged,
            prev_hash: prev_hash
                .parse()
                .map_err(|e: ComplianceError| corrupt("prev_hash", e.to_string()))?,
            hash: hash
                .parse()
                .map_err(|e: ComplianceError| corrupt("hash", e.to_string()))?,
        })
    }

    /// Returns the stored hashes of the first `size` entries, the Merkle leaves.
    pub(crate) async fn leaf_hashes(&self, size: u64) -> Result<Vec<Hash>> {
        let rows =
            sqlx::query("SELECT seq, hash FROM compliance_audit_log WHERE seq < $1 ORDER BY seq")
                .bind(to_i64(size))
                .fetch_all(self.store.pool())
                .await
                .map_err(|source| self.store.error(source))?;
        let mut leaves = Vec::with_capacity(rows.len());
        for (position, row) in rows.iter().enumerate() {
            let seq: i64 = row.try_get(0).map_err(|source| self.store.error(source))?;
            let text: String = row.try_get(1).map_err(|source| self.store.error(source))?;
            if seq != position as i64 {
                return Err(ComplianceError::CorruptRow {
                    seq: position as u64,
                    column: "seq",
                    reason: format!("entry {position} is missing (the next stored entry is {seq})"),
                });
            }
            leaves.push(text.parse().map_err(|e: ComplianceError| {
                ComplianceError::CorruptRow {
                    seq: position as u64,
                    column: "hash",
                    reason: e.to_string(),
                }
            })?);
        }
        if (leaves.len() as u64) < size {
            return Err(ComplianceError::InvalidTreeSize {
                size,
                reason: format!("the log holds {} entries", leaves.len()),
            });
        }
        Ok(leaves)
    }

    /// Returns the personal data of `entry`: decrypted, absent or erased.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::Crypto`] when the ciphertext fails authentication,
    /// and [`ComplianceError::Store`] when the database fails.
    pub async fn personal_data(&self, entry: &AuditEntry) -> Result<PersonalData> {
        if entry.purged {
            return Ok(PersonalData::Purged);
        }
        match &entry.sealed {
            Some(sealed) => shred::open(&self.store, sealed).await,
            None => Ok(PersonalData::None),
        }
    }

    /// Destroys every key of `data_subject`, so its personal data in the log
    /// reads as erased, and appends a `data_subject_request` entry that
    /// records the erasure. The log's hashes are unchanged.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidEvent`] for an empty or too long id, and
    /// [`ComplianceError::Store`] when the database fails.
    pub async fn erase_data_subject(
        &self,
        data_subject: &str,
        actor: &str,
    ) -> Result<ErasureReport> {
        if data_subject.is_empty() || data_subject.len() > MAX_NAME_BYTES {
            return Err(ComplianceError::InvalidEvent {
                field: "data_subject",
                reason: format!(
                    "must be 1 to {MAX_NAME_BYTES} bytes, got {} bytes",
                    data_subject.len()
                ),
            });
        }
        let mut transaction = self.store.begin().await?;
        let keys_destroyed =
            shred::destroy_keys(&self.store, &mut transaction, data_subject).await?;
        let event = NewEvent::new(
            EventKind::DataSubjectRequest,
            actor,
            format!("data_subject:{data_subject}"),
        )
        .payload(serde_json::json!({"request": "erasure", "keys_destroyed": keys_destroyed}));
        let entries = self.append_trusted_in(&mut transaction, &[event]).await?;
        transaction
            .commit()
            .await
            .map_err(|source| self.store.error(source))?;
        tracing::info!(keys_destroyed, "data subject erased");
        Ok(ErasureReport {
            data_subject: data_subject.to_owned(),
            keys_destroyed,
            audit_seq: entries.first().map_or(0, |entry| entry.seq),
        })
    }
}

pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
