//! Experiments kept in the store, on SQLite and PostgreSQL: creation
//! checks, sticky serving, analysis of logged calls, stop and promote.

use llmops_registry::experiment::{
    AnalysisConfig, Arm, ArmTarget, ExperimentStatus, MetricSamples, NewExperiment, Recommendation,
};
use llmops_registry::{
    CallLogger, CallLoggerOptions, CallRecord, LabelMove, PromptContent, Registry, RegistryError,
    Score,
};
use llmops_store::testing::TestDatabase;
use rust_decimal::Decimal;
use serde_json::json;

/// Opens a registry with prompt `greet` at versions 1 and 2 and
/// `production` on 1. The caller keeps `database`, which deletes its SQLite
/// file when dropped.
async fn two_versions(database: &TestDatabase) -> Registry {
    let registry = Registry::open(database.store.clone()).await.unwrap();
    for text in ["Hello {{ name }}.", "Hi {{ name }}! 🎉"] {
        registry
            .publish("greet", &PromptContent::text(text), "author")
            .await
            .unwrap();
    }
    registry
        .set_label(&LabelMove {
            prompt: "greet",
            label: "production",
            version: 1,
            actor: "author",
            reason: "first release",
        })
        .await
        .unwrap();
    registry
}

fn new_experiment(id: &str, arms: Vec<Arm>) -> NewExperiment<'_> {
    NewExperiment {
        id,
        prompt: "greet",
        label: "production",
        arms,
        actor: "tester",
    }
}

fn two_arms() -> Vec<Arm> {
    vec![
        Arm::new("control", ArmTarget::Label("production".into()), 1.0),
        Arm::new("friendly", ArmTarget::Version(2), 1.0),
    ]
}

async fn creation_is_checked(database: TestDatabase) {
    let registry = two_versions(&database).await;
    let missing = registry
        .create_experiment(&new_experiment(
            "e",
            vec![
                Arm::new("a", ArmTarget::Version(1), 1.0),
                Arm::new("b", ArmTarget::Version(9), 1.0),
            ],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, RegistryError::VersionNotFound { version: 9, .. }),
        "{missing}"
    );
    let single = registry
        .create_experiment(&new_experiment(
            "e",
            vec![Arm::new("a", ArmTarget::Version(1), 1.0)],
        ))
        .await
        .unwrap_err();
    assert!(single.to_string().contains("add a second arm"), "{single}");
    let starved = registry
        .create_experiment(&new_experiment(
            "e",
            vec![
                Arm::new("control", ArmTarget::Version(1), 0.0),
                Arm::new("b", ArmTarget::Version(2), 1.0),
            ],
        ))
        .await
        .unwrap_err();
    assert!(
        starved.to_string().contains("control arm `control`"),
        "{starved}"
    );
    let overflow = registry
        .create_experiment(&new_experiment(
            "e",
            vec![
                Arm::new("a", ArmTarget::Version(1), 1e308),
                Arm::new("b", ArmTarget::Version(2), 1e308),
            ],
        ))
        .await
        .unwrap_err();
    assert!(
        overflow.to_string().contains("use smaller weights"),
        "{overflow}"
    );
    let bad_id = registry
        .create_experiment(&new_experiment("tone test", two_arms()))
        .await
        .unwrap_err();
    assert!(
        bad_id
            .to_string()
            .starts_with("invalid experiment id `tone test`"),
        "{bad_id}"
    );
    let mut unlabelled = new_experiment("e", two_arms());
    unlabelled.label = "canary";
    let no_label = registry.create_experiment(&unlabelled).await.unwrap_err();
    assert!(
        matches!(no_label, RegistryError::LabelNotFound { ref label, .. } if label == "canary"),
        "{no_label}"
    );
    let weights = registry
        .create_experiment(&new_experiment(
            "e",
            vec![Arm::new("a", ArmTarget::Version(1), -1.0)],
        ))
        .await
        .unwrap_err();
    assert!(weights.to_string().contains("weight -1"), "{weights}");
    let empty = registry
        .create_experiment(&new_experiment("e", vec![]))
        .await
        .unwrap_err();
    assert!(empty.to_string().contains("no arms"), "{empty}");
    assert!(
        registry.experiments().await.unwrap().is_empty(),
        "failed creations wrote nothing"
    );

    let created = registry
        .create_experiment(&new_experiment("e", two_arms()))
        .await
        .unwrap();
    assert_eq!(
        created.experiment.arms()[0].target,
        ArmTarget::Version(1),
        "a label arm is pinned to the version the label points to at creation"
    );
    assert_eq!(registry.experiment("e").await.unwrap(), created);
    // The split label cannot move while the experiment serves its traffic.
    let moved = registry
        .set_label(&LabelMove {
            prompt: "greet",
            label: "production",
            version: 2,
            actor: "a",
            reason: "r",
        })
        .await
        .unwrap_err();
    assert!(
        matches!(moved, RegistryError::LabelInExperiment { ref running, .. } if running == "e"),
        "{moved}"
    );
    let again = registry
        .create_experiment(&new_experiment("e", two_arms()))
        .await
        .unwrap_err();
    assert!(
        matches!(again, RegistryError::LabelInExperiment { ref running, .. } if running == "e"),
        "{again}"
    );
    let mut other_label = new_experiment("e", two_arms());
    other_label.label = "staging";
    registry
        .set_label(&LabelMove {
            prompt: "greet",
            label: "staging",
            version: 2,
            actor: "a",
            reason: "r",
        })
        .await
        .unwrap();
    let taken = registry.create_experiment(&other_label).await.unwrap_err();
    assert!(
        matches!(taken, RegistryError::ExperimentExists { .. }),
        "{taken}"
    );
    let unknown = registry.experiment("nope").await.unwrap_err();
    assert!(
        unknown.to_string().contains("llmops experiment list"),
        "{unknown}"
    );
}
on_both_backends!(creation, creation_is_checked);

