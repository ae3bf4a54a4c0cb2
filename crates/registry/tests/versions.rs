//! Versions, labels and history on SQLite and PostgreSQL.

use llmops_registry::{LabelMove, PromptContent, Registry, RegistryError, Selector};
use llmops_store::testing::TestDatabase;
use sqlx::Row;

fn text(template: &str) -> PromptContent {
    PromptContent::text(template)
}

fn label<'a>(prompt: &'a str, label: &'a str, version: u32) -> LabelMove<'a> {
    LabelMove {
        prompt,
        label,
        version,
        actor: "tester",
        reason: "test",
    }
}

async fn versions_are_numbered_by_content(database: TestDatabase) {
    let registry = Registry::open(database.store).await.unwrap();
    let first = registry
        .publish("qa", &text("Answer: {{ q }}"), "ana")
        .await
        .unwrap();
    let same = registry
        .publish("qa", &text("Answer: {{ q }}"), "bo")
        .await
        .unwrap();
    let second = registry
        .publish("qa", &text("Réponds : {{ q }} 🙂"), "bo")
        .await
        .unwrap();
    assert_eq!((first.version, first.created), (1, true));
    assert_eq!((same.version, same.created), (1, false));
    assert_eq!((second.version, second.created), (2, true));

    let stored = registry.get("qa", &Selector::Version(2)).await.unwrap();
    assert_eq!(stored.content, text("Réponds : {{ q }} 🙂"));
    assert_eq!(stored.created_by, "bo");
    assert_eq!(
        registry.get("qa", &Selector::Latest).await.unwrap().version,
        2
    );
    assert_eq!(registry.versions("qa").await.unwrap().len(), 2);
    let other = registry.publish("other", &text("x"), "ana").await.unwrap();
    assert_eq!(other.version, 1);
    let list = registry.list().await.unwrap();
    assert_eq!(
        list.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["other", "qa"]
    );
}
on_both_backends!(numbering, versions_are_numbered_by_content);

