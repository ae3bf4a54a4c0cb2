//! `llmops audit` against a SQLite file: append, verify, tampering found
//! by verify, signed checkpoints, export and offline verification.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

struct Db {
    folder: tempfile::TempDir,
    url: String,
}

impl Db {
    fn new() -> Db {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("audit.db").display());
        Db { folder, url }
    }

    fn file(&self) -> PathBuf {
        self.folder.path().join("audit.db")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.folder.path().join(name)
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = Command::cargo_bin("llmops")
            .unwrap()
            .env("LLMOPS_DB", &self.url)
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, stdout, stderr) = self.run(args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        stdout
    }

    fn append_three(&self) {
        for (n, model) in ["gpt-4o-mini", "claude-3-5-haiku", "로컬-모델"]
            .iter()
            .enumerate()
        {
            let payload = format!("{{\"model\":\"{model}\"}}");
            let subject = format!("request:{n}");
            let stdout = self.ok(&[
                "audit",
                "append",
                "--kind",
                "model_call",
                "--actor",
                "gateway",
                "--subject",
                &subject,
                "--payload",
                &payload,
            ]);
            assert!(
                stdout.starts_with(&format!("appended entry {n} hash ")),
                "{stdout}"
            );
        }
    }

    /// Exports the whole log to `extract` with a checkpoint signed by `key`.
    fn export_signed(&self, extract: &Path, key: &Path) -> String {
        let (code, stdout, stderr) = self.try_export_signed(extract, key);
        assert_eq!(code, 0, "{stderr}");
        stdout
    }

    /// Runs `audit export` of the whole log to `extract`, signing with `key`.
    fn try_export_signed(&self, extract: &Path, key: &Path) -> (i32, String, String) {
        self.run(&[
            "audit",
            "export",
            "--out",
            extract.to_str().unwrap(),
            "--signing-key",
            key.to_str().unwrap(),
        ])
    }

    /// Runs `audit append` of a model call by `ops` with `payload`.
    fn append_payload(&self, payload: &str) -> (i32, String, String) {
        self.run(&[
            "audit",
            "append",
            "--kind",
            "model_call",
            "--actor",
            "ops",
            "--payload",
            payload,
        ])
    }

    /// Runs `audit verify-extract` on `extract`, trusting `public`.
    fn verify_extract(&self, extract: &Path, public: &str) -> (i32, String, String) {
        self.run(&[
            "audit",
            "verify-extract",
            extract.to_str().unwrap(),
            "--public-key",
            public,
        ])
    }

    /// Runs `audit verify` trusting `public`, against the tree head kept in
    /// `extract`.
    fn verify_against(&self, public: &str, extract: &Path) -> (i32, String, String) {
        self.run(&[
            "audit",
            "verify",
            "--public-key",
            public,
            "--tree-head",
            extract.to_str().unwrap(),
        ])
    }

    fn keygen(&self) -> (PathBuf, String) {
        let key = self.path("audit.key");
        let public = self.ok(&["audit", "keygen", "--out", key.to_str().unwrap()]);
        (key, public.trim().to_owned())
    }
}

fn sqlite(file: &Path, sql: &str) {
    let status = std::process::Command::new("sqlite3")
        .arg(file)
        .arg(sql)
        .status()
        .expect("the sqlite3 command-line tool is needed for the tampering tests");
    assert!(status.success(), "sqlite3 failed on {sql}");
}

#[test]
fn append_three_then_verify_ok() {
    let db = Db::new();
    db.append_three();
    let stdout = db.ok(&["audit", "verify"]);
    assert!(stdout.contains("entries checked: 3"), "{stdout}");
    assert!(stdout.contains("tree head: "), "{stdout}");
    assert!(stdout.trim_end().ends_with("OK"), "{stdout}");
}

