//! SIGHUP reloads the configuration. In its own test binary, because the
//! signal goes to the whole process.

#![cfg(all(feature = "server", unix))]
use crate::server_support;

use std::time::Duration;

use llmops_gateway::server::Server;
use llmops_gateway::{Gateway, GatewayConfig};
use llmops_testkit::MockServer;

fn config_text(mock: &MockServer, model: &str) -> String {
    format!(
        "[[models]]\nname = \"{model}\"\n\n[[models.deployments]]\nid = \"{model}-mock\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{}\"\n",
        mock.openai_base_url()
    )
}

#[tokio::test]
async fn sighup_reloads_configuration() {
    let mock = MockServer::start().await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    std::fs::write(&path, config_text(&mock, "before")).unwrap();
    let reload_path = path.clone();
    let gateway = Gateway::builder(GatewayConfig::load(&path).unwrap())
        .build()
        .unwrap();
    let server = server_support::start(
        Server::builder(gateway)
            .reload_with(move || Gateway::builder(GatewayConfig::load(&reload_path)?).build()),
    )
    .await;
    server.handle.reload_on_sighup();

    std::fs::write(&path, config_text(&mock, "after")).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    tokio::time::timeout(Duration::from_secs(10), async {
        while server.handle.gateway().models() != ["after"] {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("SIGHUP did not reload the configuration");
    server.stop().await.unwrap();
}
