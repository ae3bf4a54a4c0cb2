//! Export to YAML and JSON and import into another database.

use llmops_registry::{
    LabelMove, PromptContent, Registry, RegistryError, RegistryExport, Selector,
};
use llmops_store::testing::TestDatabase;

async fn seeded() -> Registry {
    let registry = Registry::open(
        llmops_store::Store::connect("sqlite::memory:")
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let chat = PromptContent::from_yaml(
        "template:\n  - role: system\n    content: Réponds en français.\n  - role: user\n    content: '{{ q }}'\nvariables:\n  q: {type: string}\nmetadata: {owner: équipe}\n",
    )
    .unwrap();
    registry
        .publish("support/qa", &PromptContent::text("Q: {{ q }}"), "ana")
        .await
        .unwrap();
    registry.publish("support/qa", &chat, "bo").await.unwrap();
    let request = LabelMove {
        prompt: "support/qa",
        label: "production",
        version: 1,
        actor: "ana",
        reason: "launch",
    };
    registry.set_label(&request).await.unwrap();
    registry
        .set_label(&LabelMove {
            version: 2,
            reason: "chat format",
            ..request
        })
        .await
        .unwrap();
    registry
}

async fn round_trip_keeps_everything(database: TestDatabase) {
    let source = seeded().await;
    let export = source.export(&[]).await.unwrap();
    for text in [export.to_yaml().unwrap(), export.to_json().unwrap()] {
        assert_eq!(RegistryExport::parse(&text).unwrap(), export);
    }

    let target = Registry::open(database.store).await.unwrap();
    let report = target
        .import(
            &RegistryExport::parse(&export.to_yaml().unwrap()).unwrap(),
            "ci",
        )
        .await
        .unwrap();
    assert_eq!(report.versions_added, 2);
    assert_eq!(target.export(&[]).await.unwrap(), export);
    let live = target
        .get("support/qa", &Selector::Label("production".into()))
        .await
        .unwrap();
    assert_eq!(live.version, 2);
    assert_eq!(live.created_by, "bo");

    let again = target.import(&export, "ci").await.unwrap();
    assert_eq!(
        (
            again.versions_added,
            again.versions_present,
            again.labels_moved
        ),
        (0, 2, 0)
    );
}
on_both_backends!(round_trip, round_trip_keeps_everything);

async fn conflicting_import_writes_nothing(database: TestDatabase) {
    let target = Registry::open(database.store).await.unwrap();
    target
        .publish("support/qa", &PromptContent::text("something else"), "zed")
        .await
        .unwrap();
    let mut export = seeded().await.export(&[]).await.unwrap();
    export.prompts.push(llmops_registry::PromptExport {
        name: "fresh".into(),
        versions: export.prompts[0].versions.clone(),
        labels: Default::default(),
        history: vec![],
    });
    export.prompts.reverse();
    let error = target.import(&export, "ci").await.unwrap_err();
    assert!(
        matches!(error, RegistryError::ImportConflict { version: 1, .. }),
        "{error}"
    );
    assert!(matches!(
        target.get("fresh", &Selector::Latest).await.unwrap_err(),
        RegistryError::PromptNotFound { .. }
    ));
    assert_eq!(target.versions("support/qa").await.unwrap().len(), 1);
}
on_both_backends!(conflict_is_atomic, conflicting_import_writes_nothing);

#[test]
fn bad_files_are_format_errors() {
    let cases = [
        ("format: 2\nprompts: []\n", "format 2"),
        (
            "format: 1\nprompts:\n  - name: x\n    versions: nope\n",
            "versions",
        ),
        ("format: 1\nprompts: []\nextra: 1\n", "extra"),
    ];
    for (text, expected) in cases {
        let message = RegistryExport::parse(text).unwrap_err().to_string();
        assert!(message.contains(expected), "{message} lacks {expected}");
    }
}
