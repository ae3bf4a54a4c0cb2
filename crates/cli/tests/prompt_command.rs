//! `llmops prompt` against a SQLite file: create, label, show, diff,
//! render, rollback, history, export and import.

use assert_cmd::Command;

fn llmops(db: &str) -> Command {
    let mut command = Command::cargo_bin("llmops").unwrap();
    command.env("LLMOPS_DB", db).env("USER", "tester");
    command
}

fn stdout(db: &str, args: &[&str]) -> String {
    let output = llmops(db).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn prompt_lifecycle_through_the_cli() {
    let folder = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", folder.path().join("p.db").display());
    let v1 = folder.path().join("v1.yaml");
    let v2 = folder.path().join("v2.yaml");
    std::fs::write(
        &v1,
        "template: 'Hello {{ name }}'\nvariables:\n  name: {type: string}\n",
    )
    .unwrap();
    std::fs::write(
        &v2,
        "template: 'Grüß dich, {{ name }}!'\nvariables:\n  name: {type: string}\n",
    )
    .unwrap();

    assert!(
        stdout(
            &db,
            &["prompt", "create", "greet", "--file", v1.to_str().unwrap()]
        )
        .starts_with("created greet@1")
    );
    assert!(
        stdout(
            &db,
            &["prompt", "create", "greet", "--file", v1.to_str().unwrap()]
        )
        .starts_with("unchanged")
    );
    assert!(
        stdout(
            &db,
            &["prompt", "create", "greet", "--file", v2.to_str().unwrap()]
        )
        .starts_with("created greet@2")
    );
    stdout(
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
    stdout(
        &db,
        &[
            "prompt",
            "label",
            "greet",
            "production",
            "2",
            "--reason",
            "friendlier",
        ],
    );

    assert!(stdout(&db, &["prompt", "show", "greet:production"]).contains("Grüß dich"));
    let diff = stdout(&db, &["prompt", "diff", "greet@1", "greet@2"]);
    assert!(diff.contains("-template: Hello {{ name }}"), "{diff}");
    assert!(diff.contains("+template: Grüß dich, {{ name }}!"), "{diff}");
    assert_eq!(
        stdout(&db, &["prompt", "render", "greet@1", "--var", "name=Zoë"]),
        "Hello Zoë\n"
    );
    assert_eq!(
        stdout(
            &db,
            &[
                "prompt",
                "rollback",
                "greet",
                "production",
                "--reason",
                "tone"
            ]
        ),
        "greet:production 2 -> 1\n"
    );
    let history = stdout(&db, &["prompt", "history", "greet"]);
    assert_eq!(history.lines().count(), 3, "{history}");
    assert!(history.contains("tester\ttone"), "{history}");
    // Times read as RFC 3339 in UTC, such as 2026-12-05T02:30:00.123Z.
    for line in history.lines() {
        let time = line.split('\t').next().unwrap();
        assert!(
            time.len() == 24 && time.as_bytes()[10] == b'T' && time.ends_with('Z'),
            "{line}"
        );
    }
    assert!(stdout(&db, &["prompt", "list"]).contains("greet\tlatest 2\tproduction=1"));

    let export = folder.path().join("prompts.yaml");
    stdout(
        &db,
        &["prompt", "export", "--out", export.to_str().unwrap()],
    );
    let copy = format!("sqlite://{}", folder.path().join("copy.db").display());
    assert!(
        stdout(&copy, &["prompt", "import", export.to_str().unwrap()]).contains("2 versions added")
    );
    assert!(stdout(&copy, &["prompt", "show", "greet:production"]).contains("Hello"));
}

fn failure(db: &str, args: &[&str]) -> (Option<i32>, String) {
    let output = llmops(db).args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn bad_input_is_a_usage_error() {
    let folder = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", folder.path().join("p.db").display());
    let empty = folder.path().join("empty.yaml");
    std::fs::write(&empty, "template: ''\n").unwrap();

    let (code, stderr) = failure(
        &db,
        &["prompt", "create", "x", "--file", empty.to_str().unwrap()],
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("text template is empty"), "{stderr}");
    let (code, stderr) = failure(&db, &["prompt", "show", "x@0"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("NAME@3"), "{stderr}");
    let (code, stderr) = failure(&db, &["prompt", "show", "missing"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("prompt `missing` not found"), "{stderr}");
    let (code, _) = failure("mysql://u@h/db", &["prompt", "list"]);
    assert_eq!(code, Some(2));
}
