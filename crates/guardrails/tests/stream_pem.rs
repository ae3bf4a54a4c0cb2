//! Streaming redaction of PEM private key blocks longer than the hold-back
//! window.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use llmops_guardrails::{
    Analyzer, Anonymizer, EntityType, MAX_HELD_CHARS, PlaceholderScope, StreamScanner,
};

/// Returns base64 lines of 64 chars encoding `bytes` pseudo-random bytes,
/// shaped like the body of a PEM key but not a key.
fn body_lines(bytes: usize) -> Vec<String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let data: Vec<u8> = (0..bytes)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let encoded = STANDARD.encode(data);
    encoded
        .as_bytes()
        .chunks(64)
        .map(|line| String::from_utf8(line.to_vec()).unwrap())
        .collect()
}

fn pem(lines: &[String], end: bool) -> String {
    let mut block = String::from("-----BEGIN RSA PRIVATE KEY-----\n");
    for line in lines {
        block.push_str(line);
        block.push('\n');
    }
    if end {
        block.push_str("-----END RSA PRIVATE KEY-----");
    }
    block
}

/// Streams `text` in chunks of `chunk_chars` chars and returns the output.
fn stream(text: &str, chunk_chars: usize, window: usize) -> String {
    let mut scanner = StreamScanner::new(Arc::new(Analyzer::new()), Anonymizer::default())
        .with_window_chars(window);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    for chunk in chars.chunks(chunk_chars) {
        let chunk: String = chunk.iter().collect();
        out.push_str(&scanner.push(&chunk).unwrap().text);
    }
    out.push_str(&scanner.finish().unwrap().text);
    out
}

#[test]
fn whole_text_finds_key_block() {
    let lines = body_lines(1_200);
    let text = format!(
        "키는 다음과 같습니다:\n{}\n조심히 쓰세요.",
        pem(&lines, true)
    );
    let findings = Analyzer::new().analyze(&text).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].entity, EntityType::PrivateKey);
    assert!(
        findings[0]
            .value(&text)
            .ends_with("-----END RSA PRIVATE KEY-----")
    );
}

#[test]
fn key_split_across_many_chunks() {
    let lines = body_lines(1_200);
    assert!(lines.len() > 20);
    let text = format!(
        "키는 다음과 같습니다:\n{}\n조심히 쓰세요. Mail kim@example.com.",
        pem(&lines, true)
    );
    let expected = "키는 다음과 같습니다:\n<PRIVATE_KEY_1>\n조심히 쓰세요. Mail <EMAIL_ADDRESS_1>.";
    // The window must still exceed the BEGIN line (31 chars here) for the
    // line to be recognized before any of it is emitted.
    for window in [48, 256] {
        for chunk_chars in [1, 3, 7, 16, 64, 500] {
            let out = stream(&text, chunk_chars, window);
            assert_eq!(out, expected, "window {window}, chunks of {chunk_chars}");
        }
    }
}

#[test]
fn unterminated_key_body_redacted() {
    let lines = body_lines(900);
    let text = format!("Here it is:\n{}", pem(&lines, false));
    let whole = Analyzer::new().analyze(&text).unwrap();
    assert_eq!(whole.len(), 1);
    assert_eq!(
        whole[0].value(&text).trim_end(),
        text["Here it is:\n".len()..].trim_end()
    );
    let redacted = Anonymizer::default().anonymize(&text, &whole, &mut PlaceholderScope::new());
    assert_eq!(redacted.trim_end(), "Here it is:\n<PRIVATE_KEY_1>");

    let out = stream(&text, 5, 256);
    assert_eq!(out.trim_end(), "Here it is:\n<PRIVATE_KEY_1>");
}

#[test]
fn header_in_prose_keeps_the_prose() {
    let text = "A key starts with -----BEGIN RSA PRIVATE KEY----- and ends with an END line.";
    let findings = Analyzer::new().analyze(text).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].value(text), "-----BEGIN RSA PRIVATE KEY-----");
}

#[test]
fn block_past_hold_limit_is_cut() {
    // A body longer than the hold limit: the part received up to the window
    // is redacted, and the rest, which no longer follows a BEGIN line in the
    // scanner's buffer, is emitted as it arrives.
    let lines = body_lines(MAX_HELD_CHARS);
    let text = pem(&lines, true);
    let out = stream(&text, 50, 256);
    assert!(out.starts_with("<PRIVATE_KEY_1>"), "{}", &out[..80]);
    assert!(!out.contains(&lines[0]));
    assert!(!out.contains(&lines[lines.len() / 2]));
    assert!(out.contains(&lines[lines.len() - 1]));
    assert!(out.ends_with("-----END RSA PRIVATE KEY-----"));
}
