//! Ingestion into the store, index versions, blue/green switch and rollback,
//! on SQLite and PostgreSQL.

use std::sync::Arc;

use llmops_rag::{
    Collection, Document, HashEmbedder, IndexSettings, IngestLimits, IngestOutcome, RagError,
    RetrievalOptions, Retriever,
};
use llmops_store::testing::TestDatabase;

async fn open(database: &TestDatabase, folder: &std::path::Path) -> Collection {
    Collection::open(database.store.clone(), "docs", folder)
        .await
        .unwrap()
}

async fn top_document(collection: &Collection, query: &str) -> String {
    let index = collection.load_live().await.unwrap();
    let retriever = Retriever::new(Arc::new(index), Arc::new(HashEmbedder::new(64))).unwrap();
    let hits = retriever
        .retrieve(query, &RetrievalOptions::default())
        .await
        .unwrap();
    hits[0].document_id.clone()
}

async fn reingest_is_a_noop(database: TestDatabase) {
    let folder = tempfile::tempdir().unwrap();
    let collection = open(&database, folder.path()).await;
    let document = Document::text("a", "first text").with_metadata("lang", "en");
    let limits = IngestLimits::default();
    assert_eq!(
        collection.ingest(&document, limits).await.unwrap(),
        IngestOutcome::Added
    );
    assert_eq!(
        collection.ingest(&document, limits).await.unwrap(),
        IngestOutcome::Unchanged
    );
    let changed = Document::text("a", "second text").with_metadata("lang", "en");
    assert_eq!(
        collection.ingest(&changed, limits).await.unwrap(),
        IngestOutcome::Replaced
    );

    let stored = collection.documents().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].text, "second text");
    assert_eq!(stored[0].metadata["lang"], "en");
    assert_eq!(stored[0].content_hash, changed.content_hash());
}
on_both_backends!(reingest, reingest_is_a_noop);

async fn bad_document_writes_nothing(database: TestDatabase) {
    let folder = tempfile::tempdir().unwrap();
    let collection = open(&database, folder.path()).await;
    let limits = IngestLimits::default();
    collection
        .ingest(&Document::text("a", "good text"), limits)
        .await
        .unwrap();
    let error = collection
        .ingest(
            &Document::new("a", llmops_rag::Format::Text, vec![0_u8, 1, 2]),
            limits,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, RagError::BinaryDocument { .. }), "{error}");
    let stored = collection.documents().await.unwrap();
    assert_eq!(stored[0].text, "good text");
}
on_both_backends!(bad_document, bad_document_writes_nothing);

async fn blue_green_switch_and_rollback(database: TestDatabase) {
    let folder = tempfile::tempdir().unwrap();
    let collection = open(&database, folder.path()).await;
    let limits = IngestLimits::default();
    let embedder = HashEmbedder::new(64);
    let settings = IndexSettings::default();
    collection
        .ingest(
            &Document::text("apples", "red apples grow on trees"),
            limits,
        )
        .await
        .unwrap();
    collection
        .ingest(
            &Document::text("boats", "sail boats float on water"),
            limits,
        )
        .await
        .unwrap();

    let error = collection.load_live().await.unwrap_err();
    assert!(matches!(error, RagError::NoLiveVersion { .. }), "{error}");

    let v1 = collection
        .build_version(&embedder, &settings)
        .await
        .unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.documents, 2);
    assert_eq!(v1.embedder, "hash-bow-64");
    collection.switch_to(v1.version).await.unwrap();
    assert_eq!(top_document(&collection, "trees").await, "apples");

    // Version 2 adds a document and is built beside the live version 1.
    collection
        .ingest(
            &Document::text("trees", "trees trees forests of trees"),
            limits,
        )
        .await
        .unwrap();
    let v2 = collection
        .build_version(&embedder, &settings)
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    assert_ne!(v2.corpus_hash, v1.corpus_hash);
    assert_eq!(collection.live_version().await.unwrap(), Some(1));
    assert_eq!(top_document(&collection, "trees").await, "apples");

    collection.switch_to(2).await.unwrap();
    assert_eq!(top_document(&collection, "trees").await, "trees");
    // Switching to the live version again must not become the rollback
    // target.
    collection.switch_to(2).await.unwrap();
    assert_eq!(collection.live_version().await.unwrap(), Some(2));

    assert_eq!(collection.rollback().await.unwrap(), 1);
    assert_eq!(collection.live_version().await.unwrap(), Some(1));
    assert_eq!(top_document(&collection, "trees").await, "apples");

    // A query can still target version 2 directly.
    let v2_index = collection.load(2).await.unwrap();
    assert_eq!(v2_index.manifest().documents, 3);

    let versions = collection.versions().await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].settings, settings);

    let error = collection.switch_to(9).await.unwrap_err();
    assert!(
        matches!(error, RagError::VersionNotFound { version: 9, .. }),
        "{error}"
    );
}
on_both_backends!(blue_green, blue_green_switch_and_rollback);

