//! Dropping a stream stops its generation.

use crate::common;

use std::time::Duration;

use common::{backend, greedy};
use futures::StreamExt;
use llmops_core::ModelBackend;

#[tokio::test]
async fn dropped_stream_stops_generation() {
    let backend = backend().await;
    let mut stream = backend
        .stream(greedy("Count from one to one thousand in words.", 1500))
        .await
        .unwrap();
    for _ in 0..3 {
        stream.next().await.unwrap().unwrap();
    }
    assert_eq!(backend.running_generations(), 1);
    drop(stream);

    // The thread notices at its next token; poll instead of sleeping a
    // fixed time, and give up long before 1500 tokens could be generated.
    for _ in 0..200 {
        if backend.running_generations() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the generation was still running 5 s after its stream was dropped");
}
