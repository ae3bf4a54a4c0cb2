//! JSON Lines export of drifted inputs.

use std::path::PathBuf;

use async_trait::async_trait;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::Action;
use crate::check::CheckOutcome;
use crate::error::{DriftError, Result};

/// Writes each drifted input as one JSON line `{"text", "topic", "label"}`,
/// where `topic` is the baseline topic index or null for a new topic.
///
/// The file holds raw inputs: keep it where the inputs themselves may be
/// kept. An existing file is replaced.
#[derive(Debug, Clone)]
pub struct JsonlExport {
    path: PathBuf,
}

impl JsonlExport {
    /// Creates an export to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

#[async_trait]
impl Action for JsonlExport {
    fn name(&self) -> &str {
        "jsonl_export"
    }

    async fn run(&self, outcome: &CheckOutcome) -> Result<String> {
        let mut lines = String::new();
        for input in &outcome.drifted_inputs {
            let label = match input.topic {
                Some(id) => outcome
                    .report
                    .topic_shares
                    .iter()
                    .find(|share| share.topic == Some(id))
                    .map_or_else(String::new, |share| share.label.clone()),
                None => "new topic".to_string(),
            };
            let line = json!({"text": input.text, "topic": input.topic, "label": label});
            lines.push_str(&line.to_string());
            lines.push('\n');
        }

        let io_error = |error: std::io::Error| DriftError::Io {
            path: self.path.display().to_string(),
            message: error.to_string(),
        };
        let mut file = tokio::fs::File::create(&self.path)
            .await
            .map_err(io_error)?;
        file.write_all(lines.as_bytes()).await.map_err(io_error)?;
        file.flush().await.map_err(io_error)?;
        Ok(format!(
            "wrote {} inputs to {}",
            outcome.drifted_inputs.len(),
            self.path.display()
        ))
    }
}