async fn corrupt_file_is_never_switched_to(database: TestDatabase) {
    let folder = tempfile::tempdir().unwrap();
    let collection = open(&database, folder.path()).await;
    let embedder = HashEmbedder::new(16);
    collection
        .ingest(
            &Document::text("a", "some words here"),
            IngestLimits::default(),
        )
        .await
        .unwrap();
    let v1 = collection
        .build_version(&embedder, &IndexSettings::default())
        .await
        .unwrap();
    collection.switch_to(1).await.unwrap();
    let v2 = collection
        .build_version(&embedder, &IndexSettings::default())
        .await
        .unwrap();

    let mut bytes = std::fs::read(&v2.file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    std::fs::write(&v2.file, &bytes).unwrap();

    let error = collection.switch_to(2).await.unwrap_err();
    assert!(matches!(error, RagError::CorruptIndex { .. }), "{error}");
    assert!(error.to_string().contains("checksum"), "{error}");
    assert_eq!(collection.live_version().await.unwrap(), Some(v1.version));
    assert!(collection.load_live().await.is_ok());
}
on_both_backends!(corrupt_file, corrupt_file_is_never_switched_to);

async fn moved_folder_and_other_layouts(database: TestDatabase) {
    let folder = tempfile::tempdir().unwrap();
    let embedder = HashEmbedder::new(16);
    let collection = open(&database, folder.path()).await;
    collection
        .ingest(
            &Document::text("a", "words to find"),
            IngestLimits::default(),
        )
        .await
        .unwrap();
    let built = collection
        .build_version(&embedder, &IndexSettings::default())
        .await
        .unwrap();
    assert!(built.file.is_absolute(), "{}", built.file.display());

    // The whole index folder moves; a collection opened on the new folder
    // finds the version's file by name.
    let moved = tempfile::tempdir().unwrap();
    std::fs::rename(folder.path().join("docs"), moved.path().join("docs")).unwrap();
    let collection = open(&database, moved.path()).await;
    assert_eq!(
        collection
            .load(built.version)
            .await
            .unwrap()
            .manifest()
            .chunks,
        built.chunks
    );

    // A file in another layout version is named as such, not as corrupt.
    let file = moved
        .path()
        .join("docs")
        .join(built.file.file_name().unwrap());
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[8..12].copy_from_slice(&1_u32.to_le_bytes());
    std::fs::write(&file, &bytes).unwrap();
    let error = collection.load(built.version).await.unwrap_err();
    assert!(
        matches!(
            error,
            RagError::UnsupportedIndexLayout {
                version: 1,
                supported: 2,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("build a new index version"),
        "{error}"
    );
}

on_both_backends!(moved_folder, moved_folder_and_other_layouts);

async fn rollback_needs_an_earlier_version(database: TestDatabase) {
    let folder = tempfile::tempdir().unwrap();
    let collection = open(&database, folder.path()).await;
    let error = collection.rollback().await.unwrap_err();
    assert!(
        matches!(error, RagError::NoEarlierVersion { .. }),
        "{error}"
    );
    let error = collection
        .build_version(&HashEmbedder::new(8), &IndexSettings::default())
        .await
        .unwrap_err();
    assert!(matches!(error, RagError::EmptyCorpus { .. }), "{error}");
}
on_both_backends!(rollback_empty, rollback_needs_an_earlier_version);

#[tokio::test]
async fn collection_name_is_checked() {
    let store = llmops_store::Store::connect("sqlite::memory:")
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    for name in ["", "../etc", "a b"] {
        let error = Collection::open(store.clone(), name, folder.path())
            .await
            .unwrap_err();
        assert!(matches!(error, RagError::InvalidConfig { .. }), "{error}");
    }
}
