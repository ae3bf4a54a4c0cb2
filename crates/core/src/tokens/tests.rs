//! Token counts checked against published and independently computed values.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::types::{ChatMessage, ChatRequest, ContentPart, MessageContent, Tool};

/// Counts computed once with Python `tiktoken` 0.14.0
/// (`len(tiktoken.get_encoding(name).encode_ordinary(text))`), stored here as
/// test vectors: (text, o200k_base, cl100k_base).
const PYTHON_TIKTOKEN_VECTORS: &[(&str, u64, u64)] = &[
    ("tiktoken is great!", 6, 6),
    ("antidisestablishmentarianism", 6, 6),
    ("2 + 2 = 4", 7, 7),
    ("お誕生日おめでとう", 8, 9),
    ("안녕하세요, 세계! 토큰을 셉니다.", 12, 22),
    ("emoji 👩‍👩‍👧‍👦 and 🇰🇷 flags", 18, 26),
    ("literal <|endoftext|> marker", 9, 8),
    ("   leading spaces\n\n\ttabs\r\nand CRLF   ", 11, 11),
    ("def f(x):\n    return x ** 2  # square", 13, 13),
];

#[test]
fn text_counts_match_python_tiktoken() {
    for (text, o200k, cl100k) in PYTHON_TIKTOKEN_VECTORS {
        assert_eq!(
            Encoding::O200kBase.count(text),
            *o200k,
            "o200k_base count of {text:?}"
        );
        assert_eq!(
            Encoding::Cl100kBase.count(text),
            *cl100k,
            "cl100k_base count of {text:?}"
        );
    }
    let long = "x".repeat(1000);
    assert_eq!(Encoding::O200kBase.count(&long), 125);
    assert_eq!(Encoding::Cl100kBase.count(&long), 125);
}

/// Builds the example conversation of OpenAI's cookbook notebook "How to count
/// tokens with tiktoken" (openai/openai-cookbook,
/// `examples/How_to_count_tokens_with_tiktoken.ipynb`).
fn cookbook_conversation() -> Vec<ChatMessage> {
    let named = |name: &str, content: &str| {
        let mut message = ChatMessage::system(content);
        message.name = Some(name.to_owned());
        message
    };
    vec![
        ChatMessage::system(
            "You are a helpful, pattern-following assistant that translates corporate jargon into plain English.",
        ),
        named(
            "example_user",
            "New synergies will help drive top-line growth.",
        ),
        named(
            "example_assistant",
            "Things working well together will increase revenue.",
        ),
        named(
            "example_user",
            "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
        ),
        named(
            "example_assistant",
            "Let's talk later when we're less busy about how to do better.",
        ),
        ChatMessage::user(
            "This late pivot means we don't have time to boil the ocean for the client deliverable.",
        ),
    ]
}

/// The notebook prints `usage.prompt_tokens` returned by the API for this
/// conversation: 129 for gpt-3.5-turbo, gpt-4-0613 and gpt-4, 124 for gpt-4o
/// and gpt-4o-mini, and (in its 2023 revision) 127 for gpt-3.5-turbo-0301.
#[test]
fn chat_counts_match_cookbook_api_counts() {
    let counter = TokenCounter::new();
    let messages = cookbook_conversation();
    let cases = [
        ("gpt-3.5-turbo", 129, "cl100k_base"),
        ("gpt-4-0613", 129, "cl100k_base"),
        ("gpt-4", 129, "cl100k_base"),
        ("gpt-4o", 124, "o200k_base"),
        ("gpt-4o-mini", 124, "o200k_base"),
        ("openai/gpt-4o-2024-08-06", 124, "o200k_base"),
        ("gpt-3.5-turbo-0301", 127, "cl100k_base"),
    ];
    for (model, expected, encoding) in cases {
        let count = counter.count_messages(model, &messages, &[]);
        assert_eq!(
            count,
            TokenCount::exact(expected, encoding),
            "chat count for {model}"
        );
    }
}

fn cookbook_weather_tool() -> Tool {
    Tool::function(
        "get_current_weather",
        "Get the current weather in a given location",
        json!({
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "description": "The unit of temperature to return", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        }),
    )
}

