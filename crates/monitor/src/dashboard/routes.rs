//! The page and the snapshot API.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::dashboard::DashboardState;
use crate::dashboard::assets::{PAGE, with_asset_headers};
use crate::dashboard::response::ApiError;
use crate::snapshot::Window;

/// The policy the page runs under: scripts, styles and connections only
/// from the server itself, so even a string that escaped escaping could
/// not load or run anything.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Handles `GET /dashboard`.
pub(crate) async fn page() -> Response {
    let mut response = with_asset_headers(PAGE.as_bytes(), "text/html; charset=utf-8");
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}

/// Handles `GET /dashboard/`: the page's relative URLs resolve only
/// without the trailing slash.
pub(crate) async fn page_redirect() -> Redirect {
    Redirect::permanent("../dashboard")
}

/// Reads the `window` query parameter; `1m` when it is missing.
pub(crate) fn parse_window(query: &HashMap<String, String>) -> Result<Window, ApiError> {
    match query.get("window") {
        None => Ok(Window::Minute),
        Some(value) => value.parse::<Window>().map_err(ApiError::from),
    }
}

/// Handles `GET /dashboard/api/snapshot?window=1m|1h|1d`.
pub(crate) async fn snapshot(
    State(state): State<DashboardState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let window = parse_window(&query)?;
    let snapshot = state.source.snapshot(window).await;
    let mut response = Json(snapshot).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn window_defaults_to_one_minute() {
        assert_eq!(parse_window(&query(&[])).unwrap(), Window::Minute);
    }

    #[test]
    fn window_parses_every_name() {
        for window in Window::ALL {
            let parsed = parse_window(&query(&[("window", window.as_str())])).unwrap();
            assert_eq!(parsed, window);
        }
    }

    #[test]
    fn window_rejects_unknown_name() {
        for bad in ["5m", "", "1M", "1m ", "١m"] {
            let error = parse_window(&query(&[("window", bad)])).unwrap_err();
            assert_eq!(error.param, Some("window"), "{bad:?}");
            assert!(error.message.contains("1m, 1h or 1d"), "{}", error.message);
            assert!(
                error.message.contains(&format!("{bad:?}")),
                "{}",
                error.message
            );
        }
    }
}
