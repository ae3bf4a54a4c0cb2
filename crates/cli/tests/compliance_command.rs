//! `llmops compliance` against a SQLite file: the review flow, invalid
//! transitions and the transparency report.

use assert_cmd::Command;

struct Db {
    _folder: tempfile::TempDir,
    url: String,
}

impl Db {
    fn new() -> Db {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("c.db").display());
        Db {
            _folder: folder,
            url,
        }
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = Command::cargo_bin("llmops")
            .unwrap()
            .env("LLMOPS_DB", &self.url)
            .env("USER", "tester")
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
}

#[test]
fn review_flow_add_assign_start_decide_close() {
    let db = Db::new();
    assert_eq!(db.ok(&["compliance", "review", "list"]), "");
    let stdout = db.ok(&[
        "compliance",
        "review",
        "add",
        "--subject",
        "request:42",
        "--reason",
        "KR_RRN 발견",
    ]);
    assert!(stdout.starts_with("review 1: queued"), "{stdout}");
    db.ok(&[
        "compliance",
        "review",
        "add",
        "--subject",
        "request:43",
        "--reason",
        "injection",
    ]);

    let stdout = db.ok(&["compliance", "review", "assign", "1", "--to", "kim"]);
    assert!(stdout.starts_with("review 1: assigned"), "{stdout}");
    assert!(stdout.contains("assignee: kim"), "{stdout}");

    let list = db.ok(&["compliance", "review", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert_eq!(lines[0], "1\tassigned\tkim\trequest:42\tKR_RRN 발견");
    assert_eq!(lines[1], "2\tqueued\t-\trequest:43\tinjection");

    db.ok(&["compliance", "review", "start", "1", "--reviewer", "kim"]);
    let stdout = db.ok(&[
        "compliance",
        "review",
        "decide",
        "1",
        "--decision",
        "approve",
        "--reviewer",
        "kim",
        "--note",
        "checked the source",
    ]);
    assert!(stdout.starts_with("review 1: approved"), "{stdout}");
    assert!(stdout.contains("decisions: 1 of 1"), "{stdout}");
    assert!(stdout.contains("next states: closed"), "{stdout}");

    let stdout = db.ok(&["compliance", "review", "close", "1"]);
    assert!(stdout.starts_with("review 1: closed"), "{stdout}");
    let stdout = db.ok(&["compliance", "review", "show", "1"]);
    assert!(stdout.contains("next states: none"), "{stdout}");

    // Every change is in the audit log, which still verifies.
    let stdout = db.ok(&["audit", "verify"]);
    assert!(stdout.contains("entries checked: 6"), "{stdout}");
}

#[test]
fn invalid_transition_names_allowed_states() {
    let db = Db::new();
    db.ok(&[
        "compliance",
        "review",
        "add",
        "--subject",
        "request:1",
        "--reason",
        "r",
    ]);
    let (code, _, stderr) = db.run(&[
        "compliance",
        "review",
        "decide",
        "1",
        "--decision",
        "approve",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("cannot go from `queued` to `approved`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("allowed next states: assigned, expired"),
        "{stderr}"
    );
}

#[test]
fn decision_by_other_reviewer_is_rejected() {
    let db = Db::new();
    db.ok(&[
        "compliance",
        "review",
        "add",
        "--subject",
        "request:1",
        "--reason",
        "r",
    ]);
    db.ok(&["compliance", "review", "assign", "1", "--to", "kim"]);
    db.ok(&["compliance", "review", "start", "1", "--reviewer", "kim"]);
    let (code, _, stderr) = db.run(&[
        "compliance",
        "review",
        "decide",
        "1",
        "--decision",
        "override",
        "--reviewer",
        "lee",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("review item 1"), "{stderr}");
}

#[test]
fn unknown_review_and_decision_fail() {
    let db = Db::new();
    let (code, _, stderr) = db.run(&["compliance", "review", "show", "99"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("review item 99 not found"), "{stderr}");

    let (code, _, stderr) = db.run(&["compliance", "review", "decide", "1", "--decision", "maybe"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("approve"), "{stderr}");
}

#[test]
fn report_counts_events_in_period() {
    let db = Db::new();
    db.ok(&[
        "audit",
        "append",
        "--kind",
        "model_call",
        "--actor",
        "gw",
        "--payload",
        "{}",
    ]);
    db.ok(&[
        "compliance",
        "review",
        "add",
        "--subject",
        "request:1",
        "--reason",
        "r",
    ]);

    let stdout = db.ok(&[
        "compliance",
        "report",
        "--from",
        "2000-01-01",
        "--to",
        "2100-12-31",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["events_by_kind"]["model_call"], 1, "{report}");
    assert_eq!(
        report["events_by_kind"]["oversight_enqueued"], 1,
        "{report}"
    );

    let markdown = db.ok(&[
        "compliance",
        "report",
        "--from",
        "2000-01-01",
        "--to",
        "2100-12-31",
    ]);
    assert!(markdown.contains("model_call"), "{markdown}");

    let stdout = db.ok(&[
        "compliance",
        "report",
        "--from",
        "2001-01-01",
        "--to",
        "2001-01-31",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["events_by_kind"].as_object().unwrap().is_empty(),
        "{report}"
    );
}

#[test]
fn report_rejects_bad_and_reversed_dates() {
    let db = Db::new();
    let (code, _, stderr) = db.run(&[
        "compliance",
        "report",
        "--from",
        "last week",
        "--to",
        "2026-12-01",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("YYYY-MM-DD"), "{stderr}");

    let (code, _, stderr) = db.run(&[
        "compliance",
        "report",
        "--from",
        "2026-12-02",
        "--to",
        "2026-11-01",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("invalid period"), "{stderr}");
}

#[test]
fn review_asking_for_three_reviews_is_a_usage_error() {
    let db = Db::new();
    let (code, _, stderr) = db.run(&[
        "compliance",
        "review",
        "add",
        "--subject",
        "s",
        "--reason",
        "r",
        "--reviews",
        "3",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("reviews_required is 3"), "{stderr}");
    assert!(!stderr.contains("item 0"), "{stderr}");
}

#[test]
fn register_assess_incident_and_bundle() {
    let db = Db::new();
    let folder = tempfile::tempdir().unwrap();
    let (code, _, stderr) = db.run(&[
        "compliance",
        "system",
        "add",
        "--name",
        "loan-assist",
        "--purpose",
        "drafts",
        "--owner",
        "credit",
        "--domain",
        "loans",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("hiring_or_loan_screening"), "{stderr}");
    let added = db.ok(&[
        "compliance",
        "system",
        "add",
        "--name",
        "loan-assist",
        "--purpose",
        "drafts",
        "--owner",
        "credit",
        "--domain",
        "hiring_or_loan_screening",
        "--model",
        "local",
    ]);
    assert!(added.contains("high-impact"), "{added}");
    assert!(
        db.ok(&["compliance", "system", "list"])
            .starts_with("loan-assist\tcredit\thiring_or_loan_screening")
    );

    // The template is a valid assessment once its system name is changed.
    let template = db.ok(&["compliance", "assess", "template"]);
    let file = folder.path().join("assessment.toml");
    std::fs::write(&file, template.replace("support-chat", "loan-assist")).unwrap();
    let saved = db.ok(&["compliance", "assess", "save", file.to_str().unwrap()]);
    assert!(
        saved.starts_with("loan-assist version 1: residual risk medium"),
        "{saved}"
    );
    let (code, _, stderr) = db.run(&["compliance", "assess", "sign-off", "loan-assist", "1"]);
    assert_eq!(code, 2, "the author cannot sign: {stderr}");
    assert!(stderr.contains("another person"), "{stderr}");
    db.ok(&[
        "compliance",
        "assess",
        "sign-off",
        "loan-assist",
        "1",
        "--signer",
        "dpo",
    ]);
    let history = db.ok(&["compliance", "assess", "history", "loan-assist"]);
    assert!(history.contains("signed off by dpo"), "{history}");
    let shown: serde_json::Value =
        serde_json::from_str(&db.ok(&["compliance", "assess", "show", "loan-assist"])).unwrap();
    assert_eq!(shown["version"], 1);

    std::fs::write(&file, "system = \"loan-assist\"\nscope = \"x\"\n").unwrap();
    let (code, _, stderr) = db.run(&["compliance", "assess", "save", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`risks`"), "{stderr}");

    let opened = db.ok(&[
        "compliance",
        "incident",
        "open",
        "--system",
        "loan-assist",
        "--title",
        "wrong rate quoted",
        "--severity",
        "medium",
    ]);
    assert_eq!(opened.trim(), "opened incident 1");
    db.ok(&[
        "compliance",
        "incident",
        "update",
        "1",
        "--status",
        "closed",
        "--note",
        "prompt fixed",
    ]);
    let (code, _, stderr) = db.run(&[
        "compliance",
        "incident",
        "update",
        "1",
        "--status",
        "mitigated",
        "--note",
        "x",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("it is closed"), "{stderr}");

    let key = folder.path().join("audit.key");
    let public = db.ok(&["audit", "keygen", "--out", key.to_str().unwrap()]);
    let out = folder.path().join("bundle");
    let wrote = db.ok(&[
        "compliance",
        "bundle",
        "--out",
        out.to_str().unwrap(),
        "--from",
        "2020-01-01",
        "--to",
        "2099-12-31",
        "--signing-key",
        key.to_str().unwrap(),
    ]);
    assert!(wrote.contains("audit entries"), "{wrote}");
    let checked = db.ok(&[
        "compliance",
        "verify-bundle",
        out.to_str().unwrap(),
        "--public-key",
        public.trim(),
    ]);
    assert!(checked.starts_with("OK:"), "{checked}");
    let report = out.join("incidents.json");
    let text = std::fs::read_to_string(&report).unwrap();
    std::fs::write(&report, text.replace("wrong rate", "right rate")).unwrap();
    let (code, _, stderr) = db.run(&["compliance", "verify-bundle", out.to_str().unwrap()]);
    assert_eq!(code, 2, "a trusted key is required: {stderr}");
    assert!(stderr.contains("no trusted public key"), "{stderr}");
    let (code, _, stderr) = db.run(&[
        "compliance",
        "verify-bundle",
        out.to_str().unwrap(),
        "--public-key",
        public.trim(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("incidents.json: changed after export"),
        "{stderr}"
    );
}
