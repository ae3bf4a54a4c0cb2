use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ExtraFields;
use super::extra::deserialize_with_extra;

/// A tool the model may call, as sent in `tools`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// The tool type; `function` for function tools.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function definition of a `function` tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionDefinition>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

impl Tool {
    /// Creates a `function` tool with a JSON-schema `parameters` object.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Tool {
            kind: "function".to_owned(),
            function: Some(FunctionDefinition {
                name: name.into(),
                description: Some(description.into()),
                parameters: Some(parameters),
                strict: None,
                extra: ExtraFields::new(),
            }),
            extra: ExtraFields::new(),
        }
    }
}

/// The definition of a function tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDefinition {
    /// The function name the model calls.
    pub name: String,
    /// A description of the function for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Whether the model must follow the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

/// A complete tool call in an assistant message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The call id that the `tool` message answering it refers to.
    pub id: String,
    /// The tool type; `function` for function calls.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function name and its JSON-encoded arguments.
    pub function: FunctionCall,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

/// The function part of a complete tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// The called function.
    pub name: String,
    /// The arguments as a JSON-encoded string, exactly as the model wrote it.
    pub arguments: String,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

/// A fragment of a tool call in a stream delta.
///
/// The first fragment of a call carries `id` and the function name; later
/// fragments carry pieces of `arguments`. `index` says which call a fragment
/// belongs to, because several calls can stream interleaved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCallDelta {
    /// The position of the call in the message's `tool_calls`.
    pub index: u32,
    /// The call id, in the first fragment only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The tool type, in the first fragment only.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The function name and an arguments fragment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

deserialize_with_extra!(ToolCallDelta, "a tool-call fragment object", {
    "index" as index: u32 = required,
    "id" as id: Option<String> = default,
    "type" as kind: Option<String> = default,
    "function" as function: Option<FunctionCallDelta> = default,
});

/// The function part of a tool-call fragment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    /// The function name, in the first fragment only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A piece of the JSON-encoded arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
    /// Fields without a typed counterpart, kept for pass-through.
    #[serde(flatten)]
    pub extra: ExtraFields,
}

/// The tool-use mode: `"none"`, `"auto"`, `"required"` or a named
/// function object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    /// One of the modes `none`, `auto` or `required`.
    Mode(String),
    /// A specific tool, such as `{"type":"function","function":{"name":"f"}}`.
    Named(Value),
}
