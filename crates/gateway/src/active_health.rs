//! Active health checks: a background task per checked deployment that
//! sends a one-token completion on an interval and feeds the result into
//! the deployment's circuit breaker.

use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use llmops_core::Error;
use llmops_core::types::{ChatMessage, ChatRequest};
use tokio::task::AbortHandle;
use tokio::time::MissedTickBehavior;

use crate::config::HealthCheckConfig;
use crate::deployment::Deployment;
use crate::gateway::{Gateway, Inner};
use crate::health::CheckEffect;

/// The running check tasks of a gateway. Dropping it, with the last clone
/// of the gateway, stops them.
#[derive(Debug, Default)]
pub(crate) struct HealthChecks {
    tasks: Mutex<Vec<AbortHandle>>,
}

impl HealthChecks {
    fn stop(&self) -> usize {
        let tasks = std::mem::take(
            &mut *self
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for task in &tasks {
            task.abort();
        }
        tasks.len()
    }
}

impl Drop for HealthChecks {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Gateway {
    /// Starts a check task for every deployment with active health checks
    /// on the current Tokio runtime. Outside a runtime no check runs and a
    /// warning is logged.
    pub(crate) fn start_health_checks(&self) {
        let default = self.inner.config.health.check.as_ref();
        let checked: Vec<(usize, HealthCheckConfig)> = self
            .inner
            .deployments
            .iter()
            .enumerate()
            .filter_map(|(index, deployment)| {
                let check = deployment.config.effective_health_check(default)?;
                Some((index, check.clone()))
            })
            .collect();
        if checked.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                deployments = checked.len(),
                "active health checks not started: build the gateway inside a Tokio runtime"
            );
            return;
        };
        let mut tasks = self
            .inner
            .health_checks
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (index, check) in checked {
            let weak = Arc::downgrade(&self.inner);
            let task = runtime.spawn(check_loop(weak, index, check));
            tasks.push(task.abort_handle());
        }
        tracing::info!(deployments = tasks.len(), "active health checks started");
    }

    /// Stops the active health checks of this gateway and its clones, as a
    /// server does when it shuts down or a reload replaces the gateway.
    /// Calls keep feeding the circuit breakers. Checks also stop when the
    /// last clone of the gateway is dropped.
    pub fn stop_health_checks(&self) {
        let stopped = self.inner.health_checks.stop();
        if stopped > 0 {
            tracing::info!(deployments = stopped, "active health checks stopped");
        }
    }
}

/// Checks one deployment every `check.interval` until the gateway is gone.
/// The first check runs at once.
async fn check_loop(gateway: Weak<Inner>, index: usize, check: HealthCheckConfig) {
    let mut ticker = tokio::time::interval(check.interval);
    // The interval counts from the end of a slow check, so checks never
    // overlap or burst to catch up.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(deployment) = gateway
            .upgrade()
            .and_then(|inner| inner.deployments.get(index).cloned())
        else {
            return;
        };
        let passed = probe(&deployment, &check).await;
        let effect = deployment.breaker.apply_check(Instant::now(), passed);
        let id = deployment.config.id.as_str();
        match effect {
            CheckEffect::Ejected => {
                tracing::warn!(
                    deployment = id,
                    "deployment ejected by its active health check"
                );
            }
            CheckEffect::Restored => {
                tracing::info!(
                    deployment = id,
                    "deployment restored by its active health check"
                );
            }
            CheckEffect::None => {}
        }
        let Some(inner) = gateway.upgrade() else {
            return;
        };
        inner.counters.health_check(id, passed);
    }
}

/// Sends one check request and returns whether the deployment is healthy.
/// A timeout or an error that would eject a deployment during traffic (one
/// a retry may fix, or an authentication failure) fails the check. Any
/// other error, such as a rejected parameter, shows that the upstream
/// responds, so the check passes.
async fn probe(deployment: &Deployment, check: &HealthCheckConfig) -> bool {
    let mut request = ChatRequest::new(
        deployment.config.model.clone(),
        vec![ChatMessage::user("ping")],
    );
    request.max_tokens = Some(1);
    let id = deployment.config.id.as_str();
    match tokio::time::timeout(check.timeout, deployment.backend.complete(request)).await {
        Ok(Ok(_)) => {
            tracing::debug!(deployment = id, "active health check passed");
            true
        }
        Ok(Err(error)) => {
            let unhealthy = error.retry_may_help() || matches!(error, Error::Authentication { .. });
            tracing::debug!(
                deployment = id,
                class = error.class(),
                unhealthy,
                "active health check returned an error"
            );
            !unhealthy
        }
        Err(_) => {
            tracing::debug!(
                deployment = id,
                timeout_ms = check.timeout.as_millis() as u64,
                "active health check timed out"
            );
            false
        }
    }
}
