//! The error type shared by every backend, classified for routing.

use std::fmt;
use std::time::Duration;

/// A `Result` with [`Error`] as its error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure of a model call or of core configuration.
///
/// Model-call variants classify the failure the way a router needs it:
/// [`Error::retry_may_help`] and [`Error::fallback`] say whether trying again,
/// or trying elsewhere, can succeed. Messages never contain API keys or prompt
/// text; upstream error messages are kept as the provider wrote them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The provider rejected the request for exceeding a rate limit or quota.
    #[error("{provider} rate limited the request{}: {message}", retry_after_suffix(*.retry_after))]
    RateLimited {
        /// The provider that answered.
        provider: String,
        /// How long the provider asked to wait, from `Retry-After`.
        retry_after: Option<Duration>,
        /// The provider's message.
        message: String,
    },

    /// The provider is temporarily overloaded (Anthropic 529, OpenAI 503).
    #[error("{provider} is overloaded{}: {message}", retry_after_suffix(*.retry_after))]
    Overloaded {
        /// The provider that answered.
        provider: String,
        /// How long the provider asked to wait, from `Retry-After`.
        retry_after: Option<Duration>,
        /// The provider's message.
        message: String,
    },

    /// A deadline passed before the provider answered.
    #[error("{provider} timed out: no {phase} within {} ms; raise the {phase} timeout or try another deployment", .after.as_millis())]
    Timeout {
        /// The provider that was called.
        provider: String,
        /// The deadline that passed.
        phase: TimeoutPhase,
        /// The configured deadline.
        after: Duration,
    },

    /// The prompt and requested output do not fit the model's context window.
    #[error(
        "{provider} rejected the request because it exceeds the model's context window: {message}"
    )]
    ContextLengthExceeded {
        /// The provider that answered.
        provider: String,
        /// The provider's message, which usually names both token counts.
        message: String,
    },

    /// The provider's content policy blocked the request or the output.
    #[error("{provider} blocked the request under its content policy: {message}")]
    ContentPolicy {
        /// The provider that answered.
        provider: String,
        /// The provider's message.
        message: String,
    },

    /// The API key is missing, invalid or lacks permission.
    #[error("{provider} rejected the credentials: {message}")]
    Authentication {
        /// The provider that answered.
        provider: String,
        /// The provider's message, or what llmops found missing.
        message: String,
    },

    /// The request is malformed or uses a value the model does not accept.
    #[error("invalid request to {provider}{}: {message}", param_suffix(.param.as_deref()))]
    InvalidRequest {
        /// The provider that answered, or `llmops` for local validation.
        provider: String,
        /// The offending request field, when known (for example `messages[0].role`).
        param: Option<String>,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The provider failed with a server error (5xx other than overload).
    #[error("{provider} failed with HTTP {status}: {message}")]
    UpstreamServer {
        /// The provider that answered.
        provider: String,
        /// The HTTP status code.
        status: u16,
        /// The provider's message.
        message: String,
    },

    /// The connection failed, was reset, or the stream ended early.
    #[error("network error talking to {provider}: {message}")]
    Network {
        /// The provider that was called.
        provider: String,
        /// What failed.
        message: String,
    },

    /// The provider sent a response llmops cannot parse.
    #[error("{provider} sent a malformed response: {message}")]
    MalformedResponse {
        /// The provider that answered.
        provider: String,
        /// The part that could not be parsed, without any response text.
        message: String,
    },

    /// The caller cancelled the request or dropped the stream.
    #[error("the request was cancelled")]
    Cancelled,

    /// The model has no entry in the price table or tokenizer map.
    #[error("unknown model {model:?}: {hint}")]
    UnknownModel {
        /// The model name that was looked up.
        model: String,
        /// How to fix it, such as which table to extend.
        hint: String,
    },

    /// A configuration value is invalid.
    #[error("invalid configuration value for {key}: {message}")]
    InvalidConfig {
        /// The configuration key or environment variable.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// A backend failed for a reason outside the classes above, such as a
    /// local model that could not run.
    #[error("{provider} failed: {message}")]
    Backend {
        /// The backend that failed.
        provider: String,
        /// What failed and how to fix it.
        message: String,
    },
}

fn retry_after_suffix(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) if wait < Duration::from_secs(1) => {
            format!(" (retry after {} ms)", wait.as_millis())
        }
        Some(wait) => format!(" (retry after {:.1} s)", wait.as_secs_f64()),
        None => String::new(),
    }
}

fn param_suffix(param: Option<&str>) -> String {
    match param {
        Some(param) => format!(" (field `{param}`)"),
        None => String::new(),
    }
}

/// The deadline of a call that passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Opening the connection.
    Connect,
    /// The first token, or the response head of a non-streamed call.
    FirstToken,
    /// The whole call.
    Total,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connection",
            TimeoutPhase::FirstToken => "first token",
            TimeoutPhase::Total => "complete response",
        })
    }
}

/// The deployments a router may send a request to after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fallback {
    /// Nowhere: another deployment would fail the same way.
    None,
    /// Any other deployment of the model, or the next model in the chain.
    AnyDeployment,
    /// Only a model with a larger context window.
    LargerContextWindow,
    /// Only the alternative configured for content-policy refusals.
    ContentPolicyAlternative,
}

