//! The evaluator over a scripted backend: scores, retries, concurrency,
//! failures and resumption from SQLite and PostgreSQL.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::ScriptedBackend;
use llmops_eval::text::{Rouge, RougeKind};
use llmops_eval::{Case, Dataset, EvalError, Evaluator, ExactMatch, ResultStore, Score};
use llmops_store::{Store, testing};

fn dataset() -> Dataset {
    let cases = (0..20)
        .map(|i| {
            Case::new(format!("c{i:02}"), format!("q{i}"))
                .expected(format!("a{i}"))
                .tag(if i % 2 == 0 { "even" } else { "odd" })
        })
        .collect();
    Dataset::new("numbers", cases).unwrap()
}

fn backend() -> ScriptedBackend {
    let answers: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("q{i}"),
                if i < 15 {
                    format!("a{i}")
                } else {
                    "wrong".to_owned()
                },
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = answers
        .iter()
        .map(|(q, a)| (q.as_str(), a.as_str()))
        .collect();
    ScriptedBackend::new(&pairs)
}

fn evaluator(backend: Arc<ScriptedBackend>) -> Evaluator {
    Evaluator::new(backend, "scripted-model")
        .metric(ExactMatch)
        .metric(Rouge::new(RougeKind::Rouge1))
        .retries(3, Duration::from_millis(1))
}

#[tokio::test]
async fn scores_every_case_in_dataset_order() {
    let backend = Arc::new(backend());
    let run = evaluator(backend.clone())
        .run("r1", &dataset())
        .await
        .unwrap();
    assert_eq!(run.results.len(), 20);
    assert_eq!(run.results[0].case_id, "c00");
    assert_eq!(run.results[19].case_id, "c19");
    let passed = run
        .values("exact_match")
        .iter()
        .filter(|(_, v)| *v == 1.0)
        .count();
    assert_eq!(passed, 15);
    assert_eq!(run.results[3].output, "a3");
    assert!(run.results[3].latency_ms.is_some());
    assert_eq!(backend.total_calls(), 20);
}

#[tokio::test]
async fn concurrency_limit_is_respected() {
    let mut scripted = backend();
    scripted.delay = Some(Duration::from_millis(5));
    let backend = Arc::new(scripted);
    evaluator(backend.clone())
        .concurrency(3)
        .run("r1", &dataset())
        .await
        .unwrap();
    let max = backend.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 3, "{max} calls ran at once");
    assert!(max >= 2, "calls never overlapped");
}

#[tokio::test]
async fn retryable_failures_are_retried() {
    let scripted = backend();
    scripted.failures.lock().unwrap().insert("q4".to_owned(), 2);
    let backend = Arc::new(scripted);
    let run = evaluator(backend.clone())
        .run("r1", &dataset())
        .await
        .unwrap();
    assert_eq!(backend.calls_for("q4"), 3);
    assert_eq!(run.results[4].scores["exact_match"], Score::value(1.0));
    assert_eq!(run.failed_cases(), 0);
}

#[tokio::test]
async fn permanent_failure_is_undetermined_not_zero() {
    let mut scripted = backend();
    scripted.broken.push("q7".to_owned());
    let backend = Arc::new(scripted);
    let run = evaluator(backend.clone())
        .run("r1", &dataset())
        .await
        .unwrap();
    assert_eq!(backend.calls_for("q7"), 1);
    let result = &run.results[7];
    assert!(result.error.is_some());
    assert!(
        result
            .scores
            .values()
            .all(|score| score.as_value().is_none())
    );
    assert_eq!(run.failed_cases(), 1);
}

#[tokio::test]
async fn duplicate_metric_names_are_rejected() {
    let backend = Arc::new(backend());
    let error = evaluator(backend)
        .metric(ExactMatch)
        .run("r1", &dataset())
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        EvalError::InvalidParameter { name: "metric", .. }
    ));
}

