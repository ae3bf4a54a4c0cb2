//! Runs the llmops mock OpenAI and Anthropic server until Ctrl-C.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use llmops_testkit::MockServer;

/// Mock OpenAI and Anthropic API server for tests and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "llmops-mock", version)]
struct Args {
    /// IP address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// TCP port to listen on; 0 picks a free port.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Embedding length when a request sets no `dimensions`.
    #[arg(long, default_value_t = 1536)]
    embedding_dimension: usize,
    /// Keep every request in memory (off by default so long benchmark runs
    /// use constant memory).
    #[arg(long)]
    record_requests: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let server = MockServer::builder()
        .addr(SocketAddr::new(args.host, args.port))
        .embedding_dimension(args.embedding_dimension)
        .record_requests(args.record_requests)
        .start()
        .await;
    let server = match server {
        Ok(server) => server,
        Err(error) => {
            eprintln!("llmops-mock: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", server.base_url());

    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("llmops-mock: failed to wait for Ctrl-C: {error}");
    }
    server.shutdown().await;
    ExitCode::SUCCESS
}
