//! Audit log throughput on a SQLite file: batched appends, and `verify`
//! over a log of `LLMOPS_BENCH_VERIFY_ENTRIES` entries (default 1,000,000).
//!
//! Each append iteration checks the log's size afterwards, so a run also
//! proves that every batch committed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use llmops_compliance::{AuditLog, EventKind, NewEvent, VerifyOptions};
use llmops_store::Store;
use serde_json::json;

const BATCH: usize = 1_000;
const BATCHES_PER_ITERATION: usize = 20;

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

async fn open_log(folder: &tempfile::TempDir, name: &str) -> AuditLog {
    let url = format!("sqlite://{}", folder.path().join(name).display());
    AuditLog::open(Store::connect(&url).await.unwrap())
        .await
        .unwrap()
}

fn append(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let log = runtime.block_on(open_log(&folder, "append.db"));
    let batch: Vec<NewEvent> = (0..BATCH).map(event).collect();

    let mut group = c.benchmark_group("audit_append");
    group.sample_size(10);
    group.throughput(Throughput::Elements((BATCH * BATCHES_PER_ITERATION) as u64));
    group.bench_function("sqlite_file_batch_1000", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let before = log.head().await.unwrap().size;
                    let started = Instant::now();
                    for _ in 0..BATCHES_PER_ITERATION {
                        log.append_batch(&batch).await.unwrap();
                    }
                    total += started.elapsed();
                    let after = log.head().await.unwrap().size;
                    assert_eq!(after - before, (BATCH * BATCHES_PER_ITERATION) as u64);
                }
                total
            })
        });
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let entries: usize = std::env::var("LLMOPS_BENCH_VERIFY_ENTRIES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let log = runtime.block_on(async {
        let log = open_log(&folder, "verify.db").await;
        let batch: Vec<NewEvent> = (0..BATCH).map(event).collect();
        for _ in 0..entries.div_ceil(BATCH) {
            log.append_batch(&batch).await.unwrap();
        }
        log
    });

    let mut group = c.benchmark_group("audit_verify");
    group.sample_size(10);
    group.throughput(Throughput::Elements(
        entries.div_ceil(BATCH) as u64 * BATCH as u64,
    ));
    group.bench_function("sqlite_file", |b| {
        b.iter(|| {
            let report = runtime
                .block_on(log.verify(&VerifyOptions::default()))
                .unwrap();
            assert!(report.is_valid());
            report.entries
        });
    });
    group.finish();
}

criterion_group!(benches, append, verify);
criterion_main!(benches);
