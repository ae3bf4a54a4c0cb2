//! An OpenAI-compatible HTTP server over a [`Gateway`](crate::Gateway)
//! (feature `server`).
//!
//! Routes:
//!
//! | Route | Purpose |
//! | --- | --- |
//! | `POST /v1/chat/completions` | chat, as JSON or server-sent events |
//! | `POST /v1/embeddings` | embeddings from registered [`Embedder`]s |
//! | `GET /v1/models` | the models the caller may use |
//! | `GET /health` | liveness and deployment health |
//! | `GET /metrics` | Prometheus metrics with OpenTelemetry GenAI names |
//! | `POST/GET /admin/keys`, `DELETE /admin/keys/{id}` | virtual API keys |
//! | `POST /admin/reload` | rebuild the gateway from its configuration |
//!
//! Chat responses carry the gateway's record id in the
//! `x-llmops-request-id` header ([`REQUEST_ID_HEADER`]). An application
//! mounts more routes, such as a dashboard, with [`ServerBuilder::routes`]
//! (open to loopback clients) and [`ServerBuilder::authenticated_routes`]
//! (the same keys as chat).
//!
//! Clients authenticate with `Authorization: Bearer sk-llmops-...`, a
//! virtual key created through the admin API, which takes only the master
//! key. A server started with no master key and no keys serves everyone.
//! Errors have the OpenAI body `{"error":{"message","type","param","code"}}`.
//!
//! ```no_run
//! use llmops_gateway::server::{Server, shutdown_signal};
//! use llmops_gateway::{Gateway, GatewayConfig};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = GatewayConfig::load("gateway.toml")?;
//! let gateway = Gateway::builder(config).build()?;
//! let server = Server::builder(gateway)
//!     .reload_with(|| Gateway::builder(GatewayConfig::load("gateway.toml")?).build())
//!     .build()
//!     .await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
//! server.serve(listener, shutdown_signal()).await?;
//! # Ok(()) }
//! ```

mod admin;
mod auth;
mod chat;
mod embeddings;
mod error;
mod extra;
mod gateway_metrics;
mod info;
mod key_limits;
mod keys;
mod lifecycle;
mod metrics;
mod sse;
mod state;
mod validate;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use llmops_core::Embedder;
use tokio::net::TcpListener;

pub use chat::{REQUEST_ID_HEADER, TASK_HEADER};
pub use error::ServerError;
pub use keys::sql::KEY_MIGRATIONS;
pub use keys::{
    CreatedKey, KEY_PREFIX, KeyStore, MemoryKeyStore, NewKey, SharedKeyStore, SqlKeyStore,
    VirtualKey, create_key, hash_secret,
};
pub use lifecycle::shutdown_signal;

use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::server::extra::{Access, ExtraRoutes};
use crate::server::key_limits::apply_key_limits;
use crate::server::metrics::Metrics;
use crate::server::state::AppState;

/// Rebuilds the gateway, typically by reading its configuration file again.
pub type Reloader = Arc<dyn Fn() -> Result<Gateway, GatewayError> + Send + Sync>;

