//! Batched call logging, scores and metrics on SQLite and PostgreSQL.

use llmops_registry::{
    CallLogger, CallLoggerOptions, CallRecord, MetricsScope, PromptContent, Registry,
    RegistryError, Score, Selector, TimeWindows,
};
use llmops_store::testing::TestDatabase;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::Row;

async fn count_calls(registry: &Registry) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM registry_calls")
        .fetch_one(registry.store().pool())
        .await
        .unwrap()
        .get(0)
}

async fn close_flushes_every_record(database: TestDatabase) {
    let registry = Registry::open(database.store).await.unwrap();
    registry
        .publish("p", &PromptContent::text("x"), "a")
        .await
        .unwrap();
    let version = registry.get("p", &Selector::Latest).await.unwrap();
    // A small queue and batch force many batches and waits on a full queue.
    let logger = std::sync::Arc::new(CallLogger::start(
        registry.store().clone(),
        CallLoggerOptions::default().capacity(64).batch_rows(100),
    ));
    let mut producers = Vec::new();
    for producer in 0..4 {
        let logger = logger.clone();
        let version = version.clone();
        producers.push(tokio::spawn(async move {
            for n in 0..1_500 {
                let record =
                    CallRecord::new(&version, "gpt-x", json!({"q": format!("é{n}")}), "🦀 ok")
                        .call_id(format!("{producer}-{n}"))
                        .usage(10, 3, 4, Decimal::new(15, 6));
                logger.log(record).await.unwrap();
            }
        }));
    }
    for producer in producers {
        producer.await.unwrap();
    }
    let logger = std::sync::Arc::into_inner(logger).unwrap();
    let stats = logger.close().await.unwrap();
    assert_eq!(stats.written, 6_000);
    assert_eq!(stats.failed, 0);
    assert!(stats.batches >= 60, "batches: {}", stats.batches);
    assert_eq!(count_calls(&registry).await, 6_000);
    let distinct: i64 = sqlx::query("SELECT COUNT(DISTINCT call_id) FROM registry_calls")
        .fetch_one(registry.store().pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(distinct, 6_000);
}
on_both_backends!(close_flushes, close_flushes_every_record);

async fn metrics_per_version_and_label(database: TestDatabase) {
    let registry = Registry::open(database.store).await.unwrap();
    registry
        .publish("p", &PromptContent::text("one"), "a")
        .await
        .unwrap();
    registry
        .publish("p", &PromptContent::text("two"), "a")
        .await
        .unwrap();
    let v1 = registry.get("p", &Selector::Version(1)).await.unwrap();
    let v2 = registry.get("p", &Selector::Version(2)).await.unwrap();
    let logger = CallLogger::start(registry.store().clone(), CallLoggerOptions::default());
    let base = 1_000_000;
    // Window 0: two v1 calls through production; window 1: one v2 call through production.
    logger
        .log(
            CallRecord::new(&v1, "m", json!({}), "a")
                .label("production")
                .usage(100, 10, 1, Decimal::new(1, 3))
                .at_ms(base),
        )
        .await
        .unwrap();
    logger
        .log(
            CallRecord::new(&v1, "m", json!({}), "b")
                .label("production")
                .usage(300, 20, 2, Decimal::new(2, 3))
                .at_ms(base + 10),
        )
        .await
        .unwrap();
    logger
        .log(
            CallRecord::new(&v2, "m", json!({}), "c")
                .label("production")
                .usage(50, 5, 5, Decimal::new(5, 3))
                .at_ms(base + 60_000),
        )
        .await
        .unwrap();
    logger
        .log(CallRecord::new(&v2, "m", json!({}), "outside").at_ms(base + 500_000))
        .await
        .unwrap();
    logger.close().await.unwrap();
    registry
        .record_score(
            &Score::new(&v1, "faithfulness", 0.5)
                .label("production")
                .at_ms(base),
        )
        .await
        .unwrap();
    registry
        .record_score(
            &Score::new(&v1, "faithfulness", 1.0)
                .label("production")
                .at_ms(base + 1),
        )
        .await
        .unwrap();
    let nan = registry
        .record_score(&Score::new(&v1, "f", f64::NAN))
        .await
        .unwrap_err();
    assert!(matches!(nan, RegistryError::InvalidRecord { .. }), "{nan}");

    let windows = TimeWindows {
        from_ms: base,
        to_ms: base + 120_000,
        window_ms: 60_000,
    };
    let by_version = registry
        .metrics("p", &MetricsScope::Version(1), windows)
        .await
        .unwrap();
    assert_eq!(by_version.len(), 1);
    assert_eq!(by_version[0].calls, 2);
    assert_eq!(by_version[0].mean_latency_ms, 200.0);
    assert_eq!(by_version[0].max_latency_ms, 300);
    assert_eq!(by_version[0].prompt_tokens, 30);
    assert_eq!(by_version[0].cost_usd, Decimal::new(3, 3));
    assert_eq!(by_version[0].scores["faithfulness"], (0.75, 2));

    let by_label = registry
        .metrics("p", &MetricsScope::Label("production".into()), windows)
        .await
        .unwrap();
    let calls: Vec<(i64, u64)> = by_label.iter().map(|w| (w.start_ms, w.calls)).collect();
    assert_eq!(calls, [(base, 2), (base + 60_000, 1)]);
    assert_eq!(by_label[1].cost_usd, Decimal::new(5, 3));
}
on_both_backends!(metrics, metrics_per_version_and_label);

#[tokio::test]
async fn closed_or_full_logger_rejects_records() {
    let registry = Registry::open(
        llmops_store::Store::connect("sqlite::memory:")
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    registry
        .publish("p", &PromptContent::text("x"), "a")
        .await
        .unwrap();
    let version = registry.get("p", &Selector::Latest).await.unwrap();
    let negative =
        CallRecord::new(&version, "m", json!(null), "").usage(0, 0, 0, Decimal::new(-1, 2));
    let logger = CallLogger::start(
        registry.store().clone(),
        CallLoggerOptions::default().capacity(1),
    );
    assert!(matches!(
        logger.try_log(negative).unwrap_err(),
        RegistryError::InvalidRecord { .. }
    ));
    let mut full = false;
    for _ in 0..10_000 {
        if let Err(error) = logger.try_log(CallRecord::new(&version, "m", json!(null), "")) {
            assert!(
                matches!(error, RegistryError::LogQueueFull { capacity: 1 }),
                "{error}"
            );
            full = true;
            break;
        }
    }
    assert!(full, "a queue of one never filled");
    let stats = logger.close().await.unwrap();
    assert_eq!(count_calls(&registry).await, stats.written as i64);
}

async fn any_statement_size_writes_every_record(database: TestDatabase) {
    let registry = Registry::open(database.store.clone()).await.unwrap();
    registry
        .publish("p", &PromptContent::text("x"), "a")
        .await
        .unwrap();
    let version = registry.get("p", &Selector::Latest).await.unwrap();
    for rows in [1, 7, 32, usize::MAX] {
        sqlx::query("DELETE FROM registry_calls")
            .execute(registry.store().pool())
            .await
            .unwrap();
        let logger = CallLogger::start(
            registry.store().clone(),
            CallLoggerOptions::default()
                .batch_rows(100)
                .rows_per_statement(rows),
        );
        for n in 0..250 {
            let record = CallRecord::new(&version, "m", json!({"n": n}), format!("답 {n}"))
                .call_id(format!("c{n}"));
            logger.log(record).await.unwrap();
        }
        let stats = logger.close().await.unwrap();
        assert_eq!(stats.written, 250, "{rows} rows per statement");
        assert_eq!(
            count_calls(&registry).await,
            250,
            "{rows} rows per statement"
        );
    }
}
on_both_backends!(statement_sizes, any_statement_size_writes_every_record);
