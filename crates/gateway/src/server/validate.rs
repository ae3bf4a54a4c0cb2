//! Checks of a Chat Completions request body before it reaches the gateway,
//! so a bad field gets a 400 that names it.

use llmops_core::types::ChatRequest;
use serde_json::{Map, Value};

use crate::server::error::ApiError;

/// The largest `n` the server accepts, the OpenAI API's own maximum.
const MAX_CHOICES: u64 = 128;

/// Parses and checks a request body.
pub(crate) fn parse_chat_request(body: &[u8]) -> Result<ChatRequest, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_body(
            "the request body is empty; send a JSON object with `model` and `messages`",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::invalid_body(format!(
            "the request body is not valid JSON ({error}); send a JSON object with `model` and `messages`"
        ))
    })?;
    let Value::Object(fields) = &value else {
        return Err(ApiError::invalid_body(
            "the request body must be a JSON object with `model` and `messages`",
        ));
    };
    check_fields(fields)?;
    serde_json::from_value(value).map_err(|error| {
        ApiError::invalid_body(format!(
            "the request does not match the Chat Completions format: {error}"
        ))
    })
}

fn check_fields(fields: &Map<String, Value>) -> Result<(), ApiError> {
    match fields.get("model") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "model",
                "missing required parameter `model`; name a model from GET /v1/models",
            ));
        }
        Some(Value::String(model)) if model.trim().is_empty() => {
            return Err(ApiError::invalid(
                "model",
                "`model` is empty; name a model from GET /v1/models",
            ));
        }
        Some(Value::String(_)) => {}
        Some(other) => {
            return Err(ApiError::invalid(
                "model",
                format!("`model` must be a string, not {}", kind(other)),
            ));
        }
    }
    match fields.get("messages") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "messages",
                "missing required parameter `messages`; send a list of messages such as [{\"role\":\"user\",\"content\":\"Hello\"}]",
            ));
        }
        Some(Value::Array(messages)) if messages.is_empty() => {
            return Err(ApiError::invalid(
                "messages",
                "`messages` is empty; send at least one message",
            ));
        }
        Some(Value::Array(messages)) => check_message_contents(messages)?,
        Some(other) => {
            return Err(ApiError::invalid(
                "messages",
                format!("`messages` must be a list, not {}", kind(other)),
            ));
        }
    }
    check_integer(fields, "n", 1, MAX_CHOICES)?;
    check_integer(fields, "max_tokens", 1, u64::from(u32::MAX))?;
    check_integer(fields, "max_completion_tokens", 1, u64::from(u32::MAX))?;
    check_number(fields, "temperature", 0.0, 2.0)?;
    check_number(fields, "top_p", 0.0, 1.0)?;
    check_number(fields, "presence_penalty", -2.0, 2.0)?;
    check_number(fields, "frequency_penalty", -2.0, 2.0)?;
    if let Some(stream) = fields.get("stream") {
        if !matches!(stream, Value::Bool(_) | Value::Null) {
            return Err(ApiError::invalid(
                "stream",
                format!("`stream` must be true or false, not {}", kind(stream)),
            ));
        }
    }
    Ok(())
}

/// Checks that every system, developer, user and tool message has content;
/// an assistant message may carry tool calls instead.
fn check_message_contents(messages: &[Value]) -> Result<(), ApiError> {
    for (index, message) in messages.iter().enumerate() {
        let Some(role) = message.get("role").and_then(Value::as_str) else {
            continue;
        };
        let needs_content = matches!(role, "system" | "developer" | "user" | "tool");
        let has_content = message
            .get("content")
            .is_some_and(|content| !content.is_null());
        if needs_content && !has_content {
            return Err(ApiError::invalid(
                format!("messages[{index}].content"),
                format!(
                    "missing required parameter `messages[{index}].content`; a {role} message needs its text"
                ),
            ));
        }
    }
    Ok(())
}

/// Checks that an optional field is an integer in `min..=max`.
fn check_integer(
    fields: &Map<String, Value>,
    name: &str,
    min: u64,
    max: u64,
) -> Result<(), ApiError> {
    let Some(value) = fields.get(name).filter(|value| !value.is_null()) else {
        return Ok(());
    };
    let in_range = value.as_u64().is_some_and(|n| (min..=max).contains(&n));
    if in_range {
        return Ok(());
    }
    Err(ApiError::invalid(
        name,
        format!("invalid `{name}` {value}: use an integer from {min} to {max}"),
    ))
}

