//! Connections that must not create a SQLite file: every spelling of a
//! SQLite URL rejects a missing file the same way, and a read-only
//! connection leaves an existing file as it was.

use std::path::Path;

use llmops_store::{Store, StoreError, StoreOptions};

/// Returns the URL spellings of one SQLite file: `sqlite:PATH`, `sqlite://PATH`
/// and, for an absolute path, `sqlite:///PATH`, each also with a query.
fn spellings(path: &str) -> Vec<String> {
    vec![
        format!("sqlite:{path}"),
        format!("sqlite://{path}"),
        format!("sqlite:{path}?cache=shared"),
        format!("sqlite://{path}?cache=shared"),
    ]
}

async fn assert_not_found(options: StoreOptions, url: &str, file: &Path) {
    let error = options.connect(url).await.unwrap_err();
    assert!(
        matches!(error, StoreError::SqliteFileNotFound { .. }),
        "{url}: {error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("no database at {}", file.display())),
        "{url}: {message}"
    );
    assert!(!file.exists(), "{url} created {}", file.display());
}

#[tokio::test]
async fn missing_absolute_file_is_not_found_in_every_spelling() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("missing.db");
    let path = file.to_str().unwrap();
    // An absolute path gives `sqlite:///...` in the `sqlite://` spelling.
    assert!(path.starts_with('/'));
    for url in spellings(path) {
        assert_not_found(StoreOptions::default().read_only(true), &url, &file).await;
        assert_not_found(StoreOptions::default().create_missing(false), &url, &file).await;
    }
}

#[tokio::test]
async fn missing_relative_file_is_not_found_in_every_spelling() {
    let name = format!("llmops-missing-{}.db", std::process::id());
    let file = Path::new(&name);
    for url in spellings(&name) {
        assert_not_found(StoreOptions::default().read_only(true), &url, file).await;
        assert_not_found(StoreOptions::default().create_missing(false), &url, file).await;
    }
}

#[tokio::test]
async fn missing_file_with_escapes_is_named_decoded() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("a b.db");
    let url = format!("sqlite://{}/a%20b.db", folder.path().display());
    assert_not_found(StoreOptions::default().read_only(true), &url, &file).await;
}

#[tokio::test]
async fn missing_folder_is_not_found_when_reading() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("no-such-folder").join("llmops.db");
    let url = format!("sqlite://{}", file.display());
    assert_not_found(StoreOptions::default().read_only(true), &url, &file).await;
}

#[tokio::test]
async fn default_options_still_create_the_file() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("new.db");
    let store = Store::connect(&format!("sqlite:{}", file.display()))
        .await
        .unwrap();
    store.close().await;
    assert!(file.exists());
}

/// Creates a SQLite file in rollback-journal mode with one table.
fn plain_sqlite_file(file: &Path) {
    let connection = llmops_store::rusqlite::Connection::open(file).unwrap();
    connection
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('kept');")
        .unwrap();
}

fn journal_mode(file: &Path) -> String {
    let connection = llmops_store::rusqlite::Connection::open(file).unwrap();
    connection
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap()
}

#[tokio::test]
async fn read_only_store_reads_and_changes_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("plain.db");
    plain_sqlite_file(&file);
    assert_eq!(journal_mode(&file), "delete");

    let url = format!("sqlite:{}", file.display());
    let store = StoreOptions::default()
        .read_only(true)
        .connect(&url)
        .await
        .unwrap();
    let body: String = sqlx::query_scalar("SELECT body FROM notes")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(body, "kept");
    assert!(store.table_exists("notes").await.unwrap());
    assert!(!store.table_exists("compliance_audit_log").await.unwrap());
    let write = sqlx::query("CREATE TABLE other (n BIGINT)")
        .execute(store.pool())
        .await;
    assert!(write.is_err(), "a read-only store wrote to the file");
    store.close().await;

    assert_eq!(journal_mode(&file), "delete");
}

#[tokio::test]
async fn read_transaction_sees_one_snapshot() {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("snap.db").display());
    let store = Store::connect(&url).await.unwrap();
    sqlx::query("CREATE TABLE t (n BIGINT)")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO t (n) VALUES (1)")
        .execute(store.pool())
        .await
        .unwrap();

    let mut read = store.begin_read().await.unwrap();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
        .fetch_one(&mut *read)
        .await
        .unwrap();
    // A read transaction takes no write lock, so this insert commits now.
    sqlx::query("INSERT INTO t (n) VALUES (2)")
        .execute(store.pool())
        .await
        .unwrap();
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
        .fetch_one(&mut *read)
        .await
        .unwrap();
    assert_eq!(before, 1);
    assert_eq!(after, before, "the read transaction saw a later commit");
    read.rollback().await.unwrap();
}
