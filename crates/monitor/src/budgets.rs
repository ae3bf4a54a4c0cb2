//! Replacing the monitor's budgets at run time, such as after a
//! configuration reload.

use crate::cost::{Budget, BudgetTracker};
use crate::error::MonitorError;
use crate::monitor::Monitor;

/// Checks that a budget's limit is a positive number of US dollars.
pub(crate) fn validate_budget(budget: &Budget) -> Result<(), MonitorError> {
    if budget.limit_usd.is_finite() && budget.limit_usd > 0.0 {
        return Ok(());
    }
    Err(MonitorError::Invalid {
        field: "budget limit_usd",
        value: budget.limit_usd.to_string(),
        fix: format!(
            "use a positive number of US dollars for budget {}",
            budget.scope
        ),
    })
}

impl Monitor {
    /// Returns the budgets the monitor tracks, in the order they were given.
    pub fn budgets(&self) -> Vec<Budget> {
        self.state()
            .budgets
            .iter()
            .map(|tracker| tracker.budget.clone())
            .collect()
    }

    /// Replaces every budget with `budgets`, as after a configuration
    /// reload. A new budget with the same scope and period as an old one
    /// keeps the old one's spend in the current period, so a changed
    /// limit applies to what was already spent. Budgets left out stop
    /// being tracked.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Invalid`] for a limit that is not a positive
    /// number; the old budgets then stay in place.
    pub fn replace_budgets(
        &self,
        budgets: impl IntoIterator<Item = Budget>,
    ) -> Result<(), MonitorError> {
        let budgets: Vec<Budget> = budgets.into_iter().collect();
        for budget in &budgets {
            validate_budget(budget)?;
        }

        let mut state = self.state();
        let mut old = std::mem::take(&mut state.budgets);
        let mut trackers = Vec::with_capacity(budgets.len());
        for budget in budgets {
            let mut tracker = BudgetTracker::new(budget, &mut state.labels);
            // Each old tracker passes its spend on once, so two new
            // budgets with the same scope and period do not both inherit it.
            let same = old.iter().position(|previous| {
                previous.budget.scope == tracker.budget.scope
                    && previous.budget.period == tracker.budget.period
            });
            if let Some(index) = same {
                tracker.spend = old.swap_remove(index).spend;
            }
            // NOTE: a budget new to this monitor starts at zero spend even
            // when traffic of its scope was recorded earlier in the period,
            // because spend is only tracked per configured budget.
            trackers.push(tracker);
        }
        state.budgets = trackers;
        tracing::info!(budgets = state.budgets.len(), "monitor budgets replaced");
        Ok(())
    }
}
