//! Starting, dropping and shutting down servers.
use std::time::Duration;

use llmops_testkit::{MockError, MockServer, Scenario};

/// Generous bound for waits that must end. No test asserts on timing.
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn base_urls_point_at_loopback_port() {
    let server = MockServer::start().await.unwrap();
    let port = server.addr().port();
    assert_ne!(port, 0);
    assert_eq!(server.base_url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(
        server.openai_base_url(),
        format!("http://127.0.0.1:{port}/v1")
    );
    assert_eq!(server.anthropic_base_url(), server.base_url());
}

#[tokio::test]
async fn two_servers_are_independent() {
    let first = MockServer::start().await.unwrap();
    let second = MockServer::start().await.unwrap();
    assert_ne!(first.addr(), second.addr());
    first.push(Scenario::text("only on first"));
    assert_eq!(first.pending_scenarios(), 1);
    assert_eq!(second.pending_scenarios(), 0);
}

#[tokio::test]
async fn drop_closes_the_port() {
    let server = MockServer::start().await.unwrap();
    let addr = server.addr();
    tokio::net::TcpStream::connect(addr).await.unwrap();
    drop(server);

    let closed = tokio::time::timeout(WAIT, async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the port still accepts connections after drop"
    );
}

#[tokio::test]
async fn shutdown_waits_for_server_task() {
    let server = MockServer::start().await.unwrap();
    let addr = server.addr();
    tokio::time::timeout(WAIT, server.shutdown()).await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn bind_error_names_address() {
    let server = MockServer::start().await.unwrap();
    let taken = server.addr();
    let error = MockServer::builder().addr(taken).start().await.unwrap_err();
    assert!(matches!(error, MockError::Bind { addr, .. } if addr == taken));
    assert!(error.to_string().contains(&taken.to_string()), "{error}");
}
