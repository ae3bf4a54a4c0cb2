//! Conversion of an OpenAI-format request into an Anthropic Messages request.

use serde_json::{Map, Value, json};

use super::json_output::JsonOutputTool;
use crate::error::{Error, Result};
use crate::types::{ChatMessage, ChatRequest, ContentPart, MessageContent, Role, Tool, ToolChoice};

/// Request fields without an OpenAI counterpart that are passed through from
/// `ChatRequest::extra` when present.
const PASS_THROUGH_FIELDS: &[&str] = &[
    "top_k",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
];

/// Builds the JSON body of `POST /v1/messages`.
///
/// System and developer messages become `system`. Consecutive messages of
/// one role merge into one turn, because the API requires alternating turns.
/// `tool` messages become `tool_result` blocks in a user turn, and assistant
/// `tool_calls` become `tool_use` blocks. `max_tokens` is the request's output limit, or
/// `default_max_tokens` when it sets none. A JSON `response_format` arrives
/// as `json_output`, a tool that `tool_choice` forces.
///
/// `seed` and the frequency and presence penalties have no Messages API
/// counterpart: they are sampling hints, so they are left out rather than
/// failing the request. `logprobs` requests data Anthropic cannot return,
/// so a request that sets it fails.
pub(crate) fn to_messages_body(
    request: &ChatRequest,
    default_max_tokens: u32,
    stream: bool,
    json_output: Option<&JsonOutputTool>,
) -> Result<Value> {
    if request.n.is_some_and(|n| n > 1) {
        return Err(Error::invalid_request(
            "n",
            "Anthropic returns one choice per request; set n to 1 or leave it unset",
        ));
    }
    for field in ["logprobs", "top_logprobs"] {
        let wanted = request
            .extra
            .get(field)
            .is_some_and(|value| !value.is_null() && *value != Value::Bool(false));
        if wanted {
            return Err(Error::invalid_request(
                field,
                "Anthropic does not return log probabilities; leave the field unset",
            ));
        }
    }

    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert(
        "max_tokens".into(),
        json!(request.output_token_limit().unwrap_or(default_max_tokens)),
    );
    let (system, messages) = convert_messages(&request.messages)?;
    if let Some(system) = system {
        body.insert("system".into(), json!(system));
    }
    body.insert("messages".into(), Value::Array(messages));

    insert_sampling(&mut body, request);
    if let Some(tools) = &request.tools {
        body.insert("tools".into(), convert_tools(tools)?);
    }
    if let Some(choice) = convert_tool_choice(request)? {
        body.insert("tool_choice".into(), choice);
    }
    if let Some(tool) = json_output {
        body.insert("tools".into(), json!([tool.definition]));
        body.insert(
            "tool_choice".into(),
            json!({ "type": "tool", "name": tool.name }),
        );
    }
    if let Some(user) = &request.user {
        body.insert("metadata".into(), json!({ "user_id": user }));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    for field in PASS_THROUGH_FIELDS {
        if let Some(value) = request.extra.get(*field) {
            body.insert((*field).to_owned(), value.clone());
        }
    }
    Ok(Value::Object(body))
}

fn insert_sampling(body: &mut Map<String, Value>, request: &ChatRequest) {
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = request.top_p {
        body.insert("top_p".into(), json!(top_p));
    }
    let stops = request.stop_sequences();
    if !stops.is_empty() {
        body.insert("stop_sequences".into(), json!(stops));
    }
}

/// Splits off the system prompt and converts the turns, merging
/// consecutive turns of one role.
fn convert_messages(messages: &[ChatMessage]) -> Result<(Option<String>, Vec<Value>)> {
    let mut system_parts: Vec<String> = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();

    for (index, message) in messages.iter().enumerate() {
        let (role, blocks) = match &message.role {
            Role::System | Role::Developer => {
                system_parts.push(message.text());
                continue;
            }
            Role::User => ("user", user_blocks(message, index)?),
            Role::Assistant => ("assistant", assistant_blocks(message, index)?),
            Role::Tool => ("user", vec![tool_result_block(message, index)?]),
            other => {
                return Err(Error::invalid_request(
                    format!("messages[{index}].role"),
                    format!(
                        "role {other} has no Anthropic counterpart; use user, assistant, tool or system"
                    ),
                ));
            }
        };
        if blocks.is_empty() {
            return Err(Error::invalid_request(
                format!("messages[{index}].content"),
                "the message has no content; Anthropic rejects empty turns",
            ));
        }
        match turns.last_mut() {
            Some((last_role, last_blocks)) if *last_role == role => last_blocks.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }

    let system = (!system_parts.is_empty()).then(|| system_parts.join("\n\n"));
    let turns = turns
        .into_iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect();
    Ok((system, turns))
}

fn user_blocks(message: &ChatMessage, index: usize) -> Result<Vec<Value>> {
    match &message.content {
        None => Ok(Vec::new()),
        Some(MessageContent::Text(text)) => Ok(text_block(text).into_iter().collect()),
        Some(MessageContent::Parts(parts)) => parts
            .iter()
            .enumerate()
            .filter_map(|(part_index, part)| convert_part(part, index, part_index).transpose())
            .collect(),
    }
}

fn text_block(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({ "type": "text", "text": text }))
}

/// Converts a content part; empty text parts are dropped.
fn convert_part(part: &ContentPart, index: usize, part_index: usize) -> Result<Option<Value>> {
    match part.kind.as_str() {
        "text" => Ok(text_block(part.text.as_deref().unwrap_or(""))),
        "image_url" => image_block(part, index, part_index).map(Some),
        other => Err(Error::invalid_request(
            format!("messages[{index}].content[{part_index}].type"),
            format!(
                "content part type {other:?} is not supported for Anthropic; use text or image_url"
            ),
        )),
    }
}

/// Converts an `image_url` part: a `data:` URL becomes a base64 source, any
/// other URL a `url` source.
fn image_block(part: &ContentPart, index: usize, part_index: usize) -> Result<Value> {
    let url = part
        .extra
        .get("image_url")
        .and_then(|image| image.get("url").or(Some(image)))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::invalid_request(
                format!("messages[{index}].content[{part_index}].image_url.url"),
                "the image part has no URL",
            )
        })?;

    let Some(data_url) = url.strip_prefix("data:") else {
        return Ok(json!({ "type": "image", "source": { "type": "url", "url": url } }));
    };
    match data_url.split_once(";base64,") {
        Some((media_type, data)) => Ok(json!({
            "type": "image",
            "source": { "type": "base64", "media_type": media_type, "data": data },
        })),
        None => Err(Error::invalid_request(
            format!("messages[{index}].content[{part_index}].image_url.url"),
            "a data URL image must be base64 encoded (data:<media type>;base64,<data>)",
        )),
    }
}

