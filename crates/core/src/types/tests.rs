//! Round-trip tests of the wire types: what a client sends must come back
//! unchanged after parse and serialize, including fields llmops does not know.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;

/// Arbitrary JSON values, a few levels deep, for unknown fields.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Unknown fields whose names cannot collide with a typed field.
fn unknown_fields() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x_[a-z]{1,8}", json_value(), 0..3)
        .prop_map(|map| map.into_iter().collect())
}

fn with_fields(mut object: Map<String, Value>, extra: Map<String, Value>) -> Value {
    object.extend(extra);
    Value::Object(object)
}

fn content() -> impl Strategy<Value = Value> {
    let part = ("\\PC{0,16}", unknown_fields()).prop_map(|(text, extra)| {
        let mut part = Map::new();
        part.insert("type".into(), json!("text"));
        part.insert("text".into(), json!(text));
        with_fields(part, extra)
    });
    let image = ("[a-z]{1,10}", unknown_fields()).prop_map(|(url, extra)| {
        let mut part = Map::new();
        part.insert("type".into(), json!("image_url"));
        part.insert(
            "image_url".into(),
            json!({"url": format!("https://example.com/{url}.png")}),
        );
        with_fields(part, extra)
    });
    prop_oneof![
        "\\PC{0,32}".prop_map(Value::String),
        prop::collection::vec(prop_oneof![part, image], 0..3).prop_map(Value::Array),
    ]
}

fn tool_call() -> impl Strategy<Value = Value> {
    ("[a-z0-9]{4,10}", "[a-z_]{1,10}", unknown_fields()).prop_map(|(id, name, extra)| {
        let mut call = Map::new();
        call.insert("id".into(), json!(format!("call_{id}")));
        call.insert("type".into(), json!("function"));
        call.insert(
            "function".into(),
            json!({"name": name, "arguments": "{\"a\":1}"}),
        );
        with_fields(call, extra)
    })
}

fn message() -> impl Strategy<Value = Value> {
    let role = prop_oneof![
        Just("system"),
        Just("developer"),
        Just("user"),
        Just("assistant"),
        Just("tool"),
        Just("critic"),
    ];
    (
        role,
        content(),
        prop::option::of("[a-z]{1,8}"),
        prop::option::of(prop::collection::vec(tool_call(), 1..3)),
        unknown_fields(),
    )
        .prop_map(|(role, content, name, tool_calls, extra)| {
            let mut message = Map::new();
            message.insert("role".into(), json!(role));
            message.insert("content".into(), content);
            if let Some(name) = name {
                message.insert("name".into(), json!(name));
            }
            if role == "assistant" {
                if let Some(tool_calls) = tool_calls {
                    message.insert("tool_calls".into(), Value::Array(tool_calls));
                }
            }
            if role == "tool" {
                message.insert("tool_call_id".into(), json!("call_1"));
            }
            with_fields(message, extra)
        })
}

fn request() -> impl Strategy<Value = Value> {
    (
        "[a-z0-9.-]{1,20}",
        prop::collection::vec(message(), 1..5),
        prop::option::of(any::<bool>()),
        prop::option::of((0.0f64..2.0).prop_map(|t| (t * 100.0).round() / 100.0 + 0.001)),
        prop::option::of(1u32..4096),
        prop::option::of(prop_oneof![
            Just(json!({"type": "json_object"})),
            Just(json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}})),
        ]),
        prop::option::of(prop_oneof![
            Just(json!("auto")),
            Just(json!({"type": "function", "function": {"name": "lookup"}})),
        ]),
        unknown_fields(),
    )
        .prop_map(
            |(model, messages, stream, temperature, max_tokens, response_format, tool_choice, extra)| {
                let mut request = Map::new();
                request.insert("model".into(), json!(model));
                request.insert("messages".into(), Value::Array(messages));
                if let Some(stream) = stream {
                    request.insert("stream".into(), json!(stream));
                    request.insert("stream_options".into(), json!({"include_usage": true, "x_new": 1}));
                }
                if let Some(temperature) = temperature {
                    request.insert("temperature".into(), json!(temperature));
                }
                if let Some(max_tokens) = max_tokens {
                    request.insert("max_tokens".into(), json!(max_tokens));
                }
                if let Some(format) = response_format {
                    request.insert("response_format".into(), format);
                }
                if let Some(choice) = tool_choice {
                    request.insert("tool_choice".into(), choice);
                    request.insert(
                        "tools".into(),
                        json!([{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}, "x_tool": [1, 2]}]),
                    );
                }
                with_fields(request, extra)
            },
        )
}

