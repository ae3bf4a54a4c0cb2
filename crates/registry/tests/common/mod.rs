//! Runs one test body against a SQLite file and against PostgreSQL.

/// Defines `mod $name` with a `sqlite` and a `postgres` test that each call
/// `$body(TestDatabase)` on a fresh database.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let database = llmops_store::testing::sqlite_file().await.unwrap();
                super::$body(database).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(database) = llmops_store::testing::postgres(stringify!($name)).await
                else {
                    return;
                };
                super::$body(database).await;
            }
        }
    };
}
