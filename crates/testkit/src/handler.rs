//! Turns one HTTP request into a response under the selected scenario.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use serde_json::Value;

use crate::body::{self, Event, PlannedBody, shutdown_signal};
use crate::counters::DisconnectGuard;
use crate::fault::{ErrorReply, Fault, Protocol};
use crate::recording::RecordedRequest;
use crate::reply::ModelReply;
use crate::request::RequestSummary;
use crate::rules::Route;
use crate::scenario::{Reply, Scenario};
use crate::server::{Shared, lock};
use crate::{anthropic, embeddings, openai};

const SSE_CONTENT_TYPE: &str = "text/event-stream; charset=utf-8";
const JSON_CONTENT_TYPE: &str = "application/json";

type AppState = State<Arc<Shared>>;

pub(crate) async fn chat_completions(
    State(shared): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = Some(Route::ChatCompletions);
    handle(shared, route, method, uri, headers, body).await
}

pub(crate) async fn messages(
    State(shared): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = Some(Route::Messages);
    handle(shared, route, method, uri, headers, body).await
}

pub(crate) async fn embeddings(
    State(shared): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = Some(Route::Embeddings);
    handle(shared, route, method, uri, headers, body).await
}

pub(crate) async fn models(
    State(shared): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, Some(Route::Models), method, uri, headers, body).await
}

pub(crate) async fn not_found(
    State(shared): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, None, method, uri, headers, body).await
}

/// A response under construction: head and body events.
struct Draft {
    status: u16,
    headers: Vec<(String, String)>,
    events: Vec<Event>,
    /// Whether the body is an event stream, sent chunked.
    stream: bool,
    /// Event that `stream_error_after` sends.
    error_event: Option<Bytes>,
}

impl Draft {
    fn json(status: u16, request_header: (&str, &str), body: Bytes) -> Draft {
        Draft {
            status,
            headers: vec![
                ("content-type".to_owned(), JSON_CONTENT_TYPE.to_owned()),
                (request_header.0.to_owned(), request_header.1.to_owned()),
            ],
            events: vec![Event::frame(body)],
            stream: false,
            error_event: None,
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    route: Option<Route>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let serial = shared.counters.record_request();
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    let summary = json
        .as_ref()
        .map(RequestSummary::from_json)
        .unwrap_or_default();
    tracing::debug!(serial, ?route, model = %summary.model, "mock request");
    let authorized = route.is_none_or(|route| has_api_key(&shared, route, &headers));
    if shared.record_requests {
        let path = uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), ToString::to_string);
        let recorded = RecordedRequest {
            method,
            path,
            route,
            headers,
            body,
            json: json.clone(),
        };
        lock(&shared.recorded).push(recorded);
    }

    let Some(route) = route else {
        return finish(&shared, not_found_draft(&uri, serial), None, guard(&shared));
    };
    if !authorized {
        tracing::debug!(serial, ?route, "mock request without the required API key");
        let fault = match protocol(route) {
            Protocol::OpenAi => Fault::OpenAiInvalidApiKey,
            Protocol::Anthropic => Fault::AnthropicAuthentication,
        };
        let draft = error_draft(&ErrorReply::new(
            &fault,
            protocol(route),
            &request_id(serial),
        ));
        return finish(&shared, draft, None, guard(&shared));
    }
    let scenario = lock(&shared.table).select(route, &summary.model);
    let mut guard = guard(&shared);

    if let Some(scenario) = &scenario {
        if !scenario.latency.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(scenario.latency) => {}
                () = shutdown_signal(shared.shutdown.clone()) => {}
            }
        }
        if matches!(scenario.reply, Reply::Hang) {
            shutdown_signal(shared.shutdown.clone()).await;
            guard.finish();
            return aborted_response();
        }
    }

    let draft = match json {
        Some(json) => draft(&shared, route, &json, &summary, scenario.as_deref(), serial),
        None if route == Route::Models => {
            draft(&shared, route, &Value::Null, &summary, None, serial)
        }
        None => invalid_json_draft(route, serial),
    };
    finish(&shared, draft, scenario.as_deref(), guard)
}

