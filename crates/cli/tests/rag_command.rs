//! `llmops rag`: ingest, build, query with citations, eval, switch and
//! rollback, and the exit codes of bad input.

use assert_cmd::Command;

struct Workspace {
    folder: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        Workspace {
            folder: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.folder.path().join(name)
    }

    fn rag(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        let db = format!("sqlite://{}", self.path("llmops.db").display());
        Command::cargo_bin("llmops")
            .unwrap()
            .args(["rag", "--db", &db, "--index-dir"])
            .arg(self.path("indexes"))
            .args(args)
            .assert()
    }
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

#[test]
fn ingest_build_query_eval() {
    let work = Workspace::new();
    std::fs::write(
        work.path("cats.md"),
        "# Cats\n\nCats sleep sixteen hours a day.",
    )
    .unwrap();
    std::fs::write(
        work.path("rust.txt"),
        "Rust checks memory safety at compile time.",
    )
    .unwrap();
    let cats = work.path("cats.md").display().to_string();
    let rust = work.path("rust.txt").display().to_string();

    let ingest = work.rag(&["ingest", &cats, &rust]).success();
    assert!(stdout(&ingest).contains("2 added"), "{}", stdout(&ingest));
    let again = work.rag(&["ingest", &cats]).success();
    assert!(stdout(&again).contains("1 unchanged"), "{}", stdout(&again));

    let build = work.rag(&["build"]).success();
    assert!(
        stdout(&build).contains("version 1 is live"),
        "{}",
        stdout(&build)
    );

    let query = work
        .rag(&["query", "memory safety", "-k", "1", "--budget", "200"])
        .success();
    let text = stdout(&query);
    assert!(
        text.starts_with(&format!("[1] ({rust} bytes 0-42)")),
        "{text}"
    );

    std::fs::write(
        work.path("queries.jsonl"),
        "{\"_id\":\"q1\",\"text\":\"memory safety\"}\n{\"_id\":\"q2\",\"text\":\"cats sleep\"}\n",
    )
    .unwrap();
    std::fs::write(
        work.path("qrels.tsv"),
        format!("query-id\tcorpus-id\tscore\nq1\t{rust}\t1\nq2\t{cats}\t1\n"),
    )
    .unwrap();
    let queries = work.path("queries.jsonl").display().to_string();
    let qrels = work.path("qrels.tsv").display().to_string();
    let eval = work
        .rag(&["eval", "--queries", &queries, "--qrels", &qrels, "-k", "1"])
        .success();
    let report = stdout(&eval);
    assert!(report.contains("queries       2"), "{report}");
    assert!(report.contains("mrr           1.0000"), "{report}");
}

#[test]
fn switch_and_rollback() {
    let work = Workspace::new();
    std::fs::write(work.path("a.txt"), "alpha text").unwrap();
    let a = work.path("a.txt").display().to_string();
    work.rag(&["ingest", &a]).success();
    work.rag(&["build"]).success();
    work.rag(&[
        "build",
        "--no-switch",
        "--max-tokens",
        "64",
        "--overlap",
        "0",
    ])
    .success();
    let listed = stdout(&work.rag(&["versions"]).success());
    assert!(listed.contains("*    1"), "{listed}");
    work.rag(&["switch", "2"]).success();
    let rolled = stdout(&work.rag(&["rollback"]).success());
    assert!(rolled.contains("version 1 is live"), "{rolled}");
}

#[test]
fn bad_input_exits_with_usage_errors() {
    let work = Workspace::new();
    std::fs::write(work.path("notes.docx"), "x").unwrap();
    let docx = work.path("notes.docx").display().to_string();
    let failed = work.rag(&["ingest", &docx]).code(2);
    let message = String::from_utf8(failed.get_output().stderr.clone()).unwrap();
    assert!(message.contains("unsupported format `docx`"), "{message}");

    work.rag(&["query", "anything"]).code(2);
    work.rag(&["build"]).code(2);

    std::fs::write(work.path("empty.txt"), "").unwrap();
    let empty = work.path("empty.txt").display().to_string();
    work.rag(&["ingest", &empty]).code(1);

    // A good file before a bad one is stored, and the error reports it.
    std::fs::write(
        work.path("good.md"),
        "# Refunds\n\nReturns close after 30 days.",
    )
    .unwrap();
    let good = work.path("good.md").display().to_string();
    let failed = work.rag(&["ingest", &good, &empty]).code(1);
    let message = String::from_utf8(failed.get_output().stderr.clone()).unwrap();
    assert!(message.contains("failed: 1 document;"), "{message}");

    // A folder is named as one, and nothing after it is read.
    let folder = work.path("docs");
    std::fs::create_dir(&folder).unwrap();
    let folder = folder.display().to_string();
    let failed = work.rag(&["ingest", &folder]).code(2);
    let message = String::from_utf8(failed.get_output().stderr.clone()).unwrap();
    assert!(message.contains("is a folder"), "{message}");
}
