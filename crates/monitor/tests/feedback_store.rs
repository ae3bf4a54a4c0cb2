//! The feedback store on SQLite and PostgreSQL.

use crate::common;

use std::sync::Arc;

use llmops_monitor::{
    Feedback, FeedbackSink, FeedbackStore, MAX_REQUEST_ID_CHARS, MonitorError, Panel, PromptRef,
    SnapshotSource, Window,
};
use llmops_store::Store;
use llmops_store::testing::sqlite_file;

/// Defines `mod $body` with a `sqlite` and a `postgres` test, each running
/// `$body` on a fresh store of that backend.
macro_rules! on_both_backends {
    ($body:ident) => {
        mod $body {
            #[tokio::test]
            async fn sqlite() {
                let database = llmops_store::testing::sqlite_file().await.unwrap();
                super::$body(database.store.clone()).await;
            }

            #[tokio::test]
            async fn postgres() {
                let name = concat!("monitor_", stringify!($body));
                let Some(database) = llmops_store::testing::postgres(name).await else {
                    return;
                };
                super::$body(database.store.clone()).await;
            }
        }
    };
}

on_both_backends!(attaches_prompt_version);
on_both_backends!(keeps_newest_comments_per_version);
on_both_backends!(rejects_invalid);
on_both_backends!(feeds_snapshot);
on_both_backends!(remembers_concurrent_requests_in_batches);

fn feedback(request_id: &str, rating: u8, comment: Option<&str>) -> Feedback {
    Feedback {
        request_id: request_id.into(),
        rating,
        comment: comment.map(str::to_owned),
        prompt: None,
        prompt_version: None,
        created_at_ms: 0,
    }
}

async fn attaches_prompt_version(store: Store) {
    let feedback_store = FeedbackStore::open(store).await.unwrap();
    let prompt = Some(PromptRef {
        name: "answer",
        version: 4,
    });
    feedback_store
        .remember_request("req-1", "gpt-4o", prompt)
        .await
        .unwrap();
    feedback_store
        .remember_request("req-2", "gpt-4o", None)
        .await
        .unwrap();

    let stored = feedback_store
        .submit(feedback("req-1", 5, Some("très bien 👍 \"quoted\"")))
        .await
        .unwrap();
    assert_eq!(stored.prompt.as_deref(), Some("answer"));
    assert_eq!(stored.prompt_version, Some(4));
    assert!(stored.created_at_ms > 0);
    feedback_store
        .submit(feedback("req-1", 2, None))
        .await
        .unwrap();
    let without_prompt = feedback_store
        .submit(feedback("req-2", 3, None))
        .await
        .unwrap();
    assert_eq!(without_prompt.prompt, None);
    // Unknown ids are accepted unless the store requires known requests.
    feedback_store
        .submit(feedback("unknown", 1, None))
        .await
        .unwrap();

    let for_request = feedback_store.for_request("req-1").await.unwrap();
    assert_eq!(for_request.len(), 2);
    assert_eq!(
        for_request[0].comment.as_deref(),
        Some("très bien 👍 \"quoted\"")
    );

    let summary = feedback_store.summary(0).await.unwrap();
    assert_eq!(summary.count, 4);
    assert_eq!(summary.mean_rating, Some(11.0 / 4.0));
    assert_eq!(summary.recent.len(), 4);

    let ratings = feedback_store.ratings_by_version(0).await.unwrap();
    assert_eq!(ratings.len(), 1);
    assert_eq!(ratings[0].prompt, "answer");
    assert_eq!(ratings[0].version, 4);
    assert_eq!(ratings[0].mean, 3.5);
    assert_eq!(ratings[0].count, 2);
    assert_eq!(ratings[0].positive, 1);
    assert_eq!(
        ratings[0].comments,
        vec!["très bien 👍 \"quoted\"".to_owned()]
    );

    let later = feedback_store.summary(u64::MAX / 2).await.unwrap();
    assert_eq!(later.count, 0);
    assert_eq!(later.mean_rating, None);
}