async fn serving_is_sticky_and_split(database: TestDatabase) {
    let registry = two_versions(&database).await;
    // Before the experiment the label serves its own version.
    let plain = registry.serve("greet", "production", "u").await.unwrap();
    assert_eq!(plain.version.version, 1);
    assert!(plain.assignment.is_none());

    let stored = registry
        .create_experiment(&new_experiment("tone", two_arms()))
        .await
        .unwrap();
    let mut per_arm = [0u32; 2];
    for n in 0..400 {
        let unit = format!("user-{n}");
        let served = registry.serve("greet", "production", &unit).await.unwrap();
        let assignment = served.assignment.clone().unwrap();
        assert_eq!(assignment.arm, stored.experiment.assign(&unit).name);
        let again = registry.serve("greet", "production", &unit).await.unwrap();
        assert_eq!(again.assignment.unwrap().arm, assignment.arm, "sticky");
        let expected = if assignment.arm == "control" { 1 } else { 2 };
        assert_eq!(served.version.version, expected);
        per_arm[expected as usize - 1] += 1;
    }
    // 400 fair coin flips land in 160..240 with probability above 0.9999.
    assert!((160..=240).contains(&per_arm[0]), "{per_arm:?}");

    // Other labels are not split.
    let staging = registry
        .set_label(&LabelMove {
            prompt: "greet",
            label: "staging",
            version: 2,
            actor: "a",
            reason: "r",
        })
        .await;
    staging.unwrap();
    let other = registry.serve("greet", "staging", "user-1").await.unwrap();
    assert!(other.assignment.is_none());

    registry.stop_experiment("tone", "tester").await.unwrap();
    let after = registry
        .serve("greet", "production", "user-1")
        .await
        .unwrap();
    assert!(
        after.assignment.is_none(),
        "a stopped experiment splits nothing"
    );
    assert_eq!(after.version.version, 1);
    let stopped = registry.experiment("tone").await.unwrap();
    assert_eq!(stopped.status, ExperimentStatus::Stopped);
    assert_eq!(stopped.ended_by.as_deref(), Some("tester"));
    let twice = registry
        .stop_experiment("tone", "tester")
        .await
        .unwrap_err();
    assert!(
        twice
            .to_string()
            .contains("is stopped; stop needs a running experiment"),
        "{twice}"
    );
}
on_both_backends!(serving, serving_is_sticky_and_split);

