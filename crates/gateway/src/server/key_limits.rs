//! The one place a virtual key's rate limits and budget reach the gateway.

use crate::gateway::Gateway;
use crate::server::keys::VirtualKey;

/// Applies `key`'s requests-per-minute, tokens-per-minute and budget to
/// `gateway`. Runs for every key when the server starts, when a key is
/// created and after each reload, because a reload builds a new gateway.
pub(crate) fn apply_key_limits(key: &VirtualKey, gateway: &Gateway) {
    // NOTE: the gateway has no runtime limit API in this build, so per-key
    // limits and budgets are stored and listed but not enforced. With the
    // gateway's limits module this becomes `gateway.set_limit(
    // LimitScope::Key(key.id.clone()), LimitRule { requests_per_minute,
    // tokens_per_minute })` and `gateway.set_budget(LimitScope::Key(..),
    // BudgetRule { .. })`.
    let _ = gateway;
    let limited = key.requests_per_minute.is_some()
        || key.tokens_per_minute.is_some()
        || key.budget_usd.is_some();
    if limited {
        tracing::warn!(
            key = %key.id,
            "the key's rate limits and budget are stored but not enforced by this build"
        );
    }
}
