//! `llmops model`: manage the embedded local model files.

use anyhow::Context;
use llmops_local::{EmbedderConfig, LocalModelConfig};

use crate::failure::Failure;
use crate::output::outln;

/// Fetch or locate the embedded local models: the chat model
/// (SmolLM2-135M-Instruct, 98 MB) and the embedding model
/// (all-MiniLM-L6-v2, 91 MB).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Download both models into the cache unless they are already there,
    /// check their SHA-256 digests, and print the chat model's file and the
    /// embedding model's folder, one per line.
    Fetch,
    /// Print the path of the chat model file without downloading it; fail
    /// when it is not on this machine.
    Path {
        /// Print the embedding model's folder instead of the chat model.
        #[arg(long)]
        embedder: bool,
    },
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let paths = match args.action {
        Action::Fetch => vec![
            runtime.block_on(LocalModelConfig::default().locate_model()),
            runtime.block_on(EmbedderConfig::default().locate_model()),
        ],
        Action::Path { embedder: false } => {
            let config = LocalModelConfig::default().with_download(false);
            vec![runtime.block_on(config.locate_model())]
        }
        Action::Path { embedder: true } => {
            let config = EmbedderConfig::default().with_download(false);
            vec![runtime.block_on(config.locate_model())]
        }
    };
    for path in paths {
        let path = path.map_err(anyhow::Error::from)?;
        outln!("{}", path.display());
    }
    Ok(())
}