proptest! {
    #[test]
    fn request_round_trip_keeps_every_field(original in request()) {
        let parsed: ChatRequest = serde_json::from_value(original.clone()).unwrap();
        let written = serde_json::to_value(&parsed).unwrap();
        prop_assert_eq!(written, original);
    }

    #[test]
    fn chunk_round_trip_keeps_every_field(
        text in "\\PC{0,24}",
        index in 0u32..4,
        extra in unknown_fields(),
        delta_extra in unknown_fields(),
    ) {
        let mut delta = Map::new();
        delta.insert("content".into(), json!(text));
        delta.insert(
            "tool_calls".into(),
            json!([{"index": index, "function": {"arguments": "{\"q\""}}]),
        );
        let mut chunk = Map::new();
        chunk.insert("id".into(), json!("chatcmpl-1"));
        chunk.insert("object".into(), json!("chat.completion.chunk"));
        chunk.insert("created".into(), json!(1_700_000_000u64));
        chunk.insert("model".into(), json!("gpt-4o-mini"));
        chunk.insert(
            "choices".into(),
            json!([{"index": 0, "delta": with_fields(delta, delta_extra), "finish_reason": null}]),
        );
        let original = with_fields(chunk, extra);
        let parsed: ChatCompletionChunk = serde_json::from_value(original.clone()).unwrap();
        prop_assert_eq!(parsed.choices[0].delta.tool_calls.as_ref().unwrap()[0].index, index);
        prop_assert_eq!(serde_json::to_value(&parsed).unwrap(), original);
    }

    /// The same from wire text, where keys are borrowed from the input, and
    /// with unknown fields on the choice and the tool-call fragment too.
    #[test]
    fn chunk_text_round_trip_keeps_every_field(
        text in "\\PC{0,24}",
        extra in unknown_fields(),
        choice_extra in unknown_fields(),
        call_extra in unknown_fields(),
    ) {
        let mut call = Map::new();
        call.insert("index".into(), json!(1));
        call.insert("id".into(), json!("call_1"));
        call.insert("type".into(), json!("function"));
        let mut delta = Map::new();
        delta.insert("content".into(), json!(text));
        delta.insert("tool_calls".into(), json!([with_fields(call, call_extra)]));
        let mut choice = Map::new();
        choice.insert("index".into(), json!(0));
        choice.insert("delta".into(), Value::Object(delta));
        choice.insert("finish_reason".into(), json!("stop"));
        let mut chunk = Map::new();
        chunk.insert("id".into(), json!("chatcmpl-2"));
        chunk.insert("choices".into(), json!([with_fields(choice, choice_extra)]));
        chunk.insert("usage".into(), json!({"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}));
        let original = with_fields(chunk, extra);
        let wire = serde_json::to_string(&original).unwrap();
        let parsed: ChatCompletionChunk = serde_json::from_str(&wire).unwrap();
        prop_assert_eq!(parsed.delta_text(), Some(text.as_str()));
        let mut written = serde_json::to_value(&parsed).unwrap();
        // The defaults of absent fields are written back out.
        let written_map = written.as_object_mut().unwrap();
        prop_assert_eq!(written_map.remove("object"), Some(json!("chat.completion.chunk")));
        prop_assert_eq!(written_map.remove("created"), Some(json!(0)));
        prop_assert_eq!(written_map.remove("model"), Some(json!("")));
        prop_assert_eq!(written, original);
    }
}

#[test]
fn chunk_keys_with_escapes_are_read() {
    let wire = r#"{"\u0069d":"c1","choices":[{"delta":{"cont\u0065nt":"hi"}}],"x_\u00e9":1}"#;
    let chunk: ChatCompletionChunk = serde_json::from_str(wire).unwrap();
    assert_eq!(chunk.id, "c1");
    assert_eq!(chunk.delta_text(), Some("hi"));
    assert_eq!(chunk.extra.get("x_\u{e9}"), Some(&json!(1)));
}

#[test]
fn chunk_with_duplicate_field_is_an_error() {
    let wire = r#"{"id":"c1","id":"c2","choices":[]}"#;
    let error = serde_json::from_str::<ChatCompletionChunk>(wire).unwrap_err();
    assert!(
        error.to_string().contains("duplicate field `id`"),
        "{error}"
    );
}

#[test]
fn chunk_and_tool_call_need_their_required_fields() {
    let error = serde_json::from_str::<ChatCompletionChunk>(r#"{"choices":[]}"#).unwrap_err();
    assert!(error.to_string().contains("missing field `id`"), "{error}");
    let wire = r#"{"id":"c1","choices":[{"delta":{"tool_calls":[{"id":"call_1"}]}}]}"#;
    let error = serde_json::from_str::<ChatCompletionChunk>(wire).unwrap_err();
    assert!(
        error.to_string().contains("missing field `index`"),
        "{error}"
    );
}

#[test]
fn chunk_that_is_not_an_object_names_what_was_expected() {
    let error = serde_json::from_str::<ChatCompletionChunk>("[1]").unwrap_err();
    assert!(
        error.to_string().contains("a chat.completion.chunk object"),
        "{error}"
    );
}

#[test]
fn unknown_role_and_finish_reason_survive() {
    let message: ChatMessage =
        serde_json::from_value(json!({"role": "critic", "content": "x"})).unwrap();
    assert_eq!(message.role, Role::Other("critic".to_owned()));
    assert_eq!(
        serde_json::to_value(&message.role).unwrap(),
        json!("critic")
    );

    let choice: Choice = serde_json::from_value(json!({
        "index": 0,
        "message": {"role": "assistant", "content": "x"},
        "finish_reason": "guardrail_intervened"
    }))
    .unwrap();
    assert_eq!(
        choice.finish_reason,
        Some(FinishReason::Other("guardrail_intervened".to_owned()))
    );
}

#[test]
fn usage_reads_cache_and_reasoning_details() {
    let usage: Usage = serde_json::from_value(json!({
        "prompt_tokens": 1420,
        "completion_tokens": 100,
        "total_tokens": 1520,
        "prompt_tokens_details": {"cached_tokens": 1280, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 64, "accepted_prediction_tokens": 0}
    }))
    .unwrap();
    assert_eq!(usage.cached_tokens(), 1280);
    assert_eq!(usage.reasoning_tokens(), 64);
    assert_eq!(usage.cache_creation_tokens(), 0);
}

#[test]
fn request_helpers_read_options() {
    let request: ChatRequest = serde_json::from_value(json!({
        "model": "m",
        "messages": [],
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": 10,
        "max_completion_tokens": 20,
        "stop": "END"
    }))
    .unwrap();
    assert!(request.is_stream());
    assert!(request.wants_stream_usage());
    assert_eq!(request.output_token_limit(), Some(20));
    assert_eq!(request.stop_sequences(), vec!["END".to_owned()]);
}

#[test]
fn multipart_content_text_skips_images() {
    let message: ChatMessage = serde_json::from_value(json!({
        "role": "user",
        "content": [
            {"type": "text", "text": "한국어 "},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            {"type": "text", "text": "🦀"}
        ]
    }))
    .unwrap();
    assert_eq!(message.text(), "한국어 🦀");
}

#[test]
fn accumulator_joins_interleaved_tool_calls() {
    let chunks = [
        json!({"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
            {"index": 0, "id": "call_a", "type": "function", "function": {"name": "f", "arguments": ""}},
            {"index": 1, "id": "call_b", "type": "function", "function": {"name": "g", "arguments": ""}}
        ]}}]}),
        json!({"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 1, "function": {"arguments": "{\"y\":"}},
            {"index": 0, "function": {"arguments": "{\"x\":1}"}}
        ]}}]}),
        json!({"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 1, "function": {"arguments": "2}"}}
        ]}, "finish_reason": "tool_calls"}]}),
        json!({"id": "c", "model": "m", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}),
    ];
    let mut accumulator = StreamAccumulator::default();
    for chunk in &chunks {
        accumulator.push(&serde_json::from_value(chunk.clone()).unwrap());
    }
    assert_eq!(accumulator.chunk_count(), 4);
    let completion = accumulator.finish();
    let message = &completion.choices[0].message;
    let calls = message.tool_calls.as_ref().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "call_a");
    assert_eq!(calls[0].function.arguments, "{\"x\":1}");
    assert_eq!(calls[1].function.name, "g");
    assert_eq!(calls[1].function.arguments, "{\"y\":2}");
    assert_eq!(message.content, None);
    assert_eq!(
        completion.choices[0].finish_reason,
        Some(FinishReason::ToolCalls)
    );
    assert_eq!(completion.usage.unwrap().total_tokens, 12);
}

