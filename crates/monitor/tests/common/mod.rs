//! Helpers shared by the monitor's integration tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use llmops_monitor::{ManualClock, Monitor, MonitorBuilder, RequestObservation};

/// 2024-02-15T12:00:00Z, a fixed start for simulated time.
pub const START_MS: u64 = 1_707_998_400_000;

/// A builder on a manual clock at [`START_MS`], and the clock.
pub fn builder() -> (MonitorBuilder, ManualClock) {
    let clock = ManualClock::new(START_MS);
    (Monitor::builder().clock(Arc::new(clock.clone())), clock)
}

/// A monitor on a manual clock at [`START_MS`], and the clock.
pub fn monitor() -> (Monitor, ManualClock) {
    let (builder, clock) = builder();
    (builder.build().unwrap(), clock)
}

/// A successful request of `model` lasting `duration_ms`.
pub fn request(model: &str, duration_ms: f64) -> RequestObservation<'_> {
    RequestObservation {
        model,
        provider: "openai",
        operation: "chat",
        duration_ms,
        input_tokens: 100,
        output_tokens: 20,
        cost_usd: 0.01,
        ..RequestObservation::default()
    }
}
