//! Routes an application mounts next to the OpenAI ones, such as a
//! dashboard, and who may call them.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::auth::authenticate;
use crate::server::state::AppState;

/// The access rule of a set of mounted routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Clients on the loopback interface without a key, other clients with
    /// the same keys as chat.
    LoopbackOrKey,
    /// The same keys as chat, from any address.
    Key,
}

/// Routes and their access rule, kept by the builder until the router is
/// assembled.
#[derive(Clone)]
pub(crate) struct ExtraRoutes {
    pub(crate) router: Router,
    pub(crate) access: Access,
}

/// Wraps `extra.router` in the check that its access rule requires.
pub(crate) fn guard(state: &Arc<AppState>, extra: ExtraRoutes) -> Router {
    extra.router.layer(axum::middleware::from_fn_with_state(
        (Arc::clone(state), extra.access),
        check_access,
    ))
}

/// Lets the request through when `access` admits its caller, else returns
/// the authentication error in the OpenAI shape.
async fn check_access(
    State((state, access)): State<(Arc<AppState>, Access)>,
    request: Request,
    next: Next,
) -> Response {
    if access == Access::LoopbackOrKey && from_loopback(&request) {
        return next.run(request).await;
    }
    match authenticate(&state, request.headers()).await {
        Ok(_) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// Returns whether the peer address is on the loopback interface. A router
/// served without connection info (nested in an application that does not
/// record it) never counts as loopback.
fn from_loopback(request: &Request) -> bool {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback())
}
