//! The live web dashboard (feature `dashboard`): an HTML page with its
//! scripts, a JSON snapshot API, a server-sent event stream of snapshots
//! and the user-feedback endpoint.
//!
//! | Route | Purpose |
//! | --- | --- |
//! | `GET /dashboard` | the page; it works offline, every asset is in the binary |
//! | `GET /dashboard/assets/{name}` | its CSS and JavaScript |
//! | `GET /dashboard/api/snapshot?window=1m` | one [`Snapshot`](crate::Snapshot) as JSON |
//! | `GET /dashboard/api/stream?window=1m` | a `snapshot` event per interval |
//! | `POST /v1/feedback` | a rating and comment on a request id |
//!
//! The page draws only what the [`SnapshotSource`] returns; it never
//! aggregates. Errors have the OpenAI body
//! `{"error":{"message","type","param","code"}}`, as the gateway's do.
//!
//! ```no_run
//! use std::sync::Arc;
//! use llmops_monitor::SnapshotSource;
//! use llmops_monitor::dashboard::{DashboardState, router};
//!
//! # async fn demo(source: Arc<dyn SnapshotSource>) -> std::io::Result<()> {
//! let state = DashboardState::new(source);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
//! axum::serve(listener, router(state)).await?;
//! # Ok(()) }
//! ```

mod assets;
mod feedback;
mod response;
mod routes;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::watch;

use crate::error::MonitorError;
use crate::feedback::FeedbackSink;
use crate::snapshot::SnapshotSource;

/// The default time between two events of the live stream: 1 s.
pub const DEFAULT_STREAM_INTERVAL: Duration = Duration::from_secs(1);

/// The shortest time between two events of the live stream: 50 ms. Each
/// event takes a snapshot, so a shorter interval would mostly cost CPU.
pub const MIN_STREAM_INTERVAL: Duration = Duration::from_millis(50);

/// The state of the dashboard routes: the snapshot source, the feedback
/// sink and the stream settings. Clones share one source, sink and close signal.
#[derive(Clone)]
pub struct DashboardState {
    pub(crate) source: Arc<dyn SnapshotSource>,
    pub(crate) feedback: Option<Arc<dyn FeedbackSink>>,
    pub(crate) interval: Duration,
    pub(crate) closing: Arc<watch::Sender<bool>>,
}

impl std::fmt::Debug for DashboardState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardState")
            .field("feedback", &self.feedback.is_some())
            .field("interval", &self.interval)
            .field("closing", &*self.closing.borrow())
            .finish_non_exhaustive()
    }
}

impl DashboardState {
    /// Creates a state over `source`, without a feedback sink (so
    /// `POST /v1/feedback` returns 503) and with a 1 s stream interval.
    pub fn new(source: Arc<dyn SnapshotSource>) -> Self {
        DashboardState {
            source,
            feedback: None,
            interval: DEFAULT_STREAM_INTERVAL,
            closing: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Stores feedback from `POST /v1/feedback` in `sink`.
    pub fn with_feedback(mut self, sink: Arc<dyn FeedbackSink>) -> Self {
        self.feedback = Some(sink);
        self
    }

    /// Sets the time between two stream events; 1 s by default.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Invalid`] when `interval` is shorter than
    /// [`MIN_STREAM_INTERVAL`].
    pub fn with_interval(mut self, interval: Duration) -> Result<Self, MonitorError> {
        if interval < MIN_STREAM_INTERVAL {
            return Err(MonitorError::Invalid {
                field: "interval",
                value: format!("{} ms", interval.as_millis()),
                fix: format!(
                    "use at least {} ms between stream events",
                    MIN_STREAM_INTERVAL.as_millis()
                ),
            });
        }
        self.interval = interval;
        Ok(self)
    }

    /// Returns the time between two stream events.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Ends every open stream and makes new ones end before their first
    /// event. Call it when the server shuts down: a graceful shutdown
    /// waits for open responses, and a stream never ends by itself.
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
        tracing::info!("dashboard streams closed");
    }
}

/// Returns every dashboard route: [`pages_router`] and [`feedback_router`]
/// merged, with no access control of their own.
pub fn router(state: DashboardState) -> Router {
    pages_router(state.clone()).merge(feedback_router(state))
}

/// Returns the read-only routes: the page, its assets, the snapshot API
/// and the stream.
pub fn pages_router(state: DashboardState) -> Router {
    Router::new()
        .route("/dashboard", get(routes::page))
        .route("/dashboard/", get(routes::page_redirect))
        .route("/dashboard/assets/{name}", get(assets::asset))
        .route("/dashboard/api/snapshot", get(routes::snapshot))
        .route("/dashboard/api/stream", get(stream::stream))
        .with_state(state)
}

/// Returns `POST /v1/feedback`, which writes: mount it behind the same
/// authentication as the model endpoints.
pub fn feedback_router(state: DashboardState) -> Router {
    Router::new()
        .route("/v1/feedback", post(feedback::submit))
        .with_state(state)
}
