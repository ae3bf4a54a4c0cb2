//! Per-test databases, enabled by the `test-util` feature.
//!
//! Every call returns a fresh, empty database: a SQLite file in its own
//! temporary folder, or a new PostgreSQL database created on the server named
//! by `LLMOPS_TEST_POSTGRES_URL`. Without that variable, [`postgres`] prints
//! why the test is skipped and returns `None`; under `CI=true` it fails
//! instead, so a CI run never passes PostgreSQL tests silently.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection as _;

use crate::error::{Result, StoreError};
use crate::store::{Store, StoreOptions};
use crate::url::redact;

/// The environment variable naming a PostgreSQL server for tests, for
/// example `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_URL_VAR: &str = "LLMOPS_TEST_POSTGRES_URL";

static NEXT_DATABASE: AtomicU64 = AtomicU64::new(0);

/// A store on a database that belongs to one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// The connected store.
    pub store: Store,
    /// The URL that reaches the same database, for a second connection.
    pub url: String,
    _folder: Option<tempfile::TempDir>,
}

/// Creates a SQLite database file in a new temporary folder, removed on drop.
///
/// # Errors
///
/// A [`StoreError`] when the folder or database cannot be created.
pub async fn sqlite_file() -> Result<TestDatabase> {
    let folder = tempfile::tempdir().map_err(|error| StoreError::InvalidUrl {
        url: "sqlite://<temporary folder>".to_owned(),
        reason: format!("cannot create a temporary folder: {error}"),
    })?;
    let path = folder.path().join("test.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await?;
    Ok(TestDatabase {
        store,
        url,
        _folder: Some(folder),
    })
}

/// Creates a new database on the test PostgreSQL server, or returns `None`
/// after printing the skip reason when no server is configured.
///
/// # Panics
///
/// Panics when `LLMOPS_TEST_POSTGRES_URL` is unset while `CI` is `true`, or
/// when the server refuses to create the database.
pub async fn postgres(test_name: &str) -> Option<TestDatabase> {
    postgres_with(test_name, StoreOptions::default()).await
}

/// Like [`postgres`], with connection options.
///
/// # Panics
///
/// As [`postgres`].
#[allow(clippy::panic)]
pub async fn postgres_with(test_name: &str, options: StoreOptions) -> Option<TestDatabase> {
    let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            panic!(
                "{test_name}: {POSTGRES_URL_VAR} is not set under CI; .ci/run starts PostgreSQL and sets it"
            );
        }
        eprintln!(
            "skipped {test_name} on PostgreSQL: {POSTGRES_URL_VAR} is not set (.ci/run starts a server and sets it)"
        );
        return None;
    };
    match create_postgres_database(&admin_url, options).await {
        Ok(database) => Some(database),
        Err(error) => panic!(
            "{test_name}: cannot create a test database on {}: {error}",
            redact(&admin_url)
        ),
    }
}

async fn create_postgres_database(admin_url: &str, options: StoreOptions) -> Result<TestDatabase> {
    let name = format!(
        "llmops_test_{}_{}_{}",
        std::process::id(),
        NEXT_DATABASE.fetch_add(1, Ordering::Relaxed),
        crate::time::now_ms()
    );
    let unavailable = |source| StoreError::Unavailable {
        url: redact(admin_url),
        source,
    };
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(unavailable)?;
    sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .map_err(|source| StoreError::Query {
            url: redact(admin_url),
            source,
        })?;
    let _ = admin.close().await;

    let url = with_database(admin_url, &name);
    let store = options.connect(&url).await?;
    Ok(TestDatabase {
        store,
        url,
        _folder: None,
    })
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_or_adds_name() {
        assert_eq!(
            with_database("postgres://u@h:1/postgres", "t"),
            "postgres://u@h:1/t"
        );
        assert_eq!(with_database("postgres://u@h:1", "t"), "postgres://u@h:1/t");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "t"),
            "postgres://u@h/t?sslmode=disable"
        );
    }
}
