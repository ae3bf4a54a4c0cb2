//! Renders `POST /v1/embeddings` and `GET /v1/models` replies in the OpenAI
//! wire format.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

/// Reads the inputs of an embeddings request: a string, a list of strings,
/// a token list or a list of token lists. Token lists are hashed by their
/// JSON text.
pub(crate) fn inputs(body: &Value) -> Vec<String> {
    match body.get("input") {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) if items.iter().all(Value::is_number) => {
            vec![Value::Array(items.clone()).to_string()]
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Returns a deterministic unit vector of `dimension` values for `text`:
/// the same text always gives the same vector, and different texts give
/// unrelated ones.
pub fn embedding_for(text: &str, dimension: usize) -> Vec<f32> {
    let mut state = fnv1a(text.as_bytes());
    let mut vector: Vec<f32> = (0..dimension)
        .map(|_| {
            state = splitmix64(state);
            // The top 24 bits give a uniform value in [-1, 1).
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect();
    let norm = vector.iter().map(|value| value * value).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|value| *value /= norm);
    }
    vector
}

/// 64-bit FNV-1a hash.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One step of the SplitMix64 generator.
fn splitmix64(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Serialize)]
#[serde(untagged)]
enum VectorOut {
    Floats(Vec<f32>),
    Base64(String),
}

#[derive(Serialize)]
struct EmbeddingOut {
    object: &'static str,
    index: usize,
    embedding: VectorOut,
}

#[derive(Serialize)]
struct EmbeddingsOut<'a> {
    object: &'static str,
    data: Vec<EmbeddingOut>,
    model: &'a str,
    usage: EmbeddingUsageOut,
}

#[derive(Serialize)]
struct EmbeddingUsageOut {
    prompt_tokens: u64,
    total_tokens: u64,
}

/// Renders the embeddings reply, pretty-printed with two spaces as the
/// recorded one is. The request's `dimensions` field overrides
/// `default_dimension`; `"encoding_format": "base64"` sends each vector as
/// base64 of its little-endian `f32` values, as the OpenAI API does. Prompt
/// tokens are the whitespace-separated words of all inputs.
pub(crate) fn embeddings_body(body: &Value, default_dimension: usize) -> Bytes {
    let texts = inputs(body);
    let dimension = body
        .get("dimensions")
        .and_then(Value::as_u64)
        .map_or(default_dimension, |value| value as usize);
    let base64 = body.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();

    let data = texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let vector = embedding_for(text, dimension);
            let embedding = if base64 {
                VectorOut::Base64(encode_base64(&f32_bytes(&vector)))
            } else {
                VectorOut::Floats(vector)
            };
            EmbeddingOut {
                object: "embedding",
                index,
                embedding,
            }
        })
        .collect();
    let tokens = texts
        .iter()
        .map(|text| text.split_whitespace().count() as u64)
        .sum();
    let reply = EmbeddingsOut {
        object: "list",
        data,
        model,
        usage: EmbeddingUsageOut {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    };
    Bytes::from(crate::json::to_vec_pretty(&reply))
}

fn f32_bytes(vector: &[f32]) -> Vec<u8> {
    vector
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect()
}

/// Standard base64 with padding (RFC 4648).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b0 = u32::from(group[0]);
        let b1 = group.get(1).copied().map_or(0, u32::from);
        let b2 = group.get(2).copied().map_or(0, u32::from);
        let triple = (b0 << 16) | (b1 << 8) | b2;
        let symbols = [18, 12, 6, 0].map(|shift| ALPHABET[(triple >> shift) as usize & 63] as char);
        encoded.push(symbols[0]);
        encoded.push(symbols[1]);
        encoded.push(if group.len() > 1 { symbols[2] } else { '=' });
        encoded.push(if group.len() > 2 { symbols[3] } else { '=' });
    }
    encoded
}

#[derive(Serialize)]
struct ModelOut<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'static str,
}

#[derive(Serialize)]
struct ModelListOut<'a> {
    object: &'static str,
    data: Vec<ModelOut<'a>>,
}

/// Renders the `GET /v1/models` list.
pub(crate) fn models_body(models: &[String]) -> Bytes {
    let list = ModelListOut {
        object: "list",
        data: models
            .iter()
            .map(|id| ModelOut {
                id,
                object: "model",
                created: 0,
                owned_by: "llmops-mock",
            })
            .collect(),
    };
    Bytes::from(crate::json::to_vec_pretty(&list))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(encode_base64(input.as_bytes()), expected, "input {input:?}");
        }
    }

    #[test]
    fn embedding_is_deterministic_unit_vector() {
        let first = embedding_for("안녕", 64);
        assert_eq!(first, embedding_for("안녕", 64));
        assert_ne!(first, embedding_for("안녕!", 64));
        let norm: f32 = first.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }

    #[test]
    fn inputs_reads_every_shape() {
        assert_eq!(inputs(&json!({"input": "a"})), ["a"]);
        assert_eq!(inputs(&json!({"input": ["a", "b"]})), ["a", "b"]);
        assert_eq!(inputs(&json!({"input": [1, 2]})), ["[1,2]"]);
        assert_eq!(inputs(&json!({"input": [[1], [2]]})), ["[1]", "[2]"]);
        assert!(inputs(&json!({})).is_empty());
    }
}
