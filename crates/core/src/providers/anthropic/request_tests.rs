use serde_json::json;

use super::*;
use crate::types::{FunctionCall, ToolCall};

fn body_of(request: &ChatRequest) -> Value {
    to_messages_body(request, 4096, false, None).unwrap()
}

fn assistant_with_call(id: &str, name: &str, arguments: &str) -> ChatMessage {
    let mut message = ChatMessage::assistant("");
    message.content = None;
    message.tool_calls = Some(vec![ToolCall {
        id: id.to_owned(),
        kind: "function".to_owned(),
        function: FunctionCall {
            name: name.to_owned(),
            arguments: arguments.to_owned(),
            extra: Default::default(),
        },
        extra: Default::default(),
    }]);
    message
}

#[test]
fn system_and_developer_extracted() {
    let request = ChatRequest::new(
        "claude-haiku-4-5",
        vec![
            ChatMessage::system("Be brief."),
            ChatMessage::new(Role::Developer, "Answer in French."),
            ChatMessage::user("Hi"),
        ],
    );
    let body = body_of(&request);
    assert_eq!(body["system"], "Be brief.\n\nAnswer in French.");
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
    assert_eq!(
        body["messages"][0],
        json!({"role": "user", "content": [{"type": "text", "text": "Hi"}]})
    );
}

#[test]
fn default_and_request_max_tokens() {
    let mut request = ChatRequest::new("m", vec![ChatMessage::user("Hi")]);
    assert_eq!(body_of(&request)["max_tokens"], 4096);
    request.max_tokens = Some(100);
    assert_eq!(body_of(&request)["max_tokens"], 100);
    request.max_completion_tokens = Some(50);
    assert_eq!(body_of(&request)["max_tokens"], 50);
}

#[test]
fn consecutive_same_role_merged() {
    let request = ChatRequest::new(
        "m",
        vec![
            ChatMessage::user("one"),
            ChatMessage::user("two"),
            ChatMessage::assistant("three"),
            ChatMessage::user("four"),
        ],
    );
    let messages = body_of(&request)["messages"].clone();
    assert_eq!(messages.as_array().unwrap().len(), 3);
    assert_eq!(messages[0]["content"].as_array().unwrap().len(), 2);
    assert_eq!(messages[0]["content"][1]["text"], "two");
    assert_eq!(messages[1]["role"], "assistant");
}

#[test]
fn tool_round_trip_converted() {
    let mut request = ChatRequest::new(
        "m",
        vec![
            ChatMessage::user("Capital of France?"),
            assistant_with_call("call_1", "get_capital", r#"{"country":"France"}"#),
            ChatMessage::tool("call_1", "Paris"),
            ChatMessage::user("Thanks"),
        ],
    );
    request.tools = Some(vec![Tool::function(
        "get_capital",
        "Look up a capital",
        json!({"type": "object", "properties": {"country": {"type": "string"}}}),
    )]);
    let body = body_of(&request);

    assert_eq!(
        body["messages"][1]["content"][0],
        json!({"type": "tool_use", "id": "call_1", "name": "get_capital", "input": {"country": "France"}})
    );
    let user_turn = &body["messages"][2];
    assert_eq!(user_turn["role"], "user");
    assert_eq!(
        user_turn["content"][0],
        json!({"type": "tool_result", "tool_use_id": "call_1", "content": "Paris"})
    );
    assert_eq!(user_turn["content"][1]["text"], "Thanks");
    assert_eq!(
        body["tools"][0],
        json!({
            "name": "get_capital",
            "description": "Look up a capital",
            "input_schema": {"type": "object", "properties": {"country": {"type": "string"}}},
        })
    );
}

#[test]
fn empty_tool_arguments_become_empty_object() {
    let request = ChatRequest::new(
        "m",
        vec![
            ChatMessage::user("go"),
            assistant_with_call("c", "ping", ""),
        ],
    );
    assert_eq!(
        body_of(&request)["messages"][1]["content"][0]["input"],
        json!({})
    );
}

#[test]
fn invalid_tool_arguments_rejected() {
    let request = ChatRequest::new(
        "m",
        vec![
            ChatMessage::user("go"),
            assistant_with_call("c", "ping", "{oops"),
        ],
    );
    let error = to_messages_body(&request, 4096, false, None).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("messages[1].tool_calls[0].function.arguments"),
        "{error}"
    );
}

