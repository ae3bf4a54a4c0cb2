//! Assignment: validation, golden vectors, stickiness and uniformity.

use llmops_registry::experiment::{Arm, ArmTarget, Experiment, ExperimentError, unit_interval};
use serde_json::Value;

fn arm(name: &str, weight: f64) -> Arm {
    Arm::new(name, ArmTarget::Label(name.to_owned()), weight)
}

#[test]
fn golden_vectors_match() {
    let vectors: Value =
        serde_json::from_str(include_str!("data/assignment_vectors.json")).unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 24);
    for case in cases {
        let experiment_id = case["experiment_id"].as_str().unwrap();
        let unit_id = case["unit_id"].as_str().unwrap();
        let arms = case["arms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|arm_value| {
                arm(
                    arm_value["name"].as_str().unwrap(),
                    arm_value["weight"].as_f64().unwrap(),
                )
            })
            .collect();
        let experiment = Experiment::new(experiment_id, arms).unwrap();

        let bits = case["top_53_bits"].as_u64().unwrap();
        let expected_point = bits as f64 / (1u64 << 53) as f64;
        assert_eq!(
            unit_interval(experiment_id, unit_id),
            expected_point,
            "{experiment_id}/{unit_id:?}"
        );
        assert_eq!(
            experiment.assign(unit_id).name,
            case["arm"].as_str().unwrap(),
            "{experiment_id}/{unit_id:?}"
        );
    }
}

#[test]
fn length_prefix_separates_ids() {
    assert_ne!(unit_interval("ab", "c"), unit_interval("a", "bc"));
}

#[test]
fn assignment_is_sticky() {
    let experiment = Experiment::new("sticky", vec![arm("a", 1.0), arm("b", 2.0)]).unwrap();
    for unit in 0..500 {
        let unit_id = format!("unit-{unit}");
        let first = experiment.assign(&unit_id).name.clone();
        let clone = experiment.clone();
        assert_eq!(clone.assign(&unit_id).name, first);
        assert_eq!(experiment.assign(&unit_id).name, first);
    }
}

#[test]
fn zero_weight_arm_gets_no_units() {
    let experiment = Experiment::new(
        "paused",
        vec![arm("a", 1.0), arm("off", 0.0), arm("b", 1.0)],
    )
    .unwrap();
    for unit in 0..5_000 {
        assert_ne!(experiment.assign(&unit.to_string()).name, "off");
    }
}

#[test]
fn trailing_zero_weight_arm_gets_no_units() {
    let experiment = Experiment::new("tail", vec![arm("a", 1.0), arm("off", 0.0)]).unwrap();
    for unit in 0..2_000 {
        assert_eq!(experiment.assign(&unit.to_string()).name, "a");
    }
}

/// Chi-square goodness of fit of 100,000 assignments to weights 1:2:3:4.
///
/// With 3 degrees of freedom the statistic exceeds 16.27 with probability
/// 0.001 under uniform hashing, so a biased hash fails. The ids are fixed,
/// so the result is the same on every run.
#[test]
fn split_fits_weights_chi_square() {
    let weights = [1.0, 2.0, 3.0, 4.0];
    let arms = weights
        .iter()
        .enumerate()
        .map(|(index, weight)| arm(&format!("arm-{index}"), *weight))
        .collect();
    let experiment = Experiment::new("uniformity", arms).unwrap();
    let units = 100_000;
    let mut counts = [0u64; 4];
    for unit in 0..units {
        let chosen = &experiment.assign(&format!("user-{unit}")).name;
        let index: usize = chosen.trim_start_matches("arm-").parse().unwrap();
        counts[index] += 1;
    }
    let chi_square: f64 = counts
        .iter()
        .zip(weights)
        .map(|(count, weight)| {
            let expected = units as f64 * weight / 10.0;
            (*count as f64 - expected).powi(2) / expected
        })
        .sum();
    assert!(
        chi_square < 16.27,
        "chi-square {chi_square}, counts {counts:?}"
    );
}

/// Chi-square test of the hash over 20 equal-width bins of [0, 1).
/// The 0.001 critical value with 19 degrees of freedom is 43.82.
#[test]
fn unit_interval_is_uniform() {
    let samples = 200_000;
    let mut bins = [0u64; 20];
    for unit in 0..samples {
        let point = unit_interval("bins", &format!("{unit}"));
        assert!((0.0..1.0).contains(&point));
        bins[(point * 20.0) as usize] += 1;
    }
    let expected = samples as f64 / 20.0;
    let chi_square: f64 = bins
        .iter()
        .map(|count| (*count as f64 - expected).powi(2) / expected)
        .sum();
    assert!(chi_square < 43.82, "chi-square {chi_square}");
}

#[test]
fn invalid_definitions_are_rejected() {
    assert_eq!(
        Experiment::new("", vec![arm("a", 1.0)]).unwrap_err(),
        ExperimentError::EmptyExperimentId
    );
    assert_eq!(
        Experiment::new("e", vec![]).unwrap_err(),
        ExperimentError::NoArms {
            experiment: "e".to_owned()
        }
    );
    assert_eq!(
        Experiment::new("e", vec![arm("a", 1.0), arm("a", 1.0)]).unwrap_err(),
        ExperimentError::DuplicateArm {
            experiment: "e".to_owned(),
            arm: "a".to_owned()
        }
    );
    assert!(matches!(
        Experiment::new("e", vec![arm("a", -1.0), arm("b", 2.0)]).unwrap_err(),
        ExperimentError::InvalidWeight { .. }
    ));
    assert!(matches!(
        Experiment::new("e", vec![arm("a", f64::NAN)]).unwrap_err(),
        ExperimentError::InvalidWeight { .. }
    ));
    assert!(matches!(
        Experiment::new("e", vec![arm("a", f64::INFINITY)]).unwrap_err(),
        ExperimentError::InvalidWeight { .. }
    ));
    assert!(matches!(
        Experiment::new("e", vec![arm("a", 0.0), arm("b", 0.0)]).unwrap_err(),
        ExperimentError::InvalidTotalWeight { .. }
    ));
    assert!(matches!(
        Experiment::new("e", vec![arm("a", f64::MAX), arm("b", f64::MAX)]).unwrap_err(),
        ExperimentError::InvalidTotalWeight { .. }
    ));
    assert!(matches!(
        Experiment::new("e", vec![arm("", 1.0)]).unwrap_err(),
        ExperimentError::EmptyArmName { .. }
    ));
}

#[test]
fn error_messages_name_value() {
    let error = Experiment::new("e", vec![arm("treat", -0.5)]).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("treat"), "{message}");
    assert!(message.contains("-0.5"), "{message}");
}

#[test]
fn deserialization_validates() {
    let valid = r#"{"id":"e","arms":[{"name":"a","target":{"version":3},"weight":1.0}]}"#;
    let experiment: Experiment = serde_json::from_str(valid).unwrap();
    assert_eq!(experiment.arms()[0].target, ArmTarget::Version(3));
    let round_trip: Experiment =
        serde_json::from_str(&serde_json::to_string(&experiment).unwrap()).unwrap();
    assert_eq!(round_trip, experiment);

    let duplicate = r#"{"id":"e","arms":[
        {"name":"a","target":{"label":"x"},"weight":1.0},
        {"name":"a","target":{"label":"y"},"weight":1.0}]}"#;
    let error = serde_json::from_str::<Experiment>(duplicate).unwrap_err();
    assert!(error.to_string().contains("two arms named `a`"), "{error}");
}
