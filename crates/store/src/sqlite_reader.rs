//! Read-only native connections to a store's SQLite file.
//!
//! sqlx's `Any` driver copies every value of every row into its own
//! representation before a caller sees it, which dominates full-table
//! scans. A [`SqliteReader`] reads the same file through SQLite's C API
//! (rusqlite), so a scan borrows each value in place.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{Result, StoreError};

/// A read-only connection to the SQLite file of a [`Store`](crate::Store),
/// opened with [`Store::sqlite_reader`](crate::Store::sqlite_reader).
///
/// Its calls block the thread, so async code runs them on a blocking
/// thread (`tokio::task::spawn_blocking`). The connection sees every
/// transaction the store's pool committed before each statement starts; a
/// `BEGIN` ... `COMMIT` around several statements gives them one snapshot,
/// because the file is in WAL mode.
#[derive(Debug)]
pub struct SqliteReader {
    connection: Connection,
    url: Arc<str>,
    busy_timeout: Duration,
}

/// The file, URL and busy timeout that a [`SqliteReader`] opens with.
#[derive(Debug, Clone)]
pub(crate) struct SqliteReaderTarget {
    pub(crate) path: PathBuf,
    pub(crate) url: Arc<str>,
    pub(crate) busy_timeout: Duration,
}

impl SqliteReaderTarget {
    /// Opens the file read-only; it must exist, which it does once the
    /// store has connected.
    pub(crate) fn open(&self) -> Result<SqliteReader> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let fail = |source| classify(&self.url, self.busy_timeout, source);
        let connection = Connection::open_with_flags(&self.path, flags).map_err(fail)?;
        connection.busy_timeout(self.busy_timeout).map_err(fail)?;
        tracing::debug!(url = %self.url, "native SQLite reader opened");
        Ok(SqliteReader {
            connection,
            url: Arc::clone(&self.url),
            busy_timeout: self.busy_timeout,
        })
    }
}

impl SqliteReader {
    /// Returns the connection to prepare and run statements on. It rejects
    /// writes with SQLite's `SQLITE_READONLY`.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Converts a rusqlite error into a [`StoreError`] that names this
    /// database: [`StoreError::Locked`] when SQLite stayed busy past the
    /// busy timeout, [`StoreError::SqliteRead`] otherwise.
    pub fn error(&self, source: rusqlite::Error) -> StoreError {
        classify(&self.url, self.busy_timeout, source)
    }
}

fn classify(url: &str, busy_timeout: Duration, source: rusqlite::Error) -> StoreError {
    let busy = matches!(
        source.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    if busy {
        return StoreError::Locked {
            url: url.to_owned(),
            busy_timeout,
        };
    }
    StoreError::SqliteRead {
        url: url.to_owned(),
        source,
    }
}