/// Checks that an optional field is a number in `min..=max`.
fn check_number(
    fields: &Map<String, Value>,
    name: &str,
    min: f64,
    max: f64,
) -> Result<(), ApiError> {
    let Some(value) = fields.get(name).filter(|value| !value.is_null()) else {
        return Ok(());
    };
    let in_range = value.as_f64().is_some_and(|x| (min..=max).contains(&x));
    if in_range {
        return Ok(());
    }
    Err(ApiError::invalid(
        name,
        format!("invalid `{name}` {value}: use a number from {min} to {max}"),
    ))
}

/// Names the JSON type of a value for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn param_of(body: &str) -> Option<String> {
        match parse_chat_request(body.as_bytes()) {
            Ok(_) => Some("<accepted>".to_owned()),
            Err(error) => error.param,
        }
    }

    #[test]
    fn invalid_fields_are_named() {
        let messages = r#""messages":[{"role":"user","content":"hi"}]"#;
        let cases = [
            (format!("{{{messages}}}"), "model"),
            (r#"{"model":"m"}"#.to_owned(), "messages"),
            (r#"{"model":"m","messages":[]}"#.to_owned(), "messages"),
            (r#"{"model":"m","messages":"hi"}"#.to_owned(), "messages"),
            (format!(r#"{{"model":3,{messages}}}"#), "model"),
            (format!(r#"{{"model":"m",{messages},"n":0}}"#), "n"),
            (format!(r#"{{"model":"m",{messages},"n":1.5}}"#), "n"),
            (format!(r#"{{"model":"m",{messages},"n":129}}"#), "n"),
            (
                format!(r#"{{"model":"m",{messages},"max_tokens":-1}}"#),
                "max_tokens",
            ),
            (
                format!(r#"{{"model":"m",{messages},"max_tokens":"10"}}"#),
                "max_tokens",
            ),
            (
                format!(r#"{{"model":"m",{messages},"temperature":2.5}}"#),
                "temperature",
            ),
            (
                format!(r#"{{"model":"m",{messages},"temperature":-0.1}}"#),
                "temperature",
            ),
            (
                format!(r#"{{"model":"m",{messages},"top_p":1.01}}"#),
                "top_p",
            ),
            (
                format!(r#"{{"model":"m",{messages},"stream":"yes"}}"#),
                "stream",
            ),
        ];
        for (body, param) in cases {
            assert_eq!(param_of(&body).as_deref(), Some(param), "{body}");
        }
    }

    #[test]
    fn valid_request_with_unicode_passes() {
        let body = r#"{"model":"m","messages":[{"role":"user","content":"안녕하세요 👋"}],"n":2,"temperature":0,"max_tokens":16}"#;
        let request = parse_chat_request(body.as_bytes()).unwrap();
        assert_eq!(request.temperature, Some(0.0));
        assert_eq!(request.max_tokens, Some(16));
    }

    #[test]
    fn malformed_and_empty_bodies_are_rejected() {
        for body in [
            "",
            "   ",
            "{",
            "[1,2]",
            "null",
            "\"text\"",
            "{\"model\":\"m\",}",
        ] {
            let error = parse_chat_request(body.as_bytes()).unwrap_err();
            assert_eq!(error.status.as_u16(), 400, "{body:?}");
            assert_eq!(error.param, None, "{body:?}");
        }
    }

    #[test]
    fn message_without_content_names_it() {
        let error = parse_chat_request(
            br#"{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user"}]}"#,
        )
        .unwrap_err();
        assert_eq!(error.status.as_u16(), 400);
        assert_eq!(error.param.as_deref(), Some("messages[1].content"));
        let assistant_with_tools = br#"{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"ok"}]}"#;
        assert!(parse_chat_request(assistant_with_tools).is_ok());
    }

    #[test]
    fn bad_message_shape_is_rejected() {
        let error =
            parse_chat_request(br#"{"model":"m","messages":[{"content":"no role"}]}"#).unwrap_err();
        assert_eq!(error.status.as_u16(), 400);
        assert!(error.message.contains("role"), "{}", error.message);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_chat_request(&body);
        }

        #[test]
        fn temperature_in_range_is_accepted(temperature in 0.0f64..=2.0) {
            let body = format!(r#"{{"model":"m","messages":[{{"role":"user","content":"x"}}],"temperature":{temperature}}}"#);
            prop_assert!(parse_chat_request(body.as_bytes()).is_ok());
        }
    }
}
