//! Sliding windows as rings of time buckets.
//!
//! Each window (one minute, one hour, one day) is cut into
//! [`BUCKETS_PER_WINDOW`] buckets of equal length. A record lands in the
//! bucket of its timestamp; a bucket whose slot is reused for a newer
//! period is cleared first, so data older than the window drops out
//! without a sweep. Clearing keeps the buckets' vectors, so recording
//! allocates only when a label id is seen for the first time in a slot.

use std::collections::HashMap;

use crate::labels::LabelId;
use crate::sketch::Sketch;
use crate::snapshot::Window;

/// Buckets per window; also the number of points of the dashboard's
/// time series.
pub const BUCKETS_PER_WINDOW: usize = 60;

/// Requests, tokens and spend of one label value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Usage {
    pub(crate) requests: u64,
    /// Requests that failed on the service's side.
    pub(crate) errors: u64,
    /// Requests that failed by their own fault (client error classes).
    pub(crate) rejected: u64,
    pub(crate) input_tokens: u64,
    pub(crate) output_tokens: u64,
    pub(crate) cost_usd: f64,
}

impl Usage {
    pub(crate) fn add(&mut self, other: &Usage) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.rejected += other.rejected;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cost_usd += other.cost_usd;
    }
}

/// A sum and a count, for means.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Mean {
    pub(crate) sum: f64,
    pub(crate) count: u64,
}

impl Mean {
    pub(crate) fn add(&mut self, other: &Mean) {
        self.sum += other.sum;
        self.count += other.count;
    }

    pub(crate) fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

/// Groundedness scores of one model and prompt version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Grounding {
    pub(crate) scored: u64,
    pub(crate) ungrounded: u64,
}

/// Everything recorded in one period of one window.
#[derive(Debug, Default, Clone)]
pub(crate) struct Bucket {
    /// The period's number: its start divided by the bucket length; none
    /// for a slot never used.
    pub(crate) period: Option<u64>,
    pub(crate) total: Usage,
    pub(crate) cancelled: u64,
    pub(crate) cache_hits: u64,
    pub(crate) cache_lookups: u64,
    pub(crate) fallbacks: u64,
    pub(crate) latency: Sketch,
    pub(crate) first_token: Sketch,
    pub(crate) by_model: Vec<Usage>,
    pub(crate) by_team: Vec<Usage>,
    pub(crate) by_key: Vec<Usage>,
    pub(crate) by_route: Vec<Usage>,
    pub(crate) by_prompt_version: Vec<Usage>,
    pub(crate) errors_by_class: Vec<u64>,
    pub(crate) failed_attempts: Vec<u64>,
    pub(crate) guard_findings: Vec<u64>,
    /// Mean score by prompt version, model and metric.
    pub(crate) scores: HashMap<(LabelId, LabelId, LabelId), Mean>,
    /// Groundedness by model and prompt version.
    pub(crate) grounding: HashMap<(LabelId, LabelId), Grounding>,
}

/// The element of `values` at `id`, growing the vector when needed.
pub(crate) fn slot<T: Default + Clone>(values: &mut Vec<T>, id: LabelId) -> &mut T {
    let index = usize::from(id);
    if index >= values.len() {
        values.resize(index + 1, T::default());
    }
    &mut values[index]
}

fn zero<T: Default>(values: &mut [T]) {
    values.iter_mut().for_each(|value| *value = T::default());
}

impl Bucket {
    /// Empties the bucket for `period`, keeping its allocations.
    fn reset(&mut self, period: u64) {
        self.period = Some(period);
        self.total = Usage::default();
        self.cancelled = 0;
        self.cache_hits = 0;
        self.cache_lookups = 0;
        self.fallbacks = 0;
        self.latency.clear();
        self.first_token.clear();
        zero(&mut self.by_model);
        zero(&mut self.by_team);
        zero(&mut self.by_key);
        zero(&mut self.by_route);
        zero(&mut self.by_prompt_version);
        zero(&mut self.errors_by_class);
        zero(&mut self.failed_attempts);
        zero(&mut self.guard_findings);
        self.scores.clear();
        self.grounding.clear();
    }

