//! A rating posted to `POST /v1/feedback` for a request id appears in the
//! quality panel beside the evaluation scores of the prompt version that
//! served the request. The tests check the snapshot JSON and the score
//! table of the page in headless Chromium, which is skipped without
//! Chromium as in `dashboard_browser.rs`.

#![cfg(feature = "dashboard")]
use crate::support;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use fantoccini::Client;
use futures::FutureExt;
use llmops_monitor::dashboard::DashboardState;
use llmops_monitor::{FeedbackStore, Monitor, PromptRef};
use llmops_store::Store;
use serde_json::{Value, json};
use support::browser::{LIVE_DEADLINE, START_DEADLINE, fill_feedback, launch, run, wait_for};
use support::serve;

const FAQ_3: PromptRef<'static> = PromptRef {
    name: "faq",
    version: 3,
};
const FAQ_4: PromptRef<'static> = PromptRef {
    name: "faq",
    version: 4,
};

/// A monitor on the system clock with scores for `faq@3` (two metrics) and
/// `faq@4`, a feedback store on in-memory SQLite that maps the request
/// `req-3` to `faq@3`, and a dashboard over both.
async fn scored_dashboard() -> DashboardState {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let feedback = FeedbackStore::open(store).await.unwrap();
    feedback
        .remember_request("req-3", "gpt-4o-mini", Some(FAQ_3))
        .await
        .unwrap();
    let monitor = Monitor::builder()
        .feedback_store(feedback.clone())
        .build()
        .unwrap();
    monitor.record_score("gpt-4o-mini", Some(FAQ_3), "groundedness", 0.8);
    monitor.record_score("gpt-4o-mini", Some(FAQ_3), "exact_match", 1.0);
    monitor.record_score("gpt-4o-mini", Some(FAQ_4), "groundedness", 0.6);
    DashboardState::new(Arc::new(monitor))
        .with_feedback(Arc::new(feedback))
        .with_interval(Duration::from_millis(200))
        .unwrap()
}

