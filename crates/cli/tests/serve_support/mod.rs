//! Starting `llmops serve` as a process and reading its stderr, for the
//! serve tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub(crate) fn llmops() -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("llmops"));
    command.env_remove("LLMOPS_MASTER_KEY");
    command
}

/// Kills the server when a test ends, so that a failed assertion cannot
/// leave it running and holding the test's output open.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `llmops serve --config CONFIG` on a free port and returns the
/// process with a channel of its stderr lines.
pub(crate) fn spawn_serve(config: &std::path::Path) -> (KillOnDrop, mpsc::Receiver<String>) {
    spawn_serve_with(config, &[])
}

/// Starts `llmops serve --config CONFIG ARGS` on a free port.
pub(crate) fn spawn_serve_with(
    config: &std::path::Path,
    args: &[&str],
) -> (KillOnDrop, mpsc::Receiver<String>) {
    let mut child = llmops()
        .args(["serve", "--config", config.to_str().unwrap(), "--port", "0"])
        .args(args)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    (KillOnDrop(child), lines_rx)
}

/// Waits for a stderr line that contains `needle` and returns it.
pub(crate) fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    wait_for_line_within(lines, needle, 60)
}

/// Waits up to `seconds` between lines for one that contains `needle`.
pub(crate) fn wait_for_line_within(
    lines: &mpsc::Receiver<String>,
    needle: &str,
    seconds: u64,
) -> String {
    let mut log = Vec::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(seconds))
            .unwrap_or_else(|_| panic!("no line with {needle:?}; stderr so far: {log:#?}"));
        if line.contains(needle) {
            return line;
        }
        log.push(line);
    }
}

/// Reads the `Listening on` URL from the server's stderr.
pub(crate) fn listening_url(lines: &mpsc::Receiver<String>) -> String {
    let line = wait_for_line(lines, "Listening on ");
    line.trim_start_matches("Listening on ").trim().to_owned()
}

/// Writes a configuration with the model `chat` on `mock` followed by
/// `sections`.
pub(crate) fn write_config(
    path: &std::path::Path,
    mock: &llmops_testkit::MockServer,
    sections: &str,
) {
    std::fs::write(
        path,
        format!(
            "[[models]]\nname = \"chat\"\n\n[[models.deployments]]\nid = \"mock\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{}\"\n\n{sections}",
            mock.openai_base_url()
        ),
    )
    .unwrap();
}

/// Stops the server with SIGTERM and checks that it exits cleanly.
pub(crate) fn stop(mut child: KillOnDrop) {
    let signalled = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    assert!(child.0.wait().unwrap().success());
}

/// Checks that `llmops serve --config PATH` fails to start with an error
/// that names the file and contains `expected`.
pub(crate) fn assert_start_fails(path: &std::path::Path, expected: &str) {
    let output = llmops()
        .args(["serve", "--port", "0", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("invalid gateway configuration"), "{stderr}");
    assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains(expected), "expected {expected:?}: {stderr}");
}