/// Returns whether the request carries the server's required API key, or
/// true when the server requires none.
fn has_api_key(shared: &Shared, route: Route, headers: &HeaderMap) -> bool {
    let Some(key) = shared.api_key.as_deref() else {
        return true;
    };
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    match protocol(route) {
        Protocol::OpenAi => header("authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|given| given == key),
        Protocol::Anthropic => header("x-api-key").is_some_and(|given| given == key),
    }
}

fn error_draft(reply: &ErrorReply) -> Draft {
    Draft {
        status: reply.status,
        headers: reply.headers.clone(),
        events: vec![Event::frame(reply.body.clone())],
        stream: false,
        error_event: None,
    }
}

fn guard(shared: &Shared) -> DisconnectGuard {
    DisconnectGuard::new(Arc::clone(&shared.counters))
}

fn protocol(route: Route) -> Protocol {
    match route {
        Route::Messages => Protocol::Anthropic,
        _ => Protocol::OpenAi,
    }
}

fn request_id(serial: u64) -> String {
    format!("req_mock{serial:012}")
}

/// Returns the name of the request id header of a protocol.
fn request_id_header(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::OpenAi => "x-request-id",
        Protocol::Anthropic => "request-id",
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Builds the response of a route for a parsed request.
fn draft(
    shared: &Shared,
    route: Route,
    json: &Value,
    summary: &RequestSummary,
    scenario: Option<&Scenario>,
    serial: u64,
) -> Draft {
    let protocol = protocol(route);
    let id = request_id(serial);
    let id_header = (request_id_header(protocol), id.as_str());

    match scenario.map(|scenario| &scenario.reply) {
        Some(Reply::Error(fault)) => {
            return error_draft(&ErrorReply::new(fault, protocol, &id));
        }
        Some(Reply::Replay { content_type, body }) => {
            let stream = content_type.starts_with("text/event-stream");
            let events = if stream {
                split_sse_events(body)
            } else {
                vec![Event::frame(body.clone())]
            };
            return Draft {
                status: 200,
                headers: vec![
                    ("content-type".to_owned(), (*content_type).to_owned()),
                    (id_header.0.to_owned(), id.clone()),
                ],
                events,
                stream,
                error_event: stream.then(|| stream_error_event(protocol)),
            };
        }
        _ => {}
    }

    match route {
        Route::Embeddings => {
            let body = embeddings::embeddings_body(json, shared.embedding_dimension);
            Draft::json(200, id_header, body)
        }
        Route::Models => Draft::json(200, id_header, embeddings::models_body(&shared.models)),
        Route::ChatCompletions | Route::Messages => {
            let default = Scenario::echo();
            let scenario = scenario.unwrap_or(&default);
            let Some(reply) = ModelReply::new(scenario, summary, serial, unix_seconds()) else {
                return Draft::json(200, id_header, Bytes::new());
            };
            model_reply_draft(&reply, protocol, summary, id_header)
        }
    }
}

fn model_reply_draft(
    reply: &ModelReply,
    protocol: Protocol,
    summary: &RequestSummary,
    id_header: (&str, &str),
) -> Draft {
    if !summary.stream {
        let body = match protocol {
            Protocol::OpenAi => openai::completion_body(reply),
            Protocol::Anthropic => anthropic::message_body(reply),
        };
        return Draft::json(200, id_header, body);
    }
    let events = match protocol {
        Protocol::OpenAi => openai::stream_events(reply, summary.include_usage),
        Protocol::Anthropic => anthropic::stream_events(reply),
    };
    Draft {
        status: 200,
        headers: vec![
            ("content-type".to_owned(), SSE_CONTENT_TYPE.to_owned()),
            ("cache-control".to_owned(), "no-cache".to_owned()),
            (id_header.0.to_owned(), id_header.1.to_owned()),
        ],
        events,
        stream: true,
        error_event: Some(stream_error_event(protocol)),
    }
}

fn stream_error_event(protocol: Protocol) -> Bytes {
    match protocol {
        Protocol::OpenAi => Bytes::from_static(openai::STREAM_ERROR_EVENT),
        Protocol::Anthropic => anthropic::stream_error_event(),
    }
}

/// Cuts a recorded SSE body after each blank line (`\n\n`). Bytes after
/// the last blank line form a final event.
fn split_sse_events(body: &Bytes) -> Vec<Event> {
    let mut events = Vec::new();
    let mut start = 0;
    for end in memchr_double_newline(body) {
        events.push(Event::token(body.slice(start..end)));
        start = end;
    }
    if start < body.len() {
        events.push(Event::token(body.slice(start..)));
    }
    events
}

/// Offsets just past each `\n\n` in `bytes`.
fn memchr_double_newline(bytes: &[u8]) -> Vec<usize> {
    bytes
        .windows(2)
        .enumerate()
        .filter(|(_, pair)| pair == b"\n\n")
        .map(|(index, _)| index + 2)
        .collect()
}

// NOTE: the invalid-JSON and unknown-path bodies below follow the error
// shape of each provider, but no recorded reply backs their messages.
fn invalid_json_draft(route: Route, serial: u64) -> Draft {
    let protocol = protocol(route);
    let body: &'static [u8] = match protocol {
        Protocol::OpenAi => {
            b"{\"error\":{\"message\":\"The request body is not valid JSON.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}"
        }
        Protocol::Anthropic => {
            b"{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"The request body is not valid JSON.\"}}"
        }
    };
    let id = request_id(serial);
    Draft::json(
        400,
        (request_id_header(protocol), &id),
        Bytes::from_static(body),
    )
}

fn not_found_draft(uri: &Uri, serial: u64) -> Draft {
    let message = format!("Invalid URL ({})", uri.path());
    let body = serde_json::json!({
        "error": {"code": null, "message": message, "param": null, "type": "invalid_request_error"}
    });
    let id = request_id(serial);
    Draft::json(404, ("x-request-id", &id), Bytes::from(body.to_string()))
}

/// Builds a 200 response whose body fails at once, which aborts the connection.
fn aborted_response() -> Response {
    let failed = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "mock server shut down",
        ))
    });
    Response::new(Body::from_stream(failed))
}

