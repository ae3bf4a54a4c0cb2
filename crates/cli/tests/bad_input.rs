//! Bad input on the command line: each case exits non-zero with a message
//! that names the value and the fix, and a closed standard output ends the
//! output quietly.

use std::io::Read as _;
use std::process::Stdio;

use assert_cmd::Command;
use assert_cmd::cargo::CommandCargoExt as _;

fn run(folder: &tempfile::TempDir, args: &[&str]) -> (i32, String, String) {
    let url = format!("sqlite://{}", folder.path().join("d.db").display());
    let output = Command::cargo_bin("llmops")
        .unwrap()
        .env("LLMOPS_DB", url)
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn write(folder: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = folder.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn assert_usage(result: (i32, String, String), expected: &str) {
    let (code, _, stderr) = result;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn closed_stdout_ends_quietly() {
    let folder = tempfile::tempdir().unwrap();
    let lines: String = (0..400)
        .map(|i| format!("refund my order number {i}\nreset my password {i}\n"))
        .collect();
    let input = write(&folder, "in.txt", &lines);
    let url = format!("sqlite://{}", folder.path().join("d.db").display());
    let mut child = std::process::Command::cargo_bin("llmops")
        .unwrap()
        .env("LLMOPS_DB", url)
        .args(["drift", "baseline", "--name", "bot", "--input", &input])
        .args(["--topics", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the read end before the command prints makes every write
    // fail with EPIPE, as `| head -1` does once head has exited.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    // The command still finished its work: the baseline was saved, so a
    // check runs (exit 0, or 3 when it reports drift) instead of failing.
    let (code, _, stderr) = run(
        &folder,
        &["drift", "check", "--name", "bot", "--input", &input],
    );
    assert!(code == 0 || code == 3, "{code}: {stderr}");
}

#[test]
fn drift_check_rejects_empty_input() {
    let folder = tempfile::tempdir().unwrap();
    let lines: String = (0..60).map(|i| format!("track parcel {i}\n")).collect();
    let input = write(&folder, "in.txt", &lines);
    let empty = write(&folder, "empty.txt", "\n  \n");
    let (code, _, stderr) = run(
        &folder,
        &["drift", "baseline", "--name", "bot", "--input", &input],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_usage(
        run(
            &folder,
            &["drift", "check", "--name", "bot", "--input", &empty],
        ),
        &format!("no texts in {empty}"),
    );
}

#[test]
fn drift_baseline_rejects_blank_name() {
    let folder = tempfile::tempdir().unwrap();
    let input = write(&folder, "in.txt", "a\nb\nc\n");
    for name in ["", "   "] {
        assert_usage(
            run(
                &folder,
                &["drift", "baseline", "--name", name, "--input", &input],
            ),
            "the name is empty",
        );
    }
}

#[test]
fn rag_rejects_bad_arguments() {
    let folder = tempfile::tempdir().unwrap();
    let index = folder.path().join("index").display().to_string();
    let rag = |extra: &[&str]| {
        let mut args = vec!["rag", "--index-dir", index.as_str()];
        args.extend_from_slice(extra);
        run(&folder, &args)
    };

    let (code, _, stderr) = rag(&["ingest"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("<PATHS>"), "{stderr}");

    assert_usage(rag(&["query", "keys", "-k", "0"]), "use 1 or more");

    let doc = write(&folder, "doc.md", "# Keys\nRotate keys every 90 days.\n");
    let (code, _, stderr) = rag(&["ingest", &doc]);
    assert_eq!(code, 0, "{stderr}");
    assert_usage(
        rag(&["build", "--tokenizer", "bogus"]),
        "`bogus` has no known tokenizer; use an OpenAI model name such as gpt-4o",
    );

    let queries = write(
        &folder,
        "queries.jsonl",
        "{\"_id\": \"q1\", \"text\": \"keys\"}\n",
    );
    let empty = write(&folder, "empty.jsonl", "");
    let qrels = write(
        &folder,
        "qrels.tsv",
        "query-id\tcorpus-id\tscore\nq9\td1\t1\n",
    );
    assert_usage(
        rag(&["eval", "--queries", &empty, "--qrels", &qrels]),
        "holds no queries",
    );
    assert_usage(
        rag(&["eval", "--queries", &queries, "--qrels", &qrels]),
        "none of the 1 query ids in --qrels is in --queries",
    );
    let twice = write(
        &folder,
        "twice.jsonl",
        "{\"_id\": \"q1\", \"text\": \"a\"}\n{\"_id\": \"q1\", \"text\": \"b\"}\n",
    );
    assert_usage(
        rag(&["eval", "--queries", &twice, "--qrels", &qrels]),
        "`_id` \"q1\" repeats the id of line 1",
    );
}

#[test]
fn eval_run_rejects_bad_arguments() {
    let folder = tempfile::tempdir().unwrap();
    let dataset = write(
        &folder,
        "cases.jsonl",
        "{\"id\": \"1\", \"input\": \"hi\", \"expected\": \"hi\"}\n",
    );
    let empty = write(&folder, "empty.jsonl", "");
    let eval = |extra: &[&str]| {
        let mut args = vec!["eval", "run", "--model", "gpt-4o-mini"];
        args.extend_from_slice(extra);
        run(&folder, &args)
    };
    assert_usage(
        eval(&["--dataset", &dataset, "--run-id", "a", "--concurrency", "0"]),
        "use 1 or more",
    );
    assert_usage(
        eval(&["--dataset", &empty, "--run-id", "a"]),
        "the dataset has no cases",
    );
}

#[test]
fn experiment_rejects_idle_and_identical_arms() {
    let folder = tempfile::tempdir().unwrap();
    for (n, text) in ["Hello {{ name }}", "Hi {{ name }}"].iter().enumerate() {
        let file = write(
            &folder,
            &format!("v{n}.yaml"),
            &format!("template: '{text}'\n"),
        );
        let (code, _, stderr) = run(&folder, &["prompt", "create", "greet", "--file", &file]);
        assert_eq!(code, 0, "{stderr}");
    }
    let label = [
        "prompt",
        "label",
        "greet",
        "production",
        "1",
        "--reason",
        "launch",
    ];
    let (code, _, stderr) = run(&folder, &label);
    assert_eq!(code, 0, "{stderr}");
    let create = |arms: &[&str], weights: Option<&str>| {
        let mut args = vec![
            "experiment",
            "create",
            "tone",
            "--prompt",
            "greet",
            "--label",
            "production",
        ];
        for arm in arms {
            args.extend_from_slice(&["--arm", arm]);
        }
        if let Some(weights) = weights {
            args.extend_from_slice(&["--weights", weights]);
        }
        run(&folder, &args)
    };
    assert_usage(
        create(&["control=@1", "same=:production"], None),
        "arms `control` and `same` of experiment `tone` both serve version 1",
    );
    assert_usage(
        create(&["control=@1", "friendly=@2"], Some("1,0")),
        "arm `friendly` of experiment `tone` has weight 0",
    );

    let (code, _, stderr) = create(&["control=@1", "friendly=@2"], None);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(&folder, &["experiment", "stop", "tone"]);
    assert_eq!(code, 0, "{stderr}");
    assert_usage(
        run(&folder, &["experiment", "promote", "tone"]),
        "experiment tone is stopped",
    );
}

#[test]
fn eval_run_id_clash_comes_before_missing_key() {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("d.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = llmops_store::Store::connect(&url).await.unwrap();
        let results = llmops_eval::ResultStore::open(store).await.unwrap();
        let info = llmops_eval::RunInfo {
            run_id: "nightly".into(),
            dataset: "old".into(),
            dataset_version: "0123456789abcdef".into(),
            model: "claude-3-5-haiku".into(),
            prompt_version: None,
            metrics: Default::default(),
        };
        results.begin_run(&info).await.unwrap();
    });
    let dataset = write(
        &folder,
        "cases.jsonl",
        "{\"id\": \"1\", \"input\": \"hi\", \"expected\": \"hi\"}\n",
    );
    let args = [
        "eval",
        "run",
        "--model",
        "gpt-4o-mini",
        "--dataset",
        &dataset,
        "--run-id",
        "nightly",
    ];
    let (code, _, stderr) = run(&folder, &args);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("run id `nightly` is taken by a run of model `claude-3-5-haiku`"),
        "{stderr}"
    );
    assert!(stderr.contains("choose another --run-id"), "{stderr}");
    assert!(!stderr.contains("OPENAI_API_KEY"), "{stderr}");
}

#[test]
fn missing_file_error_names_cause_once() {
    let folder = tempfile::tempdir().unwrap();
    let missing = folder.path().join("no-bundle").display().to_string();
    let signing = llmops_compliance::ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let key = hex::encode(signing.verifying_key().as_bytes());
    let (code, _, stderr) = run(
        &folder,
        &[
            "compliance",
            "verify-bundle",
            &missing,
            "--public-key",
            &key,
        ],
    );
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains(&missing), "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
}
