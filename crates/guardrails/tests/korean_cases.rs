//! Korean fixture cases from Presidio and korean-pii.

use llmops_guardrails::{Analyzer, EntityType};
use serde_json::Value;

fn rows(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Presidio's recognizer tests check one recognizer without a score
/// threshold, so this compares all candidates of the entity type after
/// resolving overlaps among them.
#[test]
fn presidio_kr_cases_match() {
    let analyzer = Analyzer::new();
    let mut failures = Vec::new();
    let all = rows("tests/data/korean/presidio_kr_recognizer_cases.jsonl");
    assert_eq!(all.len(), 90);
    for row in &all {
        let entity: EntityType = row["entity_type"].as_str().unwrap().parse().unwrap();
        let text = row["text"].as_str().unwrap();
        let expected_count = row["expected_count"].as_u64().unwrap() as usize;
        let found: Vec<_> = analyzer
            .analyze_all(text)
            .unwrap()
            .into_iter()
            .filter(|f| f.entity == entity)
            .collect();
        let found = llmops_guardrails::resolve_overlaps(found);
        let spans: Vec<(usize, usize)> =
            found.iter().map(|f| (f.chars.start, f.chars.end)).collect();
        let expected_spans: Vec<(usize, usize)> = row["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s[0].as_u64().unwrap() as usize,
                    s[1].as_u64().unwrap() as usize,
                )
            })
            .collect();
        let spans_ok = expected_spans.is_empty() || spans == expected_spans;
        if found.len() != expected_count || !spans_ok {
            failures.push(format!(
                "{entity} {text:?}: expected {expected_count} {expected_spans:?}, got {spans:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

/// A checksum-valid number scores above a format-only one, as in Presidio (1.0 against 0.5).
#[test]
fn checksum_raises_rrn_score() {
    let analyzer = Analyzer::new();
    let score = |text: &str| {
        analyzer
            .analyze_all(text)
            .unwrap()
            .into_iter()
            .find(|f| f.entity == EntityType::KrRrn)
            .map(|f| f.score)
            .unwrap()
    };
    assert!(score("960121-1021413") > score("960121-1234567"));
    assert!(score("9601211021413") > score("9601211234567"));
}

fn entities_for(kind: &str) -> Vec<EntityType> {
    match kind {
        "rrn" => vec![EntityType::KrRrn, EntityType::KrFrn],
        "phone" => vec![EntityType::PhoneNumber],
        "card" => vec![EntityType::CreditCard],
        "driver_license" => vec![EntityType::KrDriverLicense],
        "passport" => vec![EntityType::KrPassport],
        "account" => vec![EntityType::KrBankAccount],
        "email" => vec![EntityType::EmailAddress],
        "api_key" => EntityType::ALL
            .iter()
            .copied()
            .filter(|e| e.is_secret())
            .collect(),
        other => panic!("unknown case type {other}"),
    }
}

/// korean-pii cases run through the default analyzer (threshold 0.5, overlaps resolved).
#[test]
fn korean_pii_regression_cases_match() {
    let analyzer = Analyzer::new();
    let all = rows("tests/data/korean/korean_pii_regression_cases.jsonl");
    assert_eq!(all.len(), 80);
    let mut failures = Vec::new();
    for row in &all {
        let text = row["text"].as_str().unwrap();
        let expected = row["expect_detected"].as_bool().unwrap();
        let wanted = entities_for(row["type"].as_str().unwrap());
        let findings = analyzer.analyze(text).unwrap();
        let detected = findings.iter().any(|f| wanted.contains(&f.entity));
        if detected != expected {
            let got: Vec<String> = findings.iter().map(ToString::to_string).collect();
            failures.push(format!(
                "{} {text:?}: expected {expected}, got {got:?}",
                row["type"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn no_pii_corpus_has_no_findings() {
    let analyzer = Analyzer::new();
    let corpus =
        std::fs::read_to_string("tests/data/korean/korean_pii_no_pii_corpus_ko.txt").unwrap();
    assert_eq!(corpus.lines().count(), 11);
    for line in corpus.lines() {
        let findings = analyzer.analyze(line).unwrap();
        let got: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert!(findings.is_empty(), "{line:?}: {got:?}");
    }
}

#[test]
fn rrn_glued_to_korean_matches() {
    let text = "제 번호는 9001011234568로 등록";
    let findings = Analyzer::new().analyze(text).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].value(text), "9001011234568");
    assert_eq!(findings[0].chars, 6..19);
}

#[test]
fn full_width_rrn_points_at_original() {
    let text = "주민번호 ９００１０１－１２３４５６８ 입니다";
    let findings = Analyzer::new().analyze(text).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].entity, EntityType::KrRrn);
    assert_eq!(findings[0].value(text), "９００１０１－１２３４５６８");
}

#[test]
fn zero_width_split_phone_matches() {
    let text = "연락처 010\u{200B}-1234-\u{200D}5678";
    let findings = Analyzer::new().analyze(text).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].entity, EntityType::PhoneNumber);
    assert_eq!(findings[0].value(text), "010\u{200B}-1234-\u{200D}5678");
}

#[test]
fn longer_digit_run_holds_no_rrn() {
    let findings = Analyzer::new().analyze_all("19001011234568").unwrap();
    assert!(findings.iter().all(|f| f.entity != EntityType::KrRrn));
    let findings = Analyzer::new().analyze_all("90010112345689").unwrap();
    assert!(findings.iter().all(|f| f.entity != EntityType::KrRrn));
}

#[test]
fn failed_checksum_keeps_low_score_finding() {
    let all = Analyzer::new().analyze_all("9001011234569").unwrap();
    let rrn = all.iter().find(|f| f.entity == EntityType::KrRrn).unwrap();
    assert!(rrn.score < 0.5);
    assert!(Analyzer::new().analyze("9001011234569").unwrap().is_empty());
}
