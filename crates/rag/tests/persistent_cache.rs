//! `PersistentEmbedCache` on SQLite and PostgreSQL: reopening, model and
//! length separation, repeated texts, concurrent writers and a broken
//! database.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use common::CountingEmbedder;
use llmops_core::Embedder;
use llmops_rag::{HashEmbedder, PersistentEmbedCache};
use llmops_store::Store;
use llmops_store::testing::TestDatabase;

/// Returns a model's vectors scaled by a factor, under its own name, and
/// counts texts embedded.
struct ScaledEmbedder {
    name: String,
    factor: f32,
    inner: HashEmbedder,
    texts: AtomicUsize,
}

impl ScaledEmbedder {
    fn new(name: &str, factor: f32, dimensions: usize) -> Arc<Self> {
        Arc::new(ScaledEmbedder {
            name: name.to_owned(),
            factor,
            inner: HashEmbedder::new(dimensions),
            texts: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl Embedder for ScaledEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        self.texts.fetch_add(texts.len(), Ordering::SeqCst);
        let vectors = self.inner.embed(texts).await?;
        Ok(vectors
            .into_iter()
            .map(|vector| {
                vector
                    .into_iter()
                    .map(|value| value * self.factor)
                    .collect()
            })
            .collect())
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    fn model(&self) -> &str {
        &self.name
    }
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

async fn survives_reopen(database: TestDatabase) {
    let input = texts(&["Grüße aus Köln", "東京の天気", "plain ascii", ""]);
    let first_embedder = CountingEmbedder::new(32);
    let first = PersistentEmbedCache::open(database.store.clone(), first_embedder.clone())
        .await
        .unwrap();
    let vectors = first.embed(&input).await.unwrap();
    assert_eq!(vectors.len(), 4);
    assert_eq!(first_embedder.texts.load(Ordering::SeqCst), 4);
    database.store.close().await;
    drop(first);

    // A new connection, as after a restart.
    let store = Store::connect(&database.url).await.unwrap();
    let second_embedder = CountingEmbedder::new(32);
    let second = PersistentEmbedCache::open(store, second_embedder.clone())
        .await
        .unwrap();
    let again = second.embed(&input).await.unwrap();
    assert_eq!(again, vectors);
    assert_eq!(second_embedder.texts.load(Ordering::SeqCst), 0);
    assert_eq!(second.hits(), 4);
    assert_eq!(second.misses(), 0);
}
on_both_backends!(reopen, survives_reopen);

async fn separates_models(database: TestDatabase) {
    let input = texts(&["the same text"]);
    let plain = ScaledEmbedder::new("model-a", 1.0, 16);
    let scaled = ScaledEmbedder::new("model-b", -1.0, 16);
    let cache_a = PersistentEmbedCache::open(database.store.clone(), plain.clone())
        .await
        .unwrap();
    let cache_b = PersistentEmbedCache::open(database.store.clone(), scaled.clone())
        .await
        .unwrap();

    let from_a = cache_a.embed(&input).await.unwrap();
    let from_b = cache_b.embed(&input).await.unwrap();

    assert_eq!(
        scaled.texts.load(Ordering::SeqCst),
        1,
        "model-b not served from model-a"
    );
    let negated: Vec<f32> = from_a[0].iter().map(|value| -value).collect();
    assert_eq!(from_b[0], negated);
    assert_eq!(cache_a.embed(&input).await.unwrap(), from_a);
    assert_eq!(plain.texts.load(Ordering::SeqCst), 1);
}
on_both_backends!(models, separates_models);

async fn separates_lengths(database: TestDatabase) {
    let input = texts(&["length check"]);
    let short = ScaledEmbedder::new("same-name", 1.0, 8);
    let long = ScaledEmbedder::new("same-name", 1.0, 12);
    let short_cache = PersistentEmbedCache::open(database.store.clone(), short.clone())
        .await
        .unwrap();
    let long_cache = PersistentEmbedCache::open(database.store.clone(), long.clone())
        .await
        .unwrap();
    assert_eq!(short_cache.embed(&input).await.unwrap()[0].len(), 8);
    assert_eq!(long_cache.embed(&input).await.unwrap()[0].len(), 12);
    assert_eq!(long.texts.load(Ordering::SeqCst), 1);
}
on_both_backends!(lengths, separates_lengths);

async fn embeds_repeats_once(database: TestDatabase) {
    let counting = CountingEmbedder::new(8);
    let cache = PersistentEmbedCache::open(database.store.clone(), counting.clone())
        .await
        .unwrap();
    let vectors = cache
        .embed(&texts(&["alpha", "beta", "alpha", "alpha"]))
        .await
        .unwrap();
    assert_eq!(counting.texts.load(Ordering::SeqCst), 2);
    assert_eq!(vectors.len(), 4);
    assert_eq!(vectors[0], vectors[2]);
    assert_eq!(vectors[0], vectors[3]);
    assert_ne!(vectors[0], vectors[1]);
    assert!(cache.embed(&[]).await.unwrap().is_empty());
}
on_both_backends!(repeats, embeds_repeats_once);

async fn concurrent_writers_agree(database: TestDatabase) {
    let input: Vec<String> = (0..40).map(|i| format!("shared text {i}")).collect();
    // Migrate once, so the tasks race on the rows rather than the schema.
    PersistentEmbedCache::open(database.store.clone(), CountingEmbedder::new(16))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = database.store.clone();
        let input = input.clone();
        tasks.push(tokio::spawn(async move {
            let cache = PersistentEmbedCache::open(store, CountingEmbedder::new(16))
                .await
                .unwrap();
            cache.embed(&input).await.unwrap()
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    for result in &results[1..] {
        assert_eq!(result, &results[0]);
    }

    let counting = CountingEmbedder::new(16);
    let cache = PersistentEmbedCache::open(database.store.clone(), counting.clone())
        .await
        .unwrap();
    assert_eq!(cache.embed(&input).await.unwrap(), results[0]);
    assert_eq!(counting.texts.load(Ordering::SeqCst), 0);
}
on_both_backends!(concurrency, concurrent_writers_agree);

#[tokio::test]
async fn closed_store_falls_back_to_embedder() {
    let database = llmops_store::testing::sqlite_file().await.unwrap();
    let counting = CountingEmbedder::new(8);
    let cache = PersistentEmbedCache::open(database.store.clone(), counting.clone())
        .await
        .unwrap();
    database.store.close().await;

    let vectors = cache.embed(&texts(&["a", "b"])).await.unwrap();

    assert_eq!(
        vectors,
        HashEmbedder::new(8)
            .embed(&texts(&["a", "b"]))
            .await
            .unwrap()
    );
    assert_eq!(counting.texts.load(Ordering::SeqCst), 2);
}
