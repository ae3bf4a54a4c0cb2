//! Serving, graceful shutdown and configuration reload.

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;

use crate::server::error::ServerError;
use crate::server::key_limits::apply_key_limits;
use crate::server::state::AppState;

/// How long cut-off requests get to send their error and close.
const CUT_GRACE: Duration = Duration::from_secs(5);

/// Rebuilds the gateway through the server's reloader and swaps it in.
/// Requests already running finish on the old gateway; a failed rebuild
/// leaves the old gateway serving. Returns the new gateway's models.
pub(crate) async fn reload(state: &Arc<AppState>) -> Result<Vec<String>, ServerError> {
    let Some(reloader) = state.reloader.clone() else {
        return Err(ServerError::ReloadUnavailable);
    };
    let _serialized = state.reload_lock.lock().await;
    // The reloader reads files and may create HTTP clients: keep it off the
    // request threads.
    let rebuilt = tokio::task::spawn_blocking(move || reloader())
        .await
        .map_err(|error| ServerError::ReloadTask(error.to_string()))?;
    let gateway = match rebuilt {
        Ok(gateway) => gateway,
        Err(error) => {
            tracing::error!(%error, "configuration reload rejected; the old configuration keeps serving");
            return Err(ServerError::Gateway(error));
        }
    };
    match state.keys.list().await {
        Ok(keys) => {
            for key in &keys {
                apply_key_limits(key, &gateway);
            }
        }
        Err(error) => {
            tracing::error!(%error, "cannot list keys to apply their limits to the reloaded gateway");
        }
    }
    let models: Vec<String> = gateway.models().into_iter().map(str::to_owned).collect();
    state.swap_gateway(gateway);
    tracing::info!(?models, "configuration reloaded");
    Ok(models)
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops
/// accepting connections and waits for in-flight requests, streams
/// included, for at most `state.drain_timeout`.
pub(crate) async fn serve(
    state: Arc<AppState>,
    router: axum::Router,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let address = listener
        .local_addr()
        .map_or_else(|_| "the listener".to_owned(), |address| address.to_string());
    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections, draining in-flight requests");
        let _ = draining_tx.send(());
    };
    // Connection info lets routes mounted for loopback clients see the
    // peer address.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Without TCP_NODELAY, Nagle's algorithm delays a small write, such as
    // one streamed chunk, until the client acknowledges the previous one.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set on an accepted connection");
        }
    });
    let serving = axum::serve(listener, service)
        .with_graceful_shutdown(signal)
        .into_future();
    tokio::pin!(serving);
    let drain_timeout = state.drain_timeout;
    let deadline = async move {
        if draining_rx.await.is_ok() {
            tokio::time::sleep(drain_timeout).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let finished = tokio::select! {
        result = &mut serving => Some(result),
        () = deadline => None,
    };
    let result = match finished {
        Some(result) => result,
        None => {
            tracing::warn!(
                drain_timeout_ms = drain_timeout.as_millis() as u64,
                "requests still running after the drain timeout are cut off"
            );
            state.cut.send_replace(true);
            // Cut requests end at once; the bound covers a connection
            // whose client stopped reading.
            match tokio::time::timeout(CUT_GRACE, &mut serving).await {
                Ok(result) => result,
                Err(_) => Ok(()),
            }
        }
    };
    state.gateway().stop_health_checks();
    result.map_err(|source| ServerError::Io { address, source })?;
    tracing::info!("server stopped");
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("received Ctrl-C"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}
