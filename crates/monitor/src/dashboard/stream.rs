//! `GET /dashboard/api/stream`: a server-sent event with a fresh snapshot
//! per interval.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::watch;
use tokio::time::{Interval, MissedTickBehavior};

use crate::dashboard::DashboardState;
use crate::dashboard::response::ApiError;
use crate::dashboard::routes::parse_window;
use crate::snapshot::{SnapshotSource, Window};

/// The name of the events that carry a snapshot.
pub(crate) const SNAPSHOT_EVENT: &str = "snapshot";

/// The state of one stream between events.
struct Ticker {
    source: Arc<dyn SnapshotSource>,
    window: Window,
    interval: Interval,
    closing: watch::Receiver<bool>,
}

/// Resolves once the dashboard's streams are closed; never when the state
/// that would close them is gone.
async fn closed(closing: &mut watch::Receiver<bool>) {
    if closing.wait_for(|closed| *closed).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Waits for the next tick and takes a snapshot; none once the streams are
/// closed. The first tick is immediate, so a client gets data at once.
async fn next_event(mut ticker: Ticker) -> Option<(Result<Event, Infallible>, Ticker)> {
    tokio::select! {
        biased;
        () = closed(&mut ticker.closing) => return None,
        _ = ticker.interval.tick() => {}
    }
    let snapshot = ticker.source.snapshot(ticker.window).await;
    let event = match Event::default().event(SNAPSHOT_EVENT).json_data(&snapshot) {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(%error, window = %ticker.window, "a dashboard snapshot could not be serialized");
            Event::default()
                .event("error")
                .data("the snapshot could not be serialized; see the server log")
        }
    };
    Some((Ok(event), ticker))
}

/// Handles `GET /dashboard/api/stream?window=1m|1h|1d`. The stream ends
/// when the client disconnects (the server drops it on the failed write)
/// or when [`DashboardState::close_streams`] is called.
pub(crate) async fn stream(
    State(state): State<DashboardState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let window = parse_window(&query)?;
    let mut interval = tokio::time::interval(state.interval);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let ticker = Ticker {
        source: Arc::clone(&state.source),
        window,
        interval,
        closing: state.closing.subscribe(),
    };
    tracing::debug!(%window, "dashboard stream opened");
    let events = futures::stream::unfold(ticker, next_event);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
