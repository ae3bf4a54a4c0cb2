//! `POST /v1/feedback`: a user's rating and comment on a request.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::dashboard::DashboardState;
use crate::dashboard::response::ApiError;
use crate::error::MonitorError;
use crate::feedback::{Feedback, MAX_COMMENT_CHARS};

/// The fields a feedback body may have. `created_at_ms` is accepted but
/// replaced by the time of arrival.
const FIELDS: [&str; 6] = [
    "request_id",
    "rating",
    "comment",
    "prompt",
    "prompt_version",
    "created_at_ms",
];

/// Handles `POST /v1/feedback`: 201 with the stored feedback, 400 naming
/// the invalid field, 404 for a request id the sink does not know, 503
/// without a sink.
pub(crate) async fn submit(
    State(state): State<DashboardState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(sink) = state.feedback.clone() else {
        return Err(ApiError::unavailable(
            "feedback is not stored: the server runs without a feedback store; start it with the monitor enabled",
        ));
    };
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::body_too_large(format!(
                "the feedback body is larger than this server accepts; send a comment of at most {MAX_COMMENT_CHARS} characters"
            ))
        } else {
            ApiError::invalid_body(format!("the request body could not be read: {rejection}"))
        }
    })?;
    let mut feedback = parse_feedback(&body)?;
    feedback.created_at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64);
    feedback.validate()?;

    match sink.submit(feedback).await {
        Ok(stored) => {
            tracing::info!(
                request_id = ?stored.request_id,
                rating = stored.rating,
                "feedback stored"
            );
            Ok((StatusCode::CREATED, Json(stored)).into_response())
        }
        Err(MonitorError::Invalid {
            field: "request_id",
            value,
            ..
        }) => Err(ApiError::not_found(
            Some("request_id"),
            format!(
                "no request {value:?} is known; send the id from the x-llmops-request-id header of a recent response"
            ),
        )),
        Err(error @ MonitorError::Invalid { .. }) => Err(error.into()),
        Err(error) => {
            tracing::error!(%error, "storing feedback failed");
            Err(ApiError::internal(format!(
                "the feedback could not be stored: {error}; retry later"
            )))
        }
    }
}

/// Reads a feedback body field by field, so that every error names the
/// field at fault.
fn parse_feedback(body: &[u8]) -> Result<Feedback, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::invalid_body(format!(
            "the body is not valid JSON ({error}); send {{\"request_id\": \"...\", \"rating\": 1-5, \"comment\": \"...\"}}"
        ))
    })?;
    let Value::Object(object) = value else {
        return Err(ApiError::invalid_body(
            "the body must be a JSON object such as {\"request_id\": \"...\", \"rating\": 5}",
        ));
    };
    if let Some(unknown) = object.keys().find(|key| !FIELDS.contains(&key.as_str())) {
        return Err(ApiError::invalid_body(format!(
            "unknown field {unknown:?}; feedback has the fields {}",
            FIELDS.join(", ")
        )));
    }
    Ok(Feedback {
        request_id: required_string(&object, "request_id")?,
        rating: rating(&object)?,
        comment: optional_string(&object, "comment")?.filter(|text| !text.trim().is_empty()),
        prompt: optional_string(&object, "prompt")?,
        prompt_version: prompt_version(&object)?,
        created_at_ms: 0,
    })
}

fn required_string(object: &Map<String, Value>, field: &'static str) -> Result<String, ApiError> {
    match object.get(field) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(ApiError::invalid(
            field,
            format!("invalid {field} {other}: send it as a JSON string"),
        )),
        None => Err(ApiError::invalid(
            field,
            format!("missing {field}: it is required"),
        )),
    }
}

fn optional_string(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, ApiError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(ApiError::invalid(
            field,
            format!("invalid {field} {other}: send a JSON string or null"),
        )),
    }
}

