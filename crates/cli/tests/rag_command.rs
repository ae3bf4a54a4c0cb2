//! `llmops rag`: ingest, build, query with citations, eval, switch and
//! rollback, and the exit codes of bad input.

use assert_cmd::Command;
use llmops_testkit::MockServer;

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

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stderr.clone()).unwrap()
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

    let build = work.rag(&["build", "--embedder", "hash"]).success();
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
    work.rag(&["build", "--embedder", "hash"]).success();
    work.rag(&[
        "build",
        "--embedder",
        "hash",
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

/// Writes two documents that share no word with the queries, so only an
/// embedder that models meaning can rank them.
fn write_pets_and_taxes(work: &Workspace) -> (String, String) {
    std::fs::write(
        work.path("cats.txt"),
        "Cats sleep for most of the day and purr when content.",
    )
    .unwrap();
    std::fs::write(
        work.path("taxes.txt"),
        "Income tax returns are filed with the revenue office each spring.",
    )
    .unwrap();
    (
        work.path("cats.txt").display().to_string(),
        work.path("taxes.txt").display().to_string(),
    )
}

#[test]
fn minilm_default_and_recorded_embedder() {
    let work = Workspace::new();
    let (cats, taxes) = write_pets_and_taxes(&work);
    work.rag(&["ingest", &cats, &taxes]).success();
    let build = work.rag(&["build"]).success();
    assert!(
        stdout(&build).contains("embedder all-MiniLM-L6-v2"),
        "{}",
        stdout(&build)
    );
    // The build logs its progress on standard error.
    assert!(
        stderr(&build).contains("embedding the chunks"),
        "{}",
        stderr(&build)
    );

    let query = work
        .rag(&["query", "kittens napping", "-k", "1", "--mode", "dense"])
        .success();
    let text = stdout(&query);
    assert!(text.starts_with(&format!("1. {cats} ")), "{text}");

    // A query over MiniLM's 256 tokens names the way out, and keyword mode
    // takes it.
    let long = "kittens napping ".repeat(200);
    let too_long = work.rag(&["query", &long]).code(2);
    assert!(
        stderr(&too_long).contains("search with --mode keyword"),
        "{}",
        stderr(&too_long)
    );
    work.rag(&["query", &long, "--mode", "keyword"]).success();

    let refused = work
        .rag(&["query", "kittens", "--embedder", "hash"])
        .code(2);
    let message = stderr(&refused);
    assert!(
        message.contains("built with the `all-MiniLM-L6-v2` embedder"),
        "{message}"
    );
}

#[test]
fn openai_embedder_builds_and_queries_through_the_api() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    let base = mock.openai_base_url();
    let work = Workspace::new();
    let (cats, taxes) = write_pets_and_taxes(&work);
    work.rag(&["ingest", &cats, &taxes]).success();

    let missing = work.rag(&["build", "--embedder", "openai"]).code(2);
    assert!(
        stderr(&missing).contains("--embedder openai needs --embedding-model"),
        "{}",
        stderr(&missing)
    );
    let unknown = work
        .rag(&[
            "build",
            "--embedder",
            "openai",
            "--embedding-model",
            "my-embedder",
        ])
        .code(2);
    assert!(
        stderr(&unknown).contains("give it with --embedding-dimensions"),
        "{}",
        stderr(&unknown)
    );

    let remote = |args: &[&str]| {
        let db = format!("sqlite://{}", work.path("llmops.db").display());
        Command::cargo_bin("llmops")
            .unwrap()
            .env("OPENAI_API_KEY", "sk-test")
            .env_remove("OPENAI_BASE_URL")
            .args(["rag", "--db", &db, "--index-dir"])
            .arg(work.path("indexes"))
            .args(args)
            .assert()
    };
    let build = remote(&[
        "build",
        "--embedder",
        "openai",
        "--embedding-model",
        "text-embedding-3-small",
        "--embedding-base-url",
        &base,
    ])
    .success();
    assert!(
        stdout(&build).contains("embedder text-embedding-3-small"),
        "{}",
        stdout(&build)
    );
    let embedded = mock.requests().len();
    assert!(embedded >= 1, "no embeddings request reached the mock");

    // The query names no embedder and no server: the version's record
    // picks the model and the mock.
    let query = remote(&["query", "income tax", "-k", "1"]).success();
    let text = stdout(&query);
    assert!(text.starts_with(&format!("1. {taxes} ")), "{text}");
    let requests = mock.requests();
    assert_eq!(requests.len(), embedded + 1);
    let last = requests.last().unwrap();
    assert_eq!(last.path, "/v1/embeddings");
    assert_eq!(last.model(), Some("text-embedding-3-small"));

    let other_model = remote(&[
        "query",
        "tax",
        "--embedding-model",
        "text-embedding-3-large",
    ])
    .code(2);
    assert!(
        stderr(&other_model).contains("not `text-embedding-3-large`"),
        "{}",
        stderr(&other_model)
    );
    let other_length = remote(&["query", "tax", "--embedding-dimensions", "768"]).code(2);
    assert!(
        stderr(&other_length).contains("not 768"),
        "{}",
        stderr(&other_length)
    );
    assert_eq!(mock.requests().len(), embedded + 1);

    // The server enforces its own query limit, not MiniLM's 256 tokens.
    let long = "income tax ".repeat(200);
    remote(&["query", &long, "-k", "1"]).success();

    // A shorter length of an OpenAI model is asked of the server, at build
    // and at query time.
    remote(&[
        "build",
        "--embedder",
        "openai",
        "--embedding-model",
        "text-embedding-3-small",
        "--embedding-dimensions",
        "256",
        "--embedding-base-url",
        &base,
    ])
    .success();
    remote(&["query", "tax", "-k", "1"]).success();
    let requests = mock.requests();
    let asked: Vec<_> = requests
        .iter()
        .rev()
        .take(2)
        .map(|request| request.json.as_ref().unwrap()["dimensions"].clone())
        .collect();
    assert_eq!(asked, [256, 256]);
}

#[test]
fn query_edge_cases() {
    let work = Workspace::new();
    let (cats, taxes) = write_pets_and_taxes(&work);
    work.rag(&["ingest", &cats, &taxes]).success();
    let misplaced = work
        .rag(&["build", "--embedder", "hash", "--embedding-model", "m"])
        .code(2);
    assert!(
        stderr(&misplaced).contains("--embedding-model applies only to --embedder openai"),
        "{}",
        stderr(&misplaced)
    );
    work.rag(&["build", "--embedder", "hash"]).success();

    // Nothing matches: standard output stays empty, with a note on
    // standard error.
    let none = work.rag(&["query", "zebra", "--mode", "keyword"]).success();
    assert_eq!(stdout(&none), "");
    assert!(
        stderr(&none).contains("no chunk matched"),
        "{}",
        stderr(&none)
    );

    // The hash embedder has no length limit, and keyword mode embeds
    // nothing.
    let long = "income tax ".repeat(300);
    work.rag(&["query", &long, "-k", "1"]).success();
    let keyword = work
        .rag(&["query", &long, "--mode", "keyword", "-k", "1"])
        .success();
    assert!(
        stdout(&keyword).starts_with(&format!("1. {taxes} ")),
        "{}",
        stdout(&keyword)
    );
}
