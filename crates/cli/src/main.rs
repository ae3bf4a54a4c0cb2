//! `llmops`: the llmops command-line tool.
//!
//! Each subcommand lives in its own module with an `Args` struct and a
//! `run` function; adding one takes a module and a [`Command`] variant.
//! Exit codes: 0 on success, 2 for a usage error (a bad argument or value),
//! 1 for any other failure, 3 when `guard scan` found something or
//! `drift check` found drift, and 4 when `eval gate` found a regression.
//! When the reader of standard output exits early (`llmops ... | head`),
//! the rest of the output is dropped and the exit code is unchanged.

mod assess;
mod audit;
mod chat;
mod compliance;
mod cost;
mod drift;
mod eval;
mod eval_labels;
mod experiment;
mod failure;
mod file_out;
mod guard;
mod input;
mod model;
mod monitoring;
mod output;
mod prompt;
mod rag;
mod rag_embedder;
mod records;
mod serve;
mod serve_config;
mod serve_guard;
mod serve_semantic;
mod tokens;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::failure::Failure;

/// Operate LLM applications: chat with a model, count tokens, price usage,
/// manage prompt versions and A/B experiments, serve an OpenAI-compatible API,
/// scan text for PII and secrets, keep a verifiable audit log, ingest, index
/// and retrieve documents for RAG, and detect drift in the topics of inputs.
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
    Experiment(experiment::Args),
    Eval(eval::Args),
    Serve(serve::Args),
    Guard(guard::Args),
    Audit(audit::Args),
    Compliance(compliance::Args),
    Rag(rag::Args),
    Drift(drift::Args),
}

impl Command {
    fn run(self) -> Result<ExitCode, Failure> {
        let result = match self {
            Command::Chat(args) => chat::run(args),
            Command::Tokens(args) => tokens::run(args),
            Command::Cost(args) => cost::run(args),
            Command::Model(args) => model::run(args),
            Command::Prompt(args) => prompt::run(args),
            Command::Experiment(args) => experiment::run(args),
            Command::Serve(args) => serve::run(args),
            Command::Guard(args) => return guard::run(args),
            Command::Eval(args) => return eval::run(args),
            Command::Audit(args) => audit::run(args),
            Command::Compliance(args) => compliance::run(args),
            Command::Rag(args) => rag::run(args),
            Command::Drift(args) => return drift::run(args),
        };
        result.map(|()| ExitCode::SUCCESS)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server's lifecycle and failures are its log, so `serve` logs at
    // info unless RUST_LOG sets another level.
    // `rag build` logs how far its embedding pass got.
    let filter = match &cli.command {
        Command::Serve(_) => tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        Command::Rag(args) if args.logs_progress() => {
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("llmops_rag::index=info"))
        }
        _ => tracing_subscriber::EnvFilter::from_default_env(),
    };
    // Colour codes only help a terminal; a log file gets plain text.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let code = match cli.command.run() {
        Ok(code) => code,
        // The reader of standard output exited, as `head` does; that ends
        // the output, not the command, so it is no error.
        Err(Failure::Other(error)) if output::caused_by_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    };
    if output::failed_write() {
        return ExitCode::from(1);
    }
    code
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    /// Clap checks argument names only when a command runs; this checks
    /// every subcommand at once, such as an argument clashing with the
    /// propagated `--version` flag.
    #[test]
    fn every_command_definition_is_valid() {
        super::Cli::command().debug_assert();
    }
}
