//! Rate limits and budgets: who they apply to, what they allow, and the
//! admission of requests against them.

mod admission;
mod api;
mod budget;
mod clock;
mod period;
mod table;
pub(crate) mod window;

use std::fmt;

use serde::{Deserialize, Serialize};

pub(crate) use admission::{Admitted, Reservation, caller_scopes};
pub use budget::{BudgetAlert, BudgetAlertSink, BudgetPeriod, BudgetRule};
pub use clock::{Clock, ManualClock, SystemClock};
pub(crate) use period::PeriodWindow;
pub(crate) use table::{BudgetTable, LimitTable};

/// The length of the rate-limit window: limits are per minute.
pub(crate) const MINUTE_MS: u64 = 60_000;

/// The kind of party a limit or budget applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScopeKind {
    /// A virtual API key, by id ([`CallContext::key`](crate::CallContext::key)).
    Key,
    /// An end user ([`CallContext::user`](crate::CallContext::user), else the
    /// request's `user` field).
    User,
    /// A team ([`CallContext::team`](crate::CallContext::team)).
    Team,
    /// A configured model name.
    Model,
}

impl ScopeKind {
    /// Returns the lowercase name used in configuration and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Key => "key",
            ScopeKind::User => "user",
            ScopeKind::Team => "team",
            ScopeKind::Model => "model",
        }
    }
}

/// One party a limit or budget applies to: a key, user, team or model, by
/// id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LimitScope {
    /// A virtual API key id.
    Key(String),
    /// An end user id.
    User(String),
    /// A team id.
    Team(String),
    /// A configured model name.
    Model(String),
}

impl LimitScope {
    /// Creates the scope of `kind` with `id`.
    pub fn new(kind: ScopeKind, id: impl Into<String>) -> Self {
        let id = id.into();
        match kind {
            ScopeKind::Key => LimitScope::Key(id),
            ScopeKind::User => LimitScope::User(id),
            ScopeKind::Team => LimitScope::Team(id),
            ScopeKind::Model => LimitScope::Model(id),
        }
    }

    /// Returns the kind of party.
    pub fn kind(&self) -> ScopeKind {
        match self {
            LimitScope::Key(_) => ScopeKind::Key,
            LimitScope::User(_) => ScopeKind::User,
            LimitScope::Team(_) => ScopeKind::Team,
            LimitScope::Model(_) => ScopeKind::Model,
        }
    }

    /// Returns the id within the kind.
    pub fn id(&self) -> &str {
        match self {
            LimitScope::Key(id)
            | LimitScope::User(id)
            | LimitScope::Team(id)
            | LimitScope::Model(id) => id,
        }
    }

    /// Returns the name of the scope in shared-state keys, such as
    /// `key:k1`. The id is escaped so that ids containing `:` cannot collide.
    pub(crate) fn state_key(&self) -> String {
        format!("{}:{}", self.kind().as_str(), self.id().replace(':', "::"))
    }
}

impl fmt::Display for LimitScope {
    /// Formats as `key k1`, `user alice`, `team research` or `model chat`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind().as_str(), self.id())
    }
}

/// The per-minute limits of a scope. An unset field is not limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LimitRule {
    /// Requests admitted in any 60-second window.
    pub requests_per_minute: Option<u64>,
    /// Tokens (prompt plus completion) in any 60-second window.
    pub tokens_per_minute: Option<u64>,
}

impl LimitRule {
    /// Creates a rule that limits nothing yet.
    pub fn new() -> Self {
        LimitRule::default()
    }

    /// Sets the requests per minute.
    pub fn rpm(mut self, requests: u64) -> Self {
        self.requests_per_minute = Some(requests);
        self
    }

    /// Sets the tokens per minute.
    pub fn tpm(mut self, tokens: u64) -> Self {
        self.tokens_per_minute = Some(tokens);
        self
    }

    /// Checks that the rule limits something and that no limit is 0.
    ///
    /// # Errors
    ///
    /// Returns a message naming the field and the fix.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        if self.requests_per_minute.is_none() && self.tokens_per_minute.is_none() {
            return Err((
                "rpm",
                "the rule sets neither rpm nor tpm; set at least one".to_owned(),
            ));
        }
        for (field, value) in [
            ("rpm", self.requests_per_minute),
            ("tpm", self.tokens_per_minute),
        ] {
            if value == Some(0) {
                return Err((
                    field,
                    format!(
                        "{field} = 0 would reject every request; use 1 or more, or remove the limit"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_key_escapes_separator() {
        assert_eq!(LimitScope::Key("a:b".into()).state_key(), "key:a::b");
        assert_ne!(
            LimitScope::Key("a:b".into()).state_key(),
            LimitScope::Key("a".into()).state_key() + ":b"
        );
        assert_eq!(LimitScope::User("é".into()).to_string(), "user é");
    }
}
