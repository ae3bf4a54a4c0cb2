//! Budgets, spend per period and what the same traffic would cost on
//! other models.

use std::fmt;
use std::str::FromStr;

use llmops_core::pricing::PriceTable;
use llmops_core::types::Usage as TokenUsage;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::calendar::{day_bounds_ms, month_bounds_ms};
use crate::error::MonitorError;
use crate::labels::{LabelId, Labels};
use crate::snapshot::{BudgetStatus, CostAlternative};

const HOUR_MS: u64 = 3_600_000;

/// The traffic a budget covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BudgetScope {
    /// All traffic.
    Global,
    /// One team's traffic.
    Team(String),
    /// One virtual key's traffic.
    Key(String),
    /// One model's traffic.
    Model(String),
    /// One route's or task's traffic.
    Route(String),
}

impl fmt::Display for BudgetScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BudgetScope::Global => f.write_str("global"),
            BudgetScope::Team(team) => write!(f, "team:{team}"),
            BudgetScope::Key(key) => write!(f, "key:{key}"),
            BudgetScope::Model(model) => write!(f, "model:{model}"),
            BudgetScope::Route(route) => write!(f, "route:{route}"),
        }
    }
}

impl FromStr for BudgetScope {
    type Err = MonitorError;

    /// Parses `global`, `team:NAME`, `key:ID`, `model:NAME` or
    /// `route:NAME`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value == "global" {
            return Ok(BudgetScope::Global);
        }
        let invalid = || MonitorError::Invalid {
            field: "budget scope",
            value: value.to_owned(),
            fix: "use global, team:NAME, key:ID, model:NAME or route:NAME".into(),
        };
        let (kind, name) = value.split_once(':').ok_or_else(invalid)?;
        if name.is_empty() {
            return Err(invalid());
        }
        match kind {
            "team" => Ok(BudgetScope::Team(name.to_owned())),
            "key" => Ok(BudgetScope::Key(name.to_owned())),
            "model" => Ok(BudgetScope::Model(name.to_owned())),
            "route" => Ok(BudgetScope::Route(name.to_owned())),
            _ => Err(invalid()),
        }
    }
}

/// The period a budget resets after, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BudgetPeriod {
    /// A clock hour.
    Hour,
    /// A calendar day.
    Day,
    /// A calendar month.
    Month,
}

impl BudgetPeriod {
    /// The name used in snapshots: `hour`, `day` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetPeriod::Hour => "hour",
            BudgetPeriod::Day => "day",
            BudgetPeriod::Month => "month",
        }
    }

    /// The start and end (exclusive) of the period containing `at_ms`.
    pub(crate) fn bounds_ms(self, at_ms: u64) -> (u64, u64) {
        match self {
            BudgetPeriod::Hour => {
                let start = at_ms / HOUR_MS * HOUR_MS;
                (start, start + HOUR_MS)
            }
            BudgetPeriod::Day => day_bounds_ms(at_ms),
            BudgetPeriod::Month => month_bounds_ms(at_ms),
        }
    }
}

impl FromStr for BudgetPeriod {
    type Err = MonitorError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "hour" => Ok(BudgetPeriod::Hour),
            "day" => Ok(BudgetPeriod::Day),
            "month" => Ok(BudgetPeriod::Month),
            _ => Err(MonitorError::Invalid {
                field: "budget period",
                value: value.to_owned(),
                fix: "use hour, day or month".into(),
            }),
        }
    }
}

/// A spend limit over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// The traffic the budget covers.
    pub scope: BudgetScope,
    /// When it resets.
    pub period: BudgetPeriod,
    /// The limit in US dollars.
    pub limit_usd: f64,
}

/// The label a budget matches, resolved to an interned id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScopeId {
    Global,
    Team(LabelId),
    Key(LabelId),
    Model(LabelId),
    Route(LabelId),
}

/// Spend in the current period, reset when a record of a later period
/// arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct PeriodSpend {
    pub(crate) start_ms: u64,
    pub(crate) spent_usd: f64,
}

