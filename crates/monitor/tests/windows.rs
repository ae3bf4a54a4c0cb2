//! Sliding windows over an injected clock.

use crate::common;

use common::{START_MS, monitor, request};
use llmops_monitor::{Outcome, RequestObservation, SnapshotSource, Window};

#[tokio::test]
async fn old_requests_drop_out_of_minute_window() {
    let (monitor, clock) = monitor();
    for _ in 0..3 {
        monitor.record_request(&request("m", 10.0));
    }
    clock.advance_ms(30_000);
    monitor.record_request(&request("m", 10.0));

    let snapshot = monitor.snapshot(Window::Minute).await;
    assert_eq!(snapshot.traffic.requests, 4);

    // 61 s after the first three, only the fourth is inside the minute.
    clock.advance_ms(31_000);
    let snapshot = monitor.snapshot(Window::Minute).await;
    assert_eq!(snapshot.traffic.requests, 1);
    let hour = monitor.snapshot(Window::Hour).await;
    assert_eq!(hour.traffic.requests, 4);

    clock.advance_ms(3_600_000);
    let hour = monitor.snapshot(Window::Hour).await;
    assert_eq!(hour.traffic.requests, 0);
    let day = monitor.snapshot(Window::Day).await;
    assert_eq!(day.traffic.requests, 4);

    clock.advance_ms(86_400_000);
    let day = monitor.snapshot(Window::Day).await;
    assert_eq!(day.traffic.requests, 0);
    assert_eq!(day.latency.p50_ms, None);
}

#[tokio::test]
async fn series_has_sixty_points_oldest_first() {
    let (monitor, clock) = monitor();
    monitor.record_request(&request("m", 10.0));
    clock.advance_ms(5_000);
    monitor.record_request(&request("m", 20.0));
    monitor.record_request(&RequestObservation {
        outcome: Outcome::Error("timeout"),
        ..request("m", 30.0)
    });

    let snapshot = monitor.snapshot(Window::Minute).await;
    let series = &snapshot.traffic.series;
    assert_eq!(series.len(), 60);
    assert!(
        series
            .windows(2)
            .all(|pair| pair[0].t_ms + 1_000 == pair[1].t_ms)
    );
    let last = series.last().unwrap();
    assert_eq!(last.t_ms, START_MS + 5_000);
    assert_eq!(last.requests, 2);
    assert_eq!(last.errors, 1);
    let first_request = &series[series.len() - 6];
    assert_eq!(first_request.requests, 1);
    assert_eq!(snapshot.traffic.errors_by_class[0].name, "timeout");
}

#[tokio::test]
async fn timestamps_outside_windows_are_dropped() {
    let (monitor, _clock) = monitor();
    let too_old = RequestObservation {
        timestamp_ms: Some(START_MS - 2 * 86_400_000),
        ..request("m", 1.0)
    };
    let future = RequestObservation {
        timestamp_ms: Some(START_MS + 60_000),
        ..request("m", 1.0)
    };
    let late_but_in_hour = RequestObservation {
        timestamp_ms: Some(START_MS - 120_000),
        ..request("m", 1.0)
    };
    monitor.record_request(&too_old);
    monitor.record_request(&future);
    monitor.record_request(&late_but_in_hour);

    assert_eq!(monitor.snapshot(Window::Minute).await.traffic.requests, 0);
    assert_eq!(monitor.snapshot(Window::Hour).await.traffic.requests, 1);
    let text = monitor.render_prometheus();
    assert!(
        text.contains("llmops_monitor_dropped_records_total 2\n"),
        "{text}"
    );
}

#[tokio::test]
async fn rates_and_ratios_follow_window() {
    let (monitor, _clock) = monitor();
    for index in 0..120 {
        let outcome = if index % 4 == 0 {
            Outcome::Error("rate_limited")
        } else {
            Outcome::Success
        };
        monitor.record_request(&RequestObservation {
            outcome,
            cache_lookup: true,
            cache_hit: index % 3 == 0,
            ..request("m", 10.0)
        });
    }
    let snapshot = monitor.snapshot(Window::Minute).await;
    assert_eq!(snapshot.traffic.requests, 120);
    assert_eq!(snapshot.traffic.errors, 30);
    assert_eq!(snapshot.traffic.error_ratio, Some(0.25));
    assert_eq!(snapshot.traffic.requests_per_second, 2.0);
    assert_eq!(snapshot.traffic.input_tokens, 12_000);
    assert_eq!(snapshot.cache.hits, 40);
    assert_eq!(snapshot.cache.lookups, 120);
    let hour = monitor.snapshot(Window::Hour).await;
    assert!((hour.traffic.requests_per_second - 120.0 / 3_600.0).abs() < 1e-12);
}