impl Error {
    /// Returns whether the same call to the same deployment may succeed
    /// later (after `retry_after`, when set).
    pub fn retry_may_help(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::Overloaded { .. }
                | Error::Timeout { .. }
                | Error::UpstreamServer { .. }
                | Error::Network { .. }
                | Error::MalformedResponse { .. }
        )
    }

    /// Returns where a router may send the request instead.
    pub fn fallback(&self) -> Fallback {
        match self {
            Error::RateLimited { .. }
            | Error::Overloaded { .. }
            | Error::Timeout { .. }
            | Error::UpstreamServer { .. }
            | Error::Network { .. }
            | Error::MalformedResponse { .. }
            | Error::Backend { .. } => Fallback::AnyDeployment,
            Error::ContextLengthExceeded { .. } => Fallback::LargerContextWindow,
            Error::ContentPolicy { .. } => Fallback::ContentPolicyAlternative,
            Error::Authentication { .. }
            | Error::InvalidRequest { .. }
            | Error::Cancelled
            | Error::UnknownModel { .. }
            | Error::InvalidConfig { .. } => Fallback::None,
        }
    }

    /// Returns the wait the provider asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } | Error::Overloaded { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Returns the provider named in the error, if any.
    pub fn provider(&self) -> Option<&str> {
        match self {
            Error::RateLimited { provider, .. }
            | Error::Overloaded { provider, .. }
            | Error::Timeout { provider, .. }
            | Error::ContextLengthExceeded { provider, .. }
            | Error::ContentPolicy { provider, .. }
            | Error::Authentication { provider, .. }
            | Error::InvalidRequest { provider, .. }
            | Error::UpstreamServer { provider, .. }
            | Error::Network { provider, .. }
            | Error::MalformedResponse { provider, .. }
            | Error::Backend { provider, .. } => Some(provider),
            Error::Cancelled | Error::UnknownModel { .. } | Error::InvalidConfig { .. } => None,
        }
    }

    /// Returns the failure class as a stable snake_case name for records
    /// and metrics, such as `rate_limited` or `context_length_exceeded`.
    pub fn class(&self) -> &'static str {
        match self {
            Error::RateLimited { .. } => "rate_limited",
            Error::Overloaded { .. } => "overloaded",
            Error::Timeout { .. } => "timeout",
            Error::ContextLengthExceeded { .. } => "context_length_exceeded",
            Error::ContentPolicy { .. } => "content_policy",
            Error::Authentication { .. } => "authentication",
            Error::InvalidRequest { .. } => "invalid_request",
            Error::UpstreamServer { .. } => "upstream_server",
            Error::Network { .. } => "network",
            Error::MalformedResponse { .. } => "malformed_response",
            Error::Cancelled => "cancelled",
            Error::UnknownModel { .. } => "unknown_model",
            Error::InvalidConfig { .. } => "invalid_config",
            Error::Backend { .. } => "backend",
        }
    }

    /// Creates an [`Error::InvalidRequest`] found by llmops before any call.
    pub fn invalid_request(param: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            provider: "llmops".to_owned(),
            param: Some(param.into()),
            message: message.into(),
        }
    }

    /// Creates an [`Error::InvalidConfig`].
    pub fn invalid_config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidConfig {
            key: key.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_class() -> Vec<Error> {
        let provider = || "p".to_owned();
        let message = || "m".to_owned();
        vec![
            Error::RateLimited {
                provider: provider(),
                retry_after: Some(Duration::from_secs(2)),
                message: message(),
            },
            Error::Overloaded {
                provider: provider(),
                retry_after: None,
                message: message(),
            },
            Error::Timeout {
                provider: provider(),
                phase: TimeoutPhase::FirstToken,
                after: Duration::from_millis(1500),
            },
            Error::ContextLengthExceeded {
                provider: provider(),
                message: message(),
            },
            Error::ContentPolicy {
                provider: provider(),
                message: message(),
            },
            Error::Authentication {
                provider: provider(),
                message: message(),
            },
            Error::InvalidRequest {
                provider: provider(),
                param: Some("n".to_owned()),
                message: message(),
            },
            Error::UpstreamServer {
                provider: provider(),
                status: 500,
                message: message(),
            },
            Error::Network {
                provider: provider(),
                message: message(),
            },
            Error::Cancelled,
        ]
    }

    #[test]
    fn retry_and_fallback_by_class() {
        let expected = [
            (true, Fallback::AnyDeployment),
            (true, Fallback::AnyDeployment),
            (true, Fallback::AnyDeployment),
            (false, Fallback::LargerContextWindow),
            (false, Fallback::ContentPolicyAlternative),
            (false, Fallback::None),
            (false, Fallback::None),
            (true, Fallback::AnyDeployment),
            (true, Fallback::AnyDeployment),
            (false, Fallback::None),
        ];
        for (error, (retry, fallback)) in every_class().iter().zip(expected) {
            assert_eq!(error.retry_may_help(), retry, "retry for {error}");
            assert_eq!(error.fallback(), fallback, "fallback for {error}");
        }
    }

    #[test]
    fn class_names_are_distinct_snake_case() {
        let classes: Vec<&str> = every_class().iter().map(Error::class).collect();
        let mut unique = classes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), classes.len(), "{classes:?}");
        assert_eq!(classes[0], "rate_limited");
        assert_eq!(classes[3], "context_length_exceeded");
        for class in classes {
            assert!(
                class.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{class}"
            );
        }
    }

    #[test]
    fn messages_name_values() {
        let errors = every_class();
        assert_eq!(
            errors[0].to_string(),
            "p rate limited the request (retry after 2.0 s): m"
        );
        assert_eq!(
            errors[2].to_string(),
            "p timed out: no first token within 1500 ms; raise the first token timeout or try another deployment"
        );
        assert_eq!(errors[6].to_string(), "invalid request to p (field `n`): m");
        assert_eq!(errors[0].retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(errors[9].provider(), None);
    }
}
