//! The state every handler shares: the current gateway, keys, metrics.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use llmops_core::Embedder;

use crate::counters::GatewayCounters;
use crate::gateway::Gateway;
use crate::server::Reloader;
use crate::server::keys::SharedKeyStore;
use crate::server::metrics::{Metrics, UNKNOWN_MODEL};

/// Shared by every handler through `Arc`.
pub(crate) struct AppState {
    /// The gateway that serves requests; a reload swaps it. Requests that
    /// already hold the old one finish on it.
    pub(crate) gateway: RwLock<Gateway>,
    /// Rebuilds the gateway on reload, when the server has a source to
    /// rebuild it from.
    pub(crate) reloader: Option<Reloader>,
    /// Serializes reloads.
    pub(crate) reload_lock: tokio::sync::Mutex<()>,
    pub(crate) keys: SharedKeyStore,
    /// The SHA-256 hex digest of the master key.
    pub(crate) master_hash: Option<String>,
    /// No master key and no keys at start: every request is served.
    pub(crate) open: bool,
    pub(crate) metrics: Metrics,
    /// Embedding models by public name.
    pub(crate) embedders: HashMap<String, Arc<dyn Embedder>>,
    pub(crate) max_body_bytes: usize,
    pub(crate) drain_timeout: Duration,
    /// Unix time in seconds when the server was built, the `created` of
    /// every model in `GET /v1/models`.
    pub(crate) started_at_s: u64,
    /// Set when the drain timeout passed: requests still running end.
    pub(crate) cut: tokio::sync::watch::Sender<bool>,
    /// The event counts of gateways that reloads replaced, so the
    /// counters in `/metrics` do not restart at each reload.
    pub(crate) retired_counters: Mutex<GatewayCounters>,
}

impl AppState {
    /// Returns the gateway that serves new requests.
    pub(crate) fn gateway(&self) -> Gateway {
        self.gateway
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the gateway for requests that start from now on, stops the
    /// old gateway's active health checks and keeps its event counts.
    ///
    /// NOTE: events of requests that still run on the old gateway after
    /// the swap are not counted.
    pub(crate) fn swap_gateway(&self, gateway: Gateway) {
        let old = std::mem::replace(
            &mut *self
                .gateway
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            gateway,
        );
        old.stop_health_checks();
        self.retired_counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .add(&old.counters());
    }

    /// Returns the event counts of the current gateway plus those of the
    /// gateways reloads replaced.
    pub(crate) fn gateway_counters(&self) -> GatewayCounters {
        let mut counts = self
            .retired_counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        counts.add(&self.gateway().counters());
        counts
    }

    /// Returns a future that resolves once the drain timeout after a
    /// shutdown signal has passed.
    pub(crate) fn cut_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut cut = self.cut.subscribe();
        async move {
            if cut.wait_for(|cut| *cut).await.is_err() {
                // The server state is gone, so nothing will cut requests.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Returns the metrics label of `model`: its name when the server serves
    /// it, else [`UNKNOWN_MODEL`].
    pub(crate) fn model_label(&self, gateway: &Gateway, model: &str) -> String {
        let served =
            gateway.config().find_model(model).is_some() || self.embedders.contains_key(model);
        if served {
            model.to_owned()
        } else {
            UNKNOWN_MODEL.to_owned()
        }
    }
}