async fn resumes_without_rerunning(store: Store) {
    let results = ResultStore::open(store).await.unwrap();

    // First attempt: q5 and q9 fail for good, so only 18 cases are saved.
    let mut first = backend();
    first.broken = vec!["q5".to_owned(), "q9".to_owned()];
    let first = Arc::new(first);
    let run = evaluator(first.clone())
        .store(results.clone())
        .save_batch(4)
        .run("resume", &dataset())
        .await
        .unwrap();
    assert_eq!(run.failed_cases(), 2);
    assert_eq!(results.results("resume").await.unwrap().len(), 18);

    // Second attempt: only the two failed cases reach the model.
    let second = Arc::new(backend());
    let run = evaluator(second.clone())
        .store(results.clone())
        .run("resume", &dataset())
        .await
        .unwrap();
    assert_eq!(second.total_calls(), 2);
    assert_eq!(second.calls_for("q5"), 1);
    assert_eq!(second.calls_for("q9"), 1);
    assert_eq!(run.failed_cases(), 0);
    assert_eq!(run.results.len(), 20);
    assert_eq!(run.results[2].output, "a2");
    assert_eq!(run.results[2].scores["exact_match"], Score::value(1.0));

    let loaded = results.load_run("resume").await.unwrap();
    assert_eq!(loaded.results.len(), 20);
    assert_eq!(loaded.info.dataset_version, dataset().version());
    assert_eq!(loaded.values("rouge1").len(), 20);
}

async fn rejects_reused_run_id_for_other_data(store: Store) {
    let results = ResultStore::open(store).await.unwrap();
    let backend = Arc::new(backend());
    evaluator(backend.clone())
        .store(results.clone())
        .run("shared", &dataset())
        .await
        .unwrap();
    let other = Dataset::new("other", vec![Case::new("x", "q1")]).unwrap();
    let error = evaluator(backend)
        .store(results)
        .run("shared", &other)
        .await
        .unwrap_err();
    assert!(
        matches!(error, EvalError::IncomparableRuns { .. }),
        "{error}"
    );
}

/// A run stopped part-way (as by Ctrl-C) keeps the cases that finished
/// before the stop, even though no batch filled.
#[tokio::test]
async fn interrupted_run_keeps_finished_cases() {
    let database = testing::sqlite_file().await.unwrap();
    let results = ResultStore::open(database.store).await.unwrap();
    let mut slow = backend();
    slow.delay = Some(Duration::from_millis(100));
    let stopped = evaluator(Arc::new(slow))
        .store(results.clone())
        .concurrency(1)
        .save_batch(32)
        .save_interval(Duration::from_millis(20));
    let cases = dataset();
    let run = stopped.run("stopped", &cases);
    let watch = async {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let saved = results.results("stopped").await.unwrap().len();
            if saved >= 2 {
                return saved;
            }
        }
    };
    // Dropping the run future stops it, as Ctrl-C stops the CLI.
    let saved = tokio::select! {
        finished = run => panic!("the run finished before it was stopped: {finished:?}"),
        saved = watch => saved,
    };
    assert!(saved >= 2);
    let stored_after_stop = results.results("stopped").await.unwrap().len();
    assert!(stored_after_stop >= saved);
    assert!(
        stored_after_stop < 20,
        "the run finished before it was stopped"
    );

    // The resumed run calls the model only for the cases not stored.
    let second = Arc::new(backend());
    let run = evaluator(second.clone())
        .store(results)
        .run("stopped", &dataset())
        .await
        .unwrap();
    assert_eq!(second.total_calls(), 20 - stored_after_stop);
    assert_eq!(run.results.len(), 20);
}

#[tokio::test]
async fn resumption_sqlite() {
    let database = testing::sqlite_file().await.unwrap();
    resumes_without_rerunning(database.store).await;
}

#[tokio::test]
async fn resumption_postgres() {
    let Some(database) = testing::postgres("eval_resumption").await else {
        return;
    };
    resumes_without_rerunning(database.store).await;
}

#[tokio::test]
async fn run_id_reuse_sqlite() {
    let database = testing::sqlite_file().await.unwrap();
    rejects_reused_run_id_for_other_data(database.store).await;
}

#[tokio::test]
async fn run_id_reuse_postgres() {
    let Some(database) = testing::postgres("eval_run_id_reuse").await else {
        return;
    };
    rejects_reused_run_id_for_other_data(database.store).await;
}

#[tokio::test]
async fn unknown_run_is_not_found() {
    let results = ResultStore::open(Store::connect("sqlite::memory:").await.unwrap())
        .await
        .unwrap();
    let error = results.load_run("missing").await.unwrap_err();
    assert!(matches!(error, EvalError::RunNotFound { .. }));
}
