//! The dashboard in a real headless Chromium, driven over WebDriver by
//! chromedriver: the page loads, every chart draws, the numbers match the
//! snapshot, changes arrive live, absent panels show their hint, hostile
//! text stays text, and the feedback form posts.
//!
//! Needs `chromium` and `chromedriver` (the Debian packages `chromium` and
//! `chromium-driver`), found on `PATH` or through `LLMOPS_CHROMIUM` and
//! `LLMOPS_CHROMEDRIVER`. Without them the test prints why and passes,
//! except when `CI` is set: there it fails. With
//! `LLMOPS_DASHBOARD_SCREENSHOT=file.png` it saves the loaded page.

#![cfg(feature = "dashboard")]
use crate::support;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use futures::FutureExt;
use llmops_monitor::dashboard::DashboardState;
use llmops_monitor::{Panel, Window};
use serde_json::json;
use support::browser::{LIVE_DEADLINE, START_DEADLINE, fill_feedback, launch, run, text, wait_for};
use support::{HOSTILE_MODEL, TestSink, TestSource, full_snapshot, serve};

/// Returns whether the first drawn series of an SVG chart has a width, a
/// height and a path of more than a few points.
const SERIES_BOX: &str = "const path = document.querySelector(arguments[0] + ' path.series'); \
     if (!path) return null; const box = path.getBBox(); \
     return [box.width > 0, box.height > 0, path.getAttribute('d').length > 20];";

const BAR_CONTAINERS: [&str; 9] = [
    "bars-errors",
    "bars-cost-model",
    "bars-cost-team",
    "bars-cost-prompt",
    "budgets",
    "bars-fallback",
    "bars-guard",
    "bars-hallucination",
    "bars-topics",
];

#[tokio::test]
async fn dashboard_in_headless_chromium() {
    let Some((driver, browser)) = launch().await else {
        return;
    };
    let source = TestSource::new(full_snapshot(Window::Minute, 1234));
    let sink = TestSink::new(&["gw-1"]);
    let state = DashboardState::new(source.clone())
        .with_feedback(sink.clone())
        .with_interval(Duration::from_millis(200))
        .unwrap();
    let server = serve(state).await;

    // Close the browser even when a check fails, so no Chromium outlives
    // the test.
    let page = server.url("/dashboard");
    let checks = check_page(&browser, &page, &server.state, &source, &sink);
    let outcome = AssertUnwindSafe(checks).catch_unwind().await;
    let closed = browser.close().await;
    server.stop().await;
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    closed.unwrap();
}

async fn check_page(
    browser: &Client,
    url: &str,
    state: &DashboardState,
    source: &Arc<TestSource>,
    sink: &Arc<TestSink>,
) {
    check_loaded_page(browser, url, source, sink).await;

    // With the streams closed the page loses its connection and shows it.
    state.close_streams();
    wait_for(
        browser,
        "return document.getElementById('status').dataset.state;",
        json!("reconnecting"),
        LIVE_DEADLINE,
    )
    .await;
}

async fn check_loaded_page(
    browser: &Client,
    url: &str,
    source: &Arc<TestSource>,
    sink: &Arc<TestSink>,
) {
    browser.set_window_size(1366, 768).await.unwrap();
    browser.goto(url).await.unwrap();
    assert_eq!(browser.title().await.unwrap(), "llmops dashboard");
    wait_for(
        browser,
        "return document.getElementById('status').dataset.state;",
        json!("live"),
        START_DEADLINE,
    )
    .await;
    wait_for(
        browser,
        "return document.getElementById('traffic-requests').dataset.value;",
        json!("1234"),
        START_DEADLINE,
    )
    .await;

    if let Some(path) = std::env::var_os("LLMOPS_DASHBOARD_SCREENSHOT") {
        let png = browser.screenshot().await.unwrap();
        std::fs::write(path, png).unwrap();
    }
    check_values(browser).await;
    check_charts(browser).await;
    check_hostile_text(browser).await;
    check_layout(browser).await;
    check_live_update(browser, source).await;
    check_window_switch(browser, source).await;
    check_absent_panels(browser, source).await;
    check_feedback_form(browser, sink).await;
}

