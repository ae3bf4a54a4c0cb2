//! A deployment at run time: its backend, breaker and load statistics.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use llmops_core::ModelBackend;

use crate::config::{DeploymentConfig, HealthPolicy};
use crate::health::{Breaker, HealthState};

/// The weight of the newest latency in the moving average.
const LATENCY_EWMA_ALPHA: f64 = 0.2;

pub(crate) struct Deployment {
    pub(crate) config: DeploymentConfig,
    /// The configured model this deployment serves.
    pub(crate) model: String,
    pub(crate) backend: Arc<dyn ModelBackend>,
    /// Whether the backend runs on this machine; such a deployment counts
    /// as carrying the `on_prem` tag.
    pub(crate) local: bool,
    pub(crate) breaker: Breaker,
    in_flight: AtomicUsize,
    latency_ms: Mutex<Option<f64>>,
}

impl Deployment {
    pub(crate) fn new(
        config: DeploymentConfig,
        model: String,
        backend: Arc<dyn ModelBackend>,
        health: &HealthPolicy,
    ) -> Self {
        let local = backend.describe().local;
        Deployment {
            config,
            model,
            backend,
            local,
            breaker: Breaker::new(health),
            in_flight: AtomicUsize::new(0),
            latency_ms: Mutex::new(None),
        }
    }

    pub(crate) fn has_tags(&self, required: &[String]) -> bool {
        required
            .iter()
            .all(|tag| self.config.tags.contains(tag) || (self.local && tag == crate::ON_PREM_TAG))
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub(crate) fn latency_ms(&self) -> Option<f64> {
        *self
            .latency_ms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Folds one observed latency into the moving average.
    pub(crate) fn observe_latency(&self, latency: Duration) {
        let sample = latency.as_secs_f64() * 1_000.0;
        let mut average = self
            .latency_ms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *average = Some(match *average {
            Some(previous) => previous + LATENCY_EWMA_ALPHA * (sample - previous),
            None => sample,
        });
    }

    /// Counts a call in flight until the guard drops.
    pub(crate) fn start_call(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight {
            deployment: Arc::clone(self),
        }
    }

    pub(crate) fn health(&self, now: Instant) -> HealthState {
        self.breaker.state(now)
    }
}

/// Keeps a call counted in its deployment's in-flight load.
pub(crate) struct InFlight {
    deployment: Arc<Deployment>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.deployment.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
