//! `POST /v1/chat/completions`: JSON or a server-sent event stream.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use llmops_core::types::ChatRequest;

use crate::config::{AI_GENERATED_HEADER, LABEL_KEY};
use crate::gateway::Gateway;
use crate::hooks::CallContext;
use crate::server::auth::{Caller, authenticate};
use crate::server::error::ApiError;
use crate::server::metrics::Observation;
use crate::server::sse::SseBody;
use crate::server::state::AppState;
use crate::server::validate::parse_chat_request;

/// The header that tags a request with a task for routing.
pub const TASK_HEADER: &str = "x-llmops-task";

/// The response header that carries the id the gateway records the
/// request under, the id to attach feedback to.
pub const REQUEST_ID_HEADER: &str = "x-llmops-request-id";

/// Generates a request id from the arrival time in hex milliseconds and 64
/// random bits, so ids do not repeat across processes and reloads.
fn new_request_id() -> String {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64);
    format!("gw-{now_ms:x}-{:016x}", rand::random::<u64>())
}

/// Adds the request id header to a response, and the AI-generated header
/// when the configuration labels responses.
fn with_request_id(mut response: Response, id: &str, labelled: bool) -> Response {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    if labelled {
        response
            .headers_mut()
            .insert(AI_GENERATED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

/// Reads the body, mapping axum's rejections to OpenAI-shaped errors.
pub(crate) fn read_body(
    state: &AppState,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::body_too_large(state.max_body_bytes)
        } else {
            ApiError::invalid_body(format!("the request body could not be read: {rejection}"))
        }
    })
}

/// Rejects a model the caller's key may not call, including the model a
/// task route would send the request to.
pub(crate) fn check_model_allowed(
    caller: &Caller,
    gateway: &Gateway,
    model: &str,
    task: Option<&str>,
) -> Result<(), ApiError> {
    let Some(key) = caller.key() else {
        return Ok(());
    };
    let routes = gateway.config().route_map();
    let routed = task.and_then(|task| routes.get(task).copied());
    for name in std::iter::once(model).chain(routed) {
        if !caller.allows_model(name) {
            let mut error = ApiError::forbidden(format!(
                "the API key {:?} may not call model {name:?}; it may call {:?}",
                key.name, key.models
            ));
            error.param = Some("model".to_owned());
            error.code = Some("model_not_allowed");
            return Err(error);
        }
    }
    Ok(())
}

/// Builds the gateway context of a request from its headers and key.
fn call_context(caller: &Caller, headers: &HeaderMap, request: &ChatRequest) -> CallContext {
    let mut context = CallContext::new().with_request_id(new_request_id());
    if let Some(task) = headers
        .get(TASK_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|task| !task.is_empty())
    {
        context = context.with_task(task);
    }
    if let Some(user) = &request.user {
        context = context.with_user(user.clone());
    }
    if let Some(key) = caller.key() {
        context = context.with_key(key.id.clone());
        context.caller = Some(key.name.clone());
        if let Some(team) = &key.team {
            context = context.with_team(team.clone());
        }
    }
    context
}

/// Handles `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let gateway = state.gateway();
    let mut model = String::new();
    let result = answer(&state, &gateway, &headers, body, started, &mut model).await;
    match result {
        Ok(response) => response,
        Err((error, class)) => {
            state.metrics.observe(&Observation {
                operation: "chat",
                model: &state.model_label(&gateway, &model),
                status: error.status.as_u16(),
                error_type: Some(class),
                duration: started.elapsed(),
                ..Observation::default()
            });
            error.into_response()
        }
    }
}

/// Runs the request; on failure returns the error and its class for metrics.
async fn answer(
    state: &Arc<AppState>,
    gateway: &Gateway,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    started: Instant,
    model: &mut String,
) -> Result<Response, (ApiError, &'static str)> {
    let caller = authenticate(state, headers)
        .await
        .map_err(|error| (error, "authentication"))?;
    let body = read_body(state, body).map_err(|error| (error, "invalid_request"))?;
    let request = parse_chat_request(&body).map_err(|error| (error, "invalid_request"))?;
    model.clone_from(&request.model);
    let context = call_context(&caller, headers, &request);
    check_model_allowed(&caller, gateway, &request.model, context.task.as_deref())
        .map_err(|error| (error, "permission"))?;
    let label = state.model_label(gateway, &request.model);
    let request_id = context.request_id.clone().unwrap_or_default();
    let labelled = gateway.config().transparency.label;

    if request.is_stream() {
        let stream = gateway
            .stream_with(request, context)
            .await
            .map_err(|error| {
                let class = error.class();
                (ApiError::from(error), class)
            })?;
        let transparency = gateway.config().transparency.clone();
        let body = SseBody::new(stream, Arc::clone(state), label, started, transparency);
        let mut response = Body::from_stream(body).into_response();
        let response_headers = response.headers_mut();
        response_headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return Ok(with_request_id(response, &request_id, labelled));
    }

    let cut = state.cut_signal();
    let mut completion = tokio::select! {
        result = gateway.complete_with(request, context) => result.map_err(|error| {
            let class = error.class();
            (ApiError::from(error), class)
        })?,
        () = cut => return Err((ApiError::shutting_down(), "shutdown")),
    };
    state.metrics.observe(&Observation {
        operation: "chat",
        model: &label,
        status: 200,
        error_type: None,
        duration: started.elapsed(),
        time_to_first_token: None,
        input_tokens: completion.usage.as_ref().map(|usage| usage.prompt_tokens),
        output_tokens: completion
            .usage
            .as_ref()
            .map(|usage| usage.completion_tokens),
    });
    if let Some(ai_label) = gateway.config().transparency.label_for(&completion.model) {
        completion.extra.insert(LABEL_KEY.to_owned(), ai_label);
    }
    Ok(with_request_id(
        axum::Json(completion).into_response(),
        &request_id,
        labelled,
    ))
}