/// Applies the scenario's body faults to a draft and builds the response.
fn finish(
    shared: &Shared,
    draft: Draft,
    scenario: Option<&Scenario>,
    mut guard: DisconnectGuard,
) -> Response {
    let status = StatusCode::from_u16(draft.status).unwrap_or_else(|_| {
        tracing::warn!(
            status = draft.status,
            "invalid status in scenario; sending 500"
        );
        StatusCode::INTERNAL_SERVER_ERROR
    });
    let mut head = HeaderMap::with_capacity(draft.headers.len() + 1);
    for (name, value) in &draft.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                head.append(name, value);
            }
            _ => tracing::warn!(header = %name, "invalid header in scenario; skipped"),
        }
    }

    let body = match scenario.filter(|scenario| scenario.needs_planned_body()) {
        Some(scenario) => {
            let plan = body::plan(draft.events, scenario, draft.error_event);
            if !draft.stream {
                head.insert(header::CONTENT_LENGTH, HeaderValue::from(plan.full_length));
            }
            Body::from_stream(PlannedBody::new(plan, shared.shutdown.clone(), guard))
        }
        None => {
            guard.finish();
            let bytes = concat(draft.events);
            if draft.stream {
                // One chunk of a chunked body, as event streams are sent.
                let once = futures::stream::once(async { Ok::<Bytes, std::io::Error>(bytes) });
                Body::from_stream(once)
            } else {
                Body::from(bytes)
            }
        }
    };

    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = head;
    response
}

fn concat(events: Vec<Event>) -> Bytes {
    if events.len() == 1 {
        return events
            .into_iter()
            .next()
            .map(|event| event.bytes)
            .unwrap_or_default();
    }
    let length = events.iter().map(|event| event.bytes.len()).sum();
    let mut bytes = BytesMut::with_capacity(length);
    for event in events {
        bytes.extend_from_slice(&event.bytes);
    }
    bytes.freeze()
}
