//! `llmops eval run`, `compare` and `gate` against a mock OpenAI-compatible
//! server on loopback.

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
fn run_then_gate_fails_on_regression() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    mock.always_for_model("good-model", Scenario::text("Paris"));
    mock.always_for_model("bad-model", Scenario::text("Lyon"));

    let folder = tempfile::tempdir().unwrap();
    let dataset = folder.path().join("capitals.jsonl");
    let lines: Vec<String> = (0..30)
        .map(|i| format!("{{\"id\": \"q{i}\", \"input\": \"Capital of France? ({i})\", \"expected\": \"Paris\"}}"))
        .collect();
    std::fs::write(&dataset, lines.join("\n")).unwrap();
    let db = format!("sqlite://{}", folder.path().join("eval.db").display());
    let base = mock.openai_base_url();
    let dataset = dataset.to_str().unwrap();

    for (model, run_id) in [("good-model", "v1"), ("bad-model", "v2")] {
        let (code, stdout, stderr) = llmops(
            &db,
            &base,
            &[
                "eval",
                "run",
                "--dataset",
                dataset,
                "--model",
                model,
                "--run-id",
                run_id,
                "--metrics",
                "exact_match,chrf",
            ],
        );
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stdout.contains("| exact_match |"), "{stdout}");
    }

    let (code, stdout, _) = llmops(&db, &base, &["eval", "compare", "v1", "v2"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("FAILED"), "{stdout}");

    let (code, _, _) = llmops(&db, &base, &["eval", "gate", "v1", "v2"]);
    assert_eq!(code, Some(4));
    let (code, _, _) = llmops(&db, &base, &["eval", "gate", "v1", "v1"]);
    assert_eq!(code, Some(0));

    // Running v1 again resumes a finished run: no model call is made.
    let before = mock.request_count();
    let (code, _, stderr) = llmops(
        &db,
        &base,
        &[
            "eval",
            "run",
            "--dataset",
            dataset,
            "--model",
            "good-model",
            "--run-id",
            "v1",
            "--metrics",
            "exact_match,chrf",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(mock.request_count(), before);
}

#[test]
fn sampling_flags_reach_the_model() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    mock.always_for_model("m", Scenario::text("Paris"));
    let folder = tempfile::tempdir().unwrap();
    let dataset = folder.path().join("one.jsonl");
    std::fs::write(
        &dataset,
        r#"{"input": "Capital of France?", "expected": "Paris"}"#,
    )
    .unwrap();
    let db = format!("sqlite://{}", folder.path().join("eval.db").display());
    let base = mock.openai_base_url();
    let run = |run_id: &str, extra: &[&str]| {
        let mut args = vec![
            "eval",
            "run",
            "--dataset",
            dataset.to_str().unwrap(),
            "--model",
            "m",
            "--run-id",
            run_id,
        ];
        args.extend_from_slice(extra);
        llmops(&db, &base, &args)
    };

    let (code, _, stderr) = run("default", &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let sent = mock.last_request().unwrap().json.unwrap();
    assert_eq!(sent["temperature"], 0.0, "{sent}");
    assert!(sent.get("max_tokens").is_none(), "{sent}");

    let (code, _, stderr) = run(
        "tuned",
        &["--temperature", "0.7", "--max-tokens", "12", "--seed", "42"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let sent = mock.last_request().unwrap().json.unwrap();
    assert_eq!(sent["temperature"], 0.7, "{sent}");
    assert_eq!(sent["max_tokens"], 12, "{sent}");
    assert_eq!(sent["seed"], 42, "{sent}");

    let (code, _, stderr) = run("hot", &["--temperature", "2.5"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("invalid temperature `2.5`"), "{stderr}");
}

#[test]
fn unknown_metric_and_run_are_usage_errors() {
    let folder = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", folder.path().join("eval.db").display());
    let dataset = folder.path().join("d.jsonl");
    std::fs::write(&dataset, "{\"input\": \"hi\"}\n").unwrap();

    let (code, _, stderr) = llmops(
        &db,
        "http://127.0.0.1:9",
        &[
            "eval",
            "run",
            "--dataset",
            dataset.to_str().unwrap(),
            "--model",
            "gpt-x",
            "--run-id",
            "r",
            "--metrics",
            "vibes",
        ],
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown metric `vibes`"), "{stderr}");

    let (code, _, stderr) = llmops(&db, "http://127.0.0.1:9", &["eval", "gate", "nope", "nada"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("`nope` not found"), "{stderr}");
}
