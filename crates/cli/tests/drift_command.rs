//! `llmops drift` against a SQLite file: baseline, check and report from
//! input files.

use assert_cmd::Command;

fn run(folder: &tempfile::TempDir, args: &[&str]) -> (i32, String, String) {
    let url = format!("sqlite://{}", folder.path().join("d.db").display());
    let output = Command::cargo_bin("llmops")
        .unwrap()
        .env("LLMOPS_DB", url)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn write_lines(folder: &tempfile::TempDir, name: &str, lines: &[String]) -> String {
    let path = folder.path().join(name);
    std::fs::write(&path, lines.join("\n")).unwrap();
    path.display().to_string()
}

#[test]
fn drift_baseline_check_and_report() {
    let folder = tempfile::tempdir().unwrap();
    let topics = ["refund my order", "reset my password", "track the delivery"];
    let reference: Vec<String> = (0..90)
        .map(|i| format!("{{\"text\": \"{} {i}\"}}", topics[i % 3]))
        .collect();
    let shifted: Vec<String> = (0..60)
        .map(|i| format!("cancel my crypto wallet transfer {i}"))
        .collect();
    let reference = write_lines(&folder, "reference.jsonl", &reference);
    let shifted = write_lines(&folder, "shifted.txt", &shifted);
    let html = folder.path().join("report.html");

    let (code, stdout, stderr) = run(
        &folder,
        &[
            "drift", "baseline", "--name", "bot", "--input", &reference, "--topics", "3",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("90 inputs, 3 topics"), "{stdout}");

    let html_arg = html.display().to_string();
    let args = [
        "drift", "check", "--name", "bot", "--input", &shifted, "--format", "html", "--out",
        &html_arg,
    ];
    let (code, _, stderr) = run(&folder, &args);
    assert_eq!(code, 3, "drift should exit 3: {stderr}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg"));
    assert!(page.contains("alert"));

    let (code, stdout, stderr) = run(&folder, &["drift", "report", "--name", "bot"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("| alert |"), "{stdout}");
}

#[test]
fn drift_check_without_baseline_is_usage_error() {
    let folder = tempfile::tempdir().unwrap();
    let input = write_lines(&folder, "in.txt", &["hello there".to_string()]);
    let (code, _, stderr) = run(
        &folder,
        &["drift", "check", "--name", "none", "--input", &input],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("no drift baseline"), "{stderr}");
}

#[test]
fn drift_window_must_be_positive() {
    let folder = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&folder, &["drift", "check", "--name", "x", "--window", "0"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid window"), "{stderr}");
}

#[test]
fn huge_window_and_bad_dimensions_are_usage_errors() {
    let folder = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(
        &folder,
        &[
            "drift",
            "check",
            "--name",
            "x",
            "--window",
            "99999999999999",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("too long"), "{stderr}");
    for dimensions in ["0", "18446744073709551615"] {
        let (code, _, stderr) = run(
            &folder,
            &[
                "drift",
                "baseline",
                "--name",
                "x",
                "--dimensions",
                dimensions,
            ],
        );
        assert_eq!(code, 2, "{dimensions}: {stderr}");
    }
}

#[test]
fn json_line_without_text_field_is_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let input = write_lines(
        &folder,
        "typo.jsonl",
        &[
            r#"{"text": "where is my card"}"#.to_string(),
            r#"{"txt": "when does the bank open"}"#.to_string(),
        ],
    );
    let (code, _, stderr) = run(
        &folder,
        &["drift", "baseline", "--name", "typo", "--input", &input],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("\"text\" field"), "{stderr}");
}

#[test]
fn baseline_from_empty_registry_names_the_gap() {
    let folder = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(
        &folder,
        &[
            "drift", "baseline", "--name", "fresh", "--prompt", "support",
        ],
    );
    assert_ne!(code, 0);
    assert!(!stderr.contains("no such table"), "{stderr}");
    assert!(stderr.contains("at least one input"), "{stderr}");
}
