//! Splitting matrix rows across threads must not change the model's output.
//! Each row's sum runs in one order whatever the thread count, so greedy
//! output is the same on 1, 2 and 3 threads.

use crate::common;

use common::{config, greedy};
use llmops_core::ModelBackend;
use llmops_local::LocalBackend;

const PROMPTS: [&str; 3] = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "Übersetze ins Englische: 猫が好きです 🐈",
];

#[tokio::test]
async fn greedy_output_does_not_depend_on_threads() {
    let mut outputs = Vec::new();
    for threads in [1, 2, 3] {
        let backend = LocalBackend::load(config().await.with_threads(threads))
            .await
            .unwrap();
        let mut texts = Vec::new();
        for prompt in PROMPTS {
            let completion = backend.complete(greedy(prompt, 24)).await.unwrap();
            let usage = completion.usage.clone().unwrap();
            assert!(usage.completion_tokens > 0, "{prompt:?}");
            assert!(!completion.text().is_empty(), "{prompt:?}");
            texts.push(completion.text());
        }
        outputs.push((threads, texts));
    }
    let (_, first) = &outputs[0];
    for (threads, texts) in &outputs[1..] {
        assert_eq!(texts, first, "{threads} threads against 1");
    }
}