#[test]
fn verify_of_missing_file_fails() {
    let db = Db::new();
    let (code, _, stderr) = db.run(&["audit", "verify"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no database at"), "{stderr}");
    assert!(!db.file().exists());
}

#[test]
fn verify_of_empty_log_is_ok() {
    let db = Db::new();
    db.ok(&["compliance", "review", "list"]);
    let stdout = db.ok(&["audit", "verify"]);
    assert!(stdout.contains("entries checked: 0"), "{stdout}");
}

#[test]
fn edited_row_breaks_verify() {
    let db = Db::new();
    db.append_three();
    sqlite(
        &db.file(),
        "UPDATE compliance_audit_log SET payload = '{\"model\":\"forged\"}' WHERE seq = 1",
    );
    let (code, stdout, stderr) = db.run(&["audit", "verify"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("BROKEN at entry 1: edited"), "{stdout}");
    assert!(stderr.contains("entry 1"), "{stderr}");
}

#[test]
fn deleted_row_breaks_verify() {
    let db = Db::new();
    db.append_three();
    sqlite(&db.file(), "DELETE FROM compliance_audit_log WHERE seq = 1");
    let (code, stdout, _) = db.run(&["audit", "verify"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("BROKEN at entry 1"), "{stdout}");
}

#[test]
fn bad_payload_and_reserved_kind_are_usage_errors() {
    let db = Db::new();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--kind", "model_call", "--payload", "{not json"],
            "not JSON",
        ),
        (&["--kind", "model_call", "--payload", "[1]"], "JSON object"),
        (&["--kind", "checkpoint_signed"], "written only by the log"),
        (&["--kind", "oversight_decision"], "written only by the log"),
        (&["--kind", "oversight_enqueued"], "written only by the log"),
    ];
    for (args, expected) in cases {
        let mut full = vec!["audit", "append", "--actor", "ops"];
        full.extend_from_slice(args);
        let (code, _, stderr) = db.run(&full);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn export_then_verify_extract_ok() {
    let db = Db::new();
    db.append_three();
    let (key, public) = db.keygen();
    assert_eq!(public.len(), 64, "{public}");
    let extract = db.path("extract.jsonl");
    let stdout = db.ok(&[
        "audit",
        "export",
        "--out",
        extract.to_str().unwrap(),
        "--from",
        "1",
        "--to",
        "2",
        "--signing-key",
        key.to_str().unwrap(),
    ]);
    assert!(stdout.contains("exported 2 entries (1 to 2)"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&extract).unwrap().lines().count(),
        3
    );

    let stdout = db.ok(&[
        "audit",
        "verify-extract",
        extract.to_str().unwrap(),
        "--public-key",
        &public,
    ]);
    assert!(stdout.starts_with("OK: 2 entries"), "{stdout}");
    let stdout = db.ok(&["audit", "verify", "--public-key", &public]);
    assert!(stdout.contains("checkpoints verified: 1"), "{stdout}");
}

#[test]
fn export_reuses_stored_checkpoint() {
    let db = Db::new();
    db.ok(&["compliance", "review", "list"]);
    let (code, _, stderr) = db.run(&["audit", "export", "--out", "/dev/null"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--signing-key"), "{stderr}");

    db.append_three();
    let (key, _) = db.keygen();
    let stdout = db.ok(&[
        "audit",
        "checkpoint",
        "--signing-key",
        key.to_str().unwrap(),
    ]);
    assert!(stdout.starts_with("checkpoint size 3 "), "{stdout}");
    let extract = db.path("all.jsonl");
    let stdout = db.ok(&["audit", "export", "--out", extract.to_str().unwrap()]);
    assert!(stdout.contains("exported 3 entries (0 to 2)"), "{stdout}");

    let (code, _, stderr) = db.run(&["audit", "export", "--out", "/dev/null", "--to", "3"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("covers entries 0 to 2"), "{stderr}");
}

#[test]
fn tampered_extract_fails_offline_check() {
    let db = Db::new();
    db.append_three();
    let (key, public) = db.keygen();
    let extract = db.path("extract.jsonl");
    db.export_signed(&extract, &key);
    let text = std::fs::read_to_string(&extract).unwrap();
    assert!(text.contains("claude-3-5-haiku"), "{text}");
    std::fs::write(&extract, text.replace("claude-3-5-haiku", "claude-opus")).unwrap();

    let (code, _, stderr) = db.verify_extract(&extract, &public);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
}

#[test]
fn extract_with_untrusted_key_fails() {
    let db = Db::new();
    db.append_three();
    let (key, _) = db.keygen();
    let extract = db.path("extract.jsonl");
    db.export_signed(&extract, &key);
    let other = "11".repeat(32);
    let (code, _, stderr) = db.run(&[
        "audit",
        "verify-extract",
        extract.to_str().unwrap(),
        "--public-key",
        &other,
    ]);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("line 1"), "{stderr}");
}

#[test]
fn keygen_never_overwrites_and_bad_keys_are_named() {
    let db = Db::new();
    let (key, _) = db.keygen();
    let before = std::fs::read_to_string(&key).unwrap();
    let (code, _, stderr) = db.run(&["audit", "keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), before);

    let (code, _, stderr) = db.run(&["audit", "verify", "--public-key", "abc"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("64 hex digits"), "{stderr}");

    let bad = db.path("bad.key");
    std::fs::write(&bad, "not a key").unwrap();
    let (code, _, stderr) = db.run(&[
        "audit",
        "checkpoint",
        "--signing-key",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bad.key"), "{stderr}");
    assert!(!stderr.contains("not a key"), "{stderr}");
}

#[test]
fn concurrent_appends_keep_chain_valid() {
    let db = Db::new();
    db.ok(&["compliance", "review", "list"]);
    let children: Vec<_> = (0..4)
        .map(|writer| {
            let actor = format!("writer-{writer}");
            let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("llmops"));
            command
                .env("LLMOPS_DB", &db.url)
                .args(["audit", "append", "--kind", "eval_score", "--actor", &actor])
                .stdout(std::process::Stdio::null());
            command.spawn().unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let stdout = db.ok(&["audit", "verify"]);
    assert!(stdout.contains("entries checked: 4"), "{stdout}");
    assert!(stdout.trim_end().ends_with("OK"), "{stdout}");
}

fn sqlite_output(file: &Path, sql: &str) -> String {
    let output = std::process::Command::new("sqlite3")
        .arg(file)
        .arg(sql)
        .output()
        .expect("the sqlite3 command-line tool is needed for the tampering tests");
    assert!(output.status.success(), "sqlite3 failed on {sql}");
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `llmops` in `folder` with `--db url` and no `LLMOPS_DB`.
fn run_in(folder: &Path, url: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("llmops")
        .unwrap()
        .current_dir(folder)
        .env_remove("LLMOPS_DB")
        .arg("audit")
        .arg("--db")
        .arg(url)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn verify_of_unrelated_database_changes_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("unrelated.db");
    sqlite(
        &file,
        "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('kept');",
    );
    let url = format!("sqlite://{}", file.display());
    let export_out = folder.path().join("out.jsonl");
    let commands: [&[&str]; 2] = [
        &["verify"],
        &["export", "--out", export_out.to_str().unwrap()],
    ];
    for args in commands {
        let (code, stdout, stderr) = run_in(folder.path(), &url, args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains("no audit log in"), "{args:?}: {stderr}");
        assert!(stderr.contains("point --db at"), "{args:?}: {stderr}");
        assert!(!stdout.contains("OK"), "{args:?}: {stdout}");
        assert_eq!(
            sqlite_output(&file, ".tables").trim(),
            "notes",
            "{args:?} created tables"
        );
        assert_eq!(
            sqlite_output(&file, "PRAGMA journal_mode").trim(),
            "delete",
            "{args:?} changed the journal mode"
        );
        assert!(!export_out.exists(), "{args:?} wrote an extract");
    }
}

#[test]
fn missing_file_is_rejected_in_every_url_form() {
    let folder = tempfile::tempdir().unwrap();
    let absolute = folder.path().join("absent.db");
    let urls = [
        "sqlite:absent.db".to_owned(),
        "sqlite://absent.db".to_owned(),
        format!("sqlite://{}", absolute.display()),
        format!("sqlite:{}", absolute.display()),
        "sqlite:absent.db?cache=shared".to_owned(),
    ];
    let export_out = folder.path().join("out.jsonl");
    for url in &urls {
        let commands: [&[&str]; 2] = [
            &["verify"],
            &["export", "--out", export_out.to_str().unwrap()],
        ];
        for args in commands {
            let (code, _, stderr) = run_in(folder.path(), url, args);
            assert_eq!(code, 2, "{url} {args:?}: {stderr}");
            assert!(
                stderr.contains("no database at") && stderr.contains("absent.db"),
                "{url} {args:?}: {stderr}"
            );
            assert!(stderr.contains("check --db"), "{url} {args:?}: {stderr}");
            assert!(!absolute.exists(), "{url} {args:?} created the file");
        }
    }
}

#[test]
fn copied_last_row_is_beyond_head() {
    let db = Db::new();
    db.append_three();
    sqlite(
        &db.file(),
        "INSERT INTO compliance_audit_log SELECT seq + 1, kind, actor, subject, at_ms, payload, sealed, content_digest, prev_hash, hash FROM compliance_audit_log WHERE seq = 2",
    );
    let (code, stdout, stderr) = db.run(&["audit", "verify"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("entries checked: 3\n"), "{stdout}");
    assert!(
        stdout.contains("BROKEN at entry 3: inserted: entry 3 is beyond the recorded head"),
        "{stdout}"
    );
}

#[test]
fn missing_head_row_is_reported_as_break() {
    let db = Db::new();
    db.append_three();
    sqlite(&db.file(), "DELETE FROM compliance_audit_head");
    let (code, stdout, stderr) = db.run(&["audit", "verify"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("entries checked: 3\n"), "{stdout}");
    assert!(
        stdout.contains("BROKEN at entry 3: head missing"),
        "{stdout}"
    );
}

#[test]
fn negative_head_size_is_reported_as_damaged() {
    let db = Db::new();
    db.append_three();
    sqlite(&db.file(), "UPDATE compliance_audit_head SET size = -1");
    let (code, stdout, stderr) = db.run(&["audit", "verify"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("BROKEN at entry 3: head damaged"),
        "{stdout}"
    );
    assert!(stdout.contains("size is -1"), "{stdout}");
}

#[test]
fn truncation_below_kept_tree_head_is_found() {
    let db = Db::new();
    db.append_three();
    let (key, public) = db.keygen();
    let extract = db.path("kept.jsonl");
    db.export_signed(&extract, &key);
    let stdout = db.ok(&["audit", "verify", "--public-key", &public]);
    assert!(
        stdout.contains("checkpoints verified: 1 (the largest covers 3 entries)"),
        "{stdout}"
    );

    // Cut the log back to two entries together with its checkpoint rows,
    // and fix the head row: the log agrees with itself again.
    sqlite(
        &db.file(),
        "DELETE FROM compliance_audit_log WHERE seq >= 2;
         DELETE FROM compliance_checkpoints;
         UPDATE compliance_audit_head SET size = 2,
             head_hash = (SELECT hash FROM compliance_audit_log WHERE seq = 1);",
    );
    let stdout = db.ok(&["audit", "verify", "--public-key", &public]);
    assert!(stdout.contains("checkpoints verified: 0\n"), "{stdout}");
    assert!(stdout.trim_end().ends_with("OK"), "{stdout}");

    let (code, stdout, stderr) = db.verify_against(&public, &extract);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("BROKEN at entry 2: deleted"), "{stdout}");
    assert!(stdout.contains("size 3"), "{stdout}");

    let (code, stdout, stderr) = db.run(&["audit", "verify", "--min-size", "4"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("BROKEN at entry 2: deleted"), "{stdout}");
}

#[test]
fn kept_tree_head_of_intact_log_passes() {
    let db = Db::new();
    db.append_three();
    let (key, public) = db.keygen();
    let extract = db.path("kept.jsonl");
    db.export_signed(&extract, &key);
    for _ in 0..3 {
        db.ok(&[
            "audit",
            "append",
            "--kind",
            "model_call",
            "--actor",
            "gateway",
        ]);
    }
    let stdout = db.ok(&[
        "audit",
        "verify",
        "--public-key",
        &public,
        "--tree-head",
        extract.to_str().unwrap(),
        "--min-size",
        "7",
    ]);
    assert!(stdout.contains("tree heads verified: 1 of 1"), "{stdout}");
    assert!(stdout.trim_end().ends_with("OK"), "{stdout}");

    let other = "11".repeat(32);
    let (code, _, stderr) = db.run(&[
        "audit",
        "verify",
        "--public-key",
        &other,
        "--tree-head",
        extract.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--tree-head"), "{stderr}");

    let not_json = db.path("notes.txt");
    std::fs::write(&not_json, "not a tree head\n").unwrap();
    let (code, _, stderr) = db.run(&["audit", "verify", "--tree-head", not_json.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("notes.txt"), "{stderr}");
}

#[test]
fn verify_help_explains_what_checkpoints_prove() {
    let db = Db::new();
    let stdout = db.ok(&["audit", "verify", "--help"]);
    assert!(stdout.contains("--tree-head"), "{stdout}");
    assert!(stdout.contains("--min-size"), "{stdout}");
    assert!(stdout.contains("largest size"), "{stdout}");
}

#[test]
fn export_never_replaces_a_file_without_force() {
    let db = Db::new();
    db.append_three();
    let (key, _) = db.keygen();
    db.ok(&[
        "audit",
        "checkpoint",
        "--signing-key",
        key.to_str().unwrap(),
    ]);
    let database = std::fs::read(db.file()).unwrap();
    let kept = db.path("kept.jsonl");
    std::fs::write(&kept, "earlier extract\n").unwrap();

    for target in [db.file(), kept.clone(), key.clone()] {
        let before = std::fs::read(&target).unwrap();
        let (code, _, stderr) = db.run(&["audit", "export", "--out", target.to_str().unwrap()]);
        assert_eq!(code, 2, "{target:?}: {stderr}");
        assert!(stderr.contains("already exists"), "{stderr}");
        assert!(stderr.contains("--force"), "{stderr}");
        assert_eq!(
            std::fs::read(&target).unwrap(),
            before,
            "{target:?} changed"
        );
    }
    assert_eq!(std::fs::read(db.file()).unwrap(), database);

    let stdout = db.ok(&[
        "audit",
        "export",
        "--out",
        kept.to_str().unwrap(),
        "--force",
    ]);
    assert!(stdout.contains("exported 3 entries"), "{stdout}");
    let folder = db.path("");
    let (code, _, stderr) = db.run(&["audit", "export", "--out", folder.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is a folder"), "{stderr}");
}

#[test]
fn missing_key_files_are_usage_errors() {
    let db = Db::new();
    db.append_three();
    let absent = db.path("absent.txt");
    let absent = absent.to_str().unwrap();
    for flag in ["--tree-head", "--public-key-file"] {
        let (code, stdout, stderr) = db.run(&["audit", "verify", flag, absent]);
        assert_eq!(code, 2, "{flag}: {stdout}{stderr}");
        assert!(stderr.contains("absent.txt"), "{flag}: {stderr}");
        assert!(stderr.contains(flag), "{flag}: {stderr}");
    }
}

#[test]
fn secret_key_never_printed() {
    let db = Db::new();
    db.append_three();
    let (key, _) = db.keygen();
    let secret = std::fs::read_to_string(&key).unwrap();
    let (_, stdout, stderr) = db.run(&[
        "audit",
        "verify",
        "--public-key-file",
        key.to_str().unwrap(),
    ]);
    assert!(!stdout.contains(secret.trim()), "{stdout}");
    assert!(!stderr.contains(secret.trim()), "{stderr}");
}

#[test]
fn payload_a_parser_would_change_is_refused() {
    let db = Db::new();
    for (payload, expected) in [
        (r#"{"a":1,"a":2}"#, "repeats a key"),
        (
            r#"{"n":{"id":123456789012345678901234567890}}"#,
            "64-bit float",
        ),
        (r#"{"ratio":0.1000000000000000000001}"#, "64-bit float"),
    ] {
        let (code, _, stderr) = db.append_payload(payload);
        assert_eq!(code, 2, "{payload}: {stderr}");
        assert!(stderr.contains(expected), "{payload}: {stderr}");
    }
    let stdout = db.ok(&["audit", "verify"]);
    assert!(stdout.starts_with("entries checked: 0\n"), "{stdout}");
    // Numbers whose double prints back as written, and integers within 64
    // bits, are kept.
    let (code, _, stderr) = db.append_payload(r#"{"ratio":1.50,"id":9007199254740993}"#);
    assert_eq!(code, 0, "{stderr}");
    let payload = sqlite_output(&db.file(), "SELECT payload FROM compliance_audit_log");
    assert!(payload.contains("9007199254740993"), "{payload}");
}

#[test]
fn broken_log_is_never_signed() {
    let db = Db::new();
    db.append_three();
    let (key, _) = db.keygen();
    sqlite(
        &db.file(),
        r#"UPDATE compliance_audit_log SET payload = '{"model":"edited"}' WHERE seq = 1"#,
    );
    let (code, _, stderr) = db.run(&[
        "audit",
        "checkpoint",
        "--signing-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("fails verification at entry 1"), "{stderr}");

    let extract = db.path("extract.jsonl");
    let (code, _, stderr) = db.try_export_signed(&extract, &key);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("llmops audit verify"), "{stderr}");
    assert!(!extract.exists());
    let rows = sqlite_output(&db.file(), "SELECT count(*) FROM compliance_checkpoints");
    assert_eq!(rows.trim(), "0");
}

#[test]
fn verify_extract_reports_and_checks_the_selection() {
    let db = Db::new();
    db.append_three();
    let (key, public) = db.keygen();
    let extract = db.path("extract.jsonl");
    db.export_signed(&extract, &key);
    let stdout = db.ok(&[
        "audit",
        "verify-extract",
        extract.to_str().unwrap(),
        "--public-key",
        &public,
    ]);
    assert!(stdout.contains("selection: signed by key"), "{stdout}");

    let text = std::fs::read_to_string(&extract).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(index, _)| *index != 2)
        .map(|(_, line)| line)
        .collect();
    std::fs::write(&extract, kept.join("\n")).unwrap();
    let (code, _, stderr) = db.verify_extract(&extract, &public);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("lists entry 1, but no line holds it"),
        "{stderr}"
    );
}

#[test]
fn replaced_log_breaks_at_first_entry() {
    let original = Db::new();
    original.append_three();
    let (key, public) = original.keygen();
    let extract = original.path("kept.jsonl");
    original.export_signed(&extract, &key);

    // Another log of the same length, valid on its own, put in its place.
    let replacement = Db::new();
    replacement.append_three();
    replacement.ok(&[
        "audit",
        "checkpoint",
        "--signing-key",
        key.to_str().unwrap(),
    ]);
    let stdout = replacement.ok(&["audit", "verify", "--public-key", &public]);
    assert!(stdout.trim_end().ends_with("OK"), "{stdout}");

    let (code, stdout, stderr) = replacement.verify_against(&public, &extract);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("entries checked: 0\n"), "{stdout}");
    assert!(stdout.contains("BROKEN at entry 0: edited"), "{stdout}");
    assert!(stdout.contains("kept extract"), "{stdout}");

    // An extract whose lines fail is refused, not half used.
    let text = std::fs::read_to_string(&extract).unwrap();
    std::fs::write(&extract, text.replace("gpt-4o-mini", "gpt-4o")).unwrap();
    let (code, _, stderr) =
        replacement.run(&["audit", "verify", "--tree-head", extract.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("fails verification"), "{stderr}");
}

#[test]
fn failed_export_signs_nothing() {
    let db = Db::new();
    db.append_three();
    let (key, _) = db.keygen();
    let missing = db.path("no-such-folder").join("extract.jsonl");
    let (code, _, stderr) = db.try_export_signed(&missing, &key);
    assert_ne!(code, 0, "{stderr}");
    let rows = sqlite_output(&db.file(), "SELECT count(*) FROM compliance_checkpoints");
    assert_eq!(rows.trim(), "0");
    let stdout = db.ok(&["audit", "verify"]);
    assert!(stdout.starts_with("entries checked: 3\n"), "{stdout}");

    let (code, _, stderr) = db.run(&["audit", "export", "--out", "/dev/null", "--from", "50"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn empty_public_key_file_is_refused() {
    let db = Db::new();
    db.append_three();
    let (key, _) = db.keygen();
    let extract = db.path("extract.jsonl");
    db.export_signed(&extract, &key);
    let empty = db.path("empty.keys");
    std::fs::write(&empty, "\n\n").unwrap();
    for command in [
        vec!["audit", "verify-extract", extract.to_str().unwrap()],
        vec!["audit", "verify"],
    ] {
        let mut args = command.clone();
        args.extend(["--public-key-file", empty.to_str().unwrap()]);
        let (code, _, stderr) = db.run(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains("holds no key"), "{args:?}: {stderr}");
    }
}

#[test]
fn signed_selection_can_be_required() {
    let db = Db::new();
    db.append_three();
    let (key, public) = db.keygen();
    let signed = db.path("signed.jsonl");
    db.export_signed(&signed, &key);
    let unsigned = db.path("unsigned.jsonl");
    db.ok(&["audit", "export", "--out", unsigned.to_str().unwrap()]);
    let text = std::fs::read_to_string(&signed).unwrap();
    let mut first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    first["selection"]
        .as_object_mut()
        .unwrap()
        .remove("signed")
        .unwrap();
    let stripped = db.path("stripped.jsonl");
    let rest: Vec<&str> = text.lines().skip(1).collect();
    std::fs::write(&stripped, format!("{first}\n{}\n", rest.join("\n"))).unwrap();

    let check = |file: &Path| {
        db.run(&[
            "audit",
            "verify-extract",
            file.to_str().unwrap(),
            "--public-key",
            &public,
            "--signed-selection",
        ])
    };
    let (code, stdout, stderr) = check(&signed);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("OK: 3 entries"), "{stdout}");
    for file in [&unsigned, &stripped] {
        let (code, _, stderr) = check(file);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("not signed"), "{stderr}");
        // Without the flag the same file passes, and the output names what it lacks.
        let (code, stdout, _) = db.verify_extract(file, &public);
        assert_eq!(code, 0);
        assert!(stdout.contains("selection: unsigned"), "{stdout}");
    }
}

#[test]
fn payload_file_and_stdin() {
    let db = Db::new();
    let long = format!("{{\"text\":\"{}\"}}", "가".repeat(100_000));
    let file = db.path("payload.json");
    std::fs::write(&file, &long).unwrap();
    db.ok(&[
        "audit",
        "append",
        "--kind",
        "model_call",
        "--actor",
        "ops",
        "--payload-file",
        file.to_str().unwrap(),
    ]);
    let output = Command::cargo_bin("llmops")
        .unwrap()
        .env("LLMOPS_DB", &db.url)
        .args([
            "audit",
            "append",
            "--kind",
            "model_call",
            "--actor",
            "ops",
            "--payload-file",
            "-",
        ])
        .write_stdin(r#"{"from":"stdin"}"#)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = db.ok(&["audit", "verify"]);
    assert!(stdout.starts_with("entries checked: 2\n"), "{stdout}");

    let deep = format!("{}1{}", "[".repeat(65), "]".repeat(65));
    let payload = format!("{{\"a\":{deep}}}");
    let (code, _, stderr) = db.append_payload(&payload);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("levels deep"), "{stderr}");
    let (code, _, stderr) = db.run(&[
        "audit",
        "append",
        "--kind",
        "model_call",
        "--actor",
        "ops",
        "--payload",
        "{}",
        "--payload-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
}
