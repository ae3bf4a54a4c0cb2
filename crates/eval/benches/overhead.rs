//! Evaluator overhead per case, excluding model time: a backend that
//! answers at once, one cheap metric, with no store and with a SQLite file
//! store.
//!
//! Run with `cargo bench -p llmops-eval --bench overhead`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatMessage, ChatRequest, Choice, FinishReason};
use llmops_core::{BackendInfo, ChatStream, Error, ModelBackend, Result};
use llmops_eval::{Case, Dataset, Evaluator, ExactMatch, ResultStore};
use llmops_store::Store;

const CASES: usize = 20_000;

struct InstantBackend;

#[async_trait]
impl ModelBackend for InstantBackend {
    fn describe(&self) -> BackendInfo {
        BackendInfo::new("instant", vec!["instant".to_owned()])
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion> {
        let message = ChatMessage::assistant("the answer");
        Ok(ChatCompletion::new(
            "instant-1",
            request.model,
            vec![Choice::new(0, message, Some(FinishReason::Stop))],
        ))
    }

    async fn stream(&self, _request: ChatRequest) -> Result<ChatStream> {
        Err(Error::invalid_request("stream", "not supported"))
    }
}

fn dataset() -> Dataset {
    let cases = (0..CASES)
        .map(|i| Case::new(format!("case-{i}"), format!("question {i}")).expected("the answer"))
        .collect();
    Dataset::new("overhead", cases).unwrap_or_else(|error| panic!("{error}"))
}

async fn time_run(label: &str, evaluator: Evaluator, dataset: &Dataset) {
    let start = Instant::now();
    let run = evaluator
        .run(label, dataset)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let elapsed = start.elapsed();
    assert_eq!(run.results.len(), CASES);
    let per_case_us = elapsed.as_secs_f64() * 1e6 / CASES as f64;
    println!(
        "| {label} | {CASES} | {:.3} | {per_case_us:.1} |",
        elapsed.as_secs_f64()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|error| panic!("{error}"));
    runtime.block_on(async {
        let dataset = dataset();
        let backend: Arc<dyn ModelBackend> = Arc::new(InstantBackend);
        println!("| setup | cases | total (s) | per case (µs) |");
        println!("| --- | ---: | ---: | ---: |");

        let plain = Evaluator::new(backend.clone(), "instant")
            .metric(ExactMatch)
            .concurrency(16);
        time_run("no store", plain, &dataset).await;

        let folder = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let url = format!("sqlite://{}", folder.path().join("eval.db").display());
        let store = Store::connect(&url)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let results = ResultStore::open(store)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let stored = Evaluator::new(backend, "instant")
            .metric(ExactMatch)
            .concurrency(16)
            .store(results)
            .save_batch(256);
        time_run("SQLite store, batches of 256", stored, &dataset).await;
    });
}
