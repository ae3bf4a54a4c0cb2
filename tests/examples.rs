//! Runs the focused examples in `examples/` and checks their exit status
//! and key lines of their output.
//!
//! `cargo test` builds the examples before it runs this test, next to the
//! test binary in `target/<profile>/examples/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// An example still running after this long is killed and the test fails.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the built example `name` and returns its output, killing it after
/// [`TIMEOUT`].
fn run_example(name: &str) -> Output {
    // The test binary is target/<profile>/deps/examples-HASH.
    let test_binary = std::env::current_exe().unwrap();
    let profile_dir = test_binary.parent().and_then(|deps| deps.parent()).unwrap();
    let binary: PathBuf = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "example binary {} is missing; run `cargo test --workspace` or `cargo build --examples` first",
        binary.display()
    );

    let mut child = Command::new(&binary)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes on threads, so a chatty example cannot block on a
    // full pipe while this thread waits for it to exit.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stdout_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.read_to_end(&mut bytes).map(|_| bytes)
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stderr.read_to_end(&mut bytes).map(|_| bytes)
    });

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("example {name} ran longer than {TIMEOUT:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout_reader.join().unwrap().unwrap(),
        stderr: stderr_reader.join().unwrap().unwrap(),
    }
}

/// Runs `name`, asserts that it succeeded, and returns its standard output.
fn successful_stdout(name: &str) -> String {
    let output = run_example(name);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "example {name} failed with {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn eval_example_gate_fails_regression() {
    let stdout = successful_stdout("eval");
    assert!(
        stdout.contains("Dataset `support-policy`: 10 cases"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# Evaluation `support-answer@1`"),
        "{stdout}"
    );
    assert!(stdout.contains("| correctness |"), "{stdout}");
    assert!(
        stdout.contains("# Gate: `support-answer@2` against baseline `support-answer@1`: FAILED"),
        "{stdout}"
    );
    assert!(stdout.contains("Gate verdict: FAIL"), "{stdout}");
}

#[test]
fn drift_example_detects_shift() {
    let stdout = successful_stdout("drift");
    assert!(
        stdout.contains("Baseline: 600 queries in 8 topics"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Current window: 300 queries, severity alert"),
        "{stdout}"
    );
    assert!(stdout.contains("topic shares: PSI"), "{stdout}");
    assert!(
        stdout.contains("PAGE: input drift at severity alert"),
        "{stdout}"
    );
    assert!(stdout.contains("jsonl_export: done"), "{stdout}");
}

#[test]
fn compliance_example_finds_edit() {
    let stdout = successful_stdout("compliance");
    assert!(stdout.contains("Audit log: 5 entries verify"), "{stdout}");
    assert!(stdout.contains("-> overridden -> closed"), "{stdout}");
    assert!(stdout.contains("# Transparency report"), "{stdout}");
    assert!(stdout.contains("signed off by dpo-chloe"), "{stdout}");
    assert!(
        stdout.contains("verify reports: entry 2: edited"),
        "{stdout}"
    );
}

#[test]
fn monitor_example_fires_alert() {
    let stdout = successful_stdout("monitor");
    assert!(stdout.contains("Last hour: 300 requests"), "{stdout}");
    assert!(stdout.contains("spend by model:"), "{stdout}");
    assert!(
        stdout.contains("alert FIRING: rule error-ratio"),
        "{stdout}"
    );
    assert!(stdout.contains("llmops_requests_total{"), "{stdout}");
}
