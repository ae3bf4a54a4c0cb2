//! `llmops tokens`, run as a process.
use std::io::Write;

use assert_cmd::Command;

fn llmops() -> Command {
    Command::cargo_bin("llmops").unwrap()
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn file_with(contents: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(contents).unwrap();
    file
}

#[test]
fn text_file_exact_count() {
    let file = file_with("tiktoken is great!".as_bytes());
    let output = llmops()
        .args(["tokens", "--model", "gpt-4o"])
        .arg(file.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "6 tokens (exact, o200k_base)\n");
}

#[test]
fn stdin_korean_text() {
    // Python tiktoken 0.14.0 counts 22 cl100k_base tokens for this sentence.
    let output = llmops()
        .args(["tokens", "--model", "gpt-4", "-"])
        .write_stdin("안녕하세요, 세계! 토큰을 셉니다.")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "22 tokens (exact, cl100k_base)\n");
}

#[test]
fn empty_stdin_is_zero() {
    let output = llmops()
        .args(["tokens", "--model", "gpt-4o", "-"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout_of(&output), "0 tokens (exact, o200k_base)\n");
}

#[test]
fn unknown_model_is_labelled_estimate() {
    let output = llmops()
        .args(["tokens", "--model", "claude-3-7-sonnet-20250219", "-"])
        .write_stdin("tiktoken is great!")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = stdout_of(&output);
    assert!(stdout.starts_with("6 tokens (estimate: "), "{stdout}");
    assert!(stdout.contains("claude-3-7-sonnet-20250219"), "{stdout}");
}

#[test]
fn chat_request_includes_overhead() {
    // The tool example of OpenAI's cookbook notebook "How to count tokens
    // with tiktoken", for which the API reported 101 prompt tokens on gpt-4o.
    let request = r#"{
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant that can answer to questions about the weather."},
            {"role": "user", "content": "What's the weather like in San Francisco?"}
        ],
        "tools": [{"type": "function", "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {"type": "object", "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "description": "The unit of temperature to return", "enum": ["celsius", "fahrenheit"]}
            }, "required": ["location"]}
        }}]
    }"#;
    let file = file_with(request.as_bytes());
    let output = llmops()
        .args(["tokens", "--model", "gpt-4o", "--chat"])
        .arg(file.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "101 tokens (exact, o200k_base)\n");
}

#[test]
fn chat_message_list() {
    let output = llmops()
        .args(["tokens", "--model", "gpt-4o", "--chat", "-"])
        .write_stdin(r#"[{"role": "user", "content": "Hello"}]"#)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    // 3 framing + 1 role + 1 content + 3 reply primer.
    assert_eq!(stdout_of(&output), "8 tokens (exact, o200k_base)\n");
}

#[test]
fn chat_model_mismatch_noted() {
    let output = llmops()
        .args(["tokens", "--model", "gpt-4o", "--chat", "-"])
        .write_stdin(r#"{"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}"#)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stderr_of(&output).contains("not the request's model gpt-4"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn invalid_chat_json_fails() {
    let output = llmops()
        .args(["tokens", "--model", "gpt-4o", "--chat", "-"])
        .write_stdin("{not json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("is not a chat request") && stderr.contains("invalid JSON"),
        "{stderr}"
    );
}

#[test]
fn chat_object_without_messages_fails() {
    let output = llmops()
        .args(["tokens", "--model", "gpt-4o", "--chat", "-"])
        .write_stdin("{}")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("`messages`"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn missing_file_names_path() {
    let output = llmops()
        .args(["tokens", "--model", "gpt-4o", "/nonexistent/notes.txt"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("/nonexistent/notes.txt"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn binary_file_rejected() {
    let file = file_with(&[0xff, 0xfe, 0x00, 0x80]);
    let output = llmops()
        .args(["tokens", "--model", "gpt-4o"])
        .arg(file.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("not valid UTF-8"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn missing_model_is_usage_error() {
    let output = llmops()
        .args(["tokens", "-"])
        .write_stdin("hi")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("--model"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn help_describes_exactness() {
    let output = llmops().args(["tokens", "--help"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = stdout_of(&output);
    assert!(help.contains("estimate"), "{help}");
    assert!(help.contains("--chat"), "{help}");
}