/// The notebook's tool example: API counts of 105 for gpt-3.5-turbo and
/// gpt-4, and 101 for gpt-4o and gpt-4o-mini.
#[test]
fn tool_counts_match_cookbook_api_counts() {
    let counter = TokenCounter::new();
    let mut request = ChatRequest::new(
        "gpt-4o",
        vec![
            ChatMessage::system(
                "You are a helpful assistant that can answer to questions about the weather.",
            ),
            ChatMessage::user("What's the weather like in San Francisco?"),
        ],
    );
    request.tools = Some(vec![cookbook_weather_tool()]);
    for (model, expected) in [
        ("gpt-3.5-turbo", 105),
        ("gpt-4", 105),
        ("gpt-4o", 101),
        ("gpt-4o-mini", 101),
    ] {
        request.model = model.to_owned();
        let count = counter.count_request(&request);
        assert_eq!(count.tokens, expected, "tool request count for {model}");
        assert!(count.is_exact(), "tool request count for {model} is exact");
    }
}

#[test]
fn unpublished_formats_are_estimates() {
    let counter = TokenCounter::new();
    let messages = cookbook_conversation();
    for model in ["o3-mini", "gpt-4.1", "gpt-5"] {
        let count = counter.count_messages(model, &messages, &[]);
        assert_eq!(count.tokens, 124, "chat count for {model}");
        assert!(!count.is_exact(), "chat count for {model} is an estimate");
    }
    assert!(counter.count_text("gpt-5", "hello").is_exact());
}

#[test]
fn unknown_model_is_labelled_estimate() {
    let counter = TokenCounter::new();
    let count = counter.count_text("claude-3-7-sonnet-20250219", "tiktoken is great!");
    assert_eq!(count.tokens, 6);
    match count.method {
        CountMethod::Estimate { basis } => {
            assert!(
                basis.contains("claude-3-7-sonnet-20250219"),
                "basis names the model: {basis}"
            );
            assert!(
                basis.contains("o200k_base"),
                "basis names the proxy: {basis}"
            );
        }
        CountMethod::Exact { .. } => panic!("an unknown model must not be exact"),
    }
    let chat = counter.count_messages("claude-3-7-sonnet-20250219", &cookbook_conversation(), &[]);
    assert!(!chat.is_exact());
    assert_eq!(chat.tokens, 124);
}

/// A tokenizer that counts Unicode scalar values, standing in for a local
/// model's tokenizer.
struct CharTokenizer;

impl Tokenizer for CharTokenizer {
    fn name(&self) -> &str {
        "chars"
    }

    fn count_text(&self, text: &str) -> u64 {
        text.chars().count() as u64
    }
}

/// A tokenizer with its own chat template: one token per message.
struct TemplateTokenizer;

impl Tokenizer for TemplateTokenizer {
    fn name(&self) -> &str {
        "template"
    }

    fn count_text(&self, text: &str) -> u64 {
        text.len() as u64
    }

    fn count_chat(&self, request: &ChatRequest) -> Option<TokenCount> {
        Some(TokenCount::exact(request.messages.len() as u64, "template"))
    }
}

#[test]
fn registered_tokenizer_is_exact_for_text() {
    let mut counter = TokenCounter::new();
    counter.register("smollm2", Arc::new(CharTokenizer));
    assert_eq!(
        counter.count_text("smollm2", "héllo"),
        TokenCount::exact(5, "chars")
    );
    assert_eq!(
        counter.count_text("local/smollm2", "héllo"),
        TokenCount::exact(5, "chars")
    );
    assert!(!counter.count_text("smollm2-large", "héllo").is_exact());
}

#[test]
fn registered_tokenizer_overrides_openai_map() {
    let mut counter = TokenCounter::new();
    counter.register("gpt-4o", Arc::new(CharTokenizer));
    assert_eq!(
        counter.count_text("gpt-4o", "abc"),
        TokenCount::exact(3, "chars")
    );
}

#[test]
fn registered_chat_without_template_is_estimate() {
    let mut counter = TokenCounter::new();
    counter.register("smollm2", Arc::new(CharTokenizer));
    let request = ChatRequest::new("smollm2", vec![ChatMessage::user("hi")]);
    // 3 framing + "user" (4) + "hi" (2) + 3 reply primer.
    let count = counter.count_request(&request);
    assert_eq!(count.tokens, 12);
    assert!(!count.is_exact());
}

