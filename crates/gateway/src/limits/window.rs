//! A sliding-window log: the amounts admitted in the last period, each
//! with its admission time.
//!
//! A token bucket or GCRA lets through up to twice the limit in some
//! 60-second spans: a full burst, then the refill. The log admits an amount
//! only when it fits under the limit together with the amounts admitted in
//! the trailing period. So no span of one period ever contains more than
//! the limit, unless a settled amount grew after admission.

use std::collections::VecDeque;

/// One admitted amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    id: u64,
    at_ms: u64,
    amount: u64,
}

/// The log of one limit (one scope, requests or tokens).
#[derive(Debug, Default)]
pub(crate) struct SlidingWindow {
    entries: VecDeque<Entry>,
    total: u64,
}

impl SlidingWindow {
    /// Drops entries older than one period before `now_ms`.
    pub(crate) fn prune(&mut self, now_ms: u64, period_ms: u64) {
        while let Some(front) = self.entries.front() {
            if front.at_ms.saturating_add(period_ms) > now_ms {
                break;
            }
            self.total = self.total.saturating_sub(front.amount);
            self.entries.pop_front();
        }
    }

    /// Returns how many milliseconds to wait until `amount` fits under
    /// `limit`: 0 when it fits now, none when it can never fit because it
    /// exceeds the limit by itself. Call [`SlidingWindow::prune`] first.
    pub(crate) fn wait_ms(
        &self,
        now_ms: u64,
        period_ms: u64,
        limit: u64,
        amount: u64,
    ) -> Option<u64> {
        if amount > limit {
            return None;
        }
        let needed = self.total.saturating_add(amount);
        if needed <= limit {
            return Some(0);
        }
        // The oldest entries expire first: wait until enough of them have.
        let mut excess = needed - limit;
        for entry in &self.entries {
            if entry.amount >= excess {
                let expires = entry.at_ms.saturating_add(period_ms);
                return Some(expires.saturating_sub(now_ms).max(1));
            }
            excess -= entry.amount;
        }
        Some(period_ms)
    }

    /// Records `amount` admitted at `now_ms` under `id`.
    pub(crate) fn push(&mut self, id: u64, now_ms: u64, amount: u64) {
        // Entries stay in time order even if the clock stepped back.
        let at_ms = self
            .entries
            .back()
            .map_or(now_ms, |last| last.at_ms.max(now_ms));
        self.entries.push_back(Entry { id, at_ms, amount });
        self.total = self.total.saturating_add(amount);
    }

    /// Replaces the amount of entry `id` by `amount`; an entry that has
    /// already left the window is not counted any more, so nothing changes.
    pub(crate) fn settle(&mut self, id: u64, amount: u64) {
        if let Some(entry) = self.entries.iter_mut().find(|entry| entry.id == id) {
            self.total = self
                .total
                .saturating_sub(entry.amount)
                .saturating_add(amount);
            entry.amount = amount;
        }
    }

    /// Returns whether the window contains no entries.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns the sum of the amounts in the window.
    #[cfg(test)]
    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const PERIOD: u64 = 60_000;

    /// Admits `amount` when it fits, as the shared state does.
    fn try_admit(window: &mut SlidingWindow, id: u64, now: u64, limit: u64, amount: u64) -> bool {
        window.prune(now, PERIOD);
        if window.wait_ms(now, PERIOD, limit, amount) == Some(0) {
            window.push(id, now, amount);
            true
        } else {
            false
        }
    }

    #[test]
    fn full_window_waits_for_oldest_entry() {
        let mut window = SlidingWindow::default();
        assert!(try_admit(&mut window, 1, 1_000, 2, 1));
        assert!(try_admit(&mut window, 2, 5_000, 2, 1));
        assert!(!try_admit(&mut window, 3, 6_000, 2, 1));
        assert_eq!(window.wait_ms(6_000, PERIOD, 2, 1), Some(55_000));
        assert!(
            try_admit(&mut window, 3, 61_000, 2, 1),
            "the first entry expired"
        );
    }

    #[test]
    fn amount_above_limit_never_fits() {
        let window = SlidingWindow::default();
        assert_eq!(window.wait_ms(0, PERIOD, 10, 11), None);
        assert_eq!(window.wait_ms(0, PERIOD, 10, 10), Some(0));
    }

    #[test]
    fn settle_returns_unused_reservation() {
        let mut window = SlidingWindow::default();
        assert!(try_admit(&mut window, 1, 0, 100, 80));
        assert!(!try_admit(&mut window, 2, 10, 100, 30));
        window.settle(1, 20);
        assert_eq!(window.total(), 20);
        assert!(try_admit(&mut window, 2, 20, 100, 30));
    }

    #[test]
    fn settle_after_expiry_changes_nothing() {
        let mut window = SlidingWindow::default();
        assert!(try_admit(&mut window, 1, 0, 100, 50));
        window.prune(PERIOD, PERIOD);
        window.settle(1, 90);
        assert_eq!(window.total(), 0);
        assert!(window.is_empty());
    }

    #[test]
    fn clock_step_back_keeps_order() {
        let mut window = SlidingWindow::default();
        window.push(1, 10_000, 1);
        window.push(2, 4_000, 1);
        window.prune(69_999, PERIOD);
        assert_eq!(window.total(), 2, "neither entry is a full period old");
        window.prune(70_000, PERIOD);
        assert!(window.is_empty());
    }

    proptest! {
        /// No span of one period ever contains more than the limit, whatever
        /// the arrival times, amounts and downward settlements.
        #[test]
        fn no_window_exceeds_limit(
            limit in 1u64..50,
            steps in proptest::collection::vec((0u64..20_000, 0u64..20, 0u64..3), 1..200),
        ) {
            let mut window = SlidingWindow::default();
            let mut now = 0u64;
            let mut admitted: Vec<(u64, u64, u64)> = Vec::new();
            for (id, (advance, amount, shrink)) in (0u64..).zip(steps) {
                now += advance;
                if try_admit(&mut window, id, now, limit, amount) {
                    admitted.push((id, now, amount));
                }
                // Settle an earlier reservation down, as a call that used
                // less than it reserved does.
                if shrink > 0 {
                    if let Some(entry) = admitted.iter_mut().rev().nth(shrink as usize - 1) {
                        entry.2 /= 2;
                        window.settle(entry.0, entry.2);
                    }
                }
            }
            for &(_, start, _) in &admitted {
                let in_window: u64 = admitted
                    .iter()
                    .filter(|(_, at, _)| *at >= start && *at < start + PERIOD)
                    .map(|(_, _, amount)| amount)
                    .sum();
                prop_assert!(in_window <= limit, "{in_window} > {limit} in the window from {start}");
            }
        }
    }
}
