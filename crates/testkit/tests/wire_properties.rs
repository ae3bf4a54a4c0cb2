//! For any reply text and any split size, a client that joins the reads
//! gets valid events whose deltas rebuild the text, in both protocols.
use crate::common;

use common::{chat_request, data_json, messages_request, post};
use llmops_testkit::{MockServer, Scenario};
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Joins the text deltas of an OpenAI or Anthropic stream.
fn joined_text(body: &str) -> String {
    data_json(body)
        .iter()
        .filter_map(|event| {
            event["choices"][0]["delta"]["content"]
                .as_str()
                .or_else(|| event["delta"]["text"].as_str())
                .map(str::to_owned)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn split_streams_rebuild_text(
        text in "[\\PC\n\t\"\\\\]{0,40}",
        split in 1usize..40,
    ) {
        let (openai_text, anthropic_text, openai_ended, anthropic_ended) = runtime().block_on(async {
            let server = MockServer::start().await.unwrap();
            server.push(Scenario::text(&text).split_every(split));
            server.push(Scenario::text(&text).split_every(split));
            let openai = post(
                &format!("{}/chat/completions", server.openai_base_url()),
                &chat_request("m", "q", true, true),
            )
            .await;
            let anthropic = post(
                &format!("{}/v1/messages", server.anthropic_base_url()),
                &messages_request("c", "q", true),
            )
            .await;
            (
                joined_text(&openai.text()),
                joined_text(&anthropic.text()),
                openai.text().ends_with("data: [DONE]\n\n"),
                anthropic.text().ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
            )
        });
        prop_assert_eq!(&openai_text, &text);
        prop_assert_eq!(&anthropic_text, &text);
        prop_assert!(openai_ended);
        prop_assert!(anthropic_ended);
    }

    #[test]
    fn non_stream_text_round_trips(text in "[\\PC\n\t\"\\\\]{0,40}") {
        let (openai_body, anthropic_body) = runtime().block_on(async {
            let server = MockServer::start().await.unwrap();
            server.push(Scenario::text(&text));
            server.push(Scenario::text(&text));
            let openai = post(
                &format!("{}/chat/completions", server.openai_base_url()),
                &chat_request("m", "q", false, false),
            )
            .await;
            let anthropic = post(
                &format!("{}/v1/messages", server.anthropic_base_url()),
                &messages_request("c", "q", false),
            )
            .await;
            (
                serde_json::from_slice::<serde_json::Value>(&openai.bytes()).unwrap(),
                serde_json::from_slice::<serde_json::Value>(&anthropic.bytes()).unwrap(),
            )
        });
        prop_assert_eq!(openai_body["choices"][0]["message"]["content"].as_str(), Some(text.as_str()));
        prop_assert_eq!(anthropic_body["content"][0]["text"].as_str(), Some(text.as_str()));
    }
}
