//! The feedback store on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use llmops_monitor::{
    Feedback, FeedbackSink, FeedbackStore, MonitorError, Panel, PromptRef, SnapshotSource, Window,
};
use llmops_store::Store;
use llmops_store::testing::{TestDatabase, postgres, sqlite_file};

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

async fn feeds_snapshot(database: TestDatabase) {
    let feedback_store = FeedbackStore::open(database.store.clone()).await.unwrap();
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
async fn sqlite_attaches_prompt_version() {
    let database = sqlite_file().await.unwrap();
    attaches_prompt_version(database.store.clone()).await;
}

#[tokio::test]
async fn sqlite_keeps_newest_comments() {
    let database = sqlite_file().await.unwrap();
    keeps_newest_comments_per_version(database.store.clone()).await;
}

#[tokio::test]
async fn postgres_keeps_newest_comments() {
    let Some(database) = postgres("monitor_keeps_newest_comments").await else {
        return;
    };
    keeps_newest_comments_per_version(database.store.clone()).await;
}

#[tokio::test]
async fn sqlite_rejects_invalid() {
    let database = sqlite_file().await.unwrap();
    rejects_invalid(database.store.clone()).await;
}

#[tokio::test]
async fn sqlite_feeds_snapshot() {
    feeds_snapshot(sqlite_file().await.unwrap()).await;
}

#[tokio::test]
async fn sqlite_migration_is_idempotent() {
    let database = sqlite_file().await.unwrap();
    FeedbackStore::open(database.store.clone()).await.unwrap();
    let store = FeedbackStore::open(database.store.clone()).await.unwrap();
    assert_eq!(store.summary(0).await.unwrap().count, 0);
}

#[tokio::test]
async fn postgres_attaches_prompt_version() {
    let Some(database) = postgres("monitor_attaches_prompt_version").await else {
        return;
    };
    attaches_prompt_version(database.store.clone()).await;
}

#[tokio::test]
async fn postgres_rejects_invalid() {
    let Some(database) = postgres("monitor_rejects_invalid").await else {
        return;
    };
    rejects_invalid(database.store.clone()).await;
}

#[tokio::test]
async fn postgres_feeds_snapshot() {
    let Some(database) = postgres("monitor_feeds_snapshot").await else {
        return;
    };
    feeds_snapshot(database).await;
}
