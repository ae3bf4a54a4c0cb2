//! The `[[limits]]`, `[[budgets]]` and `[cache]` sections.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::limits::{BudgetPeriod, BudgetRule, LimitRule, LimitScope, ScopeKind};

/// A rate limit of one scope, or the default of every scope of a kind.
///
/// ```toml
/// [[limits]]
/// scope = "key"
/// id = "k1"
/// rpm = 60
/// tpm = 100000
///
/// [[limits]]
/// scope = "user"   # no id: every user without a limit of their own
/// rpm = 20
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitConfig {
    /// The kind of party: `key`, `user`, `team` or `model`.
    pub scope: ScopeKind,
    /// The key id, user id, team id or model name. Without it, the entry is
    /// the default limit of every party of the kind that has no own limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Requests per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Tokens (prompt plus completion) per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
}

impl LimitConfig {
    /// Returns the scope, or none for a default of the kind.
    pub fn limit_scope(&self) -> Option<LimitScope> {
        self.id
            .as_ref()
            .map(|id| LimitScope::new(self.scope, id.clone()))
    }

    /// Returns the rule.
    pub fn rule(&self) -> LimitRule {
        LimitRule {
            requests_per_minute: self.rpm,
            tokens_per_minute: self.tpm,
        }
    }
}

/// A spending budget of one scope, or the default budget of every scope of
/// a kind.
///
/// ```toml
/// [[budgets]]
/// scope = "team"
/// id = "research"
/// limit_usd = "50.00"
/// period = "month"
/// alert_at = [0.5, 0.8]
///
/// [[budgets]]
/// scope = "team"   # no id: $10 a day for every other team, each its own
/// limit_usd = "10.00"
/// period = "day"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// The kind of party: `key`, `user`, `team` or `model`.
    pub scope: ScopeKind,
    /// The key id, user id, team id or model name. Without it, the entry is
    /// the default budget of every party of the kind that has no own
    /// budget, and each such party's spend is counted separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The budget in US dollars, as a string (`"50.00"`) for an exact
    /// amount; a TOML number is read through its decimal text.
    #[serde(serialize_with = "usd_out", deserialize_with = "usd_in")]
    pub limit_usd: Decimal,
    /// `day`, `month` or `total`, in UTC.
    pub period: BudgetPeriod,
    /// Shares of the budget at which an alert fires, each above 0 and at
    /// most 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert_at: Vec<f64>,
}

impl BudgetConfig {
    /// Returns the scope, or none for a default of the kind.
    pub fn limit_scope(&self) -> Option<LimitScope> {
        self.id
            .as_ref()
            .map(|id| LimitScope::new(self.scope, id.clone()))
    }

    /// Returns the rule, or the index and text of an alert share that is
    /// not a finite number.
    pub fn rule(&self) -> Result<BudgetRule, (usize, f64)> {
        let mut shares = Vec::with_capacity(self.alert_at.len());
        for (index, share) in self.alert_at.iter().enumerate() {
            // Display prints the shortest text that reads back as the same
            // f64, so 0.8 becomes exactly 0.8 and not its binary value.
            let exact: Decimal = share.to_string().parse().map_err(|_| (index, *share))?;
            shares.push(exact);
        }
        Ok(BudgetRule::new(self.limit_usd, self.period).alert_at(shares))
    }
}

fn usd_out<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&amount.to_string())
}

fn usd_in<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Amount {
        Text(String),
        Integer(i64),
        Float(f64),
    }
    let text = match Amount::deserialize(deserializer)? {
        Amount::Text(text) => text,
        Amount::Integer(value) => value.to_string(),
        Amount::Float(value) => value.to_string(),
    };
    text.trim().parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "{text:?} is not an amount in US dollars; write it like \"50.00\""
        ))
    })
}

/// The response cache. Off unless `enabled` is set.
///
/// Only requests with `temperature = 0` are cached unless
/// `cache_nondeterministic` is set; errors are never cached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Whether responses are cached. Default false.
    pub enabled: bool,
    /// How long an entry is served, in seconds. Default 300.
    pub ttl_secs: u64,
    /// The maximum bytes of keys and values in the built-in in-memory
    /// cache. The least recently used entries are evicted first. Default
    /// 64 MiB.
    pub max_bytes: u64,
    /// Caches requests whose temperature is unset or above 0 too, so a
    /// sampled response is replayed to every identical request. Default
    /// false.
    pub cache_nondeterministic: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: false,
            ttl_secs: 300,
            max_bytes: 64 * 1024 * 1024,
            cache_nondeterministic: false,
        }
    }
}
