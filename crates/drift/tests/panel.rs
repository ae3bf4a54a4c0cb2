//! The newest report across baselines, and the dashboard's drift panel, on
//! SQLite and PostgreSQL.

use llmops_drift::{
    Baseline, BaselineConfig, DriftCheck, DriftPanel, DriftStore, HashingEmbedder, Policy,
    TopicCount, Window, WindowSpan,
};
use llmops_monitor::source::DriftSource;
use llmops_store::Store;
use llmops_store::testing::{postgres, sqlite_file};

const TOPICS: [&str; 3] = [
    "항공권 예약 flight",
    "card declined 카드",
    "set an alarm 알람",
];

fn texts(count: usize, topics: &[&str]) -> Vec<String> {
    (0..count)
        .map(|i| format!("{} {}", topics[i % topics.len()], i))
        .collect()
}

async fn latest_report_across_baselines(store: Store) {
    let drift = DriftStore::open(store).await.unwrap();
    let panel = DriftPanel::new(drift.clone());
    assert_eq!(drift.latest_report().await.unwrap(), None);
    assert_eq!(panel.latest().await.unwrap(), None);

    let embedder = HashingEmbedder::new(16);
    let config = BaselineConfig::default().topics(TopicCount::Fixed(3));
    let baseline = Baseline::build(&embedder, &Window::new(texts(200, &TOPICS)), &config)
        .await
        .unwrap();
    let first = drift.save_baseline("bot-a", &baseline).await.unwrap();
    let second = drift.save_baseline("bot-b", &baseline).await.unwrap();
    let check = DriftCheck::new(baseline, Policy::default());
    let same = check
        .check(&embedder, &Window::new(texts(60, &TOPICS)))
        .await
        .unwrap();
    let shifted = check
        .check(&embedder, &Window::new(texts(60, &TOPICS[..1])))
        .await
        .unwrap();
    let span = |start: i64| WindowSpan {
        start_ms: start,
        end_ms: start + 1_000,
    };
    drift
        .save_report(first, span(5_000), &same.report)
        .await
        .unwrap();
    let newest = drift
        .save_report(second, span(1_000), &shifted.report)
        .await
        .unwrap();

    // The newest saved report wins, whatever its window or baseline.
    let (name, stored) = drift.latest_report().await.unwrap().unwrap();
    assert_eq!(name, "bot-b");
    assert_eq!(stored.id, newest);
    assert_eq!(stored.report, shifted.report);

    let summary = panel.latest().await.unwrap().unwrap();
    assert_eq!(summary.baseline, "bot-b");
    assert_eq!(summary.severity, shifted.report.severity.as_str());
    assert_eq!(summary.topics.len(), shifted.report.topic_shares.len());
    let total: f64 = summary.topics.iter().map(|topic| topic.current).sum();
    assert!((total - 1.0).abs() < 1e-9, "current shares sum to {total}");
    let psi = summary
        .measures
        .iter()
        .find(|measure| measure.name == "topic shares: PSI")
        .unwrap_or_else(|| {
            panic!(
                "PSI is not in {:?} from {:?}",
                summary.measures, shifted.report.measures
            )
        });
    assert_eq!(psi.threshold, Some(0.25));
    assert!(psi.value.is_finite());
    let chi = summary
        .measures
        .iter()
        .find(|measure| measure.name.ends_with("(p-value)"))
        .expect("a p-value measure is shown");
    assert_eq!(chi.threshold, Some(0.01));
    assert!((0.0..=1.0).contains(&chi.value));
}

#[tokio::test]
async fn sqlite_latest_report() {
    latest_report_across_baselines(sqlite_file().await.unwrap().store).await;
}

#[tokio::test]
async fn postgres_latest_report() {
    if let Some(database) = postgres("postgres_latest_report").await {
        latest_report_across_baselines(database.store).await;
    }
}