async fn unknown_names_are_named_errors(database: TestDatabase) {
    let registry = Registry::open(database.store).await.unwrap();
    let missing = registry.get("nope", &Selector::Latest).await.unwrap_err();
    assert!(
        matches!(missing, RegistryError::PromptNotFound { .. }),
        "{missing}"
    );
    registry.publish("p", &text("x"), "a").await.unwrap();
    let version = registry.get("p", &Selector::Version(4)).await.unwrap_err();
    assert!(
        matches!(
            version,
            RegistryError::VersionNotFound {
                version: 4,
                latest: 1,
                ..
            }
        ),
        "{version}"
    );
    let label_error = registry
        .get("p", &Selector::Label("prod".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(label_error, RegistryError::LabelNotFound { .. }),
        "{label_error}"
    );
    let bad_move = registry
        .set_label(&label("p", "prod", 9))
        .await
        .unwrap_err();
    assert!(
        matches!(bad_move, RegistryError::VersionNotFound { .. }),
        "{bad_move}"
    );
    let invalid = registry.publish("p", &text(""), "a").await.unwrap_err();
    assert!(
        matches!(invalid, RegistryError::InvalidPrompt { .. }),
        "{invalid}"
    );
    let broken = registry
        .publish("p", &text("Hi {{ name"), "a")
        .await
        .unwrap_err();
    assert!(
        matches!(broken, RegistryError::InvalidPrompt { .. }),
        "{broken}"
    );
    assert!(broken.to_string().contains("does not compile"), "{broken}");
    let bad_name = registry.publish("p@2", &text("x"), "a").await.unwrap_err();
    assert!(
        matches!(bad_name, RegistryError::InvalidName { .. }),
        "{bad_name}"
    );
    assert_eq!(registry.versions("p").await.unwrap().len(), 1);
    assert!(registry.history("p", None).await.unwrap().is_empty());
}
on_both_backends!(unknown_names, unknown_names_are_named_errors);

async fn label_named_like_a_version(database: TestDatabase) {
    let registry = Registry::open(database.store).await.unwrap();
    for template in ["one", "two", "three"] {
        registry.publish("p", &text(template), "a").await.unwrap();
    }
    registry.set_label(&label("p", "3", 1)).await.unwrap();
    let by_label = registry
        .get(
            "p",
            &"p:3"
                .parse::<llmops_registry::PromptRef>()
                .unwrap()
                .selector,
        )
        .await
        .unwrap();
    let by_version = registry.get("p", &Selector::Version(3)).await.unwrap();
    assert_eq!(by_label.version, 1);
    assert_eq!(by_version.version, 3);
}
on_both_backends!(label_vs_version, label_named_like_a_version);

async fn moves_are_recorded_and_rolled_back(database: TestDatabase) {
    let registry = Registry::open(database.store).await.unwrap();
    for template in ["one", "two", "three"] {
        registry.publish("p", &text(template), "a").await.unwrap();
    }
    let no_history = registry
        .rollback("p", "production", "ops", "x")
        .await
        .unwrap_err();
    assert!(
        matches!(no_history, RegistryError::NoPreviousDeployment { .. }),
        "{no_history}"
    );

    registry
        .set_label(&label("p", "production", 1))
        .await
        .unwrap();
    registry
        .set_label(&LabelMove {
            prompt: "p",
            label: "production",
            version: 3,
            actor: "ana",
            reason: "better recall",
        })
        .await
        .unwrap();
    let unchanged = registry
        .set_label(&label("p", "production", 3))
        .await
        .unwrap();
    assert_eq!(unchanged.from_version, Some(3));
    registry.set_label(&label("p", "staging", 2)).await.unwrap();
    let rollback = registry
        .rollback("p", "production", "ops", "latency regression")
        .await
        .unwrap();
    assert_eq!((rollback.from_version, rollback.to_version), (Some(3), 1));
    assert_eq!(registry.label_version("p", "production").await.unwrap(), 1);

    let history = registry.history("p", Some("production")).await.unwrap();
    let moves: Vec<(Option<u32>, u32)> = history
        .iter()
        .map(|d| (d.from_version, d.to_version))
        .collect();
    assert_eq!(moves, [(None, 1), (Some(1), 3), (Some(3), 1)]);
    assert_eq!(history[1].actor, "ana");
    assert_eq!(history[1].reason, "better recall");
    assert_eq!(history[2].reason, "latency regression");
    assert_eq!(registry.history("p", None).await.unwrap().len(), 4);
    let list = registry.list().await.unwrap();
    assert_eq!(list[0].labels.get("staging"), Some(&2));
}
on_both_backends!(label_history, moves_are_recorded_and_rolled_back);

async fn concurrent_publish_has_one_winner(database: TestDatabase) {
    let registry = Registry::open(database.store).await.unwrap();
    registry.publish("race", &text("base"), "a").await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..16 {
        let registry = registry.clone();
        tasks.push(tokio::spawn(async move {
            registry
                .publish_if_latest("race", &text(&format!("edit {task}")), "a", 1)
                .await
        }));
    }
    let mut winners = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(published) => {
                assert_eq!(published.version, 2);
                winners += 1;
            }
            Err(error) if error.is_conflict() => conflicts += 1,
            Err(error) => panic!("unexpected error: {error}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(conflicts, 15);
    assert_eq!(registry.versions("race").await.unwrap().len(), 2);
}
on_both_backends!(publish_race_optimistic, concurrent_publish_has_one_winner);

async fn concurrent_publish_never_duplicates(database: TestDatabase) {
    let registry = Registry::open(database.store).await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..24 {
        let registry = registry.clone();
        tasks.push(tokio::spawn(async move {
            let content = text(&format!("variant {task}"));
            (
                content.clone(),
                registry.publish("burst", &content, "a").await,
            )
        }));
    }
    let mut created = Vec::new();
    for task in tasks {
        let (content, outcome) = task.await.unwrap();
        match outcome {
            Ok(published) => created.push((published.version, content)),
            Err(error) if error.is_conflict() => {}
            Err(error) => panic!("unexpected error: {error}"),
        }
    }
    let versions = registry.versions("burst").await.unwrap();
    let numbers: Vec<u32> = versions.iter().map(|v| v.version).collect();
    let expected: Vec<u32> = (1..=versions.len() as u32).collect();
    assert_eq!(
        numbers, expected,
        "versions must be dense, without gaps or duplicates"
    );
    assert_eq!(
        created.len(),
        versions.len(),
        "every success is stored, every stored version succeeded"
    );
    for (version, content) in created {
        assert_eq!(versions[version as usize - 1].content, content);
    }
}
on_both_backends!(publish_race_dense, concurrent_publish_never_duplicates);

async fn second_instance_sees_label_moves(database: TestDatabase) {
    use llmops_registry::RegistryOptions;
    use std::time::Duration;
    let writer = Registry::open(database.store).await.unwrap();
    writer.publish("p", &text("one"), "a").await.unwrap();
    writer.publish("p", &text("two"), "a").await.unwrap();
    writer
        .set_label(&label("p", "production", 1))
        .await
        .unwrap();

    let eager_store = llmops_store::Store::connect(&database.url).await.unwrap();
    let eager = Registry::open_with(
        eager_store,
        RegistryOptions::default().cache_check_interval(Duration::ZERO),
    )
    .await
    .unwrap();
    let lazy_store = llmops_store::Store::connect(&database.url).await.unwrap();
    let lazy = Registry::open_with(
        lazy_store,
        RegistryOptions::default().cache_check_interval(Duration::from_secs(3600)),
    )
    .await
    .unwrap();
    let production = Selector::Label("production".into());
    assert_eq!(eager.get("p", &production).await.unwrap().version, 1);
    assert_eq!(lazy.get("p", &production).await.unwrap().version, 1);

    writer
        .set_label(&label("p", "production", 2))
        .await
        .unwrap();
    assert_eq!(eager.get("p", &production).await.unwrap().version, 2);
    // The lazy instance checks the generation once an hour, so it still
    // serves its cached entry: proof that reads come from memory.
    assert_eq!(lazy.get("p", &production).await.unwrap().version, 1);
    assert_eq!(writer.get("p", &production).await.unwrap().version, 2);
}
on_both_backends!(cache_across_instances, second_instance_sees_label_moves);

async fn failed_move_writes_nothing(database: TestDatabase) {
    let registry = Registry::open(database.store).await.unwrap();
    registry.publish("p", &text("one"), "a").await.unwrap();
    assert!(
        registry
            .set_label(&label("p", "bad label", 1))
            .await
            .is_err()
    );
    assert!(registry.set_label(&label("p", "prod", 5)).await.is_err());
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM registry_deployments")
        .fetch_one(registry.store().pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
}
on_both_backends!(failed_move, failed_move_writes_nothing);
