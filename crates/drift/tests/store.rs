//! Baselines, reports and registry calls on SQLite and PostgreSQL.

use llmops_drift::{
    Baseline, BaselineConfig, DriftCheck, DriftError, DriftStore, HashingEmbedder, InputSource,
    Policy, RegistryCalls, TopicCount, Window, WindowSpan,
};
use llmops_registry::{
    CallLogger, CallLoggerOptions, CallRecord, PromptContent, Registry, Selector,
};
use llmops_store::Store;
use llmops_store::testing::{TestDatabase, postgres, sqlite_file};
use rust_decimal::Decimal;
use serde_json::json;

const TOPICS: [&str; 3] = [
    "book a flight to",
    "my card was declined at",
    "set an alarm for",
];

fn texts(count: usize, offset: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("{} {}", TOPICS[(i + offset) % 3], i))
        .collect()
}

async fn baseline() -> Baseline {
    let embedder = HashingEmbedder::new(16);
    let config = BaselineConfig::default().topics(TopicCount::Fixed(3));
    Baseline::build(&embedder, &Window::new(texts(60, 0)), &config)
        .await
        .unwrap()
}

async fn reports_round_trip(store: Store) {
    let drift = DriftStore::open(store).await.unwrap();
    let baseline = baseline().await;
    let id = drift.save_baseline("support-bot", &baseline).await.unwrap();
    let loaded = drift.latest_baseline("support-bot").await.unwrap();
    assert_eq!(loaded.id, id);
    assert_eq!(loaded.baseline, baseline);

    let check = DriftCheck::new(baseline, Policy::default());
    let embedder = HashingEmbedder::new(16);
    // Saved out of order; listed by window start.
    for (start, offset) in [(2_000, 1), (1_000, 0)] {
        let outcome = check
            .check(&embedder, &Window::new(texts(45, offset)))
            .await
            .unwrap();
        let span = WindowSpan {
            start_ms: start,
            end_ms: start + 1_000,
        };
        drift.save_report(id, span, &outcome.report).await.unwrap();
    }
    let reports = drift.reports(id).await.unwrap();
    let starts: Vec<i64> = reports.iter().map(|r| r.window.start_ms).collect();
    assert_eq!(starts, [1_000, 2_000]);
    assert_eq!(reports[0].report.current_inputs, 45);

    let missing = drift.latest_baseline("other-bot").await.unwrap_err();
    assert!(matches!(missing, DriftError::BaselineNotFound { .. }));
    let span = WindowSpan {
        start_ms: 0,
        end_ms: 1,
    };
    let orphan = drift
        .save_report(id + 100, span, &reports[0].report)
        .await
        .unwrap_err();
    assert!(matches!(orphan, DriftError::BaselineNotFound { .. }));
}

async fn registry_calls_form_windows(database: TestDatabase) {
    let registry = Registry::open(database.store.clone()).await.unwrap();
    registry
        .publish("support", &PromptContent::text("{{ q }}"), "a")
        .await
        .unwrap();
    registry
        .publish("other", &PromptContent::text("{{ q }}"), "a")
        .await
        .unwrap();
    let support = registry.get("support", &Selector::Latest).await.unwrap();
    let other = registry.get("other", &Selector::Latest).await.unwrap();

    let logger = CallLogger::start(database.store.clone(), CallLoggerOptions::default());
    for (i, at_ms) in [500, 1_000, 1_500, 1_999, 2_000].into_iter().enumerate() {
        let record = CallRecord::new(&support, "m", json!({"q": format!("질문 {i}")}), "ok")
            .usage(100 + i as u64, 10, 5, Decimal::new(3, 3))
            .at_ms(at_ms);
        logger.log(record).await.unwrap();
    }
    let record = CallRecord::new(&other, "m", json!({"q": "other prompt"}), "ok").at_ms(1_200);
    logger.log(record).await.unwrap();
    logger.close().await.unwrap();

    let source = RegistryCalls::new(database.store.clone()).prompt("support");
    let window = source
        .window(WindowSpan {
            start_ms: 1_000,
            end_ms: 2_000,
        })
        .await
        .unwrap();
    assert_eq!(window.texts, ["질문 1", "질문 2", "질문 3"]);
    assert_eq!(window.features["latency_ms"], [101.0, 102.0, 103.0]);
    assert_eq!(window.features["cost_usd"], [0.003, 0.003, 0.003]);

    let all = RegistryCalls::new(database.store);
    let window = all
        .window(WindowSpan {
            start_ms: 0,
            end_ms: 3_000,
        })
        .await
        .unwrap();
    assert_eq!(window.len(), 6);
}

#[tokio::test]
async fn sqlite_reports_round_trip() {
    reports_round_trip(sqlite_file().await.unwrap().store).await;
}

#[tokio::test]
async fn postgres_reports_round_trip() {
    if let Some(database) = postgres("postgres_reports_round_trip").await {
        reports_round_trip(database.store).await;
    }
}

#[tokio::test]
async fn sqlite_registry_calls_form_windows() {
    registry_calls_form_windows(sqlite_file().await.unwrap()).await;
}

#[tokio::test]
async fn postgres_registry_calls_form_windows() {
    if let Some(database) = postgres("postgres_registry_calls_form_windows").await {
        registry_calls_form_windows(database).await;
    }
}
