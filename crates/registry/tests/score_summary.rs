//! Score means across prompts and versions, and the dashboard's quality
//! panel, on SQLite and PostgreSQL.

use llmops_monitor::source::QualitySource;
use llmops_registry::{PromptContent, Registry, Score, Selector};
use llmops_store::now_ms;
use llmops_store::testing::TestDatabase;

async fn means_by_prompt_version_and_metric(database: TestDatabase) {
    let registry = Registry::open(database.store).await.unwrap();
    registry
        .publish("summary.ko", &PromptContent::text("v1"), "a")
        .await
        .unwrap();
    let v1 = registry.get("summary.ko", &Selector::Latest).await.unwrap();
    registry
        .publish("summary.ko", &PromptContent::text("v2"), "a")
        .await
        .unwrap();
    let v2 = registry.get("summary.ko", &Selector::Latest).await.unwrap();
    let now = now_ms();
    let old = now - 7_200_000;
    for (version, metric, value, at) in [
        (&v1, "groundedness", 0.25, now),
        (&v1, "groundedness", 0.75, now),
        (&v1, "exact_match", 1.0, now),
        (&v2, "groundedness", 0.9, now),
        // Outside a one-hour window.
        (&v2, "groundedness", 0.0, old),
    ] {
        registry
            .record_score(&Score::new(version, metric, value).at_ms(at))
            .await
            .unwrap();
    }

    let all = registry.score_summary(0).await.unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
    let v2_all = all
        .iter()
        .find(|row| row.version == v2.version)
        .expect("v2 row");
    assert_eq!(v2_all.count, 2);
    assert!((v2_all.mean - 0.45).abs() < 1e-12, "{v2_all:?}");

    let recent = registry.score_summary(now - 3_600_000).await.unwrap();
    let grounded_v1 = recent
        .iter()
        .find(|row| row.version == v1.version && row.metric == "groundedness")
        .expect("v1 groundedness");
    assert_eq!(grounded_v1.prompt, "summary.ko");
    assert_eq!(grounded_v1.count, 2);
    assert!((grounded_v1.mean - 0.5).abs() < 1e-12);

    // The panel reads the last hour only.
    let rows = registry.scores(3_600_000).await.unwrap();
    let v2_row = rows
        .iter()
        .find(|row| row.version == v2.version)
        .expect("v2 in the panel");
    assert_eq!(v2_row.count, 1);
    assert!((v2_row.mean - 0.9).abs() < 1e-12);
    assert_eq!(rows.len(), 3);
}
on_both_backends!(score_summary, means_by_prompt_version_and_metric);

async fn no_scores_is_empty(database: TestDatabase) {
    let registry = Registry::open(database.store).await.unwrap();
    assert!(registry.score_summary(0).await.unwrap().is_empty());
    assert!(registry.scores(60_000).await.unwrap().is_empty());
}
on_both_backends!(empty_summary, no_scores_is_empty);
