//! Integration tests, built as one binary so that the crate and its
//! dependencies are linked once, not once per file. Each module is one test
//! file, and a new file needs its `mod` line here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accuracy;
mod anonymize;
mod chat_ner;
mod chat_ner_hook;
mod gateway_hook;
mod gateway_output_hook;
mod hard_negatives;
mod injection;
mod international;
mod korean_cases;
mod ner;
mod output;
mod pipeline;
mod robustness;
mod secrets;
mod stream;
mod stream_pem;
mod stream_props;