async fn logged_calls_drive_the_report_and_promotion(database: TestDatabase) {
    let registry = two_versions(&database).await;
    registry
        .create_experiment(&new_experiment("tone", two_arms()))
        .await
        .unwrap();
    let logger = CallLogger::start(registry.store().clone(), CallLoggerOptions::default());
    let mut scores = Vec::new();
    for n in 0..600 {
        let unit = format!("user-{n}");
        let served = registry.serve("greet", "production", &unit).await.unwrap();
        let friendly = served.assignment.as_ref().unwrap().arm == "friendly";
        let call_id = format!("call-{n}");
        logger
            .log(
                CallRecord::served(&served, "local", json!({"name": unit}), "Hi!")
                    .call_id(&call_id)
                    .usage(100 + n % 7, 12, 8, Decimal::new(3, 6)),
            )
            .await
            .unwrap();
        // The friendly version pleases 60% of users, the control 30%.
        let liked = if friendly { n % 10 < 6 } else { n % 10 < 3 };
        scores.push(
            Score::new(&served.version, "thumbs_up", f64::from(u8::from(liked)))
                .label("production")
                .call_id(call_id),
        );
    }
    logger.close().await.unwrap();
    for score in &scores {
        registry.record_score(score).await.unwrap();
    }

    let samples = registry.experiment_samples("tone").await.unwrap();
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[0].arm, "control");
    assert_eq!(samples[0].units + samples[1].units, 600);
    match &samples[1].metrics["thumbs_up"] {
        MetricSamples::Binary { successes, trials } => {
            assert_eq!(*trials, samples[1].units);
            assert!(*successes > trials / 2, "{successes}/{trials}");
        }
        other => panic!("thumbs_up should be binary: {other:?}"),
    }
    match &samples[0].metrics["cost_usd"] {
        MetricSamples::Continuous { values } => {
            assert!(values.iter().all(|cost| (cost - 0.000003).abs() < 1e-12));
        }
        other => panic!("cost should be continuous: {other:?}"),
    }

    let config = AnalysisConfig {
        primary_metric: Some("thumbs_up".into()),
        ..AnalysisConfig::default()
    };
    let report = registry.experiment_report("tone", &config).await.unwrap();
    let misspelled = AnalysisConfig {
        primary_metric: Some("thumbsup".into()),
        ..AnalysisConfig::default()
    };
    let unknown = registry
        .experiment_report("tone", &misspelled)
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("primary metric `thumbsup`")
            && unknown.to_string().contains("thumbs_up"),
        "{unknown}"
    );
    let latency = report
        .metrics
        .iter()
        .find(|metric| metric.name == "latency_ms")
        .unwrap();
    assert!(!latency.higher_is_better);
    let winner = match &report.recommendation {
        Recommendation::StopWinner { arm, .. } => arm.clone(),
        other => panic!("a 30-point lift on 600 users should win: {other:?}"),
    };
    assert_eq!(winner, "friendly");

    let moved = registry
        .promote_experiment("tone", &winner, "tester", "")
        .await
        .unwrap();
    assert_eq!((moved.from_version, moved.to_version), (Some(1), 2));
    assert!(moved.reason.contains("friendly"), "{}", moved.reason);
    let history = registry.history("greet", Some("production")).await.unwrap();
    assert_eq!(history.last().unwrap().to_version, 2);
    let served = registry
        .serve("greet", "production", "user-1")
        .await
        .unwrap();
    assert_eq!(served.version.version, 2);
    assert!(served.assignment.is_none());
    let ended = registry.experiment("tone").await.unwrap();
    assert_eq!(ended.status, ExperimentStatus::Promoted);
    assert_eq!(ended.winner.as_deref(), Some("friendly"));

    let again = registry
        .promote_experiment("tone", "control", "tester", "")
        .await
        .unwrap_err();
    assert!(again.to_string().contains("is promoted"), "{again}");
}
on_both_backends!(
    report_and_promote,
    logged_calls_drive_the_report_and_promotion
);

async fn promotion_checks_the_arm(database: TestDatabase) {
    let registry = two_versions(&database).await;
    registry
        .create_experiment(&new_experiment("tone", two_arms()))
        .await
        .unwrap();
    let error = registry
        .promote_experiment("tone", "frendly", "tester", "")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RegistryError::UnknownArm { arms, .. } if arms.len() == 2),
        "{error}"
    );
    assert_eq!(
        registry.experiment("tone").await.unwrap().status,
        ExperimentStatus::Running,
        "a refused promotion changes nothing"
    );
    // Promoting the control arm, a label target, keeps the label's version.
    let moved = registry
        .promote_experiment("tone", "control", "tester", "keep")
        .await
        .unwrap();
    assert_eq!(moved.to_version, 1);
}
on_both_backends!(promotion_arm, promotion_checks_the_arm);
