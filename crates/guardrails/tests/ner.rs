//! Model-based recognizers plugged in through `NerModel`.

use std::sync::Arc;

use llmops_guardrails::recognizers::{NerModel, NerSpan};
use llmops_guardrails::{Analyzer, EntityType, GuardError};

/// Tags every occurrence of a fixed name, plus one span that is out of range.
struct NameList {
    name: &'static str,
}

impl NerModel for NameList {
    fn name(&self) -> &str {
        "name_list"
    }

    fn entities(&self) -> Vec<EntityType> {
        vec![EntityType::Person]
    }

    fn predict(&self, text: &str) -> llmops_guardrails::Result<Vec<NerSpan>> {
        let mut spans: Vec<NerSpan> = text
            .match_indices(self.name)
            .map(|(start, found)| NerSpan {
                entity: EntityType::Person,
                range: start..start + found.len(),
                score: 0.85,
            })
            .collect();
        spans.push(NerSpan {
            entity: EntityType::Person,
            range: text.len()..text.len() + 5,
            score: 0.9,
        });
        Ok(spans)
    }
}

struct Broken;

impl NerModel for Broken {
    fn name(&self) -> &str {
        "broken"
    }

    fn entities(&self) -> Vec<EntityType> {
        vec![EntityType::Location]
    }

    fn predict(&self, _text: &str) -> llmops_guardrails::Result<Vec<NerSpan>> {
        Err(GuardError::Model {
            model: "broken".into(),
            message: "weights not loaded".into(),
        })
    }
}

#[test]
fn ner_spans_map_to_original() {
    let analyzer = Analyzer::new().with_ner(Arc::new(NameList { name: "홍길동" }));
    let text = "고객\u{200B} 홍길동 님 kim@example.com";
    let findings = analyzer.analyze(text).unwrap();
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0].entity, EntityType::Person);
    assert_eq!(findings[0].value(text), "홍길동");
    assert_eq!(findings[0].chars, 4..7);
    assert_eq!(findings[0].recognizer, "name_list");
    assert_eq!(findings[1].entity, EntityType::EmailAddress);
}

#[test]
fn ner_failure_is_returned() {
    let analyzer = Analyzer::new().with_ner(Arc::new(Broken));
    let error = analyzer.analyze("text").unwrap_err();
    assert!(matches!(error, GuardError::Model { .. }));
    assert!(error.to_string().contains("weights not loaded"), "{error}");
}
