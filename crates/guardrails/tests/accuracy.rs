//! Precision, recall and F1 per entity type on presidio-research's synthetic
//! dataset, plus secret recall on detect-secrets and gitleaks test data.
//!
//! Run with `--nocapture` to print the tables recorded in `docs/accuracy.md`.

use std::collections::BTreeMap;

use llmops_guardrails::{Analyzer, EntityType};
use serde_json::Value;

/// Entity types of the dataset that this crate recognizes with patterns.
const EVALUATED: &[EntityType] = &[
    EntityType::CreditCard,
    EntityType::EmailAddress,
    EntityType::IbanCode,
    EntityType::UsSsn,
    EntityType::IpAddress,
    EntityType::PhoneNumber,
];

#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    true_positive: usize,
    /// True positives whose char range equals the gold range.
    exact: usize,
    false_positive: usize,
    false_negative: usize,
}

impl Counts {
    fn precision(self) -> f64 {
        let found = self.true_positive + self.false_positive;
        if found == 0 {
            1.0
        } else {
            self.true_positive as f64 / found as f64
        }
    }

    fn recall(self) -> f64 {
        let gold = self.true_positive + self.false_negative;
        if gold == 0 {
            1.0
        } else {
            self.true_positive as f64 / gold as f64
        }
    }

    fn f1(self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// Counts predictions against gold spans. A prediction matches a gold span of
/// the same type when the char ranges overlap, and exact matches are counted
/// separately.
fn score_dataset() -> BTreeMap<EntityType, Counts> {
    let data: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string("tests/data/presidio-research/synth_dataset_v2.json").unwrap(),
    )
    .unwrap();
    assert_eq!(data.len(), 1500);
    let analyzer = Analyzer::new().with_entities(EVALUATED.to_vec());
    let mut counts: BTreeMap<EntityType, Counts> =
        EVALUATED.iter().map(|&e| (e, Counts::default())).collect();
    for sample in &data {
        let text = sample["full_text"].as_str().unwrap();
        let gold: Vec<(EntityType, usize, usize)> = sample["spans"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| {
                let entity: EntityType = s["entity_type"].as_str()?.parse().ok()?;
                EVALUATED.contains(&entity).then(|| {
                    (
                        entity,
                        s["start_position"].as_u64().unwrap() as usize,
                        s["end_position"].as_u64().unwrap() as usize,
                    )
                })
            })
            .collect();
        let predicted = analyzer.analyze(text).unwrap();
        let mut matched = vec![false; gold.len()];
        for finding in &predicted {
            let hit = gold
                .iter()
                .enumerate()
                .position(|(i, &(entity, start, end))| {
                    !matched[i]
                        && entity == finding.entity
                        && finding.chars.start < end
                        && start < finding.chars.end
                });
            let entry = counts.get_mut(&finding.entity).unwrap();
            match hit {
                Some(i) => {
                    matched[i] = true;
                    entry.true_positive += 1;
                    if (gold[i].1, gold[i].2) == (finding.chars.start, finding.chars.end) {
                        entry.exact += 1;
                    }
                }
                None => {
                    entry.false_positive += 1;
                    eprintln!("FP {} in {text:?}", finding);
                }
            }
        }
        for (i, &(entity, start, end)) in gold.iter().enumerate() {
            if !matched[i] {
                counts.get_mut(&entity).unwrap().false_negative += 1;
                let value: String = text.chars().skip(start).take(end - start).collect();
                eprintln!("FN {entity} {value:?}");
            }
        }
    }
    counts
}

#[test]
fn synth_dataset_meets_floors() {
    let counts = score_dataset();
    let mut total = Counts::default();
    println!("| Entity | Gold | TP | Exact span | FP | FN | Precision | Recall | F1 |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (entity, c) in &counts {
        total.true_positive += c.true_positive;
        total.exact += c.exact;
        total.false_positive += c.false_positive;
        total.false_negative += c.false_negative;
        println!(
            "| {entity} | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} |",
            c.true_positive + c.false_negative,
            c.true_positive,
            c.exact,
            c.false_positive,
            c.false_negative,
            c.precision(),
            c.recall(),
            c.f1()
        );
    }
    println!(
        "| micro | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} |",
        total.true_positive + total.false_negative,
        total.true_positive,
        total.exact,
        total.false_positive,
        total.false_negative,
        total.precision(),
        total.recall(),
        total.f1()
    );
    for entity in [
        EntityType::CreditCard,
        EntityType::EmailAddress,
        EntityType::IbanCode,
        EntityType::UsSsn,
        EntityType::IpAddress,
    ] {
        let f1 = counts[&entity].f1();
        assert!(f1 >= 0.95, "{entity} F1 {f1:.3} is below 0.95");
    }
    let phone = counts[&EntityType::PhoneNumber];
    assert!(
        phone.precision() >= 0.90,
        "PHONE_NUMBER precision {:.3} is below 0.90",
        phone.precision()
    );
    assert!(
        phone.f1() >= 0.85,
        "PHONE_NUMBER F1 {:.3} is below 0.85",
        phone.f1()
    );
    assert!(
        total.f1() >= 0.95,
        "micro F1 {:.3} is below 0.95",
        total.f1()
    );
}
