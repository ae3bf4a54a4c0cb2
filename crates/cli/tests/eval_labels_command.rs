//! `llmops eval run` with a judge metric, then `eval labels export`,
//! `import` and `agreement`, against a mock OpenAI-compatible server on
//! loopback.

use std::process::Command;

use llmops_testkit::{MockServer, Scenario};

fn llmops(db: &str, base_url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(assert_cmd::cargo::cargo_bin("llmops"))
        .args(args)
        .env("LLMOPS_DB", db)
        .env("OPENAI_API_KEY", "test-key")
        .env("OPENAI_BASE_URL", base_url)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn judge_run_then_label_round_trip() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    mock.always_for_model("answer-model", Scenario::text("Paris"));
    mock.always_for_model(
        "judge-model",
        Scenario::text("```json\n{\"reasoning\": \"matches\", \"score\": 5}\n```"),
    );

    let folder = tempfile::tempdir().unwrap();
    let dataset = folder.path().join("capitals.jsonl");
    let lines: Vec<String> = (0..4)
        .map(|i| format!("{{\"id\": \"q{i}\", \"input\": \"Capital of France? ({i})\", \"expected\": \"Paris\"}}"))
        .collect();
    std::fs::write(&dataset, lines.join("\n")).unwrap();
    let db = format!("sqlite://{}", folder.path().join("eval.db").display());
    let base = mock.openai_base_url();
    let dataset = dataset.to_str().unwrap();

    let (code, stdout, stderr) = llmops(
        &db,
        &base,
        &[
            "eval",
            "run",
            "--dataset",
            dataset,
            "--model",
            "answer-model",
            "--run-id",
            "j1",
            "--metrics",
            "judge:correctness",
            "--judge-model",
            "judge-model",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("correctness"), "{stdout}");

    let review = folder.path().join("review.csv");
    let review_path = review.to_str().unwrap();
    let (code, _, stderr) = llmops(
        &db,
        &base,
        &[
            "eval",
            "labels",
            "export",
            "--run-id",
            "j1",
            "--dataset",
            dataset,
            "--metric",
            "correctness",
            "--out",
            review_path,
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let exported = std::fs::read_to_string(&review).unwrap();
    assert!(
        exported.starts_with("case_id,input,expected,contexts,output,judge_metric,judge_score"),
        "{exported}"
    );
    assert!(
        exported.contains("q3,Capital of France? (3),Paris,,Paris,correctness,5,"),
        "{exported}"
    );

    // Reviewers agree on three cases and give 3 on the fourth.
    let labelled = folder.path().join("labels.csv");
    std::fs::write(&labelled, "case_id,label\nq0,5\nq1,five\nq2,5\nq3,3\n").unwrap();
    let labelled = labelled.to_str().unwrap();
    let (code, stdout, stderr) = llmops(
        &db,
        &base,
        &[
            "eval",
            "labels",
            "import",
            "--dataset",
            dataset,
            "--labels",
            labelled,
            "--scale",
            "1-5",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("4 labelled, 0 unlabelled"), "{stdout}");

    let (code, stdout, stderr) = llmops(
        &db,
        &base,
        &[
            "eval",
            "labels",
            "agreement",
            "--run-id",
            "j1",
            "--dataset",
            dataset,
            "--metric",
            "correctness",
            "--labels",
            labelled,
            "--json",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let agreement: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(agreement["pairs"], 4);
    assert_eq!(agreement["accuracy"], 0.75);
    // The judge always says 5, so chance agreement equals observed
    // agreement and kappa is 0.
    assert_eq!(agreement["kappa"], 0.0);

    let bad = folder.path().join("bad.csv");
    std::fs::write(&bad, "case_id,label\nq0,5\nnope,4\n").unwrap();
    let (code, _, stderr) = llmops(
        &db,
        &base,
        &[
            "eval",
            "labels",
            "import",
            "--dataset",
            dataset,
            "--labels",
            bad.to_str().unwrap(),
            "--scale",
            "1-5",
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("row 3") && stderr.contains("`nope`"),
        "{stderr}"
    );

    let (code, _, stderr) = llmops(
        &db,
        &base,
        &[
            "eval",
            "run",
            "--dataset",
            dataset,
            "--model",
            "answer-model",
            "--run-id",
            "j2",
            "--metrics",
            "judge:vibes",
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("judge:correctness"), "{stderr}");
}
