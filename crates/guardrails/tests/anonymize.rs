//! Anonymisers and the vault.

use std::borrow::Cow;

use llmops_guardrails::{
    Analyzer, Anonymizer, EntityType, Finding, Operator, PlaceholderScope, Vault,
};
use proptest::prelude::*;

fn finding(entity: EntityType, start: usize, end: usize, score: f32) -> Finding {
    Finding {
        entity,
        bytes: start..end,
        chars: start..end,
        score,
        recognizer: Cow::Borrowed("test"),
    }
}

#[test]
fn same_value_same_placeholder() {
    let text = "a@x.com wrote to b@y.com and a@x.com";
    let findings = Analyzer::new().analyze(text).unwrap();
    let mut scope = PlaceholderScope::new();
    let out = Anonymizer::default().anonymize(text, &findings, &mut scope);
    assert_eq!(
        out,
        "<EMAIL_ADDRESS_1> wrote to <EMAIL_ADDRESS_2> and <EMAIL_ADDRESS_1>"
    );
    let again = Anonymizer::default().anonymize(
        "b@y.com",
        &Analyzer::new().analyze("b@y.com").unwrap(),
        &mut scope,
    );
    assert_eq!(again, "<EMAIL_ADDRESS_2>");
}

#[test]
fn overlapping_findings_not_spliced() {
    let text = "0123456789abcdef";
    let findings = vec![
        finding(EntityType::PhoneNumber, 0, 10, 0.5),
        finding(EntityType::CreditCard, 4, 14, 0.9),
        finding(EntityType::Url, 12, 16, 0.4),
    ];
    let mut scope = PlaceholderScope::new();
    let out = Anonymizer::default().anonymize(text, &findings, &mut scope);
    assert_eq!(out, "0123<CREDIT_CARD_1>ef");
}

#[test]
fn operators_per_entity() {
    let text = "전화 010-1234-5678, 메일 kim@example.com, 주민 900101-1234568";
    let findings = Analyzer::new().analyze(text).unwrap();
    assert_eq!(findings.len(), 3);
    let anonymizer = Anonymizer::new(Operator::Redact)
        .with_operator(
            EntityType::PhoneNumber,
            Operator::Mask {
                keep_last: 4,
                mask_char: '*',
            },
        )
        .with_operator(
            EntityType::EmailAddress,
            Operator::Hash { key: b"k".to_vec() },
        );
    let out = anonymizer.anonymize(text, &findings, &mut PlaceholderScope::new());
    assert!(
        out.starts_with("전화 *********5678, 메일 <EMAIL_ADDRESS#"),
        "{out}"
    );
    assert!(out.ends_with("주민 <REDACTED>"), "{out}");
    assert!(!out.contains("kim@example.com"));
}

#[test]
fn keyed_hash_stable_per_key() {
    let text = "kim@example.com";
    let findings = Analyzer::new().analyze(text).unwrap();
    let hash = |key: &[u8]| {
        Anonymizer::new(Operator::Hash { key: key.to_vec() }).anonymize(
            text,
            &findings,
            &mut PlaceholderScope::new(),
        )
    };
    assert_eq!(hash(b"one"), hash(b"one"));
    assert_ne!(hash(b"one"), hash(b"two"));
    assert_eq!(hash(b"one").len(), "<EMAIL_ADDRESS#>".len() + 16);
}

#[test]
fn vault_restores_answer() {
    let mut vault = Vault::new();
    let prompt = "Write to kim@example.com about RRN 900101-1234568.";
    let findings = Analyzer::new().analyze(prompt).unwrap();
    let masked = vault.pseudonymize(prompt, &findings).unwrap();
    assert_eq!(masked, "Write to <EMAIL_ADDRESS_1> about RRN <KR_RRN_1>.");
    assert_eq!(vault.len(), 2);
    let answer = "Sent to <EMAIL_ADDRESS_1>; <KR_RRN_1> checked; <PERSON_9> unknown.";
    let restored = vault.restore(answer).unwrap();
    assert_eq!(
        restored,
        "Sent to kim@example.com; 900101-1234568 checked; <PERSON_9> unknown."
    );
    assert!(!format!("{vault:?}").contains("kim@"));
}

#[test]
fn vault_skips_placeholders_in_input() {
    let mut vault = Vault::new();
    let text = "<EMAIL_ADDRESS_1> is literal, kim@example.com is real";
    let findings = Analyzer::new().analyze(text).unwrap();
    let masked = vault.pseudonymize(text, &findings).unwrap();
    assert_eq!(
        masked,
        "<EMAIL_ADDRESS_1> is literal, <EMAIL_ADDRESS_2> is real"
    );
    assert_eq!(vault.restore(&masked).unwrap(), text);
}

#[test]
fn vaults_do_not_share_values() {
    let mut first = Vault::new();
    let text = "kim@example.com";
    let masked = first
        .pseudonymize(text, &Analyzer::new().analyze(text).unwrap())
        .unwrap();
    let second = Vault::new();
    assert_eq!(second.restore(&masked).unwrap(), masked);
}

fn pii_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("900101-1234568".to_owned()),
        Just("010-1234-5678".to_owned()),
        Just("kim@example.com".to_owned()),
        Just("lee@example.org".to_owned()),
        Just("4111 1111 1111 1111".to_owned()),
        Just("AKIAIOSFODNN7EXAMPLE".to_owned()),
        Just("<EMAIL_ADDRESS_1>".to_owned()),
        Just("１２３".to_owned()),
        "[a-z가-힣 ,.]{0,10}",
        " [0-9]{1,14} ",
        any::<String>(),
    ];
    prop::collection::vec(pieces, 0..8).prop_map(|p| p.join(" "))
}

proptest! {
    #[test]
    fn anonymized_output_has_no_values(text in pii_text()) {
        let findings = Analyzer::new().analyze(&text).unwrap();
        for operator in [Operator::Placeholder, Operator::Redact, Operator::Hash { key: b"k".to_vec() }] {
            let out = Anonymizer::new(operator).anonymize(&text, &findings, &mut PlaceholderScope::new());
            for finding in &findings {
                prop_assert!(!out.contains(finding.value(&text)));
            }
        }
    }

    #[test]
    fn vault_round_trips(text in pii_text()) {
        let findings = Analyzer::new().analyze(&text).unwrap();
        let mut vault = Vault::new();
        let masked = vault.pseudonymize(&text, &findings).unwrap();
        for finding in &findings {
            prop_assert!(!masked.contains(finding.value(&text)));
        }
        prop_assert_eq!(vault.restore(&masked).unwrap(), text);
    }
}