impl PeriodSpend {
    /// Adds spend at `at_ms` to the period `(start, end)` containing it;
    /// spend of an earlier period than the current one is dropped.
    pub(crate) fn add(&mut self, period: BudgetPeriod, at_ms: u64, cost_usd: f64) {
        let (start, _) = period.bounds_ms(at_ms);
        if start > self.start_ms {
            self.start_ms = start;
            self.spent_usd = 0.0;
        }
        if start == self.start_ms {
            self.spent_usd += cost_usd;
        }
    }

    /// The spend of the period containing `now_ms`; zero when no record
    /// arrived in it yet.
    pub(crate) fn spent_at(&self, period: BudgetPeriod, now_ms: u64) -> f64 {
        let (start, _) = period.bounds_ms(now_ms);
        if start == self.start_ms {
            self.spent_usd
        } else {
            0.0
        }
    }
}

/// A budget with its spend so far.
#[derive(Debug, Clone)]
pub(crate) struct BudgetTracker {
    pub(crate) budget: Budget,
    pub(crate) scope: ScopeId,
    pub(crate) spend: PeriodSpend,
}

impl BudgetTracker {
    /// Resolves the budget's scope, reserving its label so it never
    /// folds into `other`.
    pub(crate) fn new(budget: Budget, labels: &mut Labels) -> Self {
        let scope = match &budget.scope {
            BudgetScope::Global => ScopeId::Global,
            BudgetScope::Team(team) => ScopeId::Team(labels.team.reserve(team)),
            BudgetScope::Key(key) => ScopeId::Key(labels.key.reserve(key)),
            BudgetScope::Model(model) => ScopeId::Model(labels.model.reserve(model)),
            BudgetScope::Route(route) => ScopeId::Route(labels.route.reserve(route)),
        };
        BudgetTracker {
            budget,
            scope,
            spend: PeriodSpend::default(),
        }
    }

    /// Whether a request with these label ids counts against the budget.
    pub(crate) fn matches(
        &self,
        team: LabelId,
        key: LabelId,
        model: LabelId,
        route: LabelId,
    ) -> bool {
        match self.scope {
            ScopeId::Global => true,
            ScopeId::Team(id) => id == team,
            ScopeId::Key(id) => id == key,
            ScopeId::Model(id) => id == model,
            ScopeId::Route(id) => id == route,
        }
    }

    /// The budget's state at `now_ms`. The projection divides the spend by
    /// the elapsed share of the period, so it assumes the monitor ran
    /// since the period began.
    pub(crate) fn status(&self, now_ms: u64) -> BudgetStatus {
        let period = self.budget.period;
        let spent_usd = self.spend.spent_at(period, now_ms);
        let (start, end) = period.bounds_ms(now_ms);
        let elapsed = now_ms.saturating_sub(start).max(1) as f64 / (end - start) as f64;
        BudgetStatus {
            scope: self.budget.scope.to_string(),
            period: period.as_str().to_owned(),
            limit_usd: self.budget.limit_usd,
            spent_usd,
            projected_usd: spent_usd / elapsed.min(1.0),
        }
    }
}