async fn check_values(browser: &Client) {
    let cases = [
        ("#traffic-requests", "1,234"),
        ("#traffic-errors", "7"),
        ("#latency-p50", "120.5 ms"),
        ("#latency-p99", "900 ms"),
        ("#latency-ttft-p99", "–"),
        ("#tokens-input", "123,456"),
        ("#cost-total", "$12.50"),
        ("#cost-month-end", "$321.75"),
        ("#cache-ratio", "25%"),
        ("#cache-hits", "25 / 100"),
        ("#fallback-count", "4"),
        ("#drift-severity", "warning"),
        ("#drift-baseline", "march"),
        ("#oversight-pending", "3"),
        ("#oversight-oldest", "90 min"),
        ("#feedback-count", "1"),
        ("#feedback-mean", "2 / 5"),
    ];
    for (selector, expected) in cases {
        assert_eq!(text(browser, selector).await, expected, "{selector}");
    }

    let scores = text(browser, "#scores tbody tr").await;
    assert!(scores.contains("faq@3"), "{scores}");
    assert!(scores.contains("groundedness"), "{scores}");
    assert!(scores.contains("0.82"), "{scores}");
    assert!(
        scores.contains("4.5 / 5"),
        "feedback mean beside the score: {scores}"
    );

    let hallucination = text(browser, "#bars-hallucination .row").await;
    assert!(
        hallucination.contains("claude-haiku · faq@3"),
        "{hallucination}"
    );
    assert!(hallucination.contains("7.5% of 40"), "{hallucination}");

    let budget = text(browser, "#budgets .row").await;
    assert!(
        budget.contains("$8.00 of $10.00, projected $14.00"),
        "{budget}"
    );
    let over = run(
        browser,
        "return document.querySelector('#budgets .row').classList.contains('over');",
    )
    .await;
    assert_eq!(
        over,
        json!(true),
        "a budget projected over its limit is marked"
    );

    let alternative = text(browser, "#alternatives tbody tr").await;
    assert!(alternative.contains("gpt-4o-mini"), "{alternative}");
    assert!(alternative.contains("×0.1"), "{alternative}");

    let topics = text(browser, "#bars-topics").await;
    assert!(topics.contains("Passwort zurücksetzen 🔑"), "{topics}");
    assert!(topics.contains("80%"), "{topics}");

    let alert = run(
        browser,
        "return document.querySelector('#alerts li').dataset.status;",
    )
    .await;
    assert_eq!(alert, json!("firing"));
}

async fn check_charts(browser: &Client) {
    for chart in [
        "#chart-traffic",
        "#chart-latency",
        "#chart-tokens",
        "#chart-cost",
    ] {
        let drawn = browser
            .execute(SERIES_BOX, vec![json!(chart)])
            .await
            .unwrap();
        assert_eq!(
            drawn,
            json!([true, true, true]),
            "{chart} has no drawn line"
        );
    }
    let latency_lines = run(
        browser,
        "return document.querySelectorAll('#chart-latency path.series').length;",
    )
    .await;
    assert_eq!(latency_lines, json!(3), "p50, p95 and p99");
    let gauge = run(
        browser,
        "const bar = document.querySelector('#chart-cache rect.bar'); \
         return bar ? bar.getBBox().width : 0;",
    )
    .await;
    assert!(
        gauge.as_f64().unwrap() > 0.0,
        "cache gauge is empty: {gauge}"
    );
    for container in BAR_CONTAINERS {
        let widths = browser
            .execute(
                "return [...document.querySelectorAll('#' + arguments[0] + ' rect.bar')] \
                 .map((bar) => bar.getBoundingClientRect().width);",
                vec![json!(container)],
            )
            .await
            .unwrap();
        let widths: Vec<f64> = widths
            .as_array()
            .unwrap()
            .iter()
            .map(|width| width.as_f64().unwrap())
            .collect();
        assert!(
            widths.iter().any(|width| *width > 0.0),
            "#{container} draws no bar: {widths:?}"
        );
    }
}

