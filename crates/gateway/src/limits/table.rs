//! The rules in force: limits and budgets by scope, changeable at run time.

use std::collections::HashMap;

use super::{BudgetRule, LimitRule, LimitScope, ScopeKind};

/// Rate-limit rules by scope, with a default per scope kind.
#[derive(Debug, Default)]
pub(crate) struct LimitTable {
    rules: HashMap<LimitScope, LimitRule>,
    defaults: HashMap<ScopeKind, LimitRule>,
}

impl LimitTable {
    pub(crate) fn set(&mut self, scope: LimitScope, rule: LimitRule) {
        self.rules.insert(scope, rule);
    }

    pub(crate) fn remove(&mut self, scope: &LimitScope) -> Option<LimitRule> {
        self.rules.remove(scope)
    }

    pub(crate) fn set_default(&mut self, kind: ScopeKind, rule: Option<LimitRule>) {
        match rule {
            Some(rule) => self.defaults.insert(kind, rule),
            None => self.defaults.remove(&kind),
        };
    }

    /// Returns the rule of `scope`: its own, else its kind's default.
    pub(crate) fn rule(&self, scope: &LimitScope) -> Option<LimitRule> {
        self.rules
            .get(scope)
            .or_else(|| self.defaults.get(&scope.kind()))
            .copied()
    }
}

/// Budget rules by scope, with a default per scope kind.
#[derive(Debug, Default)]
pub(crate) struct BudgetTable {
    rules: HashMap<LimitScope, BudgetRule>,
    defaults: HashMap<ScopeKind, BudgetRule>,
}

impl BudgetTable {
    pub(crate) fn set(&mut self, scope: LimitScope, rule: BudgetRule) {
        self.rules.insert(scope, rule);
    }

    pub(crate) fn remove(&mut self, scope: &LimitScope) -> Option<BudgetRule> {
        self.rules.remove(scope)
    }

    pub(crate) fn set_default(&mut self, kind: ScopeKind, rule: Option<BudgetRule>) {
        match rule {
            Some(rule) => self.defaults.insert(kind, rule),
            None => self.defaults.remove(&kind),
        };
    }

    /// Returns the rule of `scope`: its own, else its kind's default.
    pub(crate) fn rule(&self, scope: &LimitScope) -> Option<BudgetRule> {
        self.rules
            .get(scope)
            .or_else(|| self.defaults.get(&scope.kind()))
            .cloned()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.defaults.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::limits::BudgetPeriod;

    #[test]
    fn own_rule_wins_over_default() {
        let mut table = LimitTable::default();
        table.set_default(ScopeKind::User, Some(LimitRule::new().rpm(5)));
        table.set(LimitScope::User("vip".into()), LimitRule::new().rpm(50));
        assert_eq!(
            table.rule(&LimitScope::User("vip".into())),
            Some(LimitRule::new().rpm(50))
        );
        assert_eq!(
            table.rule(&LimitScope::User("anyone".into())),
            Some(LimitRule::new().rpm(5))
        );
        assert_eq!(table.rule(&LimitScope::Team("anyone".into())), None);
    }

    #[test]
    fn removed_rule_falls_back_to_default() {
        let mut table = LimitTable::default();
        table.set_default(ScopeKind::Key, Some(LimitRule::new().tpm(100)));
        let scope = LimitScope::Key("k1".into());
        table.set(scope.clone(), LimitRule::new().rpm(1));
        assert!(table.remove(&scope).is_some());
        assert_eq!(table.rule(&scope), Some(LimitRule::new().tpm(100)));
        table.set_default(ScopeKind::Key, None);
        assert_eq!(table.rule(&scope), None);
    }

    #[test]
    fn budget_default_covers_scopes_without_own_rule() {
        let mut table = BudgetTable::default();
        assert!(table.is_empty());
        let default = BudgetRule::new(Decimal::TEN, BudgetPeriod::Day);
        let own = BudgetRule::new(Decimal::ONE_HUNDRED, BudgetPeriod::Month);
        table.set_default(ScopeKind::Team, Some(default.clone()));
        assert!(
            !table.is_empty(),
            "a default alone makes the table non-empty"
        );
        table.set(LimitScope::Team("research".into()), own.clone());
        assert_eq!(table.rule(&LimitScope::Team("research".into())), Some(own));
        assert_eq!(
            table.rule(&LimitScope::Team("팀".into())),
            Some(default.clone())
        );
        assert_eq!(table.rule(&LimitScope::Key("research".into())), None);
        assert!(table.remove(&LimitScope::Team("research".into())).is_some());
        assert_eq!(
            table.rule(&LimitScope::Team("research".into())),
            Some(default)
        );
        table.set_default(ScopeKind::Team, None);
        assert!(table.is_empty());
    }
}
