//! Parsing and checking an OpenAI-compatible embeddings response.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::providers::wire_error::describe_json_error;

#[derive(Deserialize)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    index: usize,
    embedding: VectorIn,
}

/// A vector as JSON numbers or as base64 of little-endian `f32` values.
#[derive(Deserialize)]
#[serde(untagged)]
enum VectorIn {
    Floats(Vec<f32>),
    Base64(String),
}

/// Parses the response to a request of `expected_count` inputs and returns
/// the vectors ordered by their `index`.
///
/// # Errors
///
/// [`Error::MalformedResponse`] when the body is not an embeddings list,
/// when an index is missing, repeated or out of range, or when a vector
/// is not `dimensions` long.
pub(crate) fn parse_embeddings(
    provider: &str,
    body: &[u8],
    expected_count: usize,
    dimensions: usize,
) -> Result<Vec<Vec<f32>>> {
    let malformed = |message: String| Error::MalformedResponse {
        provider: provider.to_owned(),
        message,
    };
    let response: EmbeddingsResponse = serde_json::from_slice(body).map_err(|error| {
        malformed(format!(
            "response is not an embeddings list: {}",
            describe_json_error(&error)
        ))
    })?;
    if response.data.len() != expected_count {
        return Err(malformed(format!(
            "{} vectors returned for {expected_count} inputs",
            response.data.len()
        )));
    }

    let mut ordered: Vec<Option<Vec<f32>>> = vec![None; expected_count];
    for item in response.data {
        let Some(slot) = ordered.get_mut(item.index) else {
            return Err(malformed(format!(
                "index {} is out of range for {expected_count} inputs",
                item.index
            )));
        };
        if slot.is_some() {
            return Err(malformed(format!("index {} appears twice", item.index)));
        }
        let vector = match item.embedding {
            VectorIn::Floats(values) => values,
            VectorIn::Base64(text) => decode_f32_base64(&text).ok_or_else(|| {
                malformed(format!(
                    "the vector at index {} is not base64 of little-endian f32 values",
                    item.index
                ))
            })?,
        };
        if vector.len() != dimensions {
            return Err(malformed(format!(
                "the vector at index {} has {} values, but the embedder is configured for {dimensions}; set EmbeddingOptions dimensions to the model's length, or enable request_dimensions if the model can shorten its vectors",
                item.index,
                vector.len()
            )));
        }
        *slot = Some(vector);
    }
    // Every slot is filled: there are `expected_count` distinct in-range
    // indexes.
    Ok(ordered.into_iter().flatten().collect())
}

/// Decodes standard base64 (RFC 4648, padding optional) into little-endian
/// `f32` values. Returns `None` for invalid characters, or when the bytes
/// are not a multiple of 4.
fn decode_f32_base64(text: &str) -> Option<Vec<f32>> {
    let bytes = decode_base64(text.trim_end_matches('='))?;
    if bytes.len() % 4 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|quad| f32::from_le_bytes([quad[0], quad[1], quad[2], quad[3]]))
            .collect(),
    )
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(symbol: u8) -> Option<u32> {
        let value = match symbol {
            b'A'..=b'Z' => symbol - b'A',
            b'a'..=b'z' => symbol - b'a' + 26,
            b'0'..=b'9' => symbol - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some(u32::from(value))
    }

    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    for group in text.as_bytes().chunks(4) {
        if group.len() == 1 {
            return None;
        }
        let mut triple = 0u32;
        for (position, symbol) in group.iter().enumerate() {
            triple |= value(*symbol)? << (18 - 6 * position);
        }
        let decoded = [(triple >> 16) as u8, (triple >> 8) as u8, triple as u8];
        bytes.extend_from_slice(&decoded[..group.len() - 1]);
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_rfc4648_vectors() {
        for (encoded, expected) in [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYmFy", "foobar"),
        ] {
            let decoded = decode_base64(encoded.trim_end_matches('=')).unwrap();
            assert_eq!(decoded, expected.as_bytes(), "{encoded}");
        }
        assert_eq!(decode_base64("Zm9v!"), None);
    }

    #[test]
    fn base64_floats_round_trip() {
        // 1.0 and -2.5 as little-endian f32: 00 00 80 3f, 00 00 20 c0.
        assert_eq!(decode_f32_base64("AACAPwAAIMA="), Some(vec![1.0, -2.5]));
        assert_eq!(decode_f32_base64("AACA"), None, "3 bytes is not an f32");
    }

    #[test]
    fn items_ordered_by_index() {
        let body =
            br#"{"data":[{"index":1,"embedding":[0.5,0.5]},{"index":0,"embedding":[1.0,0.0]}]}"#;
        let vectors = parse_embeddings("p", body, 2, 2).unwrap();
        assert_eq!(vectors, vec![vec![1.0, 0.0], vec![0.5, 0.5]]);
    }

    #[test]
    fn bad_indexes_rejected() {
        let repeated = br#"{"data":[{"index":0,"embedding":[1.0]},{"index":0,"embedding":[1.0]}]}"#;
        let error = parse_embeddings("p", repeated, 2, 1).unwrap_err();
        assert!(error.to_string().contains("appears twice"), "{error}");
        let out_of_range = br#"{"data":[{"index":5,"embedding":[1.0]}]}"#;
        let error = parse_embeddings("p", out_of_range, 1, 1).unwrap_err();
        assert!(error.to_string().contains("out of range"), "{error}");
    }
}
