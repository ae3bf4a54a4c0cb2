//! `llmops experiment` against a SQLite file: create, list, status, stop
//! and promote, with the usage errors a user is likely to hit.

use assert_cmd::Command;

fn llmops(db: &str) -> Command {
    let mut command = Command::cargo_bin("llmops").unwrap();
    command.env("LLMOPS_DB", db).env("USER", "tester");
    command
}

fn run(db: &str, args: &[&str]) -> (i32, String, String) {
    let output = llmops(db).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn ok(db: &str, args: &[&str]) -> String {
    let (code, stdout, stderr) = run(db, args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    stdout
}

/// Creates a database with prompt `greet` at versions 1 and 2, `production` on 1.
fn registry() -> (tempfile::TempDir, String) {
    let folder = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", folder.path().join("e.db").display());
    for (n, text) in ["Hello {{ name }}", "Grüß dich, {{ name }}!"]
        .iter()
        .enumerate()
    {
        let file = folder.path().join(format!("v{n}.yaml"));
        std::fs::write(&file, format!("template: '{text}'\n")).unwrap();
        ok(
            &db,
            &[
                "prompt",
                "create",
                "greet",
                "--file",
                file.to_str().unwrap(),
            ],
        );
    }
    ok(
        &db,
        &[
            "prompt",
            "label",
            "greet",
            "production",
            "1",
            "--reason",
            "launch",
        ],
    );
    (folder, db)
}

#[test]
fn experiment_lifecycle_through_the_cli() {
    let (_folder, db) = registry();
    let created = ok(
        &db,
        &[
            "experiment",
            "create",
            "tone",
            "--prompt",
            "greet",
            "--arm",
            "control=:production",
            "--arm",
            "friendly=@2",
            "--weights",
            "3,1",
        ],
    );
    // The label arm is pinned to the version `production` points to now.
    assert!(created.contains("control=@1 (75%)"), "{created}");
    assert!(created.contains("friendly=@2 (25%)"), "{created}");

    let listed = ok(&db, &["experiment", "list"]);
    assert!(
        listed.starts_with("tone\trunning\tgreet:production"),
        "{listed}"
    );

    // No calls were logged, so the status recommends continuing instead of
    // inventing numbers.
    let status = ok(&db, &["experiment", "status", "tone"]);
    assert!(
        status.contains("tone (running) on greet:production"),
        "{status}"
    );
    assert!(status.contains("recommendation: continue"), "{status}");
    let json = ok(&db, &["experiment", "status", "tone", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["experiment_id"], "tone");
    assert_eq!(report["recommendation"]["decision"], "continue");
    assert_eq!(report["status"], "running");
    assert_eq!(report["winner"], serde_json::Value::Null);

    // The label the experiment splits cannot move under it.
    let (code, _, stderr) = run(
        &db,
        &[
            "prompt",
            "label",
            "greet",
            "production",
            "2",
            "--reason",
            "x",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("stop or promote it first"), "{stderr}");
    let (code, _, stderr) = run(
        &db,
        &["experiment", "status", "tone", "--primary", "thumbs"],
    );
    assert_eq!(
        code, 0,
        "no metric is measured yet, so any name is accepted: {stderr}"
    );

    // Promoting without data needs the arm named.
    let (code, _, stderr) = run(&db, &["experiment", "promote", "tone"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no winner yet"), "{stderr}");
    let (code, _, stderr) = run(&db, &["experiment", "promote", "tone", "--arm", "frendly"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no arm `frendly`"), "{stderr}");

    let promoted = ok(&db, &["experiment", "promote", "tone", "--arm", "friendly"]);
    assert!(promoted.contains("greet:production 1 -> 2"), "{promoted}");
    let history = ok(&db, &["prompt", "history", "greet"]);
    assert!(
        history.contains("promoted arm `friendly` of experiment `tone`"),
        "{history}"
    );
    let status = ok(&db, &["experiment", "status", "tone"]);
    assert!(status.contains("winner: friendly"), "{status}");
    assert!(
        status.contains("promoted by tester at") && !status.contains("recommendation"),
        "{status}"
    );
    let json = ok(&db, &["experiment", "status", "tone", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["status"], "promoted");
    assert_eq!(report["winner"], "friendly");
    let (code, _, stderr) = run(&db, &["experiment", "stop", "tone"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("is promoted; stop needs a running experiment"),
        "{stderr}"
    );
}

#[test]
fn bad_experiments_are_refused_with_the_fix() {
    let (_folder, db) = registry();
    let cases: [(&[&str], i32, &str); 9] = [
        (&["--arm", "a"], 2, "NAME=@VERSION"),
        (
            &["--arm", "a=@1", "--weights", "1,2"],
            2,
            "one weight per arm",
        ),
        (&["--arm", "a=@1", "--weights", "-1"], 2, "weight -1"),
        (&["--arm", "c=@1", "--arm", "a=@7"], 1, "no version 7"),
        (&["--arm", "c=@1", "--arm", "a=:nope"], 1, "no label `nope`"),
        (&["--arm", "a=@1"], 2, "add a second arm"),
        (
            &["--arm", "c=@1", "--arm", "a=@2", "--weights", "0,1"],
            2,
            "give the first arm, the control, a positive weight",
        ),
        (
            &["--arm", "c=@1", "--arm", "a=@2", "--weights", "1e308,1e308"],
            2,
            "use smaller weights",
        ),
        (
            &["--arm", "c=@1", "--arm", "a=@2", "--label", "canary"],
            1,
            "no label `canary`",
        ),
    ];
    for (extra, expected, message) in cases {
        let mut args = vec!["experiment", "create", "bad", "--prompt", "greet"];
        args.extend_from_slice(extra);
        let (code, _, stderr) = run(&db, &args);
        assert_eq!(code, expected, "{extra:?}: {stderr}");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
    }
    assert_eq!(ok(&db, &["experiment", "list"]), "", "nothing was stored");
    let (code, _, stderr) = run(&db, &["experiment", "status", "missing"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("experiment `missing` not found"),
        "{stderr}"
    );
}
