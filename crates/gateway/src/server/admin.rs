//! The admin API under `/admin`, for the master key only: create, list and
//! revoke virtual keys, and reload the gateway configuration.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::server::auth::require_master;
use crate::server::chat::read_body;
use crate::server::error::{ApiError, ServerError};
use crate::server::key_limits::{apply_key_limits, remove_key_limits};
use crate::server::keys::{NewKey, create_key};
use crate::server::lifecycle::reload;
use crate::server::state::AppState;

/// Maps a key store failure to a reply, logging it.
fn store_failure(error: ServerError) -> ApiError {
    match error {
        ServerError::InvalidKey { field, message } => ApiError::invalid(field, message),
        other => {
            tracing::error!(error = %other, "the key store failed");
            ApiError::internal(format!("the key store failed: {other}"))
        }
    }
}

/// Handles `POST /admin/keys`: creates a key and returns its secret, once.
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_master(&state, &headers)?;
    let body = read_body(&state, body)?;
    let settings: NewKey = serde_json::from_slice(&body).map_err(|error| {
        ApiError::invalid_body(format!(
            "invalid key settings: {error}; send {{\"name\": ..., \"team\", \"models\", \"requests_per_minute\", \"tokens_per_minute\", \"budget_usd\"}}"
        ))
    })?;
    let gateway = state.gateway();
    let served = gateway.models();
    let unknown: Vec<&str> = settings
        .models
        .iter()
        .map(String::as_str)
        .filter(|model| !served.contains(model) && !state.embedders.contains_key(*model))
        .collect();
    if !unknown.is_empty() {
        let mut known = served.clone();
        known.extend(state.embedders.keys().map(String::as_str));
        known.sort_unstable();
        return Err(ApiError::invalid(
            "models",
            format!(
                "unknown models {unknown:?}: this server serves {known:?}; list only those, or leave models out to allow every model"
            ),
        ));
    }
    let created = create_key(&*state.keys, settings)
        .await
        .map_err(store_failure)?;
    apply_key_limits(&created.key, &state.gateway());
    let mut body = serde_json::to_value(&created.key)
        .map_err(|error| ApiError::internal(error.to_string()))?;
    if let Some(fields) = body.as_object_mut() {
        fields.insert("key".to_owned(), json!(created.secret));
    }
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// Handles `GET /admin/keys`: every active key, without secrets.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_master(&state, &headers)?;
    let keys = state.keys.list().await.map_err(store_failure)?;
    Ok(axum::Json(json!({"object": "list", "data": keys})).into_response())
}

/// Handles `DELETE /admin/keys/{id}`: revokes a key at once.
pub(crate) async fn revoke(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_master(&state, &headers)?;
    if !state.keys.revoke(&id).await.map_err(store_failure)? {
        return Err(ApiError::not_found(format!(
            "no active key has id {id:?}; list keys with GET /admin/keys"
        )));
    }
    remove_key_limits(&id, &state.gateway());
    tracing::info!(key = %id, "virtual API key revoked");
    Ok(axum::Json(json!({"id": id, "revoked": true})).into_response())
}

/// Handles `POST /admin/reload`: rebuilds the gateway from its
/// configuration and swaps it in; on failure the old one keeps serving.
pub(crate) async fn reload_config(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_master(&state, &headers)?;
    match reload(&state).await {
        Ok(models) => Ok(axum::Json(json!({"reloaded": true, "models": models})).into_response()),
        Err(ServerError::Gateway(error)) => {
            let mut reply = ApiError::invalid_body(format!(
                "the new configuration was rejected and the old one keeps serving: {error}"
            ));
            reply.code = Some("invalid_configuration");
            Err(reply)
        }
        Err(error @ ServerError::ReloadUnavailable) => {
            Err(ApiError::invalid_body(error.to_string()))
        }
        Err(error) => Err(ApiError::internal(format!(
            "the reload failed and the old configuration keeps serving: {error}"
        ))),
    }
}
