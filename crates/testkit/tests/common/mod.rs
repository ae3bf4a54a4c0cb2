//! Raw HTTP helpers shared by the integration tests.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;

/// The body frames of a response as the client read them, and whether the
/// body ended with a read error instead of a clean end.
pub struct Frames {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub frames: Vec<Bytes>,
    pub error: Option<reqwest::Error>,
}

impl Frames {
    pub fn bytes(&self) -> Vec<u8> {
        self.frames
            .iter()
            .flat_map(|frame| frame.to_vec())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.bytes()).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Posts JSON and reads the body frame by frame.
pub async fn post(url: &str, body: &Value) -> Frames {
    let response = client().post(url).json(body).send().await.unwrap();
    read_frames(response).await
}

pub async fn read_frames(response: reqwest::Response) -> Frames {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut stream = response.bytes_stream();
    let mut frames = Vec::new();
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(frame) => frames.push(frame),
            Err(failure) => {
                error = Some(failure);
                break;
            }
        }
    }
    Frames {
        status,
        headers,
        frames,
        error,
    }
}

/// Splits an SSE body into events at blank lines.
pub fn sse_events(text: &str) -> Vec<String> {
    text.split_inclusive("\n\n").map(str::to_owned).collect()
}

/// Parses the JSON of each `data:` line, skipping `[DONE]`.
pub fn data_json(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str(data).unwrap())
        .collect()
}

/// Returns the `event:` names of an Anthropic stream, in order.
pub fn event_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("event: "))
        .map(str::to_owned)
        .collect()
}

pub fn chat_request(model: &str, content: &str, stream: bool, include_usage: bool) -> Value {
    let mut body = serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": content}],
        "stream": stream,
    });
    if include_usage {
        body["stream_options"] = serde_json::json!({"include_usage": true});
    }
    body
}

pub fn messages_request(model: &str, content: &str, stream: bool) -> Value {
    serde_json::json!({
        "model": model,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": content}],
        "stream": stream,
    })
}
