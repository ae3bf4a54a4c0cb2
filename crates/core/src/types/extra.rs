use serde_json::{Map, Value};

/// Fields of a wire object that llmops has no typed field for.
///
/// Every wire type flattens one of these, so a field that a newer client or
/// provider sends survives a parse and serialize round trip unchanged.
pub type ExtraFields = Map<String, Value>;
