//! Helpers for unit tests that need the model file.

use std::path::PathBuf;

use crate::config::LocalModelConfig;

/// Finds the model through the normal resolution with downloads off, so a
/// missing model fails the test with the resolution error.
pub(crate) async fn model_path() -> PathBuf {
    let config = LocalModelConfig::default().with_download(false);
    match config.locate_model().await {
        Ok(path) => path,
        Err(error) => panic!("cannot find the local model: {error}"),
    }
}
