//! Helpers shared by the integration tests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

/// One CLINC150 query.
pub struct Query {
    pub text: String,
    pub intent: String,
    pub domain: String,
}

/// Reads the CLINC150 test and out-of-scope queries.
pub fn clinc150() -> Vec<Query> {
    include_str!("../data/clinc150_test.jsonl")
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            Query {
                text: value["text"].as_str().unwrap().to_string(),
                intent: value["intent"].as_str().unwrap().to_string(),
                domain: value["domain"].as_str().unwrap().to_string(),
            }
        })
        .collect()
}