#[test]
fn accumulator_of_empty_stream_is_empty() {
    let completion = StreamAccumulator::default().finish();
    assert!(completion.choices.is_empty());
    assert_eq!(completion.text(), "");
}

#[test]
fn completion_to_chunks_accumulates_back() {
    let mut message = ChatMessage::assistant("안녕 🦀");
    message.tool_calls = Some(vec![ToolCall {
        id: "call_1".to_owned(),
        kind: "function".to_owned(),
        function: FunctionCall {
            name: "lookup".to_owned(),
            arguments: "{\"q\":1}".to_owned(),
            extra: ExtraFields::new(),
        },
        extra: ExtraFields::new(),
    }]);
    let mut completion = ChatCompletion::new(
        "c",
        "m",
        vec![Choice::new(0, message, Some(FinishReason::ToolCalls))],
    );
    completion.usage = Some(Usage::new(3, 4));

    let chunks = completion.to_chunks(true);
    assert_eq!(chunks.len(), 3);
    assert!(chunks[2].choices.is_empty());
    assert_eq!(chunks[2].usage.as_ref().unwrap().total_tokens, 7);
    assert!(
        completion
            .to_chunks(false)
            .iter()
            .all(|chunk| chunk.usage.is_none())
    );

    let mut accumulator = StreamAccumulator::default();
    for chunk in &chunks {
        accumulator.push(chunk);
    }
    let rebuilt = accumulator.finish();
    assert_eq!(rebuilt.choices, completion.choices);
    assert_eq!(rebuilt.usage, completion.usage);
}

#[test]
fn usage_total_saturates_on_huge_counts() {
    let usage = Usage::new(u64::MAX, u64::MAX);
    assert_eq!(usage.total_tokens, u64::MAX);
    assert_eq!(Usage::new(3, 4).total_tokens, 7);
}