async fn post_feedback(url: &str, body: &Value) -> u16 {
    let response = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn posted_rating_joins_version_scores() {
    let server = serve(scored_dashboard().await).await;
    let url = server.url("/v1/feedback");
    let first = json!({"request_id": "req-3", "rating": 5, "comment": "clear answer ✓"});
    assert_eq!(post_feedback(&url, &first).await, 201);
    let second = json!({"request_id": "req-3", "rating": 2, "comment": ""});
    assert_eq!(post_feedback(&url, &second).await, 201);

    let snapshot: Value = reqwest::get(server.url("/dashboard/api/snapshot?window=1h"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.stop().await;

    let quality = &snapshot["quality"]["data"];
    let rows = quality["scores"].as_array().unwrap();
    let faq_3: Vec<&Value> = rows.iter().filter(|row| row["version"] == 3).collect();
    assert_eq!(faq_3.len(), 2, "{rows:?}");
    for row in &faq_3 {
        assert_eq!(row["feedback_mean"], json!(3.5), "{row}");
    }
    let faq_4 = rows.iter().find(|row| row["version"] == 4).unwrap();
    assert_eq!(faq_4["feedback_mean"], Value::Null);

    let feedback = quality["feedback"].as_array().unwrap();
    assert_eq!(feedback.len(), 1, "{feedback:?}");
    assert_eq!(feedback[0]["prompt"], "faq");
    assert_eq!(feedback[0]["version"], 3);
    assert_eq!(feedback[0]["count"], 2);
    assert_eq!(feedback[0]["mean_rating"], json!(3.5));
    assert_eq!(feedback[0]["positive_ratio"], json!(0.5));
    // The empty comment is left out.
    assert_eq!(feedback[0]["latest_comments"], json!(["clear answer ✓"]));
}

#[tokio::test]
async fn rated_version_without_scores_is_listed() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let feedback = FeedbackStore::open(store).await.unwrap();
    feedback
        .remember_request("req-9", "gpt-4o-mini", Some(FAQ_4))
        .await
        .unwrap();
    // No quality source and no scores: before any rating the panel is
    // absent, after one it lists the rated version.
    let monitor = Monitor::builder()
        .feedback_store(feedback.clone())
        .build()
        .unwrap();
    let server =
        serve(DashboardState::new(Arc::new(monitor)).with_feedback(Arc::new(feedback))).await;
    let snapshot_url = server.url("/dashboard/api/snapshot?window=1m");

    let before: Value = reqwest::get(&snapshot_url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before["quality"]["status"], "absent");

    let body = json!({"request_id": "req-9", "rating": 4, "comment": "ok"});
    assert_eq!(post_feedback(&server.url("/v1/feedback"), &body).await, 201);
    let after: Value = reqwest::get(&snapshot_url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.stop().await;

    assert_eq!(after["quality"]["status"], "ok");
    assert_eq!(after["quality"]["data"]["scores"], json!([]));
    let feedback = &after["quality"]["data"]["feedback"][0];
    assert_eq!(feedback["version"], 4);
    assert_eq!(feedback["positive_ratio"], json!(1.0));
}

/// The text of each cell of the score table's rows of `version`, row by
/// row.
const VERSION_ROWS: &str = "return Array.from(document.querySelectorAll('#scores tbody tr')) \
     .filter((row) => row.dataset.version === arguments[0]) \
     .map((row) => Array.from(row.cells).map((cell) => cell.textContent));";

#[tokio::test]
async fn posted_rating_shows_beside_scores() {
    let Some((driver, browser)) = launch().await else {
        return;
    };
    let server = serve(scored_dashboard().await).await;
    let page = server.url("/dashboard");
    let outcome = AssertUnwindSafe(check_rating_in_table(&browser, &page))
        .catch_unwind()
        .await;
    let closed = browser.close().await;
    server.stop().await;
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    closed.unwrap();
}

async fn check_rating_in_table(browser: &Client, page: &str) {
    browser.goto(page).await.unwrap();
    wait_for(
        browser,
        "return document.getElementById('status').dataset.state;",
        json!("live"),
        START_DEADLINE,
    )
    .await;
    fill_feedback(browser, "req-3", "5", "clear answer ✓").await;
    wait_for(
        browser,
        "return document.getElementById('fb-result').dataset.state;",
        json!("ok"),
        LIVE_DEADLINE,
    )
    .await;
    // The next pushed snapshot carries the rating.
    wait_for(
        browser,
        "const cell = document.querySelector('#scores tr[data-version=\"faq@3\"] td[data-feedback=rating]'); \
         return cell ? cell.textContent : null;",
        json!("5 / 5 (1)"),
        LIVE_DEADLINE,
    )
    .await;

    let rows = run(browser, &VERSION_ROWS.replace("arguments[0]", "'faq@3'")).await;
    let rows: Vec<Vec<String>> = serde_json::from_value(rows).unwrap();
    assert_eq!(rows.len(), 2, "one row per metric: {rows:?}");
    let first = &rows[0];
    assert_eq!(first[0], "faq@3");
    assert!(first.contains(&"5 / 5 (1)".to_owned()), "{first:?}");
    assert!(first.contains(&"100%".to_owned()), "{first:?}");
    assert!(first.contains(&"clear answer ✓".to_owned()), "{first:?}");
    let spans = run(
        browser,
        "return Array.from(document.querySelectorAll('#scores tr[data-version=\"faq@3\"] td[data-feedback]')) \
         .map((cell) => cell.rowSpan);",
    )
    .await;
    assert_eq!(
        spans,
        json!([2, 2, 2]),
        "feedback cells span both metric rows"
    );

    let other = run(browser, &VERSION_ROWS.replace("arguments[0]", "'faq@4'")).await;
    let other: Vec<Vec<String>> = serde_json::from_value(other).unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0][4], "–", "faq@4 has no rating: {other:?}");
}
