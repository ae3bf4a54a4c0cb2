//! Call-log ingestion throughput: the batched `CallLogger` against one
//! autocommit `INSERT` per record, on a SQLite file and, when
//! `LLMOPS_TEST_POSTGRES_URL` is set, on PostgreSQL.
//!
//! Every logger iteration checks that the table contains exactly the records
//! sent, so a run also proves zero loss across `close`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use llmops_registry::{
    CallLogger, CallLoggerOptions, CallRecord, PromptContent, PromptVersion, Registry, Selector,
};
use llmops_store::Store;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::Row;

const LOGGER_RECORDS: u64 = 50_000;
const BASELINE_RECORDS: u64 = 2_000;

struct Target {
    name: &'static str,
    registry: Registry,
    version: Arc<PromptVersion>,
    _folder: Option<tempfile::TempDir>,
}

async fn open(name: &'static str, url: String, folder: Option<tempfile::TempDir>) -> Target {
    let store = Store::connect(&url).await.unwrap();
    let registry = Registry::open(store).await.unwrap();
    registry
        .publish("bench", &PromptContent::text("Answer {{ q }}"), "bench")
        .await
        .unwrap();
    let version = registry.get("bench", &Selector::Latest).await.unwrap();
    Target {
        name,
        registry,
        version,
        _folder: folder,
    }
}

fn record(version: &PromptVersion, n: u64) -> CallRecord {
    CallRecord::new(
        version,
        "gpt-4o-mini",
        json!({"q": format!("question {n}")}),
        "a short answer of a few words",
    )
    .call_id(format!("call-{n}"))
    .usage(420, 128, 32, Decimal::new(27, 6))
}

async fn clear(target: &Target) {
    sqlx::query("DELETE FROM registry_calls")
        .execute(target.registry.store().pool())
        .await
        .unwrap();
}

async fn count(target: &Target) -> u64 {
    let row = sqlx::query("SELECT COUNT(*) FROM registry_calls")
        .fetch_one(target.registry.store().pool())
        .await
        .unwrap();
    row.get::<i64, _>(0) as u64
}

async fn run_logger(target: &Target, rows_per_statement: usize) -> Duration {
    clear(target).await;
    let started = Instant::now();
    let logger = CallLogger::start(
        target.registry.store().clone(),
        CallLoggerOptions::default().rows_per_statement(rows_per_statement),
    );
    for n in 0..LOGGER_RECORDS {
        logger.log(record(&target.version, n)).await.unwrap();
    }
    let stats = logger.close().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(stats.written, LOGGER_RECORDS);
    assert_eq!(
        count(target).await,
        LOGGER_RECORDS,
        "records lost on {}",
        target.name
    );
    elapsed
}

async fn run_baseline(target: &Target) -> Duration {
    clear(target).await;
    let started = Instant::now();
    for n in 0..BASELINE_RECORDS {
        let call = record(&target.version, n);
        sqlx::query(
            "INSERT INTO registry_calls (prompt, version, label, call_id, model, input, output, latency_ms, prompt_tokens, completion_tokens, cost_nano_usd, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(call.prompt)
        .bind(i64::from(call.version))
        .bind(call.label)
        .bind(call.call_id)
        .bind(call.model)
        .bind(call.input.to_string())
        .bind(call.output)
        .bind(call.latency_ms as i64)
        .bind(call.prompt_tokens as i64)
        .bind(call.completion_tokens as i64)
        .bind(27_000_i64)
        .bind(call.at_ms)
        .execute(target.registry.store().pool())
        .await
        .unwrap();
    }
    let elapsed = started.elapsed();
    assert_eq!(count(target).await, BASELINE_RECORDS);
    elapsed
}

fn ingest(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut targets = Vec::new();
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("bench.db").display());
    targets.push(runtime.block_on(open("sqlite", url, Some(folder))));
    match std::env::var(llmops_store::testing::POSTGRES_URL_VAR) {
        Ok(url) => {
            let database = runtime
                .block_on(llmops_store::testing::postgres("log_ingest"))
                .unwrap();
            drop(url);
            targets.push(runtime.block_on(open("postgres", database.url.clone(), None)));
        }
        Err(_) => eprintln!(
            "skipped PostgreSQL: {} is not set",
            llmops_store::testing::POSTGRES_URL_VAR
        ),
    }

    for target in &targets {
        let mut group = c.benchmark_group(format!("log_ingest/{}", target.name));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(8));
        group.throughput(Throughput::Elements(LOGGER_RECORDS));
        // 32 rows per statement (SQLite's default) and the largest
        // statements the bind-parameter limit allows (PostgreSQL's).
        for (name, rows) in [
            ("call_logger_32_rows_per_statement", 32),
            ("call_logger_max_rows_per_statement", usize::MAX),
        ] {
            group.bench_function(name, |b| {
                b.iter_custom(|iterations| {
                    (0..iterations)
                        .map(|_| runtime.block_on(run_logger(target, rows)))
                        .sum()
                })
            });
        }
        group.throughput(Throughput::Elements(BASELINE_RECORDS));
        group.bench_function("insert_per_record_autocommit", |b| {
            b.iter_custom(|iterations| {
                (0..iterations)
                    .map(|_| runtime.block_on(run_baseline(target)))
                    .sum()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, ingest);
criterion_main!(benches);
