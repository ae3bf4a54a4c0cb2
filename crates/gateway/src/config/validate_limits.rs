//! Checks of the `[[limits]]`, `[[budgets]]` and `[cache]` sections.

use std::collections::BTreeSet;

use super::GatewayConfig;
use crate::error::GatewayError;
use crate::limits::ScopeKind;

impl GatewayConfig {
    pub(super) fn validate_limits(&self) -> Result<(), GatewayError> {
        let mut seen = BTreeSet::new();
        for (index, limit) in self.limits.iter().enumerate() {
            let key = format!("limits[{index}]");
            self.check_scope_id(&key, limit.scope, limit.id.as_deref())?;
            if !seen.insert((limit.scope, limit.id.clone())) {
                let message = match &limit.id {
                    Some(id) => format!(
                        "{} {id:?} has two limits; merge them into one entry",
                        limit.scope.as_str()
                    ),
                    None => format!(
                        "there are two default {} limits (entries without id); keep one",
                        limit.scope.as_str()
                    ),
                };
                return Err(GatewayError::config(format!("{key}.id"), message));
            }
            limit.rule().check().map_err(|(field, message)| {
                GatewayError::config(format!("{key}.{field}"), message)
            })?;
        }

        let mut seen = BTreeSet::new();
        for (index, budget) in self.budgets.iter().enumerate() {
            let key = format!("budgets[{index}]");
            self.check_scope_id(&key, budget.scope, budget.id.as_deref())?;
            if !seen.insert((budget.scope, budget.id.clone())) {
                let message = match &budget.id {
                    Some(id) => {
                        format!("{} {id:?} has two budgets; keep one", budget.scope.as_str())
                    }
                    None => format!(
                        "there are two default {} budgets (entries without id); keep one",
                        budget.scope.as_str()
                    ),
                };
                return Err(GatewayError::config(format!("{key}.id"), message));
            }
            let rule = budget.rule().map_err(|(position, share)| {
                GatewayError::config(
                    format!("{key}.alert_at[{position}]"),
                    format!("{share} is not a number; use a share such as 0.8"),
                )
            })?;
            rule.check().map_err(|(field, message)| {
                GatewayError::config(format!("{key}.{field}"), message)
            })?;
        }

        let cache = &self.cache;
        if cache.enabled && cache.ttl_secs == 0 {
            return Err(GatewayError::config(
                "cache.ttl_secs",
                "a TTL of 0 s would never serve an entry; use 1 or more, or set enabled = false",
            ));
        }
        if cache.enabled && cache.max_bytes == 0 {
            return Err(GatewayError::config(
                "cache.max_bytes",
                "a bound of 0 bytes holds no entry; use a size such as 67108864 (64 MiB)",
            ));
        }
        Ok(())
    }

    /// Checks the id of a scope: not empty, and a configured model for a
    /// model scope.
    fn check_scope_id(
        &self,
        key: &str,
        kind: ScopeKind,
        id: Option<&str>,
    ) -> Result<(), GatewayError> {
        let Some(id) = id else {
            return Ok(());
        };
        if id.trim().is_empty() {
            return Err(GatewayError::config(
                format!("{key}.id"),
                format!(
                    "the {} id is empty; give one, or remove `id` to set the default of every {}",
                    kind.as_str(),
                    kind.as_str()
                ),
            ));
        }
        if kind == ScopeKind::Model {
            self.require_model(&format!("{key}.id"), id)?;
        }
        Ok(())
    }
}
