//! The connection pool and transactions.

use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyConnection, AnyPool, Connection as _, Executor as _, Transaction};

use crate::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::sqlite_reader::{SqliteReader, SqliteReaderTarget};
use crate::url::{Location, parse_location, redact};

/// A transaction on a [`Store`]; commit it with `commit().await`, or drop it to roll back.
pub type StoreTransaction = Transaction<'static, Any>;

static INSTALL_DRIVERS: Once = Once::new();

/// Connection settings with defaults; build a [`Store`] with [`StoreOptions::connect`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    max_connections: Option<u32>,
    acquire_timeout: Duration,
    busy_timeout: Duration,
    create_missing: bool,
    read_only: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: None,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
            create_missing: true,
            read_only: false,
        }
    }
}

impl StoreOptions {
    /// Sets the pool size. Defaults to 8 for a SQLite file and 10 for
    /// PostgreSQL; an in-memory SQLite database always uses one connection,
    /// because each SQLite connection to `:memory:` opens a separate database.
    pub fn max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = Some(max_connections.max(1));
        self
    }

    /// Sets how long a caller waits for a free pooled connection (and for a
    /// new connection to open). Defaults to 10 s.
    pub fn acquire_timeout(mut self, acquire_timeout: Duration) -> Self {
        self.acquire_timeout = acquire_timeout;
        self
    }

    /// Sets how long SQLite waits for another writer's lock before failing
    /// with [`StoreError::Locked`]. Defaults to 5 s; PostgreSQL ignores it.
    pub fn busy_timeout(mut self, busy_timeout: Duration) -> Self {
        self.busy_timeout = busy_timeout;
        self
    }

    /// Sets whether a missing SQLite file is created. Defaults to true.
    /// When false, connecting to a missing file fails with
    /// [`StoreError::SqliteFileNotFound`], whichever form of the URL names
    /// it. PostgreSQL and in-memory SQLite ignore it.
    pub fn create_missing(mut self, create: bool) -> Self {
        self.create_missing = create;
        self
    }

    /// Opens a SQLite file read-only when true: even with
    /// [`StoreOptions::create_missing`], a missing file fails with
    /// [`StoreError::SqliteFileNotFound`], the journal mode stays as the
    /// file has it, and statements that write fail. Defaults to false.
    ///
    /// NOTE: PostgreSQL and in-memory SQLite ignore it, so callers that
    /// promise not to write must still send only reads there.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Returns the value of sqlx's `mode` parameter for a SQLite file.
    fn sqlite_mode(&self) -> &'static str {
        match (self.read_only, self.create_missing) {
            (true, _) => "ro",
            (false, true) => "rwc",
            (false, false) => "rw",
        }
    }

    /// Connects to `url` with these options.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidUrl`] for an unsupported URL,
    /// [`StoreError::SqliteFileNotFound`] for a missing SQLite file that
    /// these options do not create, and [`StoreError::Unavailable`] when
    /// the database cannot be opened.
    pub async fn connect(self, url: &str) -> Result<Store> {
        INSTALL_DRIVERS.call_once(sqlx::any::install_default_drivers);
        let location = parse_location(url)?;
        let dialect = location.dialect();
        let redacted: Arc<str> = Arc::from(redact(url));

        let (connect_url, max_connections) = match &location {
            Location::SqliteMemory => ("sqlite::memory:".to_owned(), 1),
            Location::SqliteFile(_) => (
                with_mode(url, self.sqlite_mode()),
                self.max_connections.unwrap_or(8),
            ),
            Location::Postgres => (url.to_owned(), self.max_connections.unwrap_or(10)),
        };
        let memory = location == Location::SqliteMemory;
        // A read-only connection keeps the file's journal mode, and an
        // in-memory database has no journal file to switch.
        let set_journal = !memory && !self.read_only;
        let busy_timeout_ms = self.busy_timeout.as_millis();
        let mut pool_options = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(self.acquire_timeout)
            .after_connect(move |connection, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        configure_sqlite(connection, set_journal, busy_timeout_ms).await?;
                    }
                    Ok(())
                })
            });
        if memory {
            // The database lives as long as its one connection, so the pool
            // must never close it.
            pool_options = pool_options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }

        match &location {
            Location::Postgres => probe(&connect_url, &redacted, self.acquire_timeout).await?,
            Location::SqliteFile(path) => {
                let create = self.create_missing && !self.read_only;
                check_sqlite_file(Path::new(path), &redacted, create)?;
                probe_sqlite(&connect_url, &redacted, self.acquire_timeout, set_journal).await?;
            }
            Location::SqliteMemory => {}
        }
        let pool = pool_options.connect(&connect_url).await.map_err(|source| {
            match classify(
                dialect,
                &redacted,
                self.busy_timeout,
                self.acquire_timeout,
                source,
            ) {
                StoreError::Query { url, source } => StoreError::Unavailable { url, source },
                other => other,
            }
        })?;
        tracing::info!(url = %redacted, %dialect, "store connected");
        let sqlite_reader = match location {
            Location::SqliteFile(path) => Some(SqliteReaderTarget {
                path: path.into(),
                url: Arc::clone(&redacted),
                busy_timeout: self.busy_timeout,
            }),
            Location::SqliteMemory | Location::Postgres => None,
        };
        Ok(Store {
            pool,
            dialect,
            url: redacted,
            sqlite_reader,
            busy_timeout: self.busy_timeout,
            acquire_timeout: self.acquire_timeout,
        })
    }
}

