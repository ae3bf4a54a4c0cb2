//! OpenAI's `response_format` on the Messages API, which has no such field.
//! The format becomes one tool whose input schema is the expected JSON, and
//! `tool_choice` forces its use. The tool's input comes back to the caller
//! as the message content.

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::types::ChatRequest;

/// The tool name used for `json_object`, which names no schema.
pub(crate) const JSON_OBJECT_TOOL: &str = "json_object";

/// The forced tool that carries a JSON response format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonOutputTool {
    /// The tool name: the schema's `name`, or [`JSON_OBJECT_TOOL`].
    pub(crate) name: String,
    /// The tool definition sent in `tools`.
    pub(crate) definition: Value,
}

/// Returns the tool for the request's `response_format`, or `None` for text
/// output.
///
/// # Errors
///
/// An invalid-request error naming the field when the format cannot be
/// carried: an unknown type, a `json_schema` without a name or with a
/// top-level schema that is not an object, or a request that also sends its
/// own tools (forcing the format's tool would keep the model from calling
/// them).
pub(crate) fn json_output_tool(request: &ChatRequest) -> Result<Option<JsonOutputTool>> {
    let Some(format) = &request.response_format else {
        return Ok(None);
    };
    let (name, schema, description) = match format.kind.as_str() {
        "text" => return Ok(None),
        "json_object" => (
            JSON_OBJECT_TOOL.to_owned(),
            json!({ "type": "object" }),
            "Give the answer as a JSON object.".to_owned(),
        ),
        "json_schema" => schema_tool(format.json_schema.as_ref())?,
        other => {
            return Err(Error::invalid_request(
                "response_format.type",
                format!("response format {other:?} is not one of text, json_object or json_schema"),
            ));
        }
    };
    if request
        .tools
        .as_ref()
        .is_some_and(|tools| !tools.is_empty())
    {
        return Err(Error::invalid_request(
            "response_format",
            "Anthropic has no JSON output mode, so llmops sends the format as a forced tool, \
             which cannot be combined with the request's own tools; drop response_format or tools",
        ));
    }
    let definition = json!({
        "name": name,
        "description": description,
        "input_schema": schema,
    });
    Ok(Some(JsonOutputTool { name, definition }))
}

fn schema_tool(json_schema: Option<&Value>) -> Result<(String, Value, String)> {
    let json_schema = json_schema.ok_or_else(|| {
        Error::invalid_request(
            "response_format.json_schema",
            "a json_schema response format needs json_schema with name and schema",
        )
    })?;
    let name = json_schema
        .get("name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| {
            Error::invalid_request(
                "response_format.json_schema.name",
                "the JSON schema needs a name, such as \"answer\"",
            )
        })?;
    let schema = json_schema
        .get("schema")
        .cloned()
        .unwrap_or_else(|| json!({ "type": "object" }));
    let top_type = schema.get("type").and_then(Value::as_str);
    if top_type.is_some_and(|kind| kind != "object") {
        return Err(Error::invalid_request(
            "response_format.json_schema.schema.type",
            "Anthropic tool input must be a JSON object; wrap the value in an object property",
        ));
    }
    let description = json_schema
        .get("description")
        .and_then(Value::as_str)
        .map_or_else(
            || format!("Give the answer as JSON that matches the {name} schema."),
            str::to_owned,
        );
    Ok((name.to_owned(), schema, description))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ChatMessage, ResponseFormat};

    fn request_with(format: Value) -> ChatRequest {
        let mut request = ChatRequest::new("claude", vec![ChatMessage::user("Hi")]);
        request.response_format = Some(serde_json::from_value::<ResponseFormat>(format).unwrap());
        request
    }

    #[test]
    fn text_and_absent_formats_add_no_tool() {
        let request = ChatRequest::new("claude", vec![ChatMessage::user("Hi")]);
        assert_eq!(json_output_tool(&request).unwrap(), None);
        let request = request_with(json!({ "type": "text" }));
        assert_eq!(json_output_tool(&request).unwrap(), None);
    }

    #[test]
    fn json_schema_becomes_a_tool_with_its_schema() {
        let schema = json!({
            "type": "object",
            "properties": { "city": { "type": "string" } },
            "required": ["city"],
        });
        let request = request_with(json!({
            "type": "json_schema",
            "json_schema": { "name": "place", "schema": schema, "strict": true },
        }));
        let tool = json_output_tool(&request).unwrap().unwrap();
        assert_eq!(tool.name, "place");
        assert_eq!(tool.definition["input_schema"], schema);
        assert_eq!(tool.definition["name"], "place");
    }

    #[test]
    fn bad_formats_name_the_field() {
        let cases = [
            (json!({ "type": "yaml" }), "response_format.type"),
            (
                json!({ "type": "json_schema" }),
                "response_format.json_schema",
            ),
            (
                json!({ "type": "json_schema", "json_schema": { "schema": {} } }),
                "response_format.json_schema.name",
            ),
            (
                json!({
                    "type": "json_schema",
                    "json_schema": { "name": "n", "schema": { "type": "array" } },
                }),
                "response_format.json_schema.schema.type",
            ),
        ];
        for (format, field) in cases {
            let error = json_output_tool(&request_with(format.clone())).unwrap_err();
            assert!(error.to_string().contains(field), "{format}: {error}");
        }
    }

    #[test]
    fn format_with_own_tools_is_rejected() {
        let mut request = request_with(json!({ "type": "json_object" }));
        request.tools = Some(vec![
            serde_json::from_value(json!({
                "type": "function",
                "function": { "name": "lookup", "parameters": { "type": "object" } },
            }))
            .unwrap(),
        ]);
        let error = json_output_tool(&request).unwrap_err();
        assert!(error.to_string().contains("response_format"), "{error}");
    }
}