/// The default limit on request bodies: 8 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The default time in-flight requests get to finish after a shutdown
/// signal.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Collects a server's gateway, keys and limits.
pub struct ServerBuilder {
    gateway: Gateway,
    reloader: Option<Reloader>,
    keys: Option<SharedKeyStore>,
    master_key: Option<String>,
    embedders: HashMap<String, Arc<dyn Embedder>>,
    max_body_bytes: usize,
    drain_timeout: Duration,
    extra: Vec<ExtraRoutes>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("gateway", &self.gateway)
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "<redacted>"),
            )
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// Rebuilds the gateway with `reloader` on `POST /admin/reload` and, with
    /// [`ServerHandle::reload_on_sighup`], on SIGHUP. Without it a reload
    /// fails and the gateway keeps serving.
    ///
    /// Build every gateway on one [`SharedState`](crate::SharedState)
    /// ([`GatewayBuilder::shared_state`](crate::GatewayBuilder::shared_state)):
    /// a gateway built without one starts with empty rate-limit windows,
    /// spend and cache.
    pub fn reload_with(
        mut self,
        reloader: impl Fn() -> Result<Gateway, GatewayError> + Send + Sync + 'static,
    ) -> Self {
        self.reloader = Some(Arc::new(reloader));
        self
    }

    /// Keeps virtual keys in `store`; a [`MemoryKeyStore`] when unset.
    pub fn key_store(mut self, store: SharedKeyStore) -> Self {
        self.keys = Some(store);
        self
    }

    /// Sets the master key, which may use every model and the admin API.
    /// Only its SHA-256 hash is kept. Without one the admin API is off.
    pub fn master_key(mut self, master_key: impl Into<String>) -> Self {
        self.master_key = Some(master_key.into());
        self
    }

    /// Serves `POST /v1/embeddings` for `model` with `embedder`.
    pub fn embedder(mut self, model: impl Into<String>, embedder: Arc<dyn Embedder>) -> Self {
        self.embedders.insert(model.into(), embedder);
        self
    }

    /// Sets the largest request body in bytes; 8 MiB by default.
    pub fn max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// Sets how long in-flight requests may run after a shutdown signal;
    /// 30 s by default.
    pub fn drain_timeout(mut self, drain_timeout: Duration) -> Self {
        self.drain_timeout = drain_timeout;
        self
    }

    /// Mounts `routes` next to the OpenAI routes, for read-only pages such
    /// as a dashboard. Clients on the loopback interface call them without
    /// a key. Clients elsewhere need a key that chat accepts, unless the
    /// server is open. Paths must not clash with the server's own.
    pub fn routes(mut self, routes: Router) -> Self {
        self.extra.push(ExtraRoutes {
            router: routes,
            access: Access::LoopbackOrKey,
        });
        self
    }

    /// Mounts `routes` next to the OpenAI routes behind the same keys as
    /// chat, from every address: the master key, a virtual key, or anyone
    /// on an open server. Model restrictions of a key do not apply.
    pub fn authenticated_routes(mut self, routes: Router) -> Self {
        self.extra.push(ExtraRoutes {
            router: routes,
            access: Access::Key,
        });
        self
    }

    /// Reads the key store and builds the server.
    ///
    /// # Errors
    ///
    /// Returns [`ServerError::InvalidKey`] for an empty master key and
    /// [`ServerError::Store`] when the key store cannot be read.
    pub async fn build(self) -> Result<Server, ServerError> {
        let master_hash = match self.master_key {
            Some(master_key) if master_key.trim().is_empty() => {
                return Err(ServerError::InvalidKey {
                    field: "master_key".to_owned(),
                    message: "the master key is empty; set a long random value or unset it"
                        .to_owned(),
                });
            }
            Some(master_key) => Some(hash_secret(master_key.trim())),
            None => None,
        };
        // Routing by embedding works without this, embedding the examples
        // at the first request that needs them instead.
        if let Err(error) = self.gateway.embed_task_examples().await {
            tracing::warn!(%error, "task examples not embedded at start; the first request that needs them tries again");
        }
        let keys: SharedKeyStore = self.keys.unwrap_or_else(|| Arc::new(MemoryKeyStore::new()));
        let existing = keys.list().await?;
        for key in &existing {
            apply_key_limits(key, &self.gateway);
        }
        let open = master_hash.is_none() && existing.is_empty();
        if open {
            tracing::warn!(
                "no master key and no API keys: the server is open and serves every request; set LLMOPS_MASTER_KEY to require keys"
            );
        } else if master_hash.is_none() {
            tracing::info!(
                keys = existing.len(),
                "API keys required; the admin API is off because no master key is set"
            );
        }
        let started_at_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let state = AppState {
            gateway: RwLock::new(self.gateway),
            reloader: self.reloader,
            reload_lock: tokio::sync::Mutex::new(()),
            keys,
            master_hash,
            open,
            metrics: Metrics::default(),
            embedders: self.embedders,
            max_body_bytes: self.max_body_bytes,
            drain_timeout: self.drain_timeout,
            started_at_s,
            cut: tokio::sync::watch::Sender::new(false),
            retired_counters: std::sync::Mutex::default(),
        };
        Ok(Server {
            state: Arc::new(state),
            extra: self.extra,
        })
    }
}

