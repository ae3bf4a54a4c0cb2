//! `llmops model`: manage the embedded local model file.

use anyhow::Context;
use llmops_local::LocalModelConfig;

use crate::failure::Failure;

/// Fetch or locate the embedded local model (SmolLM2-135M-Instruct, 98 MB).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Download the model into the cache unless it is already there, check
    /// its SHA-256, and print its path.
    Fetch,
    /// Print the path of the model file without downloading it; fail when
    /// it is not on this machine.
    Path,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let config = match args.action {
        Action::Fetch => LocalModelConfig::default(),
        Action::Path => LocalModelConfig::default().with_download(false),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let path = runtime
        .block_on(config.locate_model())
        .map_err(anyhow::Error::from)?;
    println!("{}", path.display());
    Ok(())
}
