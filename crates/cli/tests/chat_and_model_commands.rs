//! `llmops chat` and `llmops model` input checks, run as a process. None of
//! these cases loads the model, so they run without the model file.
use assert_cmd::Command;

fn run(args: &[&str], envs: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut command = Command::cargo_bin("llmops").unwrap();
    command.args(args);
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    (output.status.code(), stdout, stderr)
}

#[test]
fn chat_rejects_empty_question() {
    let (code, stdout, stderr) = run(&["chat", "   "], &[]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    assert!(stderr.contains("the question is empty"), "{stderr}");
}

#[test]
fn chat_rejects_out_of_range_temperature() {
    let (code, _, stderr) = run(&["chat", "--temperature", "3", "hello"], &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("invalid --temperature 3"), "{stderr}");
    assert!(stderr.contains("from 0 to 2"), "{stderr}");
}

#[test]
fn chat_rejects_zero_max_tokens() {
    let (code, _, stderr) = run(&["chat", "--max-tokens", "0", "hello"], &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--max-tokens"), "{stderr}");
    assert!(stderr.contains("'0'"), "{stderr}");
}

#[test]
fn chat_reads_empty_stdin_as_empty() {
    let mut command = Command::cargo_bin("llmops").unwrap();
    let output = command
        .args(["chat", "-"])
        .write_stdin("\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("standard input"), "{stderr}");
}

#[test]
fn model_path_names_missing_explicit_file() {
    let missing = std::env::temp_dir().join("llmops-no-such-model.gguf");
    let missing = missing.to_str().unwrap();
    let (code, stdout, stderr) = run(&["model", "path"], &[("LLMOPS_LOCAL_MODEL", missing)]);
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty());
    assert!(stderr.contains("llmops-no-such-model.gguf"), "{stderr}");
}

#[test]
fn model_path_prints_explicit_file() {
    // The lookup takes an existing file named by LLMOPS_LOCAL_MODEL as is;
    // it reads the file only when a backend loads it.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("모델 파일.gguf");
    std::fs::write(&model, b"GGUF").unwrap();
    let (code, stdout, stderr) = run(
        &["model", "path"],
        &[("LLMOPS_LOCAL_MODEL", model.to_str().unwrap())],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), model.display().to_string());
}
