//! The mock server handle: start, scenario control, recorded requests and
//! shutdown.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::body::shutdown_signal;
use crate::counters::Counters;
use crate::error::MockError;
use crate::handler;
use crate::recording::RecordedRequest;
use crate::rules::{Route, ScenarioTable};
use crate::scenario::Scenario;

/// State shared by the server handle and all connections.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) table: Mutex<ScenarioTable>,
    pub(crate) recorded: Mutex<Vec<RecordedRequest>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) record_requests: bool,
    pub(crate) embedding_dimension: usize,
    pub(crate) models: Vec<String>,
    pub(crate) api_key: Option<String>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Locks a mutex, also after a panic in another thread held it: the table
/// and the log stay usable because every update is a single push or pop.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Options of a [`MockServer`], set with chained methods.
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    addr: SocketAddr,
    record_requests: bool,
    embedding_dimension: usize,
    models: Vec<String>,
    api_key: Option<String>,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        MockServerBuilder {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            record_requests: true,
            embedding_dimension: 1536,
            models: vec![
                "gpt-4o-mini".to_owned(),
                "gpt-4o".to_owned(),
                "text-embedding-3-small".to_owned(),
            ],
            api_key: None,
        }
    }
}

impl MockServerBuilder {
    /// Sets the listening address. Default `127.0.0.1:0`, an ephemeral
    /// loopback port.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Sets whether requests are kept for [`MockServer::requests`]. Default
    /// `true`. Load tests turn it off so memory stays flat. Counts are kept
    /// either way.
    pub fn record_requests(mut self, record: bool) -> Self {
        self.record_requests = record;
        self
    }

    /// Sets the embedding length when a request has no `dimensions` field.
    /// Default 1536.
    pub fn embedding_dimension(mut self, dimension: usize) -> Self {
        self.embedding_dimension = dimension;
        self
    }

    /// Sets the model ids that `GET /v1/models` lists. Default
    /// `gpt-4o-mini`, `gpt-4o` and `text-embedding-3-small`.
    pub fn models<I, S>(mut self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.models = models.into_iter().map(Into::into).collect();
        self
    }

    /// Rejects requests without this API key with the provider's recorded
    /// 401 reply. OpenAI routes read `authorization: Bearer KEY` and the
    /// Anthropic route reads `x-api-key: KEY`. A rejected request is
    /// recorded and counted but takes no scenario. Default: no check.
    pub fn require_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Binds the socket and starts serving on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`MockError::Bind`] when the address cannot be bound and
    /// [`MockError::LocalAddr`] when the bound port cannot be read.
    pub async fn start(self) -> Result<MockServer, MockError> {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .map_err(|source| MockError::Bind {
                addr: self.addr,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| MockError::LocalAddr { source })?;

        let (shutdown_sender, shutdown) = watch::channel(false);
        let shared = Arc::new(Shared {
            table: Mutex::new(ScenarioTable::default()),
            recorded: Mutex::new(Vec::new()),
            counters: Arc::new(Counters::default()),
            record_requests: self.record_requests,
            embedding_dimension: self.embedding_dimension,
            models: self.models,
            api_key: self.api_key,
            shutdown: shutdown.clone(),
        });

        let router = Router::new()
            .route("/v1/chat/completions", post(handler::chat_completions))
            .route("/v1/messages", post(handler::messages))
            .route("/v1/embeddings", post(handler::embeddings))
            .route("/v1/models", get(handler::models))
            .fallback(handler::not_found)
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::clone(&shared));
        // Small writes such as split events must leave at once, not wait
        // for Nagle's algorithm to batch them.
        let listener = listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "failed to set TCP_NODELAY");
            }
        });
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown_signal(shutdown))
                .await;
            match served {
                Ok(()) => tracing::info!(%addr, "mock server stopped"),
                Err(error) => tracing::error!(%addr, %error, "mock server failed"),
            }
        });
        tracing::info!(%addr, "mock server started");

        Ok(MockServer {
            addr,
            shared,
            shutdown_sender,
            task: Some(task),
        })
    }
}

