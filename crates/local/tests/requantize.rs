//! Re-quantizing Q4_1 weights to Q8_0 must not change greedy output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{config, greedy};
use llmops_core::ModelBackend;
use llmops_local::LocalBackend;

const PROMPTS: [&str; 2] = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
];

// NOTE: this fails today. Q8_0 cannot store `d * q + m` exactly, and the
// rounding flips near-tied greedy choices within the first tokens on both
// prompts. A lossless path would store `d * q` as Q8_0 and add the block
// minimums through a separate small matmul, which needs a model
// implementation of our own instead of candle's quantized Llama.
#[ignore = "re-quantized Q8_0 weights change greedy output; see the note above"]
#[tokio::test]
async fn greedy_q4_1_and_q8_0_identical() {
    let original = LocalBackend::load(config().with_requantize(false))
        .await
        .unwrap();
    let converted = LocalBackend::load(config().with_requantize(true))
        .await
        .unwrap();

    for prompt in PROMPTS {
        let expected = original.complete(greedy(prompt, 24)).await.unwrap();
        let actual = converted.complete(greedy(prompt, 24)).await.unwrap();
        assert_eq!(actual.text(), expected.text(), "prompt {prompt:?}");
        assert_eq!(actual.usage, expected.usage, "prompt {prompt:?}");
        assert!(!actual.text().is_empty());
    }
}
