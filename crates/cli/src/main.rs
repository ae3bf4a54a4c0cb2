//! `llmops`: the llmops command-line tool.
//!
//! Each subcommand lives in its own module with an `Args` struct and a
//! `run` function; adding one takes a module and a [`Command`] variant.
//! Exit codes: 0 on success, 2 for a usage error (a bad argument or value),
//! 1 for any other failure.

mod chat;
mod cost;
mod failure;
mod input;
mod model;
mod prompt;
mod tokens;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::failure::Failure;

/// Operate LLM applications: chat with a model, count tokens, price usage,
/// manage prompt versions.
#[derive(Debug, Parser)]
#[command(name = "llmops", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Chat(chat::Args),
    Tokens(tokens::Args),
    Cost(cost::Args),
    Model(model::Args),
    Prompt(prompt::Args),
}

impl Command {
    fn run(self) -> Result<(), Failure> {
        match self {
            Command::Chat(args) => chat::run(args),
            Command::Tokens(args) => tokens::run(args),
            Command::Cost(args) => cost::run(args),
            Command::Model(args) => model::run(args),
            Command::Prompt(args) => prompt::run(args),
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();

    let cli = Cli::parse();
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}
