//! `llmops serve` with a `[semantic_cache]` section: a request similar to
//! an earlier one is served from the cache, which the gateway's metrics
//! show, and bad sections name their key. The embedder is
//! the mock provider's `/embeddings`, because the local model is slow in a
//! debug build.
#![cfg(unix)]
use crate::serve_support;

use llmops_testkit::{MockServer, Route, Scenario};
use serde_json::{Value, json};
use serve_support::{assert_start_fails, listening_url, spawn_serve, stop, write_config};

/// Returns a `[semantic_cache]` section that embeds through the mock.
fn semantic_section(mock: &MockServer, extra: &str) -> String {
    format!(
        "[semantic_cache]\nthreshold = 0.95\nttl_secs = 600\nmax_entries = 100\n{extra}\n[semantic_cache.embedder]\nprovider = \"openai\"\nmodel = \"text-embedding-3-small\"\ndimensions = 1536\nbase_url = \"{}\"\n",
        mock.openai_base_url()
    )
}

fn chat_requests(mock: &MockServer) -> usize {
    mock.requests()
        .iter()
        .filter(|request| request.route == Some(Route::ChatCompletions))
        .count()
}

/// Asks the same question as `user`, at temperature 0, and returns the
/// answer text.
fn ask_as(runtime: &tokio::runtime::Runtime, api: &str, user: &str) -> String {
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{api}/chat/completions"))
            .json(&json!({
                "model": "chat",
                "temperature": 0,
                "user": user,
                "messages": [
                    {"role": "system", "content": "Answer in one sentence."},
                    {"role": "user", "content": "서울의 인구는 몇 명인가요?"},
                ],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .to_owned()
    })
}

fn metrics(runtime: &tokio::runtime::Runtime, url: String) -> String {
    runtime.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

#[test]
fn similar_request_is_served_from_cache() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    mock.push(Scenario::text("약 940만 명입니다."));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    write_config(&path, &mock, &semantic_section(&mock, ""));
    let (child, lines) = spawn_serve(&path);
    let api = listening_url(&lines);
    let root = api.trim_end_matches("/v1").to_owned();

    let first = ask_as(&runtime, &api, "alice");
    // The same question from another user: the exact cache is off, so only
    // the semantic cache can answer it.
    let second = ask_as(&runtime, &api, "bob");
    assert_eq!(first, "약 940만 명입니다.");
    assert_eq!(second, first);
    assert_eq!(
        chat_requests(&mock),
        1,
        "the second answer came from the cache"
    );

    let gateway_metrics = metrics(&runtime, format!("{root}/metrics"));
    assert!(
        gateway_metrics.contains("llmops_gateway_semantic_cache_lookups_total{result=\"hit\"} 1"),
        "{gateway_metrics}"
    );
    assert!(
        gateway_metrics.contains("llmops_gateway_semantic_cache_lookups_total{result=\"miss\"} 1"),
        "{gateway_metrics}"
    );

    stop(child);
}

#[test]
fn user_scope_keeps_users_apart() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    mock.push(Scenario::text("for alice"));
    mock.push(Scenario::text("for bob"));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    write_config(
        &path,
        &mock,
        &semantic_section(&mock, "scope = [\"user\"]\n"),
    );
    let (child, lines) = spawn_serve(&path);
    let api = listening_url(&lines);

    assert_eq!(ask_as(&runtime, &api, "alice"), "for alice");
    assert_eq!(ask_as(&runtime, &api, "bob"), "for bob");
    assert_eq!(ask_as(&runtime, &api, "alice"), "for alice");
    assert_eq!(
        chat_requests(&mock),
        2,
        "alice's repeat came from the cache"
    );

    stop(child);
}

#[test]
fn bad_semantic_section_names_key() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gateway.toml");
    let cases = [
        (
            "[semantic_cache]\nthreshold = 1.2\n",
            "semantic_cache.threshold",
        ),
        (
            "[semantic_cache]\nmax_entries = 0\n",
            "semantic_cache.max_entries",
        ),
        (
            "[semantic_cache]\nscope = [\"tenant\"]\n",
            "unknown variant `tenant`",
        ),
        ("[semantic_cache]\nttl = \"1h\"\n", "unknown field `ttl`"),
        (
            "[semantic_cache.embedder]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\n",
            "semantic_cache.embedder.model",
        ),
    ];
    for (section, expected) in cases {
        write_config(&path, &mock, section);
        assert_start_fails(&path, expected);
    }
}
