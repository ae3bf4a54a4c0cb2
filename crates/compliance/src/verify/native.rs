//! The native read path for a log on a SQLite file: one read-only
//! connection scans the whole table in one snapshot on a blocking thread,
//! and pages of rows go to checks that run on other blocking threads.
//!
//! The scan copies each row's text columns into the page's one buffer, so
//! a page costs a few allocations instead of one per value, and the checks
//! validate UTF-8 and hashes off the reading thread.

use llmops_store::SqliteReader;
use llmops_store::rusqlite::types::ValueRef;
use tokio::sync::mpsc;

use super::checkpoints::{CHECKPOINT_TEXTS_SQL, StoredCheckpoints};
use crate::error::{ComplianceError, Result};
use crate::log::ENTRY_COLUMNS;

use super::ChainBreak;
use super::head::{HEAD_TEXT_SQL, HeadRow};
use super::page::EntryPage;
use super::row::StoredRow;
use super::walk::{NEGATIVE_SEQ_SQL, negative_seq_break};

/// Rows per page. A page is also cut at [`PAGE_BYTES`].
pub(super) const PAGE_ROWS: usize = 10_000;

/// Text bytes per page before it is cut, which bounds memory when payloads
/// are large: at most `PAGES_AHEAD` + `CHECKS_IN_FLIGHT` + 1 pages exist at once.
const PAGE_BYTES: usize = 16 << 20;

/// Pages the scan may read ahead of the checks.
pub(super) const PAGES_AHEAD: usize = 2;

/// The text columns of an entry row, in `ENTRY_COLUMNS` order after `seq`
/// and `at_ms` are taken out.
const TEXT_COLUMNS: [(usize, &str); 8] = [
    (1, "kind"),
    (2, "actor"),
    (3, "subject"),
    (5, "payload"),
    (6, "sealed"),
    (7, "content_digest"),
    (8, "prev_hash"),
    (9, "hash"),
];

/// Indexes into [`TEXT_COLUMNS`] of the columns that may be NULL.
const NULLABLE: [usize; 2] = [3, 4];

/// The head row, the stored checkpoints and any row with a negative
/// sequence number, read in the scan's snapshot.
pub(super) struct Snapshot {
    pub(super) head: HeadRow,
    pub(super) checkpoints: StoredCheckpoints,
    pub(super) negative_seq: Option<ChainBreak>,
}

/// One row of a [`NativePage`]: byte ranges into the page's buffer, or why
/// the row cannot be read.
enum NativeRow {
    Read {
        seq: i64,
        at_ms: i64,
        texts: [Option<(usize, usize)>; 8],
    },
    Unreadable {
        seq: Option<i64>,
        detail: String,
    },
}

/// Rows read by the native scan; the text of all rows shares one buffer.
#[derive(Default)]
pub(super) struct NativePage {
    bytes: Vec<u8>,
    rows: Vec<NativeRow>,
}

impl NativePage {
    fn is_full(&self) -> bool {
        self.rows.len() >= PAGE_ROWS || self.bytes.len() >= PAGE_BYTES
    }

    /// Copies `row` into the page. A value of the wrong type makes the row
    /// unreadable, as the `Any` driver would report it.
    fn push(&mut self, row: &llmops_store::rusqlite::Row<'_>) {
        let read = self.read(row);
        let row = match read {
            Ok(row) => row,
            Err(detail) => NativeRow::Unreadable {
                seq: row.get_ref(0).ok().and_then(|value| value.as_i64().ok()),
                detail,
            },
        };
        self.rows.push(row);
    }

    fn read(&mut self, row: &llmops_store::rusqlite::Row<'_>) -> Result<NativeRow, String> {
        let value = |index: usize, name: &str| {
            row.get_ref(index)
                .map_err(|error| format!("column {name}: {error}"))
        };
        let integer = |index: usize, name: &str| match value(index, name)? {
            ValueRef::Integer(number) => Ok(number),
            other => Err(format!(
                "column {name}: expected an integer, found {}",
                type_name(other)
            )),
        };
        let seq = integer(0, "seq")?;
        let at_ms = integer(4, "at_ms")?;
        let mut texts = [None; 8];
        for (slot, (index, name)) in TEXT_COLUMNS.into_iter().enumerate() {
            texts[slot] = match value(index, name)? {
                ValueRef::Text(text) => {
                    let start = self.bytes.len();
                    self.bytes.extend_from_slice(text);
                    Some((start, self.bytes.len()))
                }
                ValueRef::Null if NULLABLE.contains(&slot) => None,
                other => {
                    return Err(format!(
                        "column {name}: expected text, found {}",
                        type_name(other)
                    ));
                }
            };
        }
        Ok(NativeRow::Read { seq, at_ms, texts })
    }

    fn text(
        &self,
        texts: &[Option<(usize, usize)>; 8],
        slot: usize,
    ) -> Result<Option<&str>, String> {
        let Some((start, end)) = texts[slot] else {
            return Ok(None);
        };
        let bytes = self.bytes.get(start..end).unwrap_or_default();
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|error| format!("column {}: {error}", TEXT_COLUMNS[slot].1))
    }

    fn required(&self, texts: &[Option<(usize, usize)>; 8], slot: usize) -> Result<&str, String> {
        self.text(texts, slot)?
            .ok_or_else(|| format!("column {} is NULL", TEXT_COLUMNS[slot].1))
    }
}