async fn keeps_newest_comments_per_version(store: Store) {
    let feedback_store = FeedbackStore::open(store).await.unwrap();
    for (request_id, version) in [("a", 1), ("b", 2)] {
        let prompt = Some(PromptRef {
            name: "answer",
            version,
        });
        feedback_store
            .remember_request(request_id, "gpt-4o", prompt)
            .await
            .unwrap();
    }
    for index in 0..5_u64 {
        let mut rated = feedback("a", 4, Some(&format!("comment {index}")));
        rated.created_at_ms = 1_000 + index;
        feedback_store.submit(rated).await.unwrap();
    }
    let mut empty = feedback("a", 1, Some(""));
    empty.created_at_ms = 2_000;
    feedback_store.submit(empty).await.unwrap();
    let mut other = feedback("b", 5, Some("版本二"));
    other.created_at_ms = 1_500;
    feedback_store.submit(other).await.unwrap();

    let ratings = feedback_store.ratings_by_version(0).await.unwrap();
    assert_eq!(ratings.len(), 2);
    assert_eq!(ratings[0].version, 1);
    assert_eq!(ratings[0].count, 6);
    assert_eq!(ratings[0].positive, 5);
    // Newest first, at most three, the empty comment left out.
    assert_eq!(
        ratings[0].comments,
        vec!["comment 4", "comment 3", "comment 2"]
    );
    assert_eq!(ratings[1].comments, vec!["版本二"]);

    let since = feedback_store.ratings_by_version(1_003).await.unwrap();
    assert_eq!(since[0].comments, vec!["comment 4", "comment 3"]);
}

async fn rejects_invalid(store: Store) {
    let feedback_store = FeedbackStore::open(store)
        .await
        .unwrap()
        .require_known_request(true)
        .with_redactor(Arc::new(|comment: &str| {
            comment.replace("555-0100", "[phone]")
        }));
    let error = feedback_store
        .submit(feedback("nope", 3, None))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            MonitorError::Invalid {
                field: "request_id",
                ..
            }
        ),
        "{error}"
    );
    let error = feedback_store
        .submit(feedback("req", 6, None))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("rating"), "{error}");
    let error = feedback_store
        .submit(feedback(" ", 3, None))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("request_id"), "{error}");
    let long_id = "é".repeat(MAX_REQUEST_ID_CHARS + 1);
    let error = feedback_store
        .submit(feedback(&long_id, 3, None))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("257 characters"), "{error}");
    for forged in ["gw-1\nERROR forged line", "gw-1\0", "gw\u{1b}[31m"] {
        let error = feedback_store
            .submit(feedback(forged, 3, None))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("control characters"), "{error}");
        // The value in the message is escaped, so it cannot start a line.
        assert!(!error.to_string().contains('\n'), "{error}");
    }

    feedback_store
        .remember_request("req", "m", None)
        .await
        .unwrap();
    let stored = feedback_store
        .submit(feedback("req", 4, Some("call me at 555-0100")))
        .await
        .unwrap();
    assert_eq!(stored.comment.as_deref(), Some("call me at [phone]"));
    assert_eq!(feedback_store.summary(0).await.unwrap().count, 1);
}

async fn feeds_snapshot(store: Store) {
    let feedback_store = FeedbackStore::open(store).await.unwrap();
    feedback_store
        .remember_request(
            "r",
            "m",
            Some(PromptRef {
                name: "answer",
                version: 1,
            }),
        )
        .await
        .unwrap();
    feedback_store.submit(feedback("r", 4, None)).await.unwrap();
    let (builder, _clock) = common::builder();
    let monitor = builder.feedback_store(feedback_store).build().unwrap();
    monitor.record_score(
        "m",
        Some(PromptRef {
            name: "answer",
            version: 1,
        }),
        "groundedness",
        0.9,
    );

    // The manual clock starts in 2024, before the feedback's wall-clock
    // time, so every stored rating is inside the window.
    let snapshot = monitor.snapshot(Window::Day).await;
    let Panel::Ok { data } = snapshot.feedback else {
        panic!("feedback panel: {:?}", snapshot.feedback);
    };
    assert_eq!(data.count, 1);
    let Panel::Ok { data } = snapshot.quality else {
        panic!("quality panel: {:?}", snapshot.quality);
    };
    assert_eq!(data.scores[0].feedback_mean, Some(4.0));
}

#[tokio::test]
async fn sqlite_migration_is_idempotent() {
    let database = sqlite_file().await.unwrap();
    FeedbackStore::open(database.store.clone()).await.unwrap();
    let store = FeedbackStore::open(database.store.clone()).await.unwrap();
    assert_eq!(store.summary(0).await.unwrap().count, 0);
}

