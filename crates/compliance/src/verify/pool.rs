//! The pool read path of verify: a read transaction on the store's pool,
//! through sqlx's `Any` driver, for PostgreSQL, in-memory SQLite and
//! [`ReadPath::Pool`](super::ReadPath::Pool).

use llmops_store::StoreTransaction;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::error::Result;
use crate::log::{AuditLog, ENTRY_COLUMNS, to_i64};

use super::checkpoints::{CHECKPOINT_COLUMNS, CHECKPOINT_TEXTS_SQL, StoredCheckpoints};
use super::head::{HEAD_TEXT_SQL, HeadRow};
use super::page::check_page;
use super::walk::{NEGATIVE_SEQ_SQL, Walk, negative_seq_break};
use super::{ChainBreak, PAGE_ENTRIES, task_stopped};

impl AuditLog {
    /// Checks hashes, links and the head row through a read transaction on
    /// the pool, and returns the walk with the first break.
    pub(super) async fn verify_chain_pool(&self) -> Result<(Walk, Option<ChainBreak>)> {
        let mut transaction = self.store().begin_read().await?;
        let head = self.read_head_row(&mut transaction).await?;
        let stored_checkpoints = self.read_stored_checkpoints(&mut transaction).await?;
        let negative_seq = self.read_negative_seq(&mut transaction).await?;
        let mut walk = Walk::new(head, stored_checkpoints);
        let problem = match negative_seq {
            Some(problem) => Some(problem),
            None => self.verify_chain(&mut transaction, &mut walk).await?,
        };
        // The transaction only read, so ending it either way is the same.
        transaction
            .rollback()
            .await
            .map_err(|source| self.store().error(source))?;
        Ok((walk, problem))
    }

    /// Returns the break for rows with a negative sequence number in
    /// `transaction`, if any are stored.
    async fn read_negative_seq(
        &self,
        transaction: &mut StoreTransaction,
    ) -> Result<Option<ChainBreak>> {
        let row = sqlx::query(NEGATIVE_SEQ_SQL)
            .fetch_one(&mut **transaction)
            .await
            .map_err(|source| self.store().error(source))?;
        let error = |source| self.store().error(source);
        let min_seq: Option<i64> = row.try_get(0).map_err(error)?;
        let count: i64 = row.try_get(1).map_err(error)?;
        Ok(negative_seq_break(min_seq, count))
    }

    /// Reads the stored checkpoints in `transaction`, keeping what is wrong
    /// with the first row that cannot be read.
    async fn read_stored_checkpoints(
        &self,
        transaction: &mut StoreTransaction,
    ) -> Result<StoredCheckpoints> {
        let rows = sqlx::query(CHECKPOINT_TEXTS_SQL)
            .fetch_all(&mut **transaction)
            .await
            .map_err(|source| self.store().error(source))?;
        let mut stored = StoredCheckpoints::default();
        for row in rows {
            let mut texts: [Option<String>; 6] = Default::default();
            let mut unreadable = None;
            for (index, text) in texts.iter_mut().enumerate() {
                match row.try_get::<Option<String>, _>(index) {
                    Ok(value) => *text = value,
                    Err(error) => {
                        unreadable = Some(format!(
                            "a compliance_checkpoints row's {} cannot be read as text: {error}",
                            CHECKPOINT_COLUMNS[index]
                        ));
                        break;
                    }
                }
            }
            match unreadable {
                Some(detail) => stored.mark_damaged(detail),
                None => stored.push(texts),
            }
        }
        Ok(stored)
    }

    /// Reads the head row in `transaction`.
    async fn read_head_row(&self, transaction: &mut StoreTransaction) -> Result<HeadRow> {
        let row = sqlx::query(HEAD_TEXT_SQL)
            .fetch_optional(&mut **transaction)
            .await
            .map_err(|source| self.store().error(source))?;
        let Some(row) = row else {
            return Ok(HeadRow::Missing);
        };
        let text = |index: usize, column: &str| {
            row.try_get::<Option<String>, _>(index)
                .map_err(|error| format!("the head row's {column} cannot be read as text: {error}"))
        };
        Ok(match (text(0, "size"), text(1, "head_hash")) {
            (Ok(size), Ok(head_hash)) => HeadRow::from_texts(size.as_deref(), head_hash.as_deref()),
            (Err(found), _) | (_, Err(found)) => HeadRow::Damaged(found),
        })
    }

    /// Checks hashes and links, adding each entry that verifies to `walk`,
    /// and compares the end with the head row.
    ///
    /// Pages are read while the previous page is checked: the check runs on
    /// a blocking thread, and the database reads rows on its own.
    async fn verify_chain(
        &self,
        connection: &mut AnyConnection,
        walk: &mut Walk,
    ) -> Result<Option<ChainBreak>> {
        let mut rows = self.read_page(connection, 0).await?;
        while !rows.is_empty() {
            let from = walk.len();
            let full_page = rows.len() as u64 == PAGE_ENTRIES;
            let check = tokio::task::spawn_blocking(move || check_page(&rows, from));
            let (checked, next) = if full_page {
                let (checked, next) =
                    tokio::join!(check, self.read_page(connection, from + PAGE_ENTRIES));
                (checked, Some(next))
            } else {
                (check.await, None)
            };
            let (checked, problem) = checked.map_err(task_stopped)?;
            for (offset, row) in checked.into_iter().enumerate() {
                if let Err(failure) = walk.link(from + offset as u64, row) {
                    return Ok(Some(self.name_break(connection, failure).await?));
                }
            }
            if let Some(problem) = problem {
                return Ok(Some(walk.page_break(problem)));
            }
            rows = match next {
                Some(next) => next?,
                None => Vec::new(),
            };
        }
        Ok(walk.end_break())
    }

    /// Reads up to a page of rows from sequence number `from`.
    async fn read_page(&self, connection: &mut AnyConnection, from: u64) -> Result<Vec<AnyRow>> {
        sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM compliance_audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2"
        ))
        .bind(to_i64(from))
        .bind(to_i64(PAGE_ENTRIES))
        .fetch_all(connection)
        .await
        .map_err(|source| self.store().error(source).into())
    }
}
