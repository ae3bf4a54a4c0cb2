//! `require_api_key` rejects requests without the key with the recorded 401
//! replies.
use crate::common;

use common::{chat_request, client, messages_request, read_frames};
use llmops_testkit::recorded::{anthropic, openai};
use llmops_testkit::{MockServer, Scenario};

#[tokio::test]
async fn openai_routes_check_bearer_token() {
    let server = MockServer::builder()
        .require_api_key("sk-right")
        .start()
        .await
        .unwrap();
    server.push(Scenario::text("for the right key"));
    let url = format!("{}/chat/completions", server.openai_base_url());
    let request = chat_request("m", "q", false, false);

    for wrong in [None, Some("sk-wrong"), Some("")] {
        let mut builder = client().post(&url).json(&request);
        if let Some(key) = wrong {
            builder = builder.bearer_auth(key);
        }
        let reply = read_frames(builder.send().await.unwrap()).await;
        assert_eq!(reply.status, 401, "key {wrong:?}");
        assert_eq!(reply.bytes(), openai::ERROR_401_INVALID_API_KEY);
    }
    assert_eq!(
        server.pending_scenarios(),
        1,
        "rejected requests take no scenario"
    );

    let reply = read_frames(
        client()
            .post(&url)
            .bearer_auth("sk-right")
            .json(&request)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.text().contains("for the right key"));
    assert_eq!(server.request_count(), 4);
    assert_eq!(server.requests().len(), 4);

    let models = client()
        .get(format!("{}/models", server.openai_base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(models.status().as_u16(), 401);
}

#[tokio::test]
async fn anthropic_route_checks_x_api_key() {
    let server = MockServer::builder()
        .require_api_key("ant-right")
        .start()
        .await
        .unwrap();
    let url = format!("{}/v1/messages", server.anthropic_base_url());
    let request = messages_request("c", "q", false);

    let bearer = client()
        .post(&url)
        .bearer_auth("ant-right")
        .json(&request)
        .send()
        .await
        .unwrap();
    let reply = read_frames(bearer).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.bytes(), anthropic::ERROR_401_AUTHENTICATION);
    assert_eq!(reply.header("x-should-retry"), Some("false"));

    let keyed = client()
        .post(&url)
        .header("x-api-key", "ant-right")
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(keyed.status().as_u16(), 200);
}