fn assistant_blocks(message: &ChatMessage, index: usize) -> Result<Vec<Value>> {
    let mut blocks = match &message.content {
        None => Vec::new(),
        Some(content) => text_block(&content.text()).into_iter().collect(),
    };
    for (call_index, call) in message.tool_calls.iter().flatten().enumerate() {
        let arguments = call.function.arguments.trim();
        let input: Value = if arguments.is_empty() {
            json!({})
        } else {
            serde_json::from_str(arguments).map_err(|_| {
                Error::invalid_request(
                    format!("messages[{index}].tool_calls[{call_index}].function.arguments"),
                    "the tool call arguments are not valid JSON; Anthropic needs them as a JSON object",
                )
            })?
        };
        blocks.push(json!({
            "type": "tool_use",
            "id": call.id,
            "name": call.function.name,
            "input": input,
        }));
    }
    Ok(blocks)
}

fn tool_result_block(message: &ChatMessage, index: usize) -> Result<Value> {
    let id = message.tool_call_id.as_deref().ok_or_else(|| {
        Error::invalid_request(
            format!("messages[{index}].tool_call_id"),
            "a tool message needs the id of the tool call it answers",
        )
    })?;
    Ok(json!({ "type": "tool_result", "tool_use_id": id, "content": message.text() }))
}

fn convert_tools(tools: &[Tool]) -> Result<Value> {
    let mut converted = Vec::with_capacity(tools.len());
    for (index, tool) in tools.iter().enumerate() {
        let Some(function) = tool.function.as_ref().filter(|_| tool.kind == "function") else {
            return Err(Error::invalid_request(
                format!("tools[{index}].type"),
                format!(
                    "tool type {:?} is not supported for Anthropic; use function tools",
                    tool.kind
                ),
            ));
        };
        let mut definition = json!({
            "name": function.name,
            "input_schema": function
                .parameters
                .clone()
                .unwrap_or_else(|| json!({ "type": "object", "properties": {} })),
        });
        if let Some(description) = &function.description {
            definition["description"] = json!(description);
        }
        converted.push(definition);
    }
    Ok(Value::Array(converted))
}

/// Maps `tool_choice` and `parallel_tool_calls: false` onto Anthropic's
/// `tool_choice` (`auto`, `any`, `none` or a named `tool`).
fn convert_tool_choice(request: &ChatRequest) -> Result<Option<Value>> {
    let mut choice = match &request.tool_choice {
        None => None,
        Some(ToolChoice::Mode(mode)) => Some(match mode.as_str() {
            "auto" => json!({ "type": "auto" }),
            "required" => json!({ "type": "any" }),
            "none" => json!({ "type": "none" }),
            other => {
                return Err(Error::invalid_request(
                    "tool_choice",
                    format!("tool_choice {other:?} is not one of auto, required or none"),
                ));
            }
        }),
        Some(ToolChoice::Named(named)) => {
            let name = named
                .pointer("/function/name")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Error::invalid_request(
                        "tool_choice.function.name",
                        "a named tool_choice needs function.name",
                    )
                })?;
            Some(json!({ "type": "tool", "name": name }))
        }
    };

    if request.parallel_tool_calls == Some(false) && request.tools.is_some() {
        let target = choice.get_or_insert_with(|| json!({ "type": "auto" }));
        if target["type"] != "none" {
            target["disable_parallel_tool_use"] = json!(true);
        }
    }
    Ok(choice)
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
