//! `llmops cost`, run as a process.
use std::io::Write;

use assert_cmd::Command;

fn llmops() -> Command {
    Command::cargo_bin("llmops").unwrap()
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = llmops().arg("cost").args(args).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    (output.status.code(), stdout, stderr)
}

#[test]
fn claude_cache_write_breakdown() {
    let (code, stdout, stderr) = run(&[
        "--model",
        "claude-3-7-sonnet-20250219",
        "--input",
        "12307",
        "--cache-write",
        "12304",
        "--output",
        "550",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let expected = "\
claude-3-7-sonnet-20250219 (anthropic, prices from litellm 1.74.0)
input                   3 tokens  $0.000009
cache write         12304 tokens  $0.04614
output                550 tokens  $0.00825
total                             $0.054399
";
    assert_eq!(stdout, expected);
}

#[test]
fn openai_cached_input() {
    let (code, stdout, stderr) = run(&[
        "--model",
        "openai/gpt-4o-2024-08-06",
        "--input",
        "1420",
        "--cached",
        "1280",
        "--output",
        "100",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("cached input         1280 tokens  $0.0016\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("total                             $0.00295\n"),
        "{stdout}"
    );
}

#[test]
fn unknown_model_suggests_names() {
    let (code, stdout, stderr) = run(&[
        "--model",
        "claude-3-7-sonnet",
        "--input",
        "1",
        "--output",
        "1",
    ]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    assert!(stderr.contains("\"claude-3-7-sonnet\""), "{stderr}");
    assert!(stderr.contains("claude-3-7-sonnet-20250219"), "{stderr}");
    assert!(stderr.contains("--prices"), "{stderr}");
}

#[test]
fn negative_count_rejected() {
    let (code, _, stderr) = run(&["--model", "gpt-4o", "--input", "-5", "--output", "1"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("\"-5\" is not a token count"), "{stderr}");
}

#[test]
fn non_numeric_count_rejected() {
    let (code, _, stderr) = run(&["--model", "gpt-4o", "--input", "12k", "--output", "1"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("\"12k\" is not a token count") && stderr.contains("--input"),
        "{stderr}"
    );
}

#[test]
fn cache_over_input_rejected() {
    let (code, _, stderr) = run(&[
        "--model",
        "gpt-4o",
        "--input",
        "100",
        "--cached",
        "80",
        "--cache-write",
        "30",
        "--output",
        "1",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--cached 80 plus --cache-write 30 exceed --input 100"),
        "{stderr}"
    );
}

#[test]
fn reasoning_over_output_rejected() {
    let (code, _, stderr) = run(&[
        "--model",
        "o3",
        "--input",
        "1",
        "--output",
        "10",
        "--reasoning",
        "11",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--reasoning 11 exceeds --output 10"),
        "{stderr}"
    );
}

#[test]
fn missing_output_is_usage_error() {
    let (code, _, stderr) = run(&["--model", "gpt-4o", "--input", "1"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--output"), "{stderr}");
}

#[test]
fn user_price_file_overrides() {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    write!(
        file,
        "format_version = 1\n\n[models.\"my-model\"]\nprovider = \"self-hosted\"\ninput_per_million = \"0.1\"\noutput_per_million = \"0.2\"\n"
    )
    .unwrap();
    let path = file.path().to_str().unwrap();
    let (code, stdout, stderr) = run(&[
        "--model", "my-model", "--input", "1000000", "--output", "1000000", "--prices", path,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("my-model (self-hosted)\n"), "{stdout}");
    assert!(
        stdout.ends_with("total                             $0.30\n"),
        "{stdout}"
    );
}

#[test]
fn litellm_price_file_accepted() {
    let mut file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    write!(
        file,
        r#"{{"sample_spec": {{"max_input_tokens": "max input tokens"}}, "gpt-4o": {{"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "openai"}}}}"#
    )
    .unwrap();
    let path = file.path().to_str().unwrap();
    let (code, stdout, stderr) = run(&[
        "--model", "gpt-4o", "--input", "1000000", "--output", "0", "--prices", path,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.ends_with("total                             $1.00\n"),
        "{stdout}"
    );
}

#[test]
fn invalid_price_file_fails() {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    write!(file, "format_version = 1\n[models.m]\nprovider = \"p\"\ninput_per_million = \"cheap\"\noutput_per_million = \"1\"\n").unwrap();
    let path = file.path().to_str().unwrap();
    let (code, _, stderr) = run(&[
        "--model", "m", "--input", "1", "--output", "1", "--prices", path,
    ]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("\"cheap\" is not a decimal number"),
        "{stderr}"
    );
}

#[test]
fn help_states_semantics_and_units() {
    let output = llmops().args(["cost", "--help"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("cached and cache-written ones included"),
        "{help}"
    );
    assert!(help.contains("US dollars"), "{help}");
    assert!(help.contains("<TOKENS>"), "{help}");
}
