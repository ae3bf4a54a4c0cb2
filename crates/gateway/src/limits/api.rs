//! The gateway's public methods for limits, budgets and the cache.

use llmops_core::Error;
use rust_decimal::Decimal;

use super::admission::spend_key;
use super::{BudgetRule, LimitRule, LimitScope, PeriodWindow, ScopeKind};
use crate::error::GatewayError;
use crate::gateway::{GATEWAY_PROVIDER, Gateway};
use crate::state::CacheStats;

fn rule_error(scope: &str, (field, message): (&'static str, String)) -> GatewayError {
    GatewayError::config(format!("{scope}.{field}"), message)
}

impl Gateway {
    /// Sets or replaces the rate limit of `scope`, such as of a virtual key
    /// created at run time. Applies to requests admitted from now on.
    ///
    /// # Errors
    ///
    /// Returns [`GatewayError::Config`] when the rule limits nothing or a
    /// limit is 0.
    pub fn set_limit(&self, scope: LimitScope, rule: LimitRule) -> Result<(), GatewayError> {
        rule.check()
            .map_err(|problem| rule_error(&scope.to_string(), problem))?;
        self.inner
            .limits
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .set(scope, rule);
        Ok(())
    }

    /// Removes the own limit of `scope` and returns it; the default of its
    /// kind applies again, if any.
    pub fn remove_limit(&self, scope: &LimitScope) -> Option<LimitRule> {
        self.inner
            .limits
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(scope)
    }

    /// Sets the default limit of every scope of `kind` that has none of its
    /// own, or removes it with `None`.
    ///
    /// # Errors
    ///
    /// Returns [`GatewayError::Config`] when the rule limits nothing or a
    /// limit is 0.
    pub fn set_default_limit(
        &self,
        kind: ScopeKind,
        rule: Option<LimitRule>,
    ) -> Result<(), GatewayError> {
        if let Some(rule) = &rule {
            rule.check()
                .map_err(|problem| rule_error(&format!("default {}", kind.as_str()), problem))?;
        }
        self.inner
            .limits
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .set_default(kind, rule);
        Ok(())
    }

    /// Sets or replaces the budget of `scope`. Spend already recorded for
    /// the current period counts against the new rule.
    ///
    /// # Errors
    ///
    /// Returns [`GatewayError::Config`] when the limit is not above 0 or an
    /// alert share is outside (0, 1].
    pub fn set_budget(&self, scope: LimitScope, rule: BudgetRule) -> Result<(), GatewayError> {
        rule.check()
            .map_err(|problem| rule_error(&scope.to_string(), problem))?;
        self.inner
            .budgets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .set(scope, rule);
        Ok(())
    }

    /// Removes the own budget of `scope` and returns it; the default of its
    /// kind applies again, if any.
    pub fn remove_budget(&self, scope: &LimitScope) -> Option<BudgetRule> {
        self.inner
            .budgets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(scope)
    }

    /// Sets the default budget of every scope of `kind` that has none of
    /// its own, or removes it with `None`. Each scope under the default
    /// has its own spend, such as $10 a day for every team.
    ///
    /// # Errors
    ///
    /// Returns [`GatewayError::Config`] when the limit is not above 0 or an
    /// alert share is outside (0, 1].
    pub fn set_default_budget(
        &self,
        kind: ScopeKind,
        rule: Option<BudgetRule>,
    ) -> Result<(), GatewayError> {
        if let Some(rule) = &rule {
            rule.check()
                .map_err(|problem| rule_error(&format!("default {}", kind.as_str()), problem))?;
        }
        self.inner
            .budgets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .set_default(kind, rule);
        Ok(())
    }

    /// Returns the spend of `scope` in the current period of its budget
    /// (its own or its kind's default), in US dollars. Spend is recorded
    /// only while a scope has a budget, so a scope without one returns 0.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Backend`] when the shared state cannot be read.
    pub async fn spend(&self, scope: &LimitScope) -> Result<Decimal, Error> {
        let rule = self
            .inner
            .budgets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .rule(scope);
        let Some(rule) = rule else {
            return Ok(Decimal::ZERO);
        };
        let period = PeriodWindow::containing(rule.period, self.inner.clock.now_ms());
        self.inner
            .state
            .spend(&spend_key(scope, &period))
            .await
            .map_err(|error| Error::Backend {
                provider: GATEWAY_PROVIDER.to_owned(),
                message: error.to_string(),
            })
    }

    /// Returns the response-cache counters: hits, misses, entries and bytes.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Backend`] when the shared state cannot be read.
    pub async fn cache_stats(&self) -> Result<CacheStats, Error> {
        self.inner
            .state
            .cache_stats()
            .await
            .map_err(|error| Error::Backend {
                provider: GATEWAY_PROVIDER.to_owned(),
                message: error.to_string(),
            })
    }
}
