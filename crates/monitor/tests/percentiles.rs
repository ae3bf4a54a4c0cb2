//! Window percentiles against exact order statistics.

use crate::common;

use common::{monitor, request};
use llmops_monitor::{RELATIVE_ERROR, SnapshotSource, Window};
use proptest::prelude::*;

/// The sketch's rank: the lower of the two values around `q`.
fn exact(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * (sorted.len() as f64 - 1.0)) as usize;
    sorted[rank]
}

fn within(actual: f64, expected: f64) -> bool {
    // A little slack over the stated error for float rounding.
    (actual - expected).abs() <= expected * RELATIVE_ERROR * 1.0001 + 1e-9
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn percentiles_within_relative_error(
        durations in proptest::collection::vec(0.5f64..120_000.0, 1..400),
        spread_ms in 0u64..59_000,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (monitor, clock) = monitor();
        // Spread the requests over the minute so several buckets merge.
        let step = spread_ms / durations.len() as u64;
        for duration in &durations {
            monitor.record_request(&request("m", *duration));
            clock.advance_ms(step);
        }
        let snapshot = runtime.block_on(monitor.snapshot(Window::Minute));
        let mut sorted = durations.clone();
        sorted.sort_by(f64::total_cmp);

        let latency = snapshot.latency;
        for (q, actual) in [(0.5, latency.p50_ms), (0.9, latency.p90_ms), (0.95, latency.p95_ms), (0.99, latency.p99_ms)] {
            let actual = actual.unwrap();
            let expected = exact(&sorted, q);
            prop_assert!(within(actual, expected), "q{q}: {actual} vs {expected}");
        }
    }
}
