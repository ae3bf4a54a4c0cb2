//! `GET /v1/models`, `GET /health` and `GET /metrics`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::server::auth::authenticate;
use crate::server::error::ApiError;
use crate::server::state::AppState;

/// Handles `GET /v1/models`: the chat and embedding models the caller may
/// use, in the OpenAI list format.
pub(crate) async fn list_models(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    let gateway = state.gateway();
    let mut names: Vec<String> = gateway.models().into_iter().map(str::to_owned).collect();
    let mut embedding: Vec<String> = state.embedders.keys().cloned().collect();
    embedding.sort();
    names.extend(embedding);
    let data: Vec<Value> = names
        .iter()
        .filter(|name| caller.allows_model(name))
        .map(|name| {
            json!({
                "id": name,
                "object": "model",
                "created": state.started_at_s,
                "owned_by": "llmops",
            })
        })
        .collect();
    Ok(axum::Json(json!({"object": "list", "data": data})).into_response())
}

/// Handles `GET /health`: always 200 while the process serves, with the
/// routing state of each deployment.
pub(crate) async fn health(State(state): State<Arc<AppState>>) -> Response {
    let gateway = state.gateway();
    let deployments: Vec<Value> = gateway
        .health()
        .into_iter()
        .map(|(id, health)| json!({"id": id, "state": health}))
        .collect();
    axum::Json(json!({
        "status": "ok",
        "models": gateway.models(),
        "deployments": deployments,
    }))
    .into_response()
}

/// Handles `GET /metrics` in the Prometheus text format.
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut text = state.metrics.render();
    crate::server::gateway_metrics::render(&mut text, &state.gateway_counters());
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Returns an OpenAI-shaped 404 for any other path.
pub(crate) async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route for {}; the server serves /v1/chat/completions, /v1/embeddings, /v1/models, /health, /metrics and /admin, plus any routes the application mounted",
        uri.path()
    ))
}
