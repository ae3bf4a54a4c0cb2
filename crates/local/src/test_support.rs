//! Helpers for unit tests that need the model file.

use std::path::PathBuf;

use tokio::sync::OnceCell;

use crate::config::LocalModelConfig;

/// Finds the model through the normal resolution, downloading it into the
/// cache on first use. The download runs once per test process; a failed
/// lookup or download fails the test with the resolution error.
pub(crate) async fn model_path() -> PathBuf {
    static PATH: OnceCell<PathBuf> = OnceCell::const_new();
    PATH.get_or_init(|| async {
        match LocalModelConfig::default().locate_model().await {
            Ok(path) => path,
            Err(error) => panic!("cannot find or fetch the local model: {error}"),
        }
    })
    .await
    .clone()
}