async fn request_rows(store: &Store) -> Vec<(String, Option<i64>)> {
    use llmops_store::sqlx::Row as _;
    llmops_store::sqlx::query(
        "SELECT request_id, prompt_version FROM monitor_requests ORDER BY request_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|row| (row.try_get(0).unwrap(), row.try_get(1).unwrap()))
    .collect()
}

/// Requests remembered from many tasks at once, each id several times,
/// reach the table once per id with the newest version, in batches.
async fn remembers_concurrent_requests_in_batches(store: Store) {
    let feedback_store = FeedbackStore::open(store.clone()).await.unwrap();
    let tasks: Vec<_> = (0..8_u32)
        .map(|task| {
            let feedback_store = feedback_store.clone();
            tokio::spawn(async move {
                for round in 0..3_u32 {
                    for index in 0..150_u32 {
                        let id = format!("réq-{task}-{index}");
                        let prompt = PromptRef {
                            name: "answer",
                            version: round + 1,
                        };
                        feedback_store
                            .remember_request(&id, "gpt-4o", Some(prompt))
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    // Every id is found at once, written or not.
    let stored = feedback_store
        .submit(feedback("réq-7-149", 4, None))
        .await
        .unwrap();
    assert_eq!(stored.prompt_version, Some(3));

    feedback_store.flush().await.unwrap();
    let rows = request_rows(&store).await;
    assert_eq!(rows.len(), 8 * 150);
    assert!(
        rows.iter().all(|(_, version)| *version == Some(3)),
        "{rows:?}"
    );
}

#[tokio::test]
async fn timer_writes_request_without_flush() {
    let database = sqlite_file().await.unwrap();
    let feedback_store = FeedbackStore::open(database.store.clone()).await.unwrap();
    feedback_store
        .remember_request("lone", "m", None)
        .await
        .unwrap();
    // The timed write runs a quarter of a second later; wait up to 10 s.
    for _ in 0..200 {
        if !request_rows(&database.store).await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(request_rows(&database.store).await, [("lone".into(), None)]);
}

#[tokio::test]
async fn expired_requests_are_deleted() {
    let database = sqlite_file().await.unwrap();
    let feedback_store = FeedbackStore::open(database.store.clone())
        .await
        .unwrap()
        .with_request_retention(std::time::Duration::ZERO)
        .require_known_request(true);
    feedback_store
        .remember_request("old", "m", None)
        .await
        .unwrap();
    // With no retention, a request expires once a millisecond has passed.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    feedback_store.flush().await.unwrap();
    assert!(request_rows(&database.store).await.is_empty());
    let error = feedback_store
        .submit(feedback("old", 5, None))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            MonitorError::Invalid {
                field: "request_id",
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn failed_write_keeps_requests_for_retry() {
    let database = sqlite_file().await.unwrap();
    let store = database.store.clone();
    let feedback_store = FeedbackStore::open(store.clone()).await.unwrap();
    let prompt = PromptRef {
        name: "answer",
        version: 2,
    };
    feedback_store
        .remember_request("kept", "m", Some(prompt))
        .await
        .unwrap();
    let execute = |sql: &'static str| {
        let store = store.clone();
        async move {
            llmops_store::sqlx::query(sql)
                .execute(store.pool())
                .await
                .unwrap();
        }
    };
    execute("ALTER TABLE monitor_requests RENAME TO monitor_requests_away").await;
    let failed = feedback_store.flush().await;
    assert!(matches!(failed, Err(MonitorError::Store(_))), "{failed:?}");
    // Feedback still finds the waiting request.
    let stored = feedback_store
        .submit(feedback("kept", 5, None))
        .await
        .unwrap();
    assert_eq!(stored.prompt_version, Some(2));

    feedback_store
        .remember_request("later", "m", None)
        .await
        .unwrap();
    execute("ALTER TABLE monitor_requests_away RENAME TO monitor_requests").await;
    // The failed write scheduled a retry a second later, so the rows
    // arrive with no new request and no flush; wait up to 10 s.
    for _ in 0..200 {
        if request_rows(&store).await.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        request_rows(&store).await,
        [("kept".into(), Some(2)), ("later".into(), None)]
    );
    assert_eq!(feedback_store.unwritten_requests(), 0);
}
