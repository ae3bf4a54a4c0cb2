//! The `llmops-mock` binary prints its base URL and serves requests.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Kills the child process when the test ends, also when it fails.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_url_and_serves() {
    let child = Command::new(env!("CARGO_BIN_EXE_llmops-mock"))
        .args(["--port", "0", "--embedding-dimension", "4"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let stdout = child.0.stdout.take().unwrap();
    let base_url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line.trim().to_owned()
    })
    .await
    .unwrap();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let body: serde_json::Value = client
        .post(format!("{base_url}/v1/embeddings"))
        .json(&serde_json::json!({"model": "e", "input": "x"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 4);
}
