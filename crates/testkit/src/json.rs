//! JSON serialization of the reply types, which logs instead of failing.

use serde::Serialize;

/// Appends `value` as compact JSON. The reply types contain only strings,
/// numbers, nulls, arrays, structs and `serde_json::Value`, which
/// `serde_json` serializes without error. An error is logged, not raised.
pub(crate) fn write_compact(buffer: &mut Vec<u8>, value: &impl Serialize) {
    if let Err(error) = serde_json::to_writer(&mut *buffer, value) {
        tracing::error!(%error, "failed to serialize a mock reply");
    }
}

/// Returns `value` as JSON pretty-printed with two spaces.
pub(crate) fn to_vec_pretty(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap_or_else(|error| {
        tracing::error!(%error, "failed to serialize a mock reply");
        Vec::new()
    })
}
