//! The variable schema of a prompt: names, types, required flags, defaults.

use serde::{Deserialize, Serialize};
use serde_json::Value as JsonValue;

/// The type of a template variable, in JSON terms.
///
/// Stored prompt versions and the renderer's schema share this type. A list
/// is written `array` in files and the store, and `list` is read as well.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VariableType {
    /// A JSON string (the default).
    #[default]
    String,
    /// A JSON number without a fractional part that fits in `i64` or `u64`.
    Integer,
    /// Any JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A JSON array.
    #[serde(rename = "array", alias = "list")]
    List,
    /// A JSON object.
    Object,
    /// Any JSON value, including `null`.
    Any,
}

impl VariableType {
    /// Returns the type name used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            VariableType::String => "a string",
            VariableType::Integer => "an integer",
            VariableType::Number => "a number",
            VariableType::Boolean => "a boolean",
            VariableType::List => "a list",
            VariableType::Object => "an object",
            VariableType::Any => "any value",
        }
    }

    /// Returns whether `value` has this type.
    pub fn accepts(self, value: &JsonValue) -> bool {
        match self {
            VariableType::String => value.is_string(),
            VariableType::Integer => value.is_i64() || value.is_u64(),
            VariableType::Number => value.is_number(),
            VariableType::Boolean => value.is_boolean(),
            VariableType::List => value.is_array(),
            VariableType::Object => value.is_object(),
            VariableType::Any => true,
        }
    }
}

/// Returns the JSON type name of a value, for error messages.
pub(crate) fn json_type_name(value: &JsonValue) -> &'static str {
    match value {
        JsonValue::Null => "null",
        JsonValue::Bool(_) => "a boolean",
        JsonValue::Number(number) if number.is_f64() => "a non-integer number",
        JsonValue::Number(_) => "an integer",
        JsonValue::String(_) => "a string",
        JsonValue::Array(_) => "a list",
        JsonValue::Object(_) => "an object",
    }
}

/// The declaration of one template variable.
///
/// A variable that is not required and has no default stays undefined when
/// the caller passes no value, so templates must guard it with
/// `{% if name is defined %}`; any other use is an error in strict mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableSpec {
    /// The name used in templates.
    pub name: String,
    /// The expected type of the value.
    #[serde(rename = "type")]
    pub kind: VariableType,
    /// Whether rendering fails without a value. Defaults to `true`.
    #[serde(default = "default_required")]
    pub required: bool,
    /// The value used when the caller passes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<JsonValue>,
}

fn default_required() -> bool {
    true
}

impl VariableSpec {
    /// Creates a required variable of the given type.
    pub fn required(name: impl Into<String>, kind: VariableType) -> Self {
        VariableSpec {
            name: name.into(),
            kind,
            required: true,
            default: None,
        }
    }

    /// Creates an optional variable without a default.
    pub fn optional(name: impl Into<String>, kind: VariableType) -> Self {
        VariableSpec {
            name: name.into(),
            kind,
            required: false,
            default: None,
        }
    }

    /// Creates an optional variable that takes `default` when no value is
    /// passed.
    pub fn with_default(name: impl Into<String>, kind: VariableType, default: JsonValue) -> Self {
        VariableSpec {
            name: name.into(),
            kind,
            required: false,
            default: Some(default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VariableType;

    #[test]
    fn list_type_reads_both_names() {
        let written = serde_json::to_string(&VariableType::List).expect("serializes");
        assert_eq!(written, "\"array\"");
        for name in ["\"array\"", "\"list\""] {
            let read: VariableType = serde_json::from_str(name).expect(name);
            assert_eq!(read, VariableType::List, "{name}");
        }
        assert_eq!(VariableType::default(), VariableType::String);
    }
}
