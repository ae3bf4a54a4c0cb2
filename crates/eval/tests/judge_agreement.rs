//! Judge calls retried after retryable failures, and judge-sample agreement
//! carried from the evaluator into stored results and the JSON, Markdown
//! and HTML reports.

use crate::common;
use crate::judge_support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::ScriptedBackend;
use judge_support::{FnBackend, prompt};
use llmops_core::Error;
use llmops_core::TimeoutPhase;
use llmops_eval::judge::{JudgeScale, PairwiseJudge, RubricJudge};
use llmops_eval::{
    Case, Dataset, Evaluator, Metric, Report, ReportOptions, ResultStore, Sample, Score,
};
use llmops_store::{Store, testing};

const MILLISECOND: Duration = Duration::from_millis(1);

fn rubric(backend: Arc<FnBackend>) -> RubricJudge {
    RubricJudge::new(
        "clarity",
        "Is the answer clear?",
        JudgeScale::ONE_TO_FIVE,
        backend,
        "judge",
    )
    .unwrap()
}

fn rate_limited() -> Error {
    Error::RateLimited {
        provider: "scripted".to_owned(),
        retry_after: Some(MILLISECOND),
        message: "slow down".to_owned(),
    }
}

/// Fails the first `failures` calls with `error()`, then replies score 4.
fn flaky(failures: usize, error: fn() -> Error) -> Arc<FnBackend> {
    let calls = AtomicUsize::new(0);
    Arc::new(FnBackend::new(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) < failures {
            return Err(error());
        }
        Ok(r#"{"reasoning": "clear", "score": 4}"#.to_owned())
    }))
}

