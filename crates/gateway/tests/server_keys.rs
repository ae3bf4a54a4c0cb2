//! Virtual API keys: open mode, the master key, the admin API, model
//! allow-lists, and keys kept in SQLite and PostgreSQL.

#![cfg(feature = "server")]
use crate::server_support;

use std::sync::Arc;

use llmops_gateway::Gateway;
use llmops_gateway::server::{
    KEY_PREFIX, KeyStore, MemoryKeyStore, NewKey, Server, SqlKeyStore, create_key, hash_secret,
};
use llmops_store::Store;
use llmops_testkit::MockServer;
use serde_json::{Value, json};
use server_support::{Running, chat_body, config_on, gateway_on, start};

const MASTER: &str = "master-secret-for-tests";

async fn chat_status(server: &Running, key: Option<&str>, model: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .json(&chat_body(model, "hi"));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn create(server: &Running, settings: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.url("/admin/keys"))
        .bearer_auth(MASTER)
        .json(&settings)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn open_without_master_key_or_keys() {
    let mock = MockServer::start().await.unwrap();
    let server = Server::builder(gateway_on(&mock)).build().await.unwrap();
    assert!(server.is_open());
    let server = server_support::serve(server).await;

    assert_eq!(chat_status(&server, None, "chat").await.0, 200);
    assert_eq!(chat_status(&server, Some("anything"), "chat").await.0, 200);
    let (status, reply) = create(&server, json!({"name": "app"})).await;
    assert_eq!(status, 403, "the admin API needs a master key: {reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("LLMOPS_MASTER_KEY")
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn master_key_guards_models_and_admin() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock)).master_key(MASTER)).await;

    let (status, reply) = chat_status(&server, None, "chat").await;
    assert_eq!(status, 401);
    assert_eq!(reply["error"]["code"], "invalid_api_key");
    assert_eq!(
        chat_status(&server, Some("sk-llmops-wrong"), "chat")
            .await
            .0,
        401
    );
    assert_eq!(chat_status(&server, Some(MASTER), "chat").await.0, 200);

    let response = reqwest::Client::new()
        .get(server.url("/admin/keys"))
        .bearer_auth("sk-llmops-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn key_lifecycle_create_use_list_revoke() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock)).master_key(MASTER)).await;

    let (status, created) = create(
        &server,
        json!({"name": "support-bot", "team": "support", "requests_per_minute": 60, "budget_usd": "25.00"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["key"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(KEY_PREFIX));
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(created["display_prefix"].as_str().unwrap()));

    assert_eq!(chat_status(&server, Some(&secret), "chat").await.0, 200);
    let forwarded = mock.last_request().unwrap();
    let headers = format!("{:?}", forwarded.headers);
    assert!(
        !headers.contains(&secret),
        "the client key must not reach the provider"
    );

    let listed: Value = reqwest::Client::new()
        .get(server.url("/admin/keys"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = listed.to_string();
    assert!(
        !text.contains(&secret),
        "a listing must not contain the secret"
    );
    assert!(!text.contains(&hash_secret(&secret)), "nor its hash");
    assert_eq!(listed["data"][0]["id"], id.as_str());
    assert_eq!(listed["data"][0]["team"], "support");
    assert_eq!(listed["data"][0]["requests_per_minute"], 60);

    let revoked = reqwest::Client::new()
        .delete(server.url(&format!("/admin/keys/{id}")))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(chat_status(&server, Some(&secret), "chat").await.0, 401);
    let again = reqwest::Client::new()
        .delete(server.url(&format!("/admin/keys/{id}")))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn invalid_key_settings_name_field() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock)).master_key(MASTER)).await;
    let cases = [
        (json!({"name": ""}), Some("name")),
        (
            json!({"name": "a", "tokens_per_minute": 0}),
            Some("tokens_per_minute"),
        ),
        (json!({"name": "a", "colour": "red"}), None),
        (json!({"name": "a", "budget_usd": "-5"}), Some("budget_usd")),
    ];
    for (settings, param) in cases {
        let (status, reply) = create(&server, settings.clone()).await;
        assert_eq!(status, 400, "{settings}: {reply}");
        assert_eq!(
            reply["error"]["param"].as_str(),
            param,
            "{settings}: {reply}"
        );
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn allow_list_limits_models() {
    let mock = MockServer::start().await.unwrap();
    let config = config_on(&mock, &[("chat", "gpt-4o-mini"), ("big", "gpt-4.1")]);
    let gateway = Gateway::builder(config).build().unwrap();
    let server = start(Server::builder(gateway).master_key(MASTER)).await;
    let (status, reply) = create(&server, json!({"name": "typo", "models": ["chta"]})).await;
    assert_eq!(
        status, 400,
        "a misspelt model must not make a useless key: {reply}"
    );
    assert_eq!(reply["error"]["param"], "models");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("\"chta\"") && message.contains("\"big\""),
        "{message}"
    );

    let (_, created) = create(&server, json!({"name": "small-only", "models": ["chat"]})).await;
    let secret = created["key"].as_str().unwrap();

    assert_eq!(chat_status(&server, Some(secret), "chat").await.0, 200);
    let (status, reply) = chat_status(&server, Some(secret), "big").await;
    assert_eq!(status, 403, "{reply}");
    assert_eq!(reply["error"]["param"], "model");
    assert_eq!(reply["error"]["type"], "permission_error");
    assert_eq!(
        mock.request_count(),
        1,
        "the refused request reached no provider"
    );

    let models: Value = reqwest::Client::new()
        .get(server.url("/v1/models"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|model| model["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["chat"]);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn allow_list_covers_task_routes() {
    let mock = MockServer::start().await.unwrap();
    let mut config = config_on(&mock, &[("chat", "gpt-4o-mini"), ("big", "gpt-4.1")]);
    config.routes.push(llmops_gateway::RouteConfig {
        task: "hard".to_owned(),
        model: "big".to_owned(),
        examples: Vec::new(),
    });
    let gateway = Gateway::builder(config).build().unwrap();
    let server = start(Server::builder(gateway).master_key(MASTER)).await;
    let (_, created) = create(&server, json!({"name": "small-only", "models": ["chat"]})).await;
    let secret = created["key"].as_str().unwrap();

    let response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .bearer_auth(secret)
        .header("x-llmops-task", "hard")
        .json(&chat_body("chat", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        403,
        "a task route must not bypass the allow-list"
    );
    assert_eq!(mock.request_count(), 0);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn keys_from_store_close_open_mode() {
    let mock = MockServer::start().await.unwrap();
    let store = Arc::new(MemoryKeyStore::new());
    let created = create_key(
        &*store,
        NewKey {
            name: "preloaded".into(),
            ..NewKey::default()
        },
    )
    .await
    .unwrap();
    let server = Server::builder(gateway_on(&mock))
        .key_store(store)
        .build()
        .await
        .unwrap();
    assert!(!server.is_open());
    let server = server_support::serve(server).await;
    assert_eq!(chat_status(&server, None, "chat").await.0, 401);
    assert_eq!(
        chat_status(&server, Some(&created.secret), "chat").await.0,
        200
    );
    server.stop().await.unwrap();
}

async fn exercise_sql_store(store: Store) {
    let keys = SqlKeyStore::open(store.clone()).await.unwrap();
    let first = create_key(
        &keys,
        NewKey {
            name: "ünïcode app ✓".into(),
            team: Some("ml".into()),
            models: vec!["chat".into(), "big".into()],
            requests_per_minute: Some(10),
            tokens_per_minute: Some(5_000),
            budget_usd: Some("12.50".parse().unwrap()),
        },
    )
    .await
    .unwrap();
    let second = create_key(
        &keys,
        NewKey {
            name: "plain".into(),
            ..NewKey::default()
        },
    )
    .await
    .unwrap();

    // A second store over the same database reads the same keys, as a
    // restarted server would.
    let reopened = SqlKeyStore::open(store).await.unwrap();
    let found = reopened
        .find_by_hash(&hash_secret(&first.secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, first.key);
    assert_eq!(reopened.list().await.unwrap().len(), 2);
    assert!(
        reopened
            .find_by_hash(&hash_secret("sk-llmops-nope"))
            .await
            .unwrap()
            .is_none()
    );

    assert!(reopened.revoke(&second.key.id).await.unwrap());
    assert!(!reopened.revoke(&second.key.id).await.unwrap());
    assert!(
        reopened
            .find_by_hash(&hash_secret(&second.secret))
            .await
            .unwrap()
            .is_none()
    );
    let listed = reopened.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, first.key.id);
}

#[tokio::test]
async fn sqlite_store_persists_and_revokes() {
    let database = llmops_store::testing::sqlite_file().await.unwrap();
    exercise_sql_store(database.store.clone()).await;
    // A new connection, as after a restart, reads the same keys.
    let store = Store::connect(&database.url).await.unwrap();
    let keys = SqlKeyStore::open(store).await.unwrap();
    assert_eq!(keys.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn postgres_store_persists_and_revokes() {
    let Some(database) = llmops_store::testing::postgres("server_keys").await else {
        return;
    };
    exercise_sql_store(database.store.clone()).await;
}

#[tokio::test]
async fn concurrent_key_creation_yields_unique_keys() {
    let store = Arc::new(MemoryKeyStore::new());
    let mut tasks = Vec::new();
    for index in 0..16 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            create_key(
                &*store,
                NewKey {
                    name: format!("app-{index}"),
                    ..NewKey::default()
                },
            )
            .await
            .unwrap()
        }));
    }
    let mut secrets = std::collections::HashSet::new();
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let created = task.await.unwrap();
        assert!(secrets.insert(created.secret.clone()));
        assert!(ids.insert(created.key.id.clone()));
    }
    assert_eq!(store.list().await.unwrap().len(), 16);
}

#[tokio::test]
async fn key_rate_limit_answers_429() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock)).master_key(MASTER)).await;
    let (status, limited) =
        create(&server, json!({"name": "batch", "requests_per_minute": 2})).await;
    assert_eq!(status, 201, "{limited}");
    let limited = limited["key"].as_str().unwrap().to_owned();
    let (_, other) = create(&server, json!({"name": "other"})).await;
    let other = other["key"].as_str().unwrap().to_owned();

    assert_eq!(chat_status(&server, Some(&limited), "chat").await.0, 200);
    assert_eq!(chat_status(&server, Some(&limited), "chat").await.0, 200);
    let response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .bearer_auth(&limited)
        .json(&chat_body("chat", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let reply: Value = response.json().await.unwrap();
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("requests"),
        "{reply}"
    );
    // Another key has its own window.
    assert_eq!(chat_status(&server, Some(&other), "chat").await.0, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn key_budget_stops_spending() {
    let mock = MockServer::start().await.unwrap();
    let server = start(Server::builder(gateway_on(&mock)).master_key(MASTER)).await;
    let (status, reply) = create(&server, json!({"name": "frozen", "budget_usd": "0"})).await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["error"]["param"], "budget_usd", "{reply}");

    // One mock response on gpt-4o-mini costs about $0.000002, above this budget.
    let (status, created) =
        create(&server, json!({"name": "tiny", "budget_usd": "0.000001"})).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["key"].as_str().unwrap().to_owned();
    assert_eq!(chat_status(&server, Some(&secret), "chat").await.0, 200);
    let (status, reply) = chat_status(&server, Some(&secret), "chat").await;
    assert_eq!(status, 429, "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("budget"),
        "{reply}"
    );
    server.stop().await.unwrap();
}