fn type_name(value: ValueRef<'_>) -> &'static str {
    match value {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a real number",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    }
}

impl EntryPage for NativePage {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn seq(&self, index: usize) -> Result<i64, String> {
        match self.rows.get(index) {
            Some(NativeRow::Read { seq, .. }) => Ok(*seq),
            Some(NativeRow::Unreadable {
                seq: Some(seq),
                detail: _,
            }) => Ok(*seq),
            Some(NativeRow::Unreadable { seq: None, detail }) => Err(detail.clone()),
            None => Err(format!("row {index} is beyond the page")),
        }
    }

    fn with_row<R>(
        &self,
        index: usize,
        check: impl FnOnce(&StoredRow<'_>) -> R,
    ) -> Result<R, String> {
        let (at_ms, texts) = match self.rows.get(index) {
            Some(NativeRow::Read { at_ms, texts, .. }) => (*at_ms, texts),
            Some(NativeRow::Unreadable { detail, .. }) => return Err(detail.clone()),
            None => return Err(format!("row {index} is beyond the page")),
        };
        let row = StoredRow {
            kind: self.required(texts, 0)?,
            actor: self.required(texts, 1)?,
            subject: self.required(texts, 2)?,
            at_ms,
            payload: self.text(texts, 3)?,
            sealed: self.text(texts, 4)?,
            content: self.required(texts, 5)?,
            prev: self.required(texts, 6)?,
            hash: self.required(texts, 7)?,
        };
        Ok(check(&row))
    }
}

/// Starts the read transaction that the scan continues, and reads the
/// head row and the stored checkpoints in its snapshot.
///
/// Runs on a blocking thread.
pub(super) fn begin_snapshot(reader: &SqliteReader) -> Result<Snapshot> {
    let connection = reader.connection();
    let fail = |source| ComplianceError::Store(reader.error(source));

    // Every statement until the transaction ends reads the snapshot that
    // its first read takes, so the head row, the checkpoints and the
    // entries agree even while appends commit.
    connection.execute_batch("BEGIN").map_err(fail)?;
    let mut statement = connection.prepare(HEAD_TEXT_SQL).map_err(fail)?;
    let mut rows = statement.query([]).map_err(fail)?;
    let head = match rows.next().map_err(fail)? {
        None => HeadRow::Missing,
        Some(row) => {
            let size = text_value(row.get_ref(0).map_err(fail)?);
            let head_hash = text_value(row.get_ref(1).map_err(fail)?);
            HeadRow::from_texts(size.as_deref(), head_hash.as_deref())
        }
    };
    drop(rows);
    drop(statement);

    let mut statement = connection.prepare(CHECKPOINT_TEXTS_SQL).map_err(fail)?;
    let mut rows = statement.query([]).map_err(fail)?;
    let mut checkpoints = StoredCheckpoints::default();
    while let Some(row) = rows.next().map_err(fail)? {
        let mut texts: [Option<String>; 6] = Default::default();
        for (index, text) in texts.iter_mut().enumerate() {
            *text = text_value(row.get_ref(index).map_err(fail)?);
        }
        checkpoints.push(texts);
    }
    drop(rows);
    drop(statement);

    let (min_seq, count) = connection
        .query_row(NEGATIVE_SEQ_SQL, [], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(fail)?;
    Ok(Snapshot {
        head,
        checkpoints,
        negative_seq: negative_seq_break(min_seq, count),
    })
}

/// Returns a value of [`HEAD_TEXT_SQL`] as text, `None` for NULL.
fn text_value(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(number) => Some(number.to_string()),
        ValueRef::Real(number) => Some(number.to_string()),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

/// Continues the transaction that [`begin_snapshot`] started: sends every
/// entry with `seq >= 0` in sequence order to `pages`, then ends the
/// transaction. Stops early, without an error, when the receiver is
/// dropped.
///
/// Runs on a blocking thread.
pub(super) fn scan(reader: &SqliteReader, pages: &mpsc::Sender<NativePage>) -> Result<()> {
    let connection = reader.connection();
    let fail = |source| ComplianceError::Store(reader.error(source));

    let sql =
        format!("SELECT {ENTRY_COLUMNS} FROM compliance_audit_log WHERE seq >= 0 ORDER BY seq");
    let mut statement = connection.prepare(&sql).map_err(fail)?;
    let mut rows = statement.query([]).map_err(fail)?;
    let mut page = NativePage::default();
    while let Some(row) = rows.next().map_err(fail)? {
        page.push(row);
        if page.is_full() && pages.blocking_send(std::mem::take(&mut page)).is_err() {
            return Ok(());
        }
    }
    if !page.rows.is_empty() {
        // A closed receiver means verify stopped at a break and needs no more rows.
        let _ = pages.blocking_send(page);
    }
    drop(rows);
    drop(statement);
    connection.execute_batch("COMMIT").map_err(fail)?;
    Ok(())
}