fn undetermined_reason(score: &Score) -> String {
    match score {
        Score::Undetermined { reason } => reason.clone(),
        other => panic!("expected an undetermined score, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_limited_call_is_retried() {
    let backend = flaky(2, rate_limited);
    let judge = rubric(backend.clone()).retries(3, MILLISECOND);
    let case = Case::new("c1", "q");
    let score = judge.score(&Sample::new(&case, "a")).await;
    assert_eq!(score, Score::value(4.0));
    assert_eq!(backend.requests().len(), 3);
}

#[tokio::test]
async fn server_error_and_timeout_are_retried() {
    let server_error = || Error::UpstreamServer {
        provider: "scripted".to_owned(),
        status: 503,
        message: "unavailable".to_owned(),
    };
    let timeout = || Error::Timeout {
        provider: "scripted".to_owned(),
        phase: TimeoutPhase::Total,
        after: Duration::from_secs(30),
    };
    for error in [server_error as fn() -> Error, timeout] {
        let backend = flaky(1, error);
        let judge = rubric(backend.clone()).retries(2, MILLISECOND);
        let case = Case::new("c1", "q");
        assert_eq!(
            judge.score(&Sample::new(&case, "a")).await,
            Score::value(4.0)
        );
        assert_eq!(backend.requests().len(), 2);
    }
}

#[tokio::test]
async fn retries_stop_at_max_attempts() {
    let backend = flaky(usize::MAX, rate_limited);
    let judge = rubric(backend.clone()).retries(2, MILLISECOND);
    let case = Case::new("c1", "q");
    let reason = undetermined_reason(&judge.score(&Sample::new(&case, "a")).await);
    assert!(reason.contains("after 2 attempt(s)"), "{reason}");
    assert_eq!(backend.requests().len(), 2);
}

#[tokio::test]
async fn invalid_request_is_not_retried() {
    let backend = flaky(usize::MAX, || {
        Error::invalid_request("model", "no such judge")
    });
    let judge = rubric(backend.clone()).retries(5, MILLISECOND);
    let case = Case::new("c1", "q");
    let reason = undetermined_reason(&judge.score(&Sample::new(&case, "a")).await);
    assert!(reason.contains("after 1 attempt(s)"), "{reason}");
    assert_eq!(backend.requests().len(), 1);
}

#[tokio::test]
async fn pairwise_calls_are_retried() {
    // Each of the two orders fails once, then replies.
    let failed_prompts = Mutex::new(HashSet::new());
    let backend = Arc::new(FnBackend::new(move |request| {
        if failed_prompts.lock().unwrap().insert(prompt(request)) {
            return Err(rate_limited());
        }
        Ok(r#"{"winner": "tie"}"#.to_owned())
    }));
    let judge = PairwiseJudge::new("pair", "Which is better?", backend.clone(), "judge")
        .unwrap()
        .retries(2, MILLISECOND);
    let judgement = judge.compare("q", "a", "b").await;
    assert_eq!(judgement.score, Score::value(0.5));
    assert_eq!(backend.requests().len(), 4);
}

/// A judge whose samples split by case: case inputs containing `split`
/// get scores 5, 5, 1 over three seeds; the rest get 5 from every seed.
fn splitting_judge() -> Arc<FnBackend> {
    Arc::new(FnBackend::new(|request| {
        let split = prompt(request).contains("split");
        let score = if split && request.seed == Some(2) {
            1
        } else {
            5
        };
        Ok(format!(r#"{{"score": {score}}}"#))
    }))
}

fn agreement_dataset() -> Dataset {
    let cases = vec![
        Case::new("agree-1", "q agree"),
        Case::new("split-1", "q split"),
        Case::new("agree-2", "q agree too"),
    ];
    Dataset::new("agreement", cases).unwrap()
}

fn answering_backend() -> ScriptedBackend {
    ScriptedBackend::new(&[
        ("q agree", "answer"),
        ("q split", "answer"),
        ("q agree too", "answer"),
    ])
}

#[tokio::test]
async fn evaluator_records_agreement_detail() {
    let judge = rubric(splitting_judge()).samples(3, 0.7).unwrap();
    let run = Evaluator::new(Arc::new(answering_backend()), "scripted-model")
        .metric(judge)
        .run("r1", &agreement_dataset())
        .await
        .unwrap();
    let split = run.results.iter().find(|r| r.case_id == "split-1").unwrap();
    let detail = &split.details["clarity"];
    assert_eq!(detail.agreement, Some(2.0 / 3.0));
    assert_eq!(detail.samples, Some(3));
    let agree = run.results.iter().find(|r| r.case_id == "agree-1").unwrap();
    assert_eq!(agree.details["clarity"].agreement, Some(1.0));
}

#[tokio::test]
async fn single_sample_judge_adds_no_detail() {
    let run = Evaluator::new(Arc::new(answering_backend()), "scripted-model")
        .metric(rubric(splitting_judge()))
        .run("r1", &agreement_dataset())
        .await
        .unwrap();
    assert!(run.results.iter().all(|r| r.details.is_empty()));
    let report = Report::new(&run, &ReportOptions::default());
    assert_eq!(report.metrics[0].agreement, None);
    assert!(!report.to_markdown().contains("judge agreement"));
}

#[tokio::test]
async fn reports_show_mean_and_lowest_agreement() {
    let judge = rubric(splitting_judge()).samples(3, 0.7).unwrap();
    let run = Evaluator::new(Arc::new(answering_backend()), "scripted-model")
        .metric(judge)
        .run("r1", &agreement_dataset())
        .await
        .unwrap();
    let options = ReportOptions {
        worst_cases: 2,
        ..ReportOptions::default()
    };
    let report = Report::new(&run, &options);

    let agreement = report.metrics[0].agreement.as_ref().unwrap();
    assert_eq!(agreement.cases, 3);
    assert!((agreement.mean - (1.0 + 1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    let lowest: Vec<&str> = agreement
        .lowest
        .iter()
        .map(|c| c.case_id.as_str())
        .collect();
    assert_eq!(lowest, ["split-1", "agree-1"]);

    let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    let json_agreement = &json["metrics"][0]["agreement"];
    assert_eq!(json_agreement["cases"], 3);
    assert_eq!(json_agreement["lowest"][0]["case_id"], "split-1");
    assert_eq!(json_agreement["lowest"][0]["samples"], 3);

    let markdown = report.to_markdown();
    assert!(
        markdown.contains("## clarity: judge agreement"),
        "{markdown}"
    );
    assert!(
        markdown.contains("Mean agreement 0.8889 over 3 cases."),
        "{markdown}"
    );
    assert!(
        markdown.contains("- `split-1`: 0.6667 (3 samples)"),
        "{markdown}"
    );

    let html = report.to_html();
    assert!(html.contains("<h2>clarity: judge agreement</h2>"), "{html}");
    assert!(
        html.contains("<tr><td>split-1</td><td>0.6667</td><td>3</td></tr>"),
        "{html}"
    );
}

async fn details_survive_the_store(store: Store) {
    let results = ResultStore::open(store).await.unwrap();
    let judge = rubric(splitting_judge()).samples(3, 0.7).unwrap();
    let run = Evaluator::new(Arc::new(answering_backend()), "scripted-model")
        .metric(judge)
        .store(results.clone())
        .run("stored", &agreement_dataset())
        .await
        .unwrap();
    let loaded = results.load_run("stored").await.unwrap();
    for result in &run.results {
        let stored = loaded
            .results
            .iter()
            .find(|r| r.case_id == result.case_id)
            .unwrap();
        assert_eq!(stored.details, result.details, "{}", result.case_id);
    }
}

#[tokio::test]
async fn details_stored_sqlite() {
    let database = testing::sqlite_file().await.unwrap();
    details_survive_the_store(database.store).await;
}

#[tokio::test]
async fn details_stored_postgres() {
    let Some(database) = testing::postgres("eval_score_details").await else {
        return;
    };
    details_survive_the_store(database.store).await;
}
