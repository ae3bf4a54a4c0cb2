//! Output guards.

use llmops_guardrails::output::{
    BannedTermsGuard, CitationGuard, JsonGuard, LengthGuard, RefusalGuard, repair_json,
};
use llmops_guardrails::{Action, Guard, Stage};
use serde_json::json;

#[test]
fn valid_json_allowed_unchanged() {
    let verdict = JsonGuard::new()
        .check(r#"{"a": 1}"#, Stage::Output)
        .unwrap();
    assert_eq!(verdict.action, Action::Allow);
    assert_eq!(verdict.replacement, None);
}

#[test]
fn fenced_json_repaired() {
    let text = "Here you go:\n```json\n{\"name\": \"kim\", \"age\": 3}\n```\nAnything else?";
    let verdict = JsonGuard::new().check(text, Stage::Output).unwrap();
    assert_eq!(verdict.action, Action::Allow);
    assert_eq!(
        verdict.replacement.as_deref(),
        Some("{\"name\": \"kim\", \"age\": 3}")
    );
}

#[test]
fn trailing_text_repaired() {
    assert_eq!(
        repair_json("[1, 2, 3] hope this helps").as_deref(),
        Some("[1, 2, 3]")
    );
    assert_eq!(
        repair_json("```\n{\"a\": {\"b\": [1]}}\n```").as_deref(),
        Some("{\"a\": {\"b\": [1]}}")
    );
    assert_eq!(repair_json("no json here"), None);
    assert_eq!(repair_json(""), None);
}

#[test]
fn broken_json_blocked_with_position() {
    let verdict = JsonGuard::new().check("{\"a\": ", Stage::Output).unwrap();
    assert_eq!(verdict.action, Action::Block);
    assert!(
        verdict.reasons[0].contains("not valid JSON"),
        "{:?}",
        verdict.reasons
    );
    let verdict = JsonGuard::new()
        .with_repair(false)
        .check("```json\n{}\n```", Stage::Output)
        .unwrap();
    assert_eq!(verdict.action, Action::Block);
}

#[test]
fn schema_violation_blocked_without_value() {
    let schema =
        json!({"type": "object", "required": ["age"], "properties": {"age": {"type": "integer"}}});
    let guard = JsonGuard::new().with_schema(&schema).unwrap();
    let verdict = guard
        .check(r#"{"age": "secret-value-123"}"#, Stage::Output)
        .unwrap();
    assert_eq!(verdict.action, Action::Block);
    assert_eq!(verdict.reasons.len(), 1);
    assert!(verdict.reasons[0].contains("/age"), "{:?}", verdict.reasons);
    assert!(!verdict.reasons[0].contains("secret-value-123"));
    assert_eq!(
        guard.check(r#"{"age": 3}"#, Stage::Output).unwrap().action,
        Action::Allow
    );
}

#[test]
fn invalid_schema_rejected() {
    let error = JsonGuard::new()
        .with_schema(&json!({"type": 12}))
        .unwrap_err();
    assert!(error.to_string().contains("invalid JSON schema"), "{error}");
}

#[test]
fn banned_terms_whole_words() {
    let guard = BannedTermsGuard::new(vec![
        "Project Falcon".into(),
        "기밀".into(),
        "c++".into(),
        " ".into(),
    ])
    .unwrap();
    let verdict = guard
        .check("Status of project falcon and 기밀 문서", Stage::Output)
        .unwrap();
    assert_eq!(verdict.action, Action::Block);
    assert!(verdict.reasons[0].contains("project falcon"));
    assert_eq!(
        guard
            .check("falconry is fun", Stage::Output)
            .unwrap()
            .action,
        Action::Allow
    );
    assert_eq!(
        guard
            .check("I like c++ a lot", Stage::Output)
            .unwrap()
            .action,
        Action::Block
    );
    let empty = BannedTermsGuard::new(Vec::new()).unwrap();
    assert_eq!(
        empty.check("anything", Stage::Output).unwrap().action,
        Action::Allow
    );
}

#[test]
fn length_counts_chars() {
    let guard = LengthGuard::new(3).with_action(Action::Review);
    assert_eq!(
        guard.check("가나다", Stage::Output).unwrap().action,
        Action::Allow
    );
    let verdict = guard.check("가나다라", Stage::Output).unwrap();
    assert_eq!(verdict.action, Action::Review);
    assert!(verdict.reasons[0].contains("4 chars"));
}

#[test]
fn refusals_detected() {
    let guard = RefusalGuard::new();
    for text in [
        "I'm sorry, but I can't help with that.",
        "I cannot assist with this request.",
        "As an AI language model, I have no opinions.",
        "죄송하지만 그 요청은 도와드릴 수 없습니다.",
    ] {
        assert_eq!(
            guard.check(text, Stage::Output).unwrap().action,
            Action::Review,
            "{text}"
        );
    }
    for text in [
        "Sure, here is the code.",
        "I can help with that.",
        "제가 도와드릴게요.",
    ] {
        assert_eq!(
            guard.check(text, Stage::Output).unwrap().action,
            Action::Allow,
            "{text}"
        );
    }
}

#[test]
fn citations_counted() {
    let guard = CitationGuard::new(2);
    assert_eq!(
        guard.citations("See [1] and [doc-42], again [1][3]."),
        vec!["1", "3", "doc-42"]
    );
    assert_eq!(
        guard.citations("a [link](https://x.y) only"),
        Vec::<String>::new()
    );
    assert_eq!(
        guard.check("Fact [1].", Stage::Output).unwrap().action,
        Action::Review
    );
    assert_eq!(
        guard
            .check("Fact [1], fact [2].", Stage::Output)
            .unwrap()
            .action,
        Action::Allow
    );
}
