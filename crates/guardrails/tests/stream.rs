//! Streaming redaction across chunk boundaries.

use std::sync::Arc;

use llmops_guardrails::{Analyzer, Anonymizer, PlaceholderScope, StreamScanner};

const TEXT: &str = "고객 kim@example.com 님, 주민번호 900101-1234568로 확인했고 연락처는 010-1234-5678입니다. \
                    Card 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE. 끝.";

fn expected() -> String {
    let findings = Analyzer::new().analyze(TEXT).unwrap();
    assert_eq!(findings.len(), 5);
    Anonymizer::default().anonymize(TEXT, &findings, &mut PlaceholderScope::new())
}

fn run(chunks: &[&str], window: usize) -> (String, usize) {
    let mut scanner = StreamScanner::new(Arc::new(Analyzer::new()), Anonymizer::default())
        .with_window_chars(window);
    let mut out = String::new();
    let mut findings = Vec::new();
    for chunk in chunks {
        let part = scanner.push(chunk).unwrap();
        out.push_str(&part.text);
        findings.extend(part.findings);
    }
    let last = scanner.finish().unwrap();
    out.push_str(&last.text);
    findings.extend(last.findings);
    for finding in &findings {
        assert!(TEXT.get(finding.bytes.clone()).is_some());
    }
    (out, findings.len())
}

#[test]
fn split_at_every_offset() {
    let expected = expected();
    let boundaries: Vec<usize> = TEXT
        .char_indices()
        .map(|(i, _)| i)
        .chain([TEXT.len()])
        .collect();
    for &split in &boundaries {
        let (out, count) = run(&[&TEXT[..split], &TEXT[split..]], 24);
        assert_eq!(out, expected, "split at byte {split}");
        assert_eq!(count, 5, "split at byte {split}");
    }
}

#[test]
fn char_by_char_chunks() {
    let chunks: Vec<String> = TEXT.chars().map(String::from).collect();
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    for window in [24, 64, 256] {
        let (out, count) = run(&refs, window);
        assert_eq!(out, expected(), "window {window}");
        assert_eq!(count, 5);
    }
}

#[test]
fn stream_offsets_match_whole_text() {
    let mut scanner =
        StreamScanner::new(Arc::new(Analyzer::new()), Anonymizer::default()).with_window_chars(24);
    let mut findings = Vec::new();
    let mut rest = TEXT;
    while !rest.is_empty() {
        let mut cut = rest.len().min(9);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        findings.extend(scanner.push(&rest[..cut]).unwrap().findings);
        rest = &rest[cut..];
    }
    findings.extend(scanner.finish().unwrap().findings);
    let whole = Analyzer::new().analyze(TEXT).unwrap();
    assert_eq!(findings, whole);
}

#[test]
fn empty_stream_emits_nothing() {
    let mut scanner = StreamScanner::new(Arc::new(Analyzer::new()), Anonymizer::default());
    assert_eq!(scanner.push("").unwrap().text, "");
    assert_eq!(scanner.finish().unwrap().text, "");
}