async fn check_hostile_text(browser: &Client) {
    let label = text(browser, "#bars-cost-model .row .label").await;
    assert_eq!(label, HOSTILE_MODEL);
    let parsed = run(
        browser,
        "return [typeof window.__injected, \
         document.querySelectorAll('#bars-cost-model b, #bars-cost-model script').length, \
         document.querySelectorAll('#feedback-recent img').length];",
    )
    .await;
    assert_eq!(
        parsed,
        json!(["undefined", 0, 0]),
        "snapshot text was parsed as HTML"
    );
    let comment = text(browser, "#feedback-recent .comment").await;
    assert_eq!(comment, "<img src=x onerror=alert(1)> wrong answer");
}

async fn check_layout(browser: &Client) {
    let widths = run(
        browser,
        "return [document.documentElement.scrollWidth, window.innerWidth];",
    )
    .await;
    let scroll = widths[0].as_f64().unwrap();
    let inner = widths[1].as_f64().unwrap();
    assert!(
        scroll <= inner,
        "horizontal scrolling at 1366x768: content {scroll} px, window {inner} px"
    );
}

async fn check_live_update(browser: &Client, source: &Arc<TestSource>) {
    source.set(full_snapshot(Window::Minute, 98_765));
    wait_for(
        browser,
        "return document.getElementById('traffic-requests').textContent;",
        json!("98,765"),
        LIVE_DEADLINE,
    )
    .await;
}

async fn check_window_switch(browser: &Client, source: &Arc<TestSource>) {
    browser
        .find(Locator::Css("#window button[data-window='1h']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(
        browser,
        "return document.querySelector(\"#window button[data-window='1h']\").getAttribute('aria-pressed');",
        json!("true"),
        LIVE_DEADLINE,
    )
    .await;
    let deadline = Instant::now() + LIVE_DEADLINE;
    while source.last_window() != Some(Window::Hour) {
        assert!(
            Instant::now() < deadline,
            "the page never asked for the 1h window"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn check_absent_panels(browser: &Client, source: &Arc<TestSource>) {
    let mut snapshot = full_snapshot(Window::Hour, 5);
    snapshot.drift = Panel::Absent {
        hint: "no drift report yet: run llmops drift baseline".into(),
    };
    snapshot.oversight = Panel::Absent {
        hint: "no review queue is configured".into(),
    };
    snapshot.quality = Panel::Error {
        message: "the evaluation store <db> is unreachable".into(),
    };
    source.set(snapshot);

    wait_for(
        browser,
        "return document.getElementById('panel-drift').dataset.status;",
        json!("absent"),
        LIVE_DEADLINE,
    )
    .await;
    assert_eq!(
        text(browser, "#drift-note").await,
        "no drift report yet: run llmops drift baseline"
    );
    assert_eq!(
        text(browser, "#oversight-note").await,
        "no review queue is configured"
    );

    let quality = run(
        browser,
        "return document.getElementById('panel-quality').dataset.status;",
    )
    .await;
    assert_eq!(quality, json!("error"));
    assert_eq!(
        text(browser, "#quality-note").await,
        "Source failed: the evaluation store <db> is unreachable"
    );

    let hidden = run(
        browser,
        "return getComputedStyle(document.querySelector('#panel-drift .panel-body')).display;",
    )
    .await;
    assert_eq!(
        hidden,
        json!("none"),
        "an absent panel hides its stale data"
    );
}

async fn check_feedback_form(browser: &Client, sink: &Arc<TestSink>) {
    let comment = "<script>window.__injected=2</script> Très bien 👍";
    fill_feedback(browser, "gw-1", "2", comment).await;
    wait_for(
        browser,
        "return document.getElementById('fb-result').dataset.state;",
        json!("ok"),
        LIVE_DEADLINE,
    )
    .await;
    let stored = sink.stored.lock().unwrap().clone();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].request_id, "gw-1");
    assert_eq!(stored[0].rating, 2);
    assert_eq!(stored[0].comment.as_deref(), Some(comment));

    fill_feedback(browser, "gw-unknown", "5", "").await;
    wait_for(
        browser,
        "return document.getElementById('fb-result').dataset.state;",
        json!("error"),
        LIVE_DEADLINE,
    )
    .await;
    let message = text(browser, "#fb-result").await;
    assert!(message.contains("gw-unknown"), "{message}");
    assert_eq!(sink.stored.lock().unwrap().len(), 1);
}