/// Opens one SQLite connection and sets it up as the pool would, so an
/// unreadable or read-only file fails with SQLite's reason instead of the
/// pool's timeout.
async fn probe_sqlite(
    url: &str,
    redacted: &str,
    timeout: Duration,
    set_journal: bool,
) -> Result<()> {
    let fail = |reason: String| StoreError::SqliteFile {
        url: redacted.to_owned(),
        reason,
    };
    let opened = tokio::time::timeout(timeout, async {
        let mut connection = AnyConnection::connect(url).await?;
        // The journal switch writes to the file, so a read-only file fails here.
        if set_journal {
            connection.execute("PRAGMA journal_mode = WAL").await?;
        }
        connection.execute("PRAGMA schema_version").await?;
        Ok::<_, sqlx::Error>(connection)
    })
    .await
    .map_err(|_| {
        fail(format!(
            "opening took longer than {} ms",
            timeout.as_millis()
        ))
    })?;
    match opened {
        Ok(connection) => {
            let _ = connection.close().await;
            Ok(())
        }
        Err(error) => {
            let text = error.to_string();
            let reason = if text.contains("readonly") || text.contains("read-only") {
                format!("{text}; make the file and its folder writable by this user")
            } else if text.contains("not a database") {
                "the file is not a SQLite database; check the path".to_owned()
            } else if text.contains("unable to open") {
                format!("{text}; check that the path names a file this user can create and write")
            } else {
                text
            };
            Err(fail(reason))
        }
    }
}

/// Opens and closes one connection, so a down server fails with the
/// driver's reason (such as connection refused) instead of the pool's
/// generic timeout after its retries.
async fn probe(url: &str, redacted: &str, timeout: Duration) -> Result<()> {
    let unavailable = |source| StoreError::Unavailable {
        url: redacted.to_owned(),
        source,
    };
    let connection = tokio::time::timeout(timeout, AnyConnection::connect(url))
        .await
        .map_err(|_| unavailable(sqlx::Error::PoolTimedOut))?
        .map_err(unavailable)?;
    let _ = connection.close().await;
    Ok(())
}

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Checks a SQLite path before connecting, so a missing folder or a file
/// of another kind fails at once with the fix, not after the pool's
/// retries. A missing file passes only when `create` is true.
fn check_sqlite_file(path: &Path, url: &str, create: bool) -> Result<()> {
    let fail = |reason: String| StoreError::SqliteFile {
        url: url.to_owned(),
        reason,
    };
    if !create && !path.exists() {
        return Err(StoreError::SqliteFileNotFound {
            url: url.to_owned(),
            path: path.to_path_buf(),
        });
    }
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !folder.is_dir()
    {
        return Err(fail(format!(
            "folder {} does not exist; create it or fix the path",
            folder.display()
        )));
    }
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => Err(fail(
            "the path is a folder; name a file inside it, such as llmops.db".to_owned(),
        )),
        Ok(metadata) if metadata.len() == 0 => Ok(()),
        Ok(_) => {
            let mut header = [0_u8; 16];
            let read = std::fs::File::open(path).and_then(|mut file| {
                std::io::Read::read_exact(&mut file, &mut header).map(|()| header)
            });
            match read {
                Ok(header) if &header == SQLITE_HEADER => Ok(()),
                Ok(_) => Err(fail(
                    "the file is not a SQLite database; check the path".to_owned(),
                )),
                Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Err(fail(
                    "the file is not a SQLite database; check the path".to_owned(),
                )),
                Err(error) => Err(fail(format!("cannot read the file: {error}"))),
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(fail(format!("cannot read the file: {error}"))),
    }
}

async fn configure_sqlite(
    connection: &mut AnyConnection,
    set_journal: bool,
    busy_timeout_ms: u128,
) -> Result<(), sqlx::Error> {
    // WAL lets readers run while one writer commits.
    if set_journal {
        connection.execute("PRAGMA journal_mode = WAL").await?;
        connection.execute("PRAGMA synchronous = NORMAL").await?;
    }
    connection
        .execute(format!("PRAGMA busy_timeout = {busy_timeout_ms}").as_str())
        .await?;
    connection.execute("PRAGMA foreign_keys = ON").await?;
    Ok(())
}

/// Adds sqlx's `mode` parameter to a SQLite URL that has none.
fn with_mode(url: &str, mode: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode={mode}")
    } else {
        format!("{url}?mode={mode}")
    }
}