    /// Heap bytes held, estimated from capacities.
    pub(crate) fn heap_bytes(&self) -> usize {
        let usage = std::mem::size_of::<Usage>();
        let vectors = (self.by_model.capacity()
            + self.by_team.capacity()
            + self.by_key.capacity()
            + self.by_route.capacity()
            + self.by_prompt_version.capacity())
            * usage
            + (self.errors_by_class.capacity()
                + self.failed_attempts.capacity()
                + self.guard_findings.capacity())
                * std::mem::size_of::<u64>();
        let maps = self.scores.capacity()
            * (std::mem::size_of::<((LabelId, LabelId, LabelId), Mean)>() + 1)
            + self.grounding.capacity()
                * (std::mem::size_of::<((LabelId, LabelId), Grounding)>() + 1);
        vectors + maps + self.latency.heap_bytes() + self.first_token.heap_bytes()
    }
}

/// The buckets of one window.
#[derive(Debug)]
pub(crate) struct Ring {
    pub(crate) bucket_ms: u64,
    pub(crate) buckets: Vec<Bucket>,
}

impl Ring {
    pub(crate) fn new(window: Window) -> Self {
        Ring {
            bucket_ms: window.millis() / BUCKETS_PER_WINDOW as u64,
            buckets: vec![Bucket::default(); BUCKETS_PER_WINDOW],
        }
    }

    /// The bucket for a record at `at_ms`, cleared when its slot held an
    /// older period; none when the record is older than the window at
    /// `now_ms` or its slot already holds a newer period.
    pub(crate) fn bucket_mut(&mut self, at_ms: u64, now_ms: u64) -> Option<&mut Bucket> {
        let period = at_ms / self.bucket_ms;
        let now_period = now_ms / self.bucket_ms;
        if period + (BUCKETS_PER_WINDOW as u64) <= now_period {
            return None;
        }
        let index = (period % BUCKETS_PER_WINDOW as u64) as usize;
        let bucket = self.buckets.get_mut(index)?;
        match bucket.period {
            Some(current) if current == period => {}
            Some(current) if current > period => return None,
            _ => bucket.reset(period),
        }
        Some(bucket)
    }

    /// The window's buckets at `now_ms`, oldest first, with the start of
    /// each period; `None` for a period with no records.
    pub(crate) fn live(&self, now_ms: u64) -> Vec<(u64, Option<&Bucket>)> {
        let now_period = now_ms / self.bucket_ms;
        let first = (now_period + 1).saturating_sub(BUCKETS_PER_WINDOW as u64);
        (first..=now_period)
            .map(|period| {
                let index = (period % BUCKETS_PER_WINDOW as u64) as usize;
                let bucket = self
                    .buckets
                    .get(index)
                    .filter(|bucket| bucket.period == Some(period));
                (period * self.bucket_ms, bucket)
            })
            .collect()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Bucket>()
            + self.buckets.iter().map(Bucket::heap_bytes).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_period_is_rejected() {
        let mut ring = Ring::new(Window::Minute);
        ring.bucket_mut(61_000, 61_000).unwrap().total.requests += 1;
        // 1_000 ms shares the slot of 61_000 ms but is a minute older.
        assert!(ring.bucket_mut(1_000, 61_000).is_none());
    }

    #[test]
    fn record_older_than_window_is_rejected() {
        let mut ring = Ring::new(Window::Minute);
        assert!(ring.bucket_mut(1_000, 61_000).is_none());
        assert!(ring.bucket_mut(2_000, 61_000).is_some());
    }

    #[test]
    fn reused_slot_is_cleared() {
        let mut ring = Ring::new(Window::Minute);
        ring.bucket_mut(1_000, 1_000).unwrap().total.requests += 5;
        let bucket = ring.bucket_mut(61_000, 61_000).unwrap();
        assert_eq!(bucket.total.requests, 0);
    }

    #[test]
    fn live_lists_window_oldest_first() {
        let mut ring = Ring::new(Window::Minute);
        ring.bucket_mut(100_500, 100_500).unwrap().total.requests += 1;
        let live = ring.live(100_900);
        assert_eq!(live.len(), BUCKETS_PER_WINDOW);
        assert_eq!(live[0].0, 41_000);
        assert_eq!(live[59].0, 100_000);
        assert!(live[59].1.is_some());
        assert!(live[0].1.is_none());
    }
}
