//! The error type of the store.

use std::time::Duration;

/// A `Result` with [`StoreError`] as its error type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A failure to connect, migrate, or run a statement.
///
/// Messages name the database by its URL with the password removed, never
/// the values bound to a statement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL does not name a supported database.
    #[error(
        "invalid database URL `{url}`: {reason}; use `sqlite::memory:`, `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`"
    )]
    InvalidUrl {
        /// The URL with any password removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The database server cannot be reached or refused the connection.
    #[error(
        "database at `{url}` is down or unreachable: {source}; start the server or fix the host, port and credentials in the URL"
    )]
    Unavailable {
        /// The URL with any password removed.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },

    /// A SQLite file cannot be opened: its folder is missing, it is a
    /// folder, it is not a SQLite database, or it cannot be read or written.
    #[error("cannot open SQLite database `{url}`: {reason}")]
    SqliteFile {
        /// The URL.
        url: String,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// A SQLite file that must exist is missing, so it was not created.
    #[error(
        "no database at {}: the SQLite file does not exist; check the path in `{url}`",
        .path.display()
    )]
    SqliteFileNotFound {
        /// The URL.
        url: String,
        /// The file the URL names, with its `%HH` escapes decoded.
        path: std::path::PathBuf,
    },

    /// No pooled connection became free within the acquire timeout.
    #[error(
        "no connection to `{url}` became free within {} ms; raise max_connections or the acquire timeout, or find the task that holds connections",
        .timeout.as_millis()
    )]
    PoolTimedOut {
        /// The URL with any password removed.
        url: String,
        /// The acquire timeout that passed.
        timeout: Duration,
    },

    /// Another connection holds the SQLite write lock for longer than the busy timeout.
    #[error(
        "SQLite database `{url}` is locked by another writer (waited {} ms); close the other process or transaction, or raise busy_timeout",
        .busy_timeout.as_millis()
    )]
    Locked {
        /// The URL with any password removed.
        url: String,
        /// The busy timeout that passed.
        busy_timeout: Duration,
    },

    /// A row violates a unique constraint, such as a key written concurrently.
    #[error("unique constraint `{constraint}` violated: a row with the same key exists")]
    UniqueViolation {
        /// The constraint or index name the database reported, or the message when it names none.
        constraint: String,
    },

    /// Two migrations of one component share a version or are out of order.
    #[error(
        "migrations of `{component}` are not strictly increasing at version {version}; give each migration a new, higher version"
    )]
    MigrationOrder {
        /// The component that registered the migrations.
        component: String,
        /// The first version that is a duplicate or lower than its predecessor.
        version: i64,
    },

    /// An applied migration's SQL differs from the SQL in the code.
    #[error(
        "migration {component} v{version} `{name}` was applied with checksum {recorded} but the code now has {expected}; applied migrations are immutable, so add a new migration instead of editing this one"
    )]
    MigrationChecksumMismatch {
        /// The component that registered the migration.
        component: String,
        /// The migration version.
        version: i64,
        /// The migration name.
        name: String,
        /// The checksum recorded when it was applied.
        recorded: String,
        /// The checksum of the SQL in the code.
        expected: String,
    },

    /// The database has a migration that this code does not know.
    #[error(
        "database has migration {component} v{version} which this build does not know; the database was migrated by a newer build, so upgrade this one"
    )]
    MigrationUnknown {
        /// The component of the unknown migration.
        component: String,
        /// Its version.
        version: i64,
    },

    /// A migration's SQL failed; its transaction was rolled back.
    #[error("migration {component} v{version} `{name}` failed and was rolled back: {source}")]
    MigrationFailed {
        /// The component that registered the migration.
        component: String,
        /// The migration version.
        version: i64,
        /// The migration name.
        name: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },

    /// A native SQLite read ([`SqliteReader`](crate::SqliteReader)) failed.
    #[error("reading SQLite database `{url}` failed: {source}")]
    SqliteRead {
        /// The URL.
        url: String,
        /// rusqlite's error.
        #[source]
        source: rusqlite::Error,
    },

    /// Any other failure of a statement.
    #[error("database statement failed on `{url}`: {source}")]
    Query {
        /// The URL with any password removed.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
}

impl StoreError {
    /// Returns true when the error is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::UniqueViolation { .. })
    }

    /// Returns true when trying again later may succeed: a lock, a full pool or a down server.
    pub fn retry_may_help(&self) -> bool {
        matches!(
            self,
            StoreError::Locked { .. }
                | StoreError::PoolTimedOut { .. }
                | StoreError::Unavailable { .. }
        )
    }
}