/// A pool of connections to one SQLite or PostgreSQL database.
///
/// Cloning is cheap and shares the pool. Statements run through
/// [`Store::pool`] (any `sqlx` query) and use `$1, $2, ...` placeholders in
/// both dialects; see [`Dialect`] for what differs.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    url: Arc<str>,
    busy_timeout: Duration,
    acquire_timeout: Duration,
    sqlite_reader: Option<SqliteReaderTarget>,
}

impl Store {
    /// Connects to `url` with default [`StoreOptions`].
    ///
    /// # Errors
    ///
    /// See [`StoreOptions::connect`].
    pub async fn connect(url: &str) -> Result<Store> {
        StoreOptions::default().connect(url).await
    }

    /// Returns the pool to run statements on.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Returns the SQL dialect of the database.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Opens a read-only native connection to this store's SQLite file, for
    /// scans that the pool's `Any` driver makes slow. Returns `Ok(None)` for
    /// PostgreSQL and for in-memory SQLite, whose database no second
    /// connection can open.
    ///
    /// Opening blocks the thread; async code calls this on a blocking thread.
    ///
    /// # Errors
    ///
    /// [`StoreError::SqliteRead`] when the file cannot be opened for reading.
    pub fn sqlite_reader(&self) -> Result<Option<SqliteReader>> {
        self.sqlite_reader
            .as_ref()
            .map(SqliteReaderTarget::open)
            .transpose()
    }

    /// Returns the URL with any password removed, for messages and logs.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Starts a transaction that may write, taking SQLite's write lock at the start.
    ///
    /// # Errors
    ///
    /// [`StoreError::PoolTimedOut`], [`StoreError::Locked`] or
    /// [`StoreError::Unavailable`] when no connection or lock is available.
    pub async fn begin(&self) -> Result<StoreTransaction> {
        self.pool
            .begin_with(self.dialect.begin_write())
            .await
            .map_err(|source| self.error(source))
    }

    /// Starts a transaction for reads that all see one snapshot of the
    /// database: PostgreSQL's `REPEATABLE READ READ ONLY`, and on SQLite a
    /// deferred `BEGIN`, whose first read fixes the snapshot (the file is
    /// in WAL mode) without taking the write lock.
    ///
    /// # Errors
    ///
    /// As [`Store::begin`].
    pub async fn begin_read(&self) -> Result<StoreTransaction> {
        let mut transaction = self
            .pool
            .begin()
            .await
            .map_err(|source| self.error(source))?;
        if self.dialect == Dialect::Postgres {
            transaction
                .execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await
                .map_err(|source| self.error(source))?;
        }
        Ok(transaction)
    }

