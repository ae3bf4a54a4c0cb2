//! Named errors for bad URLs, a locked SQLite file and a down server.

use std::time::Duration;

use llmops_store::{Store, StoreError, StoreOptions};

#[tokio::test]
async fn unsupported_scheme_is_invalid_url() {
    let error = Store::connect("mysql://root:hunter2@localhost/db")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::InvalidUrl { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("sqlite::memory:"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn down_postgres_is_unavailable() {
    // Bind and drop a listener to find a loopback port with no server.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);

    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/db");
    let error = StoreOptions::default()
        .acquire_timeout(Duration::from_secs(2))
        .connect(&url)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("start the server"), "{message}");
    assert!(message.contains("app:***@"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(error.retry_may_help());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_write_lock_is_locked_error() {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("locked.db").display());
    let holder = Store::connect(&url).await.unwrap();
    sqlx::query("CREATE TABLE t (n BIGINT)")
        .execute(holder.pool())
        .await
        .unwrap();
    let held = holder.begin().await.unwrap();

    let waiter = StoreOptions::default()
        .busy_timeout(Duration::from_millis(50))
        .connect(&url)
        .await
        .unwrap();
    let error = waiter.begin().await.unwrap_err();
    assert!(matches!(error, StoreError::Locked { .. }), "{error}");
    assert!(error.to_string().contains("raise busy_timeout"), "{error}");

    held.rollback().await.unwrap();
    let mut tx = waiter.begin().await.unwrap();
    sqlx::query("INSERT INTO t (n) VALUES (1)")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn sqlite_file_uses_wal() {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("wal.db").display());
    let store = Store::connect(&url).await.unwrap();
    let row = sqlx::query("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let mode: String = sqlx::Row::get(&row, 0);
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn memory_database_keeps_data_across_calls() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    sqlx::query("CREATE TABLE t (n BIGINT)")
        .execute(store.pool())
        .await
        .unwrap();
    for n in 0..3_i64 {
        sqlx::query("INSERT INTO t (n) VALUES ($1)")
            .bind(n)
            .execute(store.pool())
            .await
            .unwrap();
    }
    let row = sqlx::query("SELECT COUNT(*) FROM t")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(sqlx::Row::get::<i64, _>(&row, 0), 3);
}

#[tokio::test]
async fn closed_store_is_unavailable() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    store.close().await;
    let error = store.begin().await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error}");
}

/// Connects to a SQLite path and returns the error message.
async fn sqlite_error(path: &std::path::Path) -> String {
    let url = format!("sqlite://{}", path.display());
    let error = StoreOptions::default()
        .acquire_timeout(Duration::from_secs(30))
        .connect(&url)
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::SqliteFile { .. }),
        "{path:?}: {error:?}"
    );
    error.to_string()
}

#[tokio::test]
async fn unusable_sqlite_paths_fail_at_once_with_the_fix() {
    let folder = tempfile::tempdir().unwrap();

    let missing = folder.path().join("no-such-folder").join("llmops.db");
    let message = sqlite_error(&missing).await;
    assert!(message.contains("does not exist; create it"), "{message}");
    assert!(!missing.exists(), "nothing was created");

    let message = sqlite_error(folder.path()).await;
    assert!(message.contains("the path is a folder"), "{message}");

    for (name, bytes) in [
        ("notes.txt", "Grüße, not a database at all\n".as_bytes()),
        ("short.db", b"SQLite".as_slice()),
    ] {
        let path = folder.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let message = sqlite_error(&path).await;
        assert!(
            message.contains("not a SQLite database"),
            "{name}: {message}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{name} was not changed"
        );
    }

    // An empty file is a new database, as SQLite treats it.
    let empty = folder.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let store = Store::connect(&format!("sqlite://{}", empty.display()))
        .await
        .unwrap();
    store.close().await;
}