/// The HTTP server. Embed its [`Server::router`] in an application, or run
/// it with [`Server::serve`].
pub struct Server {
    state: Arc<AppState>,
    extra: Vec<ExtraRoutes>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("open", &self.state.open)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts building a server over `gateway`.
    pub fn builder(gateway: Gateway) -> ServerBuilder {
        ServerBuilder {
            gateway,
            reloader: None,
            keys: None,
            master_key: None,
            embedders: HashMap::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            extra: Vec::new(),
        }
    }

    /// Returns whether the server serves requests without a key.
    pub fn is_open(&self) -> bool {
        self.state.open
    }

    /// Returns a handle that reloads the running server.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            state: Arc::clone(&self.state),
        }
    }

    /// Returns the routes, to serve or to nest in an application's router.
    ///
    /// Routes mounted with [`ServerBuilder::routes`] admit loopback clients
    /// only when the application serves the router with
    /// `into_make_service_with_connect_info::<SocketAddr>()`, as
    /// [`Server::serve`] does. Otherwise they require a key from every client.
    ///
    /// # Panics
    ///
    /// When a mounted router has a path the server serves itself, or a
    /// fallback of its own (axum rejects both when it merges routers).
    pub fn router(&self) -> Router {
        let mut router = Router::new()
            .route("/v1/chat/completions", post(chat::chat_completions))
            .route("/v1/embeddings", post(embeddings::embeddings))
            .route("/v1/models", get(info::list_models))
            .route("/health", get(info::health))
            .route("/metrics", get(info::metrics))
            .route("/admin/keys", post(admin::create).get(admin::list))
            .route("/admin/keys/{id}", delete(admin::revoke))
            .route("/admin/reload", post(admin::reload_config))
            .fallback(info::not_found)
            .with_state(Arc::clone(&self.state));
        for extra in &self.extra {
            router = router.merge(extra::guard(&self.state, extra.clone()));
        }
        router.layer(DefaultBodyLimit::max(self.state.max_body_bytes))
    }

    /// Serves on `listener` until `shutdown` resolves, such as
    /// [`shutdown_signal`]. Then the server stops accepting connections and
    /// lets running requests, streams included, finish within the drain
    /// timeout.
    ///
    /// # Errors
    ///
    /// Returns [`ServerError::Io`] when accepting connections fails.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, open = self.state.open, "llmops server listening");
        }
        let router = self.router();
        lifecycle::serve(self.state, router, listener, shutdown).await
    }
}

/// Reloads a running server.
#[derive(Clone)]
pub struct ServerHandle {
    state: Arc<AppState>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle").finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// Rebuilds the gateway and swaps it in for new requests, as
    /// `POST /admin/reload` does. Returns the new gateway's models.
    ///
    /// # Errors
    ///
    /// Returns [`ServerError::ReloadUnavailable`] without a reloader and
    /// [`ServerError::Gateway`] when the new configuration is invalid; the
    /// old gateway keeps serving in both cases.
    pub async fn reload(&self) -> Result<Vec<String>, ServerError> {
        lifecycle::reload(&self.state).await
    }

    /// Returns the gateway that serves new requests.
    pub fn gateway(&self) -> Gateway {
        self.state.gateway()
    }

    /// Reloads on every SIGHUP, on a spawned task, for the life of the
    /// process. Does nothing on platforms without SIGHUP.
    pub fn reload_on_sighup(&self) {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let handle = self.clone();
            match signal(SignalKind::hangup()) {
                Ok(mut hangups) => {
                    tokio::spawn(async move {
                        while hangups.recv().await.is_some() {
                            tracing::info!("received SIGHUP: reloading the configuration");
                            // reload() logs its own failure.
                            let _ = handle.reload().await;
                        }
                    });
                }
                Err(error) => tracing::error!(%error, "cannot listen for SIGHUP"),
            }
        }
    }
}
