//! Caller identification: the master key, a virtual key, or anyone on an
//! open server.

use axum::http::{HeaderMap, header};

use crate::server::error::ApiError;
use crate::server::keys::{VirtualKey, hash_secret};
use crate::server::state::AppState;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    /// An open server: no master key and no keys were configured.
    Open,
    /// The master key, which may call every model and the admin API.
    Master,
    /// A virtual key.
    Key(Box<VirtualKey>),
}

impl Caller {
    /// Returns whether the caller may call `model`.
    pub(crate) fn allows_model(&self, model: &str) -> bool {
        match self {
            Caller::Open | Caller::Master => true,
            Caller::Key(key) => key.allows_model(model),
        }
    }

    /// Returns the virtual key, if the caller used one.
    pub(crate) fn key(&self) -> Option<&VirtualKey> {
        match self {
            Caller::Key(key) => Some(key.as_ref()),
            Caller::Open | Caller::Master => None,
        }
    }
}

/// Reads the bearer token of `Authorization`, if any.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

/// Identifies the caller of a model endpoint.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    let Some(token) = bearer_token(headers) else {
        if state.open {
            return Ok(Caller::Open);
        }
        return Err(ApiError::unauthorized(
            "missing API key: send `Authorization: Bearer sk-llmops-...` with a key from POST /admin/keys",
        ));
    };
    let hash = hash_secret(token);
    if state.master_hash.as_deref() == Some(hash.as_str()) {
        return Ok(Caller::Master);
    }
    match state.keys.find_by_hash(&hash).await {
        Ok(Some(key)) => Ok(Caller::Key(Box::new(key))),
        // Clients such as the OpenAI SDKs always send some key, so an open
        // server accepts any.
        Ok(None) if state.open => Ok(Caller::Open),
        Ok(None) => Err(ApiError::unauthorized(
            "invalid API key: the key is unknown or revoked; create one with POST /admin/keys",
        )),
        Err(error) => {
            tracing::error!(%error, "API key lookup failed");
            Err(ApiError::internal(
                "the API key could not be checked because the key store failed; retry later",
            ))
        }
    }
}

/// Admits only the master key, for the admin API.
pub(crate) fn require_master(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(master_hash) = state.master_hash.as_deref() else {
        return Err(ApiError::forbidden(
            "the admin API is disabled because the server has no master key; start it with LLMOPS_MASTER_KEY or --master-key",
        ));
    };
    match bearer_token(headers) {
        Some(token) if hash_secret(token) == master_hash => Ok(()),
        Some(_) => Err(ApiError::unauthorized(
            "invalid master key: the admin API takes only the master key as `Authorization: Bearer ...`",
        )),
        None => Err(ApiError::unauthorized(
            "missing master key: send it as `Authorization: Bearer ...`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(header::AUTHORIZATION, value);
        }
        headers
    }

    #[test]
    fn bearer_token_parses_scheme_case_insensitively() {
        assert_eq!(bearer_token(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&headers("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(&headers("Basic abc")), None);
        assert_eq!(bearer_token(&headers("Bearer ")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
