//! Spending budgets: how much a scope may spend per period, and the alerts
//! sent on the way to the limit.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::LimitScope;

/// The span a budget's spend is counted over, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BudgetPeriod {
    /// From 00:00 UTC to the next 00:00 UTC.
    Day,
    /// From the first of the month, 00:00 UTC, to the first of the next.
    Month,
    /// Forever: the spend never resets.
    Total,
}

impl BudgetPeriod {
    /// Returns the adjective used in messages, such as `monthly`.
    pub(crate) fn adjective(self) -> &'static str {
        match self {
            BudgetPeriod::Day => "daily",
            BudgetPeriod::Month => "monthly",
            BudgetPeriod::Total => "total",
        }
    }
}

/// A spending budget in US dollars.
///
/// Once the spend of the current period reaches `limit`, requests of the
/// scope are rejected until the period ends. The request that crosses the
/// limit still completes, because its cost is known only at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetRule {
    /// The maximum spend per period, in US dollars.
    pub limit: Decimal,
    /// The span spend is counted over.
    pub period: BudgetPeriod,
    /// Shares of `limit`, each above 0 and at most 1, at which a
    /// [`BudgetAlert`] fires, once per period each.
    pub alert_at: Vec<Decimal>,
}

impl BudgetRule {
    /// Creates a budget of `limit` US dollars per `period` with no alerts.
    pub fn new(limit: Decimal, period: BudgetPeriod) -> Self {
        BudgetRule {
            limit,
            period,
            alert_at: Vec::new(),
        }
    }

    /// Sets the shares of the limit at which alerts fire, such as 0.5 and 0.8.
    pub fn alert_at(mut self, shares: impl IntoIterator<Item = Decimal>) -> Self {
        self.alert_at = shares.into_iter().collect();
        self
    }

    /// Checks the limit and the alert shares.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        if self.limit <= Decimal::ZERO {
            return Err((
                "limit_usd",
                format!(
                    "{} is not a positive amount; use a budget above 0 US dollars",
                    self.limit
                ),
            ));
        }
        for share in &self.alert_at {
            if *share <= Decimal::ZERO || *share > Decimal::ONE {
                return Err((
                    "alert_at",
                    format!(
                        "{share} is not a share of the budget; use numbers above 0 and at most 1, such as 0.8"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Returns the alert shares that spend crossed going from `before` to
    /// `after`, in ascending order.
    pub(crate) fn crossed(&self, before: Decimal, after: Decimal) -> Vec<Decimal> {
        let mut crossed: Vec<Decimal> = self
            .alert_at
            .iter()
            .copied()
            .filter(|share| {
                let threshold = self.limit * *share;
                before < threshold && after >= threshold
            })
            .collect();
        crossed.sort_unstable();
        crossed.dedup();
        crossed
    }
}

/// Spend of a scope reached an alert share of its budget.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BudgetAlert {
    /// Whose budget.
    pub scope: LimitScope,
    /// The period label, such as `2026-12` or `total`.
    pub period: String,
    /// The share of the budget reached, such as 0.8.
    pub share: Decimal,
    /// The spend so far in the period, in US dollars.
    pub spend: Decimal,
    /// The budget, in US dollars.
    pub limit: Decimal,
}

/// Receives budget alerts. Each alert share fires once per period for a
/// fixed rule, because spend only grows within a period and each increase
/// is applied atomically by the shared state.
pub trait BudgetAlertSink: Send + Sync {
    /// Takes one alert. Called on the request's task, so an implementation
    /// should hand the alert off rather than block.
    fn alert(&self, alert: BudgetAlert);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn crossing_fires_each_share_once() {
        let rule = BudgetRule::new(usd("10"), BudgetPeriod::Day).alert_at([usd("0.5"), usd("0.8")]);
        assert_eq!(rule.crossed(usd("0"), usd("4.99")), Vec::<Decimal>::new());
        assert_eq!(rule.crossed(usd("4.99"), usd("5")), vec![usd("0.5")]);
        assert_eq!(rule.crossed(usd("5"), usd("7")), Vec::<Decimal>::new());
        assert_eq!(
            rule.crossed(usd("1"), usd("9")),
            vec![usd("0.5"), usd("0.8")]
        );
    }

    #[test]
    fn zero_limit_is_rejected() {
        let rule = BudgetRule::new(Decimal::ZERO, BudgetPeriod::Month);
        assert_eq!(
            rule.check().err().map(|(field, _)| field),
            Some("limit_usd")
        );
    }

    #[test]
    fn share_above_one_is_rejected() {
        let rule = BudgetRule::new(Decimal::ONE, BudgetPeriod::Month).alert_at([usd("1.5")]);
        assert_eq!(rule.check().err().map(|(field, _)| field), Some("alert_at"));
    }
}
