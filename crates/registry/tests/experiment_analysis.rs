//! Experiment analysis: input checks, degenerate data, recommendations.

use std::collections::BTreeMap;

use llmops_registry::experiment::{
    AnalysisConfig, Arm, ArmSamples, ArmTarget, Experiment, ExperimentError, MetricSamples,
    Recommendation,
};

fn experiment(arms: &[(&str, f64)]) -> Experiment {
    let arms = arms
        .iter()
        .enumerate()
        .map(|(version, (name, weight))| {
            Arm::new(*name, ArmTarget::Version(version as u32), *weight)
        })
        .collect();
    Experiment::new("exp", arms).unwrap()
}

fn arm(name: &str, units: u64, metric: &str, samples: MetricSamples) -> ArmSamples {
    ArmSamples {
        arm: name.to_owned(),
        units,
        metrics: BTreeMap::from([(metric.to_owned(), samples)]),
    }
}

fn binary(successes: u64, trials: u64) -> MetricSamples {
    MetricSamples::Binary { successes, trials }
}

fn continuous(values: Vec<f64>) -> MetricSamples {
    MetricSamples::Continuous { values }
}

fn two_arms() -> Experiment {
    experiment(&[("control", 1.0), ("treatment", 1.0)])
}

#[test]
fn clear_winner_stops() {
    let report = two_arms()
        .analyze(
            &[
                arm("control", 5000, "ok", binary(400, 5000)),
                arm("treatment", 5000, "ok", binary(560, 5000)),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    let Recommendation::StopWinner { arm, reason } = &report.recommendation else {
        panic!("{:?}", report.recommendation);
    };
    assert_eq!(arm, "treatment");
    assert!(reason.contains("always-valid"), "{reason}");
    let probabilities = report.metrics[0].probability_best.clone().unwrap();
    assert!(probabilities[1] > 0.99, "{probabilities:?}");
}

#[test]
fn worse_treatment_makes_control_win() {
    let report = two_arms()
        .analyze(
            &[
                arm("control", 5000, "ok", binary(560, 5000)),
                arm("treatment", 5000, "ok", binary(400, 5000)),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    assert!(matches!(
        &report.recommendation,
        Recommendation::StopWinner { arm, .. } if arm == "control"
    ));
}

#[test]
fn lower_is_better_flips_winner() {
    let control: Vec<f64> = (0..400).map(|i| 100.0 + (i % 17) as f64).collect();
    let faster: Vec<f64> = (0..400).map(|i| 80.0 + (i % 17) as f64).collect();
    let config = AnalysisConfig {
        lower_is_better: ["latency_ms".to_owned()].into(),
        ..AnalysisConfig::default()
    };
    let report = two_arms()
        .analyze(
            &[
                arm("control", 400, "latency_ms", continuous(control)),
                arm("treatment", 400, "latency_ms", continuous(faster)),
            ],
            &config,
        )
        .unwrap();
    assert!(matches!(
        &report.recommendation,
        Recommendation::StopWinner { arm, .. } if arm == "treatment"
    ));
    assert!(!report.metrics[0].higher_is_better);
}

#[test]
fn broken_split_stops_on_srm() {
    let report = two_arms()
        .analyze(
            &[
                arm("control", 5600, "ok", binary(400, 5600)),
                arm("treatment", 4400, "ok", binary(560, 4400)),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    assert!(report.srm.mismatch);
    assert!(matches!(
        report.recommendation,
        Recommendation::StopSampleRatioMismatch { .. }
    ));
}

#[test]
fn weighted_split_is_not_srm() {
    let report = experiment(&[("control", 3.0), ("treatment", 1.0)])
        .analyze(
            &[
                arm("control", 7500, "ok", binary(600, 7500)),
                arm("treatment", 2500, "ok", binary(200, 2500)),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    assert!(!report.srm.mismatch, "{:?}", report.srm);
}

#[test]
fn identical_constant_arms_are_not_significant() {
    let report = two_arms()
        .analyze(
            &[
                arm("control", 500, "score", continuous(vec![1.0; 500])),
                arm("treatment", 500, "score", continuous(vec![1.0; 500])),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    let comparison = &report.metrics[0].comparisons[0];
    assert_eq!(comparison.test.p_value, 1.0);
    assert!(comparison.test.degenerate.is_some());
    assert!(comparison.sequential.degenerate.is_some());
    assert_eq!(comparison.sequential.p_value, 1.0);
    assert_eq!(
        report.metrics[0].probability_best,
        Some(vec![0.5, 0.5]),
        "ties share the win"
    );
    assert!(matches!(
        report.recommendation,
        Recommendation::Continue { .. }
    ));
}

#[test]
fn different_constant_arms_are_not_significant() {
    // Zero variance makes every test undefined; no fake certainty.
    let report = two_arms()
        .analyze(
            &[
                arm("control", 500, "score", continuous(vec![1.0; 500])),
                arm("treatment", 500, "score", continuous(vec![2.0; 500])),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    let comparison = &report.metrics[0].comparisons[0];
    assert_eq!(comparison.test.estimate, 1.0);
    assert_eq!(comparison.test.p_value, 1.0);
    assert!(matches!(
        report.recommendation,
        Recommendation::Continue { .. }
    ));
}

#[test]
fn empty_and_single_sample_arms_are_degenerate() {
    for (control, treatment) in [
        (vec![], vec![]),
        (vec![1.0], vec![2.0]),
        (vec![], vec![1.0, 2.0]),
    ] {
        let report = two_arms()
            .analyze(
                &[
                    arm("control", 0, "score", continuous(control.clone())),
                    arm("treatment", 0, "score", continuous(treatment.clone())),
                ],
                &AnalysisConfig::default(),
            )
            .unwrap();
        let comparison = &report.metrics[0].comparisons[0];
        assert!(
            comparison.test.degenerate.is_some(),
            "{control:?} {treatment:?}"
        );
        assert_eq!(comparison.test.p_value, 1.0);
        assert!(report.metrics[0].probability_best.is_none());
        assert!(matches!(
            report.recommendation,
            Recommendation::Continue { .. }
        ));
        assert!(serde_json::to_string(&report).is_ok());
    }
}

#[test]
fn zero_trials_binary_is_degenerate() {
    let report = two_arms()
        .analyze(
            &[
                arm("control", 0, "ok", binary(0, 0)),
                arm("treatment", 0, "ok", binary(0, 0)),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    assert!(report.metrics[0].comparisons[0].test.degenerate.is_some());
    assert!(report.srm.note.is_some());
    assert!(!report.srm.mismatch);
}

#[test]
fn all_or_nothing_rates_are_degenerate() {
    let report = two_arms()
        .analyze(
            &[
                arm("control", 300, "ok", binary(300, 300)),
                arm("treatment", 300, "ok", binary(300, 300)),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    let comparison = &report.metrics[0].comparisons[0];
    assert!(comparison.test.degenerate.is_some());
    assert_eq!(comparison.test.p_value, 1.0);
}

#[test]
fn too_few_units_continues() {
    let report = two_arms()
        .analyze(
            &[
                arm("control", 50, "ok", binary(0, 50)),
                arm("treatment", 50, "ok", binary(50, 50)),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    let Recommendation::Continue { reason } = &report.recommendation else {
        panic!("{:?}", report.recommendation);
    };
    assert!(reason.contains("fewer than the minimum"), "{reason}");
}

#[test]
fn equivalence_stops_with_no_difference() {
    let config = AnalysisConfig {
        equivalence_margin: Some(0.02),
        ..AnalysisConfig::default()
    };
    let report = two_arms()
        .analyze(
            &[
                arm("control", 200_000, "ok", binary(20_000, 200_000)),
                arm("treatment", 200_000, "ok", binary(20_050, 200_000)),
            ],
            &config,
        )
        .unwrap();
    assert!(
        matches!(
            report.recommendation,
            Recommendation::StopNoDifference { .. }
        ),
        "{:?}",
        report.recommendation
    );
}

#[test]
fn no_margin_never_stops_for_no_difference() {
    let report = two_arms()
        .analyze(
            &[
                arm("control", 200_000, "ok", binary(20_000, 200_000)),
                arm("treatment", 200_000, "ok", binary(20_050, 200_000)),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    assert!(matches!(
        report.recommendation,
        Recommendation::Continue { .. }
    ));
}

#[test]
fn three_arms_pick_best_significant() {
    let report = experiment(&[("control", 1.0), ("small", 1.0), ("big", 1.0)])
        .analyze(
            &[
                arm("big", 5000, "ok", binary(700, 5000)),
                arm("control", 5000, "ok", binary(400, 5000)),
                arm("small", 5000, "ok", binary(520, 5000)),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    assert_eq!(report.metrics[0].arms[0].arm, "control");
    assert_eq!(report.metrics[0].comparisons.len(), 2);
    assert!(matches!(
        &report.recommendation,
        Recommendation::StopWinner { arm, .. } if arm == "big"
    ));
}

#[test]
fn ratio_metric_is_analysed() {
    let sessions: Vec<f64> = (0..300).map(|i| 1.0 + (i % 5) as f64).collect();
    let control_clicks: Vec<f64> = sessions.iter().map(|s| (s * 0.3).floor()).collect();
    let treatment_clicks: Vec<f64> = sessions.iter().map(|s| (s * 0.6).floor()).collect();
    let report = two_arms()
        .analyze(
            &[
                arm(
                    "control",
                    300,
                    "ctr",
                    MetricSamples::Ratio {
                        numerators: control_clicks,
                        denominators: sessions.clone(),
                    },
                ),
                arm(
                    "treatment",
                    300,
                    "ctr",
                    MetricSamples::Ratio {
                        numerators: treatment_clicks,
                        denominators: sessions,
                    },
                ),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    let metric = &report.metrics[0];
    assert_eq!(metric.kind, "ratio");
    assert!(metric.comparisons[0].test.estimate > 0.0);
    assert!(metric.probability_best.is_some());
}

#[test]
fn input_errors_are_reported() {
    let experiment = two_arms();
    let config = AnalysisConfig::default();
    let missing_arm = experiment.analyze(&[arm("control", 1, "ok", binary(0, 1))], &config);
    assert_eq!(
        missing_arm.unwrap_err(),
        ExperimentError::ArmMismatch {
            arm: "treatment".to_owned()
        }
    );

    let unknown = experiment.analyze(
        &[
            arm("control", 1, "ok", binary(0, 1)),
            arm("treatment", 1, "ok", binary(0, 1)),
            arm("ghost", 1, "ok", binary(0, 1)),
        ],
        &config,
    );
    assert_eq!(
        unknown.unwrap_err(),
        ExperimentError::ArmMismatch {
            arm: "ghost".to_owned()
        }
    );

    let too_many = experiment.analyze(
        &[
            arm("control", 1, "ok", binary(2, 1)),
            arm("treatment", 1, "ok", binary(0, 1)),
        ],
        &config,
    );
    assert!(matches!(
        too_many.unwrap_err(),
        ExperimentError::SuccessesExceedTrials { .. }
    ));

    let nan = experiment.analyze(
        &[
            arm("control", 1, "x", continuous(vec![f64::NAN])),
            arm("treatment", 1, "x", continuous(vec![1.0])),
        ],
        &config,
    );
    assert!(matches!(
        nan.unwrap_err(),
        ExperimentError::NonFiniteSample { .. }
    ));

    let kinds = experiment.analyze(
        &[
            arm("control", 1, "x", continuous(vec![1.0])),
            arm("treatment", 1, "x", binary(0, 1)),
        ],
        &config,
    );
    assert!(matches!(
        kinds.unwrap_err(),
        ExperimentError::MetricKindMismatch { .. }
    ));

    let missing_metric = experiment.analyze(
        &[
            arm("control", 1, "x", continuous(vec![1.0])),
            arm("treatment", 1, "y", continuous(vec![1.0])),
        ],
        &config,
    );
    assert!(matches!(
        missing_metric.unwrap_err(),
        ExperimentError::MissingMetric { .. }
    ));

    let unpaired = experiment.analyze(
        &[
            arm(
                "control",
                1,
                "r",
                MetricSamples::Ratio {
                    numerators: vec![1.0],
                    denominators: vec![],
                },
            ),
            arm(
                "treatment",
                1,
                "r",
                MetricSamples::Ratio {
                    numerators: vec![],
                    denominators: vec![],
                },
            ),
        ],
        &config,
    );
    assert!(matches!(
        unpaired.unwrap_err(),
        ExperimentError::RatioLengthMismatch { .. }
    ));
}

#[test]
fn invalid_config_is_rejected() {
    let samples = [
        arm("control", 1, "ok", binary(0, 1)),
        arm("treatment", 1, "ok", binary(0, 1)),
    ];
    for config in [
        AnalysisConfig {
            alpha: 0.0,
            ..AnalysisConfig::default()
        },
        AnalysisConfig {
            confidence: 1.0,
            ..AnalysisConfig::default()
        },
        AnalysisConfig {
            mixing_scale: f64::NAN,
            ..AnalysisConfig::default()
        },
        AnalysisConfig {
            equivalence_margin: Some(-1.0),
            ..AnalysisConfig::default()
        },
    ] {
        let error = two_arms().analyze(&samples, &config).unwrap_err();
        assert!(
            matches!(error, ExperimentError::InvalidSetting { .. }),
            "{error:?}"
        );
    }
}

#[test]
fn report_serializes_for_cli() {
    let report = two_arms()
        .analyze(
            &[
                arm("control", 5000, "ok", binary(400, 5000)),
                arm("treatment", 5000, "ok", binary(560, 5000)),
            ],
            &AnalysisConfig::default(),
        )
        .unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["recommendation"]["decision"], "stop_winner");
    assert_eq!(json["recommendation"]["arm"], "treatment");
    assert_eq!(json["metrics"][0]["kind"], "binary");
    let back: llmops_registry::experiment::Report = serde_json::from_value(json).unwrap();
    assert_eq!(back.recommendation, report.recommendation);
}

#[test]
fn analysis_is_deterministic() {
    let values =
        |shift: f64| continuous((0..300).map(|i| ((i * 37) % 101) as f64 + shift).collect());
    let samples = [
        arm("control", 300, "s", values(0.0)),
        arm("treatment", 300, "s", values(3.0)),
    ];
    let first = two_arms()
        .analyze(&samples, &AnalysisConfig::default())
        .unwrap();
    let again = two_arms()
        .analyze(&samples, &AnalysisConfig::default())
        .unwrap();
    assert_eq!(first, again);
    assert!(first.metrics[0].comparisons[0].bootstrap_interval.is_some());
}
