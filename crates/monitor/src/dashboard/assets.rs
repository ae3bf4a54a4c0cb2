//! The page's stylesheet and scripts, compiled into the binary so the
//! dashboard works without internet access.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::dashboard::response::ApiError;

/// The HTML page.
pub(crate) const PAGE: &str = include_str!("../../assets/dashboard.html");

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: [Asset; 4] = [
    Asset {
        name: "dashboard.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/dashboard.css"),
    },
    Asset {
        name: "charts.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/charts.js"),
    },
    Asset {
        name: "panels.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/panels.js"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/app.js"),
    },
];

/// Returns a quoted entity tag of `body`: its 64-bit FNV-1a hash, which
/// changes when a new build embeds different bytes.
fn entity_tag(body: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in body {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{hash:016x}\"")
}

/// Builds a 200 response for an embedded file. Browsers revalidate it on
/// every load (`no-cache`) and get a 304 while the entity tag matches, so
/// an upgraded binary never leaves a stale script in the cache.
pub(crate) fn with_asset_headers(body: &'static [u8], content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(tag) = HeaderValue::from_str(&entity_tag(body)) {
        headers.insert(header::ETAG, tag);
    }
    response
}

/// Handles `GET /dashboard/assets/{name}`.
pub(crate) async fn asset(Path(name): Path<String>, request_headers: HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
        let names: Vec<&str> = ASSETS.iter().map(|asset| asset.name).collect();
        return ApiError::not_found(
            None,
            format!(
                "no dashboard asset {name:?}; the dashboard serves {}",
                names.join(", ")
            ),
        )
        .into_response();
    };
    let tag = entity_tag(asset.body);
    let unchanged = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|candidate| candidate.trim() == tag));
    if unchanged {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(tag) = HeaderValue::from_str(&tag) {
            response.headers_mut().insert(header::ETAG, tag);
        }
        return response;
    }
    with_asset_headers(asset.body, asset.content_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tag_changes_with_body() {
        assert_ne!(entity_tag(b"a"), entity_tag(b"b"));
        assert_eq!(entity_tag(b"a"), entity_tag(b"a"));
        assert_eq!(entity_tag(b"").len(), 18);
    }

    #[test]
    fn page_references_every_asset() {
        for asset in &ASSETS {
            let reference = format!("dashboard/assets/{}", asset.name);
            assert!(PAGE.contains(&reference), "{reference} is not in the page");
        }
    }

    #[test]
    fn assets_load_nothing_from_other_hosts() {
        let texts = std::iter::once(PAGE.as_bytes()).chain(ASSETS.iter().map(|asset| asset.body));
        for text in texts {
            let text = String::from_utf8_lossy(text);
            assert!(!text.contains("http://") || text.contains("http://www.w3.org/2000/svg"));
            assert!(!text.contains("https://"), "{}", &text[..80]);
            assert!(!text.contains("innerHTML"), "{}", &text[..80]);
        }
    }
}