#[test]
fn registered_chat_template_is_used() {
    let mut counter = TokenCounter::new();
    counter.register("local-model", Arc::new(TemplateTokenizer));
    let request = ChatRequest::new(
        "local-model",
        vec![ChatMessage::user("a"), ChatMessage::user("b")],
    );
    assert_eq!(
        counter.count_request(&request),
        TokenCount::exact(2, "template")
    );
}

#[test]
fn empty_conversation_counts_primer() {
    let counter = TokenCounter::new();
    assert_eq!(
        counter.count_messages("gpt-4o", &[], &[]),
        TokenCount::exact(3, "o200k_base")
    );
    let empty = ChatMessage::user("");
    assert_eq!(
        counter.count_messages("gpt-4o", &[empty], &[]).tokens,
        3 + 1 + 3
    );
}

#[test]
fn image_parts_make_estimate() {
    let counter = TokenCounter::new();
    let mut image: ContentPart =
        serde_json::from_value(json!({"type": "image_url", "image_url": {"url": "data:,"}}))
            .unwrap();
    image.text = None;
    let mut message = ChatMessage::user("");
    message.content = Some(MessageContent::Parts(vec![
        ContentPart::text("What is this?"),
        image,
    ]));
    let count = counter.count_messages("gpt-4o", &[message], &[]);
    assert!(!count.is_exact());
    assert_eq!(
        count.tokens,
        counter
            .count_messages("gpt-4o", &[ChatMessage::user("What is this?")], &[])
            .tokens
    );
}

#[test]
fn tool_calls_make_estimate() {
    let counter = TokenCounter::new();
    let mut call: ChatMessage = serde_json::from_value(json!({
        "role": "assistant",
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Seoul\"}"}}]
    }))
    .unwrap();
    let plain = counter.count_messages("gpt-4o", std::slice::from_ref(&call), &[]);
    assert!(!plain.is_exact());
    assert!(
        plain.tokens > 3 + 1 + 3,
        "tool call arguments are counted: {plain}"
    );
    call.tool_calls = None;
    assert!(counter.count_messages("gpt-4o", &[call], &[]).is_exact());
}

#[test]
fn nested_tool_schema_is_estimate() {
    let counter = TokenCounter::new();
    let tool = Tool::function(
        "create_event",
        "Create an event.",
        json!({"type": "object", "properties": {"attendees": {"type": "array", "items": {"type": "string"}, "description": "Emails"}}}),
    );
    let count = counter.count_messages("gpt-4o", &[ChatMessage::user("hi")], &[tool]);
    assert!(!count.is_exact());
}

#[test]
fn counts_agree_across_threads() {
    let text = "동시에 여러 스레드에서 같은 텍스트를 셉니다. Concurrent counting must agree.";
    let expected = Encoding::O200kBase.count(text);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                (0..20)
                    .map(|_| Encoding::O200kBase.count(text))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for handle in handles {
        for count in handle.join().unwrap() {
            assert_eq!(count, expected);
        }
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Tokens never exceed bytes, because every byte has a token.
        #[test]
        fn tokens_at_most_bytes(text in "\\PC{0,200}") {
            prop_assert!(Encoding::O200kBase.count(&text) <= text.len() as u64);
            prop_assert!(Encoding::Cl100kBase.count(&text) <= text.len() as u64);
        }

        /// Adding a message never lowers the chat count.
        #[test]
        fn chat_count_grows_with_messages(texts in proptest::collection::vec("\\PC{0,40}", 0..6)) {
            let counter = TokenCounter::new();
            let messages: Vec<ChatMessage> = texts.iter().map(|text| ChatMessage::user(text.as_str())).collect();
            let mut previous = 0;
            for end in 0..=messages.len() {
                let tokens = counter.count_messages("gpt-4o", &messages[..end], &[]).tokens;
                if end > 0 {
                    // Each message adds 3 tokens of framing and 1 for the role.
                    prop_assert!(tokens >= previous + 4, "{tokens} after {previous}");
                }
                previous = tokens;
            }
        }
    }
}
