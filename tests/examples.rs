//! Runs the focused examples in `examples/` and checks their exit status and key
//! lines of their output.
//!
//! `cargo test` builds the examples before it runs this test, into
//! `target/<profile>/examples/`, next to the `deps/` folder of this test
//! binary. `cargo test --test examples` alone does not build them: run
//! `cargo build --examples` first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The maximum run time of one example before it is killed.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the built example `name` with no arguments and returns its output.
///
/// Panics when the binary is missing or the example runs past [`TIMEOUT`].
fn run_example(name: &str) -> Output {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let examples = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("examples"))
        .expect("the test binary is in target/<profile>/deps");
    let binary: PathBuf = examples.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let Ok(built) = binary.metadata().and_then(|metadata| metadata.modified()) else {
        panic!(
            "example binary {} is missing; run `cargo test --workspace` or `cargo build --examples` first",
            binary.display()
        );
    };
    // `cargo test --test examples` does not rebuild the examples, so an
    // edited example would otherwise run as its old binary.
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    if let Ok(edited) = source.metadata().and_then(|metadata| metadata.modified()) {
        assert!(
            edited <= built,
            "example binary {} is older than {}; run `cargo build --examples` first",
            binary.display(),
            source.display()
        );
    }

    let mut child = Command::new(&binary)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("failed to start {}: {error}", binary.display()));
    // Read both pipes on threads so a chatty example cannot block on a full pipe.
    let mut stdout_pipe = child.stdout.take().expect("stdout is piped");
    let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
    let stdout = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout_pipe.read_to_end(&mut bytes).map(|_| bytes)
    });
    let stderr = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stderr_pipe.read_to_end(&mut bytes).map(|_| bytes)
    });

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting on the example failed") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("example {name} ran longer than {TIMEOUT:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout
            .join()
            .expect("stdout reader")
            .expect("reading stdout"),
        stderr: stderr
            .join()
            .expect("stderr reader")
            .expect("reading stderr"),
    }
}

/// Runs `name`, asserts it succeeded and returns its standard output.
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

fn assert_lines(name: &str, stdout: &str, expected: &[&str]) {
    for line in expected {
        assert!(
            stdout.contains(line),
            "example {name} did not print {line:?}; stdout:\n{stdout}"
        );
    }
}

#[test]
fn registry_example_runs() {
    let stdout = successful_stdout("registry");
    assert_lines(
        "registry",
        &stdout,
        &[
            "Published support-reply versions 1 and 2.",
            "version 2, new version: false",
            "required variable `message` is missing",
            "2 -> 1 by joon: complaints about tone",
            "production now serves version 1.",
            "recommendation:",
        ],
    );
}

#[test]
fn gateway_example_runs() {
    let stdout = successful_stdout("gateway");
    assert_lines(
        "gateway",
        &stdout,
        &[
            "route: support -> support (task tag \"support\")",
            "attempt primary (support): failed, ",
            "attempt backup (support): ok",
            "served from the cache, no usage, cost $0,",
            "served by backup, 42 + 14 tokens",
            "rejected: ",
        ],
    );
}

#[test]
fn guardrails_example_runs() {
    let stdout = successful_stdout("guardrails");
    assert_lines(
        "guardrails",
        &stdout,
        &[
            "KR_RRN",
            "<KR_RRN_1>",
            "<EMAIL_ADDRESS_1>",
            "***************1111",
            "1. Block",
            "2. Redact",
        ],
    );
    // The raw identifiers never reach the output.
    for value in [
        "900101-1234568",
        "AKIAIOSFODNN7EXAMPLE",
        "jane.doe@example.com",
    ] {
        assert!(!stdout.contains(value), "the example printed {value}");
    }
}

#[test]
fn rag_example_runs() {
    let stdout = successful_stdout("rag");
    assert_lines(
        "rag",
        &stdout,
        &[
            "ingesting one again: Unchanged.",
            "Index version 1:",
            "Index version 2:",
            "[1] doc ",
            "On 3 labelled queries: recall@5",
            "Rolled back: version 1 is live again",
        ],
    );
}

#[test]
fn testkit_example_runs() {
    let stdout = successful_stdout("testkit");
    assert_lines(
        "testkit",
        &stdout,
        &[
            "rate_limited, retry may help: true, wait 2s",
            "context_length_exceeded, retry may help: false",
            "fallback: LargerContextWindow",
            "network after ",
            "authentication, fallback: None",
            "\"Paris.\", 9 + 2 tokens",
        ],
    );
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
