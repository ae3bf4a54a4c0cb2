//! Helpers shared by the server tests: a gateway over a mock provider and
//! a server on a loopback port.

#![allow(dead_code)]

use std::net::SocketAddr;

use llmops_gateway::server::{Server, ServerBuilder, ServerError, ServerHandle};
use llmops_gateway::{
    DeploymentConfig, Gateway, GatewayConfig, HealthPolicy, ModelConfig, RetryPolicy,
};
use llmops_testkit::MockServer;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Builds a gateway configuration with one model per `(name, upstream model)`
/// pair, each served by the mock's OpenAI route, with no retries.
pub(crate) fn config_on(mock: &MockServer, models: &[(&str, &str)]) -> GatewayConfig {
    let mut config = GatewayConfig::new();
    config.retry = RetryPolicy::single_attempt();
    config.health = HealthPolicy {
        min_requests: 1_000,
        ..HealthPolicy::default()
    };
    for (name, upstream) in models {
        config = config.model(
            ModelConfig::new(*name).deployment(
                DeploymentConfig::new(format!("{name}-mock"), "openai", *upstream)
                    .base_url(mock.openai_base_url()),
            ),
        );
    }
    config
}

/// Builds a gateway serving `chat` (upstream `gpt-4o-mini`) on the mock.
pub(crate) fn gateway_on(mock: &MockServer) -> Gateway {
    Gateway::builder(config_on(mock, &[("chat", "gpt-4o-mini")]))
        .build()
        .unwrap()
}

/// A server on a loopback port, stopped by [`Running::stop`].
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) handle: ServerHandle,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServerError>>>,
}

impl Running {
    /// Returns the URL of `path` on the server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Returns the OpenAI base URL of the server.
    pub(crate) fn base_url(&self) -> String {
        self.url("/v1")
    }

    /// Sends the shutdown signal without waiting.
    pub(crate) fn signal_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Sends the shutdown signal and waits until the server stopped.
    pub(crate) async fn stop(mut self) -> Result<(), ServerError> {
        self.signal_shutdown();
        match self.task.take() {
            Some(task) => task.await.unwrap(),
            None => Ok(()),
        }
    }

    /// Waits until the server stopped, after [`Running::signal_shutdown`].
    pub(crate) async fn join(mut self) -> Result<(), ServerError> {
        match self.task.take() {
            Some(task) => task.await.unwrap(),
            None => Ok(()),
        }
    }
}

/// Builds `builder` and serves it on `127.0.0.1:0`.
pub(crate) async fn start(builder: ServerBuilder) -> Running {
    let server = builder.build().await.unwrap();
    serve(server).await
}

/// Serves `server` on `127.0.0.1:0`.
pub(crate) async fn serve(server: Server) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = server.handle();
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async move {
        let _ = shutdown_rx.await;
    }));
    Running {
        addr,
        handle,
        shutdown: Some(shutdown_tx),
        task: Some(task),
    }
}

/// Builds a chat request body for `model`.
pub(crate) fn chat_body(model: &str, text: &str) -> serde_json::Value {
    serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": text}],
    })
}

/// Splits an SSE body into its events, each without the blank line.
pub(crate) fn sse_events(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter(|event| !event.is_empty())
        .map(str::to_owned)
        .collect()
}