#[test]
fn tool_choice_mapping() {
    let cases = [
        (ToolChoice::Mode("auto".into()), json!({"type": "auto"})),
        (ToolChoice::Mode("required".into()), json!({"type": "any"})),
        (ToolChoice::Mode("none".into()), json!({"type": "none"})),
        (
            ToolChoice::Named(json!({"type": "function", "function": {"name": "get_capital"}})),
            json!({"type": "tool", "name": "get_capital"}),
        ),
    ];
    for (choice, expected) in cases {
        let mut request = ChatRequest::new("m", vec![ChatMessage::user("x")]);
        request.tool_choice = Some(choice);
        assert_eq!(body_of(&request)["tool_choice"], expected);
    }
}

#[test]
fn parallel_tool_calls_false_disables_parallel_use() {
    let mut request = ChatRequest::new("m", vec![ChatMessage::user("x")]);
    request.tools = Some(vec![Tool::function("f", "d", json!({"type": "object"}))]);
    request.parallel_tool_calls = Some(false);
    assert_eq!(
        body_of(&request)["tool_choice"],
        json!({"type": "auto", "disable_parallel_tool_use": true})
    );
}

#[test]
fn stop_temperature_user_and_stream() {
    let mut request = ChatRequest::new("m", vec![ChatMessage::user("x")]);
    request.stop = Some(crate::types::StopSequences::One("END".into()));
    request.temperature = Some(0.2);
    request.user = Some("user-42".into());
    request.extra.insert("top_k".into(), json!(5));
    request.extra.insert("logit_bias".into(), json!({}));
    let body = to_messages_body(&request, 4096, true, None).unwrap();
    assert_eq!(body["stop_sequences"], json!(["END"]));
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["metadata"], json!({"user_id": "user-42"}));
    assert_eq!(body["stream"], true);
    assert_eq!(body["top_k"], 5);
    assert!(body.get("logit_bias").is_none());
}

#[test]
fn image_parts_converted() {
    let mut image_data = ContentPart::text("");
    image_data.kind = "image_url".into();
    image_data.text = None;
    image_data.extra.insert(
        "image_url".into(),
        json!({"url": "data:image/png;base64,iVBORw0KGgo="}),
    );
    let mut image_link = image_data.clone();
    image_link.extra.insert(
        "image_url".into(),
        json!({"url": "https://example.com/cat.jpg"}),
    );

    let mut message = ChatMessage::user("");
    message.content = Some(MessageContent::Parts(vec![
        ContentPart::text("What is this?"),
        image_data,
        image_link,
    ]));
    let body = body_of(&ChatRequest::new("m", vec![message]));
    let content = &body["messages"][0]["content"];
    assert_eq!(
        content[1],
        json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}})
    );
    assert_eq!(
        content[2],
        json!({"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}})
    );
}

#[test]
fn unsupported_inputs_rejected() {
    let mut request = ChatRequest::new("m", vec![ChatMessage::user("x")]);
    request.n = Some(2);
    assert!(
        to_messages_body(&request, 4096, false, None)
            .unwrap_err()
            .to_string()
            .contains("n to 1")
    );

    let request = ChatRequest::new("m", vec![ChatMessage::user("")]);
    let error = to_messages_body(&request, 4096, false, None).unwrap_err();
    assert!(error.to_string().contains("messages[0].content"), "{error}");

    let mut tool = ChatMessage::tool("x", "y");
    tool.tool_call_id = None;
    let error =
        to_messages_body(&ChatRequest::new("m", vec![tool]), 4096, false, None).unwrap_err();
    assert!(error.to_string().contains("tool_call_id"), "{error}");

    let mut part = ContentPart::text("");
    part.kind = "input_audio".into();
    let mut message = ChatMessage::user("");
    message.content = Some(MessageContent::Parts(vec![part]));
    let error =
        to_messages_body(&ChatRequest::new("m", vec![message]), 4096, false, None).unwrap_err();
    assert!(error.to_string().contains("input_audio"), "{error}");
}
