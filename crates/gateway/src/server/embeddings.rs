//! `POST /v1/embeddings`, served by the embedders an application registers.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use llmops_core::tokens::TokenCounter;
use serde_json::{Value, json};

use crate::server::auth::authenticate;
use crate::server::chat::{check_model_allowed, read_body};
use crate::server::error::ApiError;
use crate::server::metrics::Observation;
use crate::server::state::AppState;

/// The maximum number of texts per request, the OpenAI API's own limit.
const MAX_INPUTS: usize = 2048;

/// A parsed embeddings request.
struct EmbeddingRequest {
    model: String,
    texts: Vec<String>,
    base64: bool,
    dimensions: Option<u64>,
}

/// Handles `POST /v1/embeddings`.
pub(crate) async fn embeddings(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let mut model = String::new();
    let result = answer(&state, &headers, body, &mut model).await;
    let gateway = state.gateway();
    let (status, error_type, tokens) = match &result {
        Ok((_, tokens)) => (200, None, Some(*tokens)),
        Err(error) => (error.status.as_u16(), Some(error.kind), None),
    };
    state.metrics.observe(&Observation {
        operation: "embeddings",
        model: &state.model_label(&gateway, &model),
        status,
        error_type,
        duration: started.elapsed(),
        input_tokens: tokens,
        ..Observation::default()
    });
    match result {
        Ok((response, _)) => response,
        Err(error) => error.into_response(),
    }
}

async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    model: &mut String,
) -> Result<(Response, u64), ApiError> {
    let caller = authenticate(state, headers).await?;
    let body = read_body(state, body)?;
    let request = parse(&body)?;
    model.clone_from(&request.model);
    let gateway = state.gateway();
    check_model_allowed(&caller, &gateway, &request.model, None)?;

    let Some(embedder) = state.embedders.get(&request.model) else {
        let chat_model = gateway.config().find_model(&request.model).is_some();
        let mut available: Vec<&String> = state.embedders.keys().collect();
        available.sort();
        let reason = if chat_model {
            "is a chat model with no embedding deployment"
        } else {
            "has no embedding deployment"
        };
        return Err(ApiError::model_not_found(format!(
            "model {:?} {reason}; embeddings need an embedding deployment, and this server has {available:?}",
            request.model
        )));
    };
    if let Some(dimensions) = request.dimensions {
        if dimensions != embedder.dimensions() as u64 {
            return Err(ApiError::invalid(
                "dimensions",
                format!(
                    "model {:?} produces {} dimensions, not {dimensions}; omit `dimensions` or request {}",
                    request.model,
                    embedder.dimensions(),
                    embedder.dimensions()
                ),
            ));
        }
    }

    let vectors = embedder
        .embed(&request.texts)
        .await
        .map_err(ApiError::from)?;
    let counter = TokenCounter::new();
    let tokens: u64 = request
        .texts
        .iter()
        .map(|text| counter.count_text(embedder.model(), text).tokens)
        .sum();
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| {
            let embedding = if request.base64 {
                Value::String(base64_floats(vector))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let body = json!({
        "object": "list",
        "data": data,
        "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    });
    Ok((axum::Json(body).into_response(), tokens))
}

fn parse(body: &[u8]) -> Result<EmbeddingRequest, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::invalid_body(format!(
            "the request body is not valid JSON ({error}); send a JSON object with `model` and `input`"
        ))
    })?;
    let Value::Object(fields) = value else {
        return Err(ApiError::invalid_body(
            "the request body must be a JSON object with `model` and `input`",
        ));
    };
    let model = match fields.get("model") {
        Some(Value::String(model)) if !model.trim().is_empty() => model.clone(),
        _ => {
            return Err(ApiError::invalid(
                "model",
                "missing or empty `model`; name an embedding model from GET /v1/models",
            ));
        }
    };
    let texts = match fields.get("input") {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(ApiError::invalid(
                "input",
                "`input` is an empty list; send at least one text",
            ));
        }
        Some(Value::Array(items)) if items.len() > MAX_INPUTS => {
            return Err(ApiError::invalid(
                "input",
                format!(
                    "`input` has {} texts; send at most {MAX_INPUTS} per request",
                    items.len()
                ),
            ));
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(text) => Ok(text.clone()),
                _ => Err(ApiError::invalid(
                    format!("input[{index}]"),
                    "token arrays are not supported; send the text as a string",
                )),
            })
            .collect::<Result<Vec<String>, ApiError>>()?,
        _ => {
            return Err(ApiError::invalid(
                "input",
                "missing `input`; send a string or a list of strings",
            ));
        }
    };
    if let Some(index) = texts.iter().position(String::is_empty) {
        return Err(ApiError::invalid(
            format!("input[{index}]"),
            "the text is empty; send non-empty text",
        ));
    }
    let base64 = match fields.get("encoding_format") {
        None | Some(Value::Null) => false,
        Some(Value::String(format)) if format == "float" => false,
        Some(Value::String(format)) if format == "base64" => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "encoding_format",
                format!("invalid `encoding_format` {other}: use \"float\" or \"base64\""),
            ));
        }
    };
    let dimensions = match fields.get("dimensions") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_u64().filter(|&n| n > 0) {
            Some(n) => Some(n),
            None => {
                return Err(ApiError::invalid(
                    "dimensions",
                    format!("invalid `dimensions` {value}: use a positive integer"),
                ));
            }
        },
    };
    Ok(EmbeddingRequest {
        model,
        texts,
        base64,
        dimensions,
    })
}

/// Encodes a vector as the OpenAI API does for `encoding_format: base64`:
/// little-endian `f32` bytes in standard base64 with padding.
fn base64_floats(vector: &[f32]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for (position, sextet) in sextets.iter().enumerate() {
            if position <= group.len() {
                out.push(char::from(ALPHABET[*sextet as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_encoding() {
        // 1.0f32 is 00 00 80 3f little-endian; 2.0f32 is 00 00 00 40.
        assert_eq!(base64_floats(&[1.0]), "AACAPw==");
        assert_eq!(base64_floats(&[1.0, 2.0]), "AACAPwAAAEA=");
        assert_eq!(base64_floats(&[]), "");
    }

    #[test]
    fn token_arrays_are_rejected_with_index() {
        let error = parse(br#"{"model":"e","input":["a",[1,2]]}"#)
            .err()
            .unwrap();
        assert_eq!(error.param.as_deref(), Some("input[1]"));
    }

    #[test]
    fn empty_inputs_are_rejected() {
        let error = parse(br#"{"model":"e","input":[]}"#).err().unwrap();
        assert_eq!(error.param.as_deref(), Some("input"));
        let error = parse(br#"{"model":"e","input":""}"#).err().unwrap();
        assert_eq!(error.param.as_deref(), Some("input[0]"));
    }
}