    /// Returns true when a table named `name` exists: on SQLite in the
    /// main database, on PostgreSQL in a schema of the search path.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the catalog cannot be read.
    pub async fn table_exists(&self, name: &str) -> Result<bool> {
        let sql = match self.dialect {
            Dialect::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
            Dialect::Postgres => {
                "SELECT 1 FROM information_schema.tables
                 WHERE table_name = $1 AND table_schema = ANY (current_schemas(false))"
            }
        };
        let row = sqlx::query(sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|source| self.error(source))?;
        Ok(row.is_some())
    }

    /// Runs `work` in a write transaction: commits when it returns `Ok`,
    /// rolls back when it returns `Err` or is cancelled.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use llmops_store::Store;
    /// type BoxError = Box<dyn std::error::Error + Send + Sync>;
    /// let store = Store::connect("sqlite::memory:").await?;
    /// sqlx::query("CREATE TABLE t (n BIGINT)").execute(store.pool()).await?;
    /// let rows = store
    ///     .transaction(|tx| {
    ///         Box::pin(async move {
    ///             sqlx::query("INSERT INTO t (n) VALUES ($1)").bind(7_i64).execute(&mut **tx).await?;
    ///             Ok::<_, BoxError>(1)
    ///         })
    ///     })
    ///     .await?;
    /// assert_eq!(rows, 1);
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// The error of `work`, or a [`StoreError`] from begin or commit.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: for<'t> FnOnce(&'t mut StoreTransaction) -> BoxFuture<'t, Result<T, E>>,
        E: From<StoreError>,
    {
        let mut transaction = self.begin().await?;
        let value = work(&mut transaction).await?;
        transaction
            .commit()
            .await
            .map_err(|source| self.error(source))?;
        Ok(value)
    }

    /// Converts a driver error into a [`StoreError`] that names this database.
    pub fn error(&self, source: sqlx::Error) -> StoreError {
        classify(
            self.dialect,
            &self.url,
            self.busy_timeout,
            self.acquire_timeout,
            source,
        )
    }

    /// Closes every connection; later calls fail with [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Sorts a driver error into the store's named failures.
fn classify(
    dialect: Dialect,
    url: &str,
    busy_timeout: Duration,
    acquire_timeout: Duration,
    source: sqlx::Error,
) -> StoreError {
    let url = url.to_owned();
    match &source {
        sqlx::Error::PoolTimedOut => {
            return StoreError::PoolTimedOut {
                url,
                timeout: acquire_timeout,
            };
        }
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed => {
            return StoreError::Unavailable { url, source };
        }
        sqlx::Error::Database(database) => {
            if database.is_unique_violation() {
                let constraint = database
                    .constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| database.message().to_owned());
                return StoreError::UniqueViolation { constraint };
            }
            let code = database
                .code()
                .map(|code| code.into_owned())
                .unwrap_or_default();
            if dialect == Dialect::Sqlite && is_sqlite_busy(&code) {
                return StoreError::Locked { url, busy_timeout };
            }
            if dialect == Dialect::Postgres && is_postgres_unavailable(&code) {
                return StoreError::Unavailable { url, source };
            }
        }
        _ => {}
    }
    StoreError::Query { url, source }
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
fn is_sqlite_busy(code: &str) -> bool {
    code.parse::<i64>()
        .map(|code| matches!(code & 0xff, 5 | 6))
        .unwrap_or(false)
}

/// Connection exceptions (class 08), shutdown and startup (57P01-57P03),
/// an unknown database (3D000) and failed authentication (28xxx).
fn is_postgres_unavailable(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("28")
        || matches!(code, "57P01" | "57P02" | "57P03" | "3D000")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_busy_codes_are_locked() {
        assert!(is_sqlite_busy("5"));
        assert!(is_sqlite_busy("517"));
        assert!(is_sqlite_busy("6"));
        assert!(!is_sqlite_busy("2067"));
        assert!(!is_sqlite_busy("23505"));
    }

    #[test]
    fn mode_is_added_once() {
        assert_eq!(with_mode("sqlite://a.db", "rwc"), "sqlite://a.db?mode=rwc");
        assert_eq!(
            with_mode("sqlite://a.db?cache=shared", "ro"),
            "sqlite://a.db?cache=shared&mode=ro"
        );
        assert_eq!(
            with_mode("sqlite://a.db?mode=ro", "rwc"),
            "sqlite://a.db?mode=ro"
        );
    }
}
