//! Many parallel requests each take exactly one queued scenario, in FIFO
//! order per model.
use crate::common;

use std::collections::BTreeSet;

use common::{chat_request, client};
use llmops_testkit::{MockServer, Scenario};
use serde_json::Value;

async fn content(url: &str, model: &str) -> String {
    let body: Value = client()
        .post(url)
        .json(&chat_request(model, "q", false, false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_requests_take_each_scenario_once() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/chat/completions", server.openai_base_url());
    let count = 200;
    for index in 0..count {
        server.push(Scenario::text(format!("reply-{index}")));
    }

    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { content(&url, "m").await })
        })
        .collect();
    let mut seen = BTreeSet::new();
    for task in tasks {
        assert!(
            seen.insert(task.await.unwrap()),
            "a scenario was served twice"
        );
    }

    let expected: BTreeSet<String> = (0..count).map(|index| format!("reply-{index}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(server.pending_scenarios(), 0);
    assert_eq!(server.request_count(), count as u64);
    assert_eq!(server.requests().len(), count);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_model_queues_stay_in_order() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/chat/completions", server.openai_base_url());
    let models = 8;
    let per_model = 10;
    for step in 0..per_model {
        for model in 0..models {
            server.push_for_model(
                format!("model-{model}"),
                Scenario::text(format!("{model}:{step}")),
            );
        }
    }

    let tasks: Vec<_> = (0..models)
        .map(|model| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut replies = Vec::new();
                for _ in 0..per_model {
                    replies.push(content(&url, &format!("model-{model}")).await);
                }
                (model, replies)
            })
        })
        .collect();
    for task in tasks {
        let (model, replies) = task.await.unwrap();
        let expected: Vec<String> = (0..per_model)
            .map(|step| format!("{model}:{step}"))
            .collect();
        assert_eq!(replies, expected, "model-{model}");
    }
    assert_eq!(server.pending_scenarios(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sticky_default_under_load() {
    let server = MockServer::builder()
        .record_requests(false)
        .start()
        .await
        .unwrap();
    server.set_default(Scenario::text("same"));
    let url = format!("{}/chat/completions", server.openai_base_url());
    let tasks: Vec<_> = (0..500)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { content(&url, "m").await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), "same");
    }
    assert_eq!(server.request_count(), 500);
    assert!(server.requests().is_empty());
}
