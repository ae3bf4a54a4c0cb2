//! The one place a virtual key's rate limits and budget reach the gateway.

use crate::gateway::Gateway;
use crate::limits::{BudgetPeriod, BudgetRule, LimitRule, LimitScope};
use crate::server::keys::VirtualKey;

/// Applies `key`'s requests-per-minute, tokens-per-minute and budget to
/// `gateway` under the scope of its id. Runs for every key when the server
/// starts, when a key is created and after each reload, because a reload
/// builds a new gateway.
///
/// `budget_usd` is a monthly budget (calendar months in UTC), the period
/// most provider bills use.
pub(crate) fn apply_key_limits(key: &VirtualKey, gateway: &Gateway) {
    let scope = LimitScope::Key(key.id.clone());
    let rule = LimitRule {
        requests_per_minute: key.requests_per_minute,
        tokens_per_minute: key.tokens_per_minute,
    };
    let result = if rule.requests_per_minute.is_some() || rule.tokens_per_minute.is_some() {
        gateway.set_limit(scope.clone(), rule)
    } else {
        gateway.remove_limit(&scope);
        Ok(())
    };
    if let Err(error) = result {
        tracing::error!(key = %key.id, %error, "the key's rate limit was rejected");
    }
    let result = match key.budget_usd {
        Some(limit) => {
            gateway.set_budget(scope.clone(), BudgetRule::new(limit, BudgetPeriod::Month))
        }
        None => {
            gateway.remove_budget(&scope);
            Ok(())
        }
    };
    if let Err(error) = result {
        tracing::error!(key = %key.id, %error, "the key's budget was rejected");
    }
}

/// Removes the limits and budget of a revoked key from `gateway`.
pub(crate) fn remove_key_limits(key_id: &str, gateway: &Gateway) {
    let scope = LimitScope::Key(key_id.to_owned());
    gateway.remove_limit(&scope);
    gateway.remove_budget(&scope);
}
