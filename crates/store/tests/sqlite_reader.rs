//! `Store::sqlite_reader`: a read-only native connection to the same SQLite file.

use llmops_store::{Store, StoreError, testing};

async fn create_notes(store: &Store) {
    sqlx::query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(store.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn reader_sees_committed_rows() {
    let database = testing::sqlite_file().await.unwrap();
    let store = database.store.clone();
    create_notes(&store).await;
    sqlx::query("INSERT INTO notes (id, body) VALUES (1, 'héllo ✓'), (2, '')")
        .execute(store.pool())
        .await
        .unwrap();

    let reader = store
        .sqlite_reader()
        .unwrap()
        .expect("a SQLite file has a reader");
    let mut statement = reader
        .connection()
        .prepare("SELECT id, body FROM notes ORDER BY id")
        .unwrap();
    let rows: Vec<(i64, String)> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, vec![(1, "héllo ✓".to_owned()), (2, String::new())]);
}

#[tokio::test]
async fn reader_snapshot_ignores_later_commits() {
    let database = testing::sqlite_file().await.unwrap();
    let store = database.store.clone();
    create_notes(&store).await;
    sqlx::query("INSERT INTO notes (id, body) VALUES (1, 'a')")
        .execute(store.pool())
        .await
        .unwrap();

    let reader = store.sqlite_reader().unwrap().unwrap();
    let count = |reader: &llmops_store::SqliteReader| -> i64 {
        reader
            .connection()
            .query_row("SELECT COUNT(*) FROM notes", [], |row| row.get(0))
            .unwrap()
    };
    reader.connection().execute_batch("BEGIN").unwrap();
    assert_eq!(count(&reader), 1);
    sqlx::query("INSERT INTO notes (id, body) VALUES (2, 'b')")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(count(&reader), 1, "the open transaction keeps its snapshot");
    reader.connection().execute_batch("COMMIT").unwrap();
    assert_eq!(count(&reader), 2, "a new statement sees the commit");
}

#[tokio::test]
async fn reader_rejects_writes() {
    let database = testing::sqlite_file().await.unwrap();
    let store = database.store.clone();
    create_notes(&store).await;

    let reader = store.sqlite_reader().unwrap().unwrap();
    let error = reader
        .connection()
        .execute("INSERT INTO notes (id, body) VALUES (1, 'x')", [])
        .expect_err("a read-only connection must reject writes");
    let error = reader.error(error);
    assert!(matches!(error, StoreError::SqliteRead { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("readonly"), "{message}");
    assert!(message.contains(store.url()), "{message}");
}

#[tokio::test]
async fn memory_store_has_no_reader() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    assert!(store.sqlite_reader().unwrap().is_none());
}

#[tokio::test]
async fn postgres_store_has_no_reader() {
    let Some(database) = testing::postgres("postgres_store_has_no_reader").await else {
        return;
    };
    assert!(database.store.sqlite_reader().unwrap().is_none());
}

#[tokio::test]
async fn reader_fails_when_file_is_gone() {
    let database = testing::sqlite_file().await.unwrap();
    let store = database.store.clone();
    let path = database
        .url
        .strip_prefix("sqlite://")
        .expect("a sqlite:// URL")
        .to_owned();
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }

    let error = store
        .sqlite_reader()
        .expect_err("a missing file cannot be opened read-only");
    assert!(matches!(error, StoreError::SqliteRead { .. }), "{error:?}");
    assert!(error.to_string().contains(store.url()), "{error}");
}

#[tokio::test]
async fn reader_opens_percent_encoded_path() {
    let folder = tempfile::tempdir().unwrap();
    let encoded = format!("sqlite://{}/a%3Fb%20c.db", folder.path().display());
    let store = Store::connect(&encoded).await.unwrap();
    create_notes(&store).await;
    assert!(folder.path().join("a?b c.db").exists());

    let reader = store.sqlite_reader().unwrap().unwrap();
    let tables: i64 = reader
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'notes'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1);
}