/// A mock OpenAI and Anthropic server on a loopback port.
///
/// Dropping the handle starts a graceful shutdown: hanging and stalled
/// responses end, in-flight ones finish, and the port closes.
/// [`MockServer::shutdown`] does the same and waits for it.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown_sender: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts a server on an ephemeral loopback port with default options.
    ///
    /// # Errors
    ///
    /// See [`MockServerBuilder::start`].
    pub async fn start() -> Result<MockServer, MockError> {
        MockServerBuilder::default().start().await
    }

    /// Returns a builder for a server with non-default options.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// Returns the bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Returns `http://127.0.0.1:PORT/v1`, the base URL OpenAI clients take.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Returns `http://127.0.0.1:PORT`, the base URL Anthropic clients take
    /// (they append `/v1/messages`).
    pub fn anthropic_base_url(&self) -> String {
        self.base_url()
    }

    /// Queues a scenario for the next chat request (either chat route, any
    /// model) that no model-specific queued scenario claims.
    pub fn push(&self, scenario: Scenario) {
        lock(&self.shared.table).push(None, None, scenario);
    }

    /// Queues a scenario for the next chat request for `model`. It is taken
    /// before older scenarios queued with [`MockServer::push`].
    pub fn push_for_model(&self, model: impl Into<String>, scenario: Scenario) {
        lock(&self.shared.table).push(None, Some(model.into()), scenario);
    }

    /// Queues a scenario for the next request on `route`, which may be a
    /// non-chat route such as [`Route::Embeddings`].
    pub fn push_for_route(&self, route: Route, scenario: Scenario) {
        lock(&self.shared.table).push(Some(route), None, scenario);
    }

    /// Sends `scenario` for every chat request for `model` until replaced or
    /// [`MockServer::reset`]. Queued scenarios still go first.
    pub fn always_for_model(&self, model: impl Into<String>, scenario: Scenario) {
        lock(&self.shared.table).always(None, Some(model.into()), scenario);
    }

    /// Sends `scenario` for every request on `route` until replaced or
    /// [`MockServer::reset`]. Queued and model-specific scenarios go first.
    pub fn always_for_route(&self, route: Route, scenario: Scenario) {
        lock(&self.shared.table).always(Some(route), None, scenario);
    }

    /// Replaces the default chat scenario, [`Scenario::echo`], which applies
    /// when no other scenario matches.
    pub fn set_default(&self, scenario: Scenario) {
        lock(&self.shared.table).set_default(scenario);
    }

    /// Drops queued and sticky scenarios, restores the echo default and
    /// clears the recorded requests. Counters keep counting.
    pub fn reset(&self) {
        lock(&self.shared.table).clear();
        lock(&self.shared.recorded).clear();
    }

    /// Returns how many queued scenarios no request has taken yet.
    pub fn pending_scenarios(&self) -> usize {
        lock(&self.shared.table).queued_len()
    }

    /// Returns a copy of the recorded requests, oldest first. Empty when
    /// recording is off.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.recorded).clone()
    }

    /// Returns the most recent recorded request.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.shared.recorded).last().cloned()
    }

    /// Returns how many requests the server received on any path.
    pub fn request_count(&self) -> u64 {
        self.shared.counters.requests()
    }

    /// Returns how many responses lost their client before they ended:
    /// during latency or a hang, or mid-body. A client that drops a body
    /// whose bytes were all written already is not counted, because the
    /// server cannot see that.
    pub fn disconnects(&self) -> u64 {
        self.shared.counters.disconnects()
    }

    /// Waits until [`MockServer::disconnects`] reaches `count`. Wrap it in
    /// a timeout in tests.
    pub async fn wait_for_disconnects(&self, count: u64) {
        self.shared
            .counters
            .wait_until(count, Counters::disconnects)
            .await;
    }

    /// Waits until [`MockServer::request_count`] reaches `count`. Wrap it in
    /// a timeout in tests.
    pub async fn wait_for_requests(&self, count: u64) {
        self.shared
            .counters
            .wait_until(count, Counters::requests)
            .await;
    }

    /// Shuts down gracefully and waits until the server task ends.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_sender.send(true);
        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                tracing::error!(%error, "mock server task failed");
            }
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        // Receivers may all be gone already, which needs no signal.
        let _ = self.shutdown_sender.send(true);
    }
}
