//! User feedback on a response: a rating and a comment attached to the
//! request id the gateway returned.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::MonitorError;

/// The longest comment kept, in characters.
pub const MAX_COMMENT_CHARS: usize = 4000;

/// The maximum length of a request id, in characters. The gateway's own
/// ids are far shorter.
pub const MAX_REQUEST_ID_CHARS: usize = 256;

/// A rating and comment on one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// The id of the request, as in the gateway's record and the
    /// `x-llmops-request-id` response header.
    pub request_id: String,
    /// From 1 (bad) to 5 (good).
    pub rating: u8,
    /// Free text from the user.
    #[serde(default)]
    pub comment: Option<String>,
    /// The registry prompt that produced the response, when known.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Its version.
    #[serde(default)]
    pub prompt_version: Option<u32>,
    /// Unix time in milliseconds when the feedback arrived.
    #[serde(default)]
    pub created_at_ms: u64,
}

impl Feedback {
    /// Checks the rating and the comment length.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Invalid`] naming the field.
    pub fn validate(&self) -> Result<(), MonitorError> {
        if self.request_id.trim().is_empty() {
            return Err(MonitorError::Invalid {
                field: "request_id",
                value: self.request_id.clone(),
                fix: "give the id of a request the gateway served".into(),
            });
        }
        let id_chars = self.request_id.chars().count();
        if id_chars > MAX_REQUEST_ID_CHARS {
            return Err(MonitorError::Invalid {
                field: "request_id",
                value: format!("{id_chars} characters"),
                fix: format!(
                    "give the id from the x-llmops-request-id header, at most {MAX_REQUEST_ID_CHARS} characters"
                ),
            });
        }
        if self.request_id.chars().any(char::is_control) {
            return Err(MonitorError::Invalid {
                field: "request_id",
                value: format!("{:?}", self.request_id),
                fix: "remove the control characters (line breaks, tabs, NUL)".into(),
            });
        }
        if !(1..=5).contains(&self.rating) {
            return Err(MonitorError::Invalid {
                field: "rating",
                value: self.rating.to_string(),
                fix: "use a whole number from 1 (bad) to 5 (good)".into(),
            });
        }
        if let Some(comment) = &self.comment {
            let chars = comment.chars().count();
            if chars > MAX_COMMENT_CHARS {
                return Err(MonitorError::Invalid {
                    field: "comment",
                    value: format!("{chars} characters"),
                    fix: format!("shorten it to at most {MAX_COMMENT_CHARS} characters"),
                });
            }
        }
        Ok(())
    }
}

/// Stores feedback.
#[async_trait]
pub trait FeedbackSink: Send + Sync {
    /// Stores one validated piece of feedback, filling in the prompt and
    /// version from the request when the sink knows them.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Invalid`] for an unknown request id, or a storage
    /// failure.
    async fn submit(&self, feedback: Feedback) -> Result<Feedback, MonitorError>;
}
