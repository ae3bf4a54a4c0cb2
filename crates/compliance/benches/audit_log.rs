//! Audit log throughput: batched appends, and `verify` over a log of
//! `LLMOPS_BENCH_VERIFY_ENTRIES` entries (default 1,000,000).
//!
//! On a SQLite file, verify runs on both read paths in the same run: the
//! native read-only connection (the default) and the store's `Any` pool
//! (the baseline). With `LLMOPS_TEST_POSTGRES_URL` set, the same appends
//! and verify also run on a fresh PostgreSQL database.
//!
//! Each append iteration checks the log's size afterwards, so a run also
//! proves that every batch committed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use llmops_compliance::{AuditLog, EventKind, NewEvent, ReadPath, VerifyOptions};
use llmops_store::Store;
use llmops_store::testing::{self, TestDatabase};
use serde_json::json;
use tokio::runtime::Runtime;

const EVENTS_PER_ITERATION: usize = 20_000;

/// Batch sizes the append benchmark compares, in events per transaction.
const APPEND_BATCHES: [usize; 3] = [100, 1_000, 10_000];

/// The batch size that fills the verify logs.
const FILL_BATCH: usize = 1_000;

fn event(n: usize) -> NewEvent {
    NewEvent::new(EventKind::ModelCall, "gateway", format!("request:{n}")).payload(json!({
        "model": "gpt-4o-mini",
        "provider": "openai",
        "prompt_tokens": 420,
        "completion_tokens": 128,
        "latency_ms": 812,
        "route": "qa",
    }))
}

async fn open_sqlite(folder: &tempfile::TempDir, name: &str) -> AuditLog {
    let url = format!("sqlite://{}", folder.path().join(name).display());
    AuditLog::open(Store::connect(&url).await.unwrap())
        .await
        .unwrap()
}

/// Opens a log on a fresh PostgreSQL database when the variable is set.
async fn open_postgres(name: &str) -> Option<(AuditLog, TestDatabase)> {
    std::env::var(testing::POSTGRES_URL_VAR).ok()?;
    let database = testing::postgres(name).await?;
    let log = AuditLog::open(database.store.clone()).await.unwrap();
    Some((log, database))
}

/// Times appending `EVENTS_PER_ITERATION` events in batches of `batch`.
fn bench_append(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &Runtime,
    log: &AuditLog,
    name: &str,
    batch: usize,
) {
    let events: Vec<NewEvent> = (0..batch).map(event).collect();
    let batches = EVENTS_PER_ITERATION.div_ceil(batch);
    group.throughput(Throughput::Elements((batches * batch) as u64));
    group.bench_function(format!("{name}_batch_{batch}"), |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let before = log.head().await.unwrap().size;
                    let started = Instant::now();
                    for _ in 0..batches {
                        log.append_batch(&events).await.unwrap();
                    }
                    total += started.elapsed();
                    let after = log.head().await.unwrap().size;
                    assert_eq!(after - before, (batches * batch) as u64);
                }
                total
            })
        });
    });
}

fn append(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("audit_append");
    group.sample_size(10);
    for batch in APPEND_BATCHES {
        let log = runtime.block_on(open_sqlite(&folder, &format!("append-{batch}.db")));
        bench_append(&mut group, &runtime, &log, "sqlite_file", batch);
    }
    if let Some((log, _database)) = runtime.block_on(open_postgres("bench_append")) {
        bench_append(&mut group, &runtime, &log, "postgres", FILL_BATCH);
    }
    group.finish();
}

fn verify_entries() -> usize {
    std::env::var("LLMOPS_BENCH_VERIFY_ENTRIES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1_000_000)
}

async fn fill(log: &AuditLog, entries: usize) -> u64 {
    let batch: Vec<NewEvent> = (0..FILL_BATCH).map(event).collect();
    for _ in 0..entries.div_ceil(FILL_BATCH) {
        log.append_batch(&batch).await.unwrap();
    }
    log.head().await.unwrap().size
}

/// Times `verify` of the whole log with `options`.
fn bench_verify(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &Runtime,
    log: &AuditLog,
    name: &str,
    options: &VerifyOptions,
) {
    group.bench_function(name, |b| {
        b.iter(|| {
            let report = runtime.block_on(log.verify(options)).unwrap();
            assert!(report.is_valid(), "{:?}", report.problem);
            report.entries
        });
    });
}

fn verify(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let entries = verify_entries();
    let log = runtime.block_on(async {
        let log = open_sqlite(&folder, "verify.db").await;
        fill(&log, entries).await;
        log
    });
    let size = runtime.block_on(log.head()).unwrap().size;

    let mut group = c.benchmark_group("audit_verify");
    group.sample_size(10);
    group.throughput(Throughput::Elements(size));
    let native = VerifyOptions::default().read_path(ReadPath::Native);
    let pool = VerifyOptions::default().read_path(ReadPath::Pool);
    bench_verify(&mut group, &runtime, &log, "sqlite_file_native", &native);
    bench_verify(&mut group, &runtime, &log, "sqlite_file_pool", &pool);

    if let Some((log, _database)) = runtime.block_on(open_postgres("bench_verify")) {
        runtime.block_on(fill(&log, entries));
        bench_verify(&mut group, &runtime, &log, "postgres", &pool);
    }
    group.finish();
}

criterion_group!(benches, append, verify);
criterion_main!(benches);