fn rating(object: &Map<String, Value>) -> Result<u8, ApiError> {
    let invalid = |shown: String| {
        ApiError::invalid(
            "rating",
            format!("invalid rating {shown}: use a whole number from 1 (bad) to 5 (good)"),
        )
    };
    match object.get("rating") {
        None => Err(ApiError::invalid(
            "rating",
            "missing rating: send a whole number from 1 (bad) to 5 (good)",
        )),
        Some(value) => value
            .as_u64()
            .filter(|rating| (1..=5).contains(rating))
            .and_then(|rating| u8::try_from(rating).ok())
            .ok_or_else(|| invalid(value.to_string())),
    }
}

fn prompt_version(object: &Map<String, Value>) -> Result<Option<u32>, ApiError> {
    match object.get("prompt_version") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .and_then(|version| u32::try_from(version).ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid(
                    "prompt_version",
                    format!("invalid prompt_version {value}: use a whole number from 0 to 4294967295 or null"),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Feedback, ApiError> {
        parse_feedback(text.as_bytes())
    }

    #[test]
    fn parse_reads_every_field() {
        let feedback = parse(
            r#"{"request_id":"gw-1","rating":4,"comment":"naïve 👍","prompt":"faq","prompt_version":3}"#,
        )
        .unwrap();
        assert_eq!(feedback.request_id, "gw-1");
        assert_eq!(feedback.rating, 4);
        assert_eq!(feedback.comment.as_deref(), Some("naïve 👍"));
        assert_eq!(feedback.prompt.as_deref(), Some("faq"));
        assert_eq!(feedback.prompt_version, Some(3));
    }

    #[test]
    fn parse_names_the_invalid_field() {
        let cases = [
            (r#"{"rating":4}"#, "request_id"),
            (r#"{"request_id":7,"rating":4}"#, "request_id"),
            (r#"{"request_id":"a"}"#, "rating"),
            (r#"{"request_id":"a","rating":0}"#, "rating"),
            (r#"{"request_id":"a","rating":6}"#, "rating"),
            (r#"{"request_id":"a","rating":300}"#, "rating"),
            (r#"{"request_id":"a","rating":-1}"#, "rating"),
            (r#"{"request_id":"a","rating":2.5}"#, "rating"),
            (r#"{"request_id":"a","rating":"5"}"#, "rating"),
            (r#"{"request_id":"a","rating":5,"comment":5}"#, "comment"),
            (
                r#"{"request_id":"a","rating":5,"prompt_version":-2}"#,
                "prompt_version",
            ),
            (
                r#"{"request_id":"a","rating":5,"prompt_version":4294967296}"#,
                "prompt_version",
            ),
        ];
        for (body, field) in cases {
            let error = parse(body).unwrap_err();
            assert_eq!(error.param, Some(field), "{body}");
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
            assert!(error.message.contains(field), "{body}: {}", error.message);
        }
    }

    #[test]
    fn parse_rejects_non_objects_and_unknown_fields() {
        for body in [
            "",
            "[]",
            "5",
            "{",
            r#"{"request_id":"a","rating":5,"ratng":1}"#,
        ] {
            let error = parse(body).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(error.code, "invalid_body", "{body}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_accepts_rating_only_from_1_to_5(
            rating in proptest::prop_oneof![-10i64..10, proptest::num::i64::ANY]
        ) {
            let body = serde_json::json!({"request_id": "gw-1", "rating": rating}).to_string();
            let result = parse(&body);
            proptest::prop_assert_eq!(result.is_ok(), (1..=5).contains(&rating), "{}", body);
        }

        #[test]
        fn parse_keeps_any_request_id_and_comment(id in "\\PC*", comment in "\\PC+") {
            let body = serde_json::json!({"request_id": id, "rating": 3, "comment": comment});
            let feedback = parse(&body.to_string()).unwrap();
            proptest::prop_assert_eq!(&feedback.request_id, &id);
            let kept = (!comment.trim().is_empty()).then_some(comment);
            proptest::prop_assert_eq!(feedback.comment, kept);
        }
    }

    #[test]
    fn parse_drops_blank_comment() {
        let feedback = parse(r#"{"request_id":"a","rating":5,"comment":"  \n"}"#).unwrap();
        assert_eq!(feedback.comment, None);
    }
}