/// Prices `input_tokens` and `output_tokens` on every model of `table`
/// that generates text, cheapest first, keeping the first `top` models.
/// Models without an output price (embedding models) and models whose
/// price cannot be computed are left out.
pub(crate) fn alternatives(
    table: &PriceTable,
    input_tokens: u64,
    output_tokens: u64,
    actual_usd: f64,
    top: usize,
) -> Vec<CostAlternative> {
    let usage = TokenUsage::new(input_tokens, output_tokens);
    let mut priced: Vec<CostAlternative> = table
        .iter()
        .filter(|(_, price)| price.output_per_million > Decimal::ZERO)
        .filter_map(|(model, price)| {
            let cost = price.cost(&usage).ok()?.total_usd.to_f64()?;
            Some(CostAlternative {
                model: model.to_owned(),
                cost_usd: cost,
                ratio: (actual_usd > 0.0).then(|| cost / actual_usd),
            })
        })
        .collect();
    priced.sort_by(|left, right| {
        left.cost_usd
            .total_cmp(&right.cost_usd)
            .then_with(|| left.model.cmp(&right.model))
    });
    priced.truncate(top);
    priced
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmops_core::pricing::ModelPrice;

    #[test]
    fn scope_parses_and_prints() {
        for text in [
            "global",
            "team:search",
            "key:k1",
            "model:gpt-4o",
            "route:sum",
        ] {
            let scope: BudgetScope = text.parse().unwrap();
            assert_eq!(scope.to_string(), text);
        }
        assert!("team:".parse::<BudgetScope>().is_err());
        assert!("region:eu".parse::<BudgetScope>().is_err());
    }

    #[test]
    fn period_spend_resets_on_new_period() {
        let mut spend = PeriodSpend::default();
        spend.add(BudgetPeriod::Hour, 10, 1.0);
        spend.add(BudgetPeriod::Hour, 20, 2.0);
        assert_eq!(spend.spent_at(BudgetPeriod::Hour, 30), 3.0);
        spend.add(BudgetPeriod::Hour, HOUR_MS + 5, 4.0);
        // A late record of the previous hour is dropped.
        spend.add(BudgetPeriod::Hour, 40, 8.0);
        assert_eq!(spend.spent_at(BudgetPeriod::Hour, HOUR_MS + 10), 4.0);
        assert_eq!(spend.spent_at(BudgetPeriod::Hour, 3 * HOUR_MS), 0.0);
    }

    #[test]
    fn budget_projects_by_elapsed_share() {
        let mut labels = Labels::new(10);
        let mut tracker = BudgetTracker::new(
            Budget {
                scope: BudgetScope::Global,
                period: BudgetPeriod::Hour,
                limit_usd: 10.0,
            },
            &mut labels,
        );
        tracker.spend.add(BudgetPeriod::Hour, 1_000, 2.0);
        let status = tracker.status(HOUR_MS / 4);
        assert_eq!(status.spent_usd, 2.0);
        assert!((status.projected_usd - 8.0).abs() < 1e-9, "{status:?}");
    }

    #[test]
    fn alternatives_sort_cheapest_first() {
        let mut table = PriceTable::new();
        table.insert(
            "dear",
            ModelPrice::new("x", Decimal::from(10), Decimal::from(30)),
        );
        table.insert(
            "cheap",
            ModelPrice::new("x", Decimal::from(1), Decimal::from(2)),
        );
        table.insert(
            "mid",
            ModelPrice::new("x", Decimal::from(3), Decimal::from(6)),
        );
        let rows = alternatives(&table, 1_000_000, 500_000, 4.0, 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].model, "cheap");
        assert!((rows[0].cost_usd - 2.0).abs() < 1e-9);
        assert_eq!(rows[0].ratio, Some(0.5));
        assert_eq!(rows[1].model, "mid");
    }

    #[test]
    fn alternatives_without_spend_have_no_ratio() {
        let mut table = PriceTable::new();
        table.insert(
            "a",
            ModelPrice::new("x", Decimal::from(1), Decimal::from(1)),
        );
        let rows = alternatives(&table, 10, 10, 0.0, 5);
        assert_eq!(rows[0].ratio, None);
    }

    #[test]
    fn alternatives_skip_embedding_models() {
        let mut table = PriceTable::new();
        table.insert(
            "text-embedding-3-small",
            ModelPrice::new("openai", Decimal::new(2, 2), Decimal::ZERO),
        );
        table.insert(
            "chat-mini",
            ModelPrice::new("openai", Decimal::from(1), Decimal::from(2)),
        );
        let rows = alternatives(&table, 1_000, 1_000, 0.0, 5);
        let models: Vec<&str> = rows.iter().map(|row| row.model.as_str()).collect();
        assert_eq!(models, ["chat-mini"]);
    }
}
