//! Compares llama.cpp with the pure-Rust `llmops-local` backend on the same
//! GGUF file.
//!
//! `tokenize` writes llama.cpp's token ids for a set of hard strings, which
//! the `llmops-local` tokenizer tests read. `bench` runs each engine in its
//! own child process and prints prompt and generation speed, time to first
//! token and peak RSS side by side.

mod bench;
mod cases;
mod llama;
#[cfg(feature = "llmops")]
mod llmops;
mod prompt;
mod report;
mod tokenize;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::bench::{BenchOptions, Engine};

/// Command-line interface.
#[derive(Debug, Parser)]
#[command(about = "Compare llama.cpp with llmops-local on one GGUF file")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Write llama.cpp's token ids for the reference strings as JSON.
    Tokenize {
        /// GGUF model file whose vocabulary is used.
        #[arg(long)]
        model: PathBuf,
        /// Output JSON file.
        #[arg(long)]
        output: PathBuf,
    },
    /// Run every engine several times in child processes and print a
    /// comparison table.
    Bench {
        /// GGUF model file both engines load.
        #[arg(long)]
        model: PathBuf,
        /// Threads each engine uses.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Runs per engine.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Maximum generated tokens per run.
        #[arg(long, default_value_t = 128)]
        max_tokens: usize,
        /// Engines to compare, in order. Ratios divide the second by the first.
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "llama-cpp,llmops"
        )]
        engines: Vec<Engine>,
    },
    /// Run one engine once and print its report as one JSON line (used by
    /// `bench` for its child processes).
    #[command(hide = true)]
    RunEngine {
        /// Engine to run.
        #[arg(long, value_enum)]
        engine: Engine,
        /// GGUF model file.
        #[arg(long)]
        model: PathBuf,
        /// Threads the engine uses.
        #[arg(long)]
        threads: usize,
        /// Maximum generated tokens.
        #[arg(long)]
        max_tokens: usize,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Tokenize { model, output } => tokenize::write_reference(&model, &output),
        Command::Bench {
            model,
            threads,
            runs,
            max_tokens,
            engines,
        } => bench::run(&BenchOptions {
            model,
            threads,
            runs,
            max_tokens,
            engines,
        }),
        Command::RunEngine {
            engine,
            model,
            threads,
            max_tokens,
        } => {
            let report = match engine {
                Engine::LlamaCpp => {
                    llama::run(&model, threads, max_tokens, prompt::CONTEXT_TOKENS)?
                }
                Engine::Llmops => run_llmops(&model, threads, max_tokens, prompt::CONTEXT_TOKENS)?,
            };
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
    }
}

#[cfg(feature = "llmops")]
fn run_llmops(
    model: &std::path::Path,
    threads: usize,
    max_tokens: usize,
    context_tokens: usize,
) -> anyhow::Result<report::EngineReport> {
    llmops::run(model, threads, max_tokens, context_tokens)
}

#[cfg(not(feature = "llmops"))]
fn run_llmops(
    _model: &std::path::Path,
    _threads: usize,
    _max_tokens: usize,
    _context_tokens: usize,
) -> anyhow::Result<report::EngineReport> {
    anyhow::bail!("this binary was built without the `llmops` feature; rebuild with it enabled")
}
