//! Counters and histograms since the monitor started, for the Prometheus
//! exposition: Prometheus computes rates itself, so it needs monotonic
//! totals rather than window aggregates.

use std::collections::HashMap;

use crate::labels::{FastMap, LabelId, NONE};
use crate::window::{Grounding, Mean, Usage, slot};

/// Bucket boundaries in seconds of `gen_ai.client.operation.duration`, as
/// the OpenTelemetry GenAI metrics conventions (v1.41.0) advise.
pub(crate) const DURATION_BUCKETS_S: &[f64] = &[
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// Bucket boundaries in seconds of
/// `gen_ai.client.operation.time_to_first_chunk` (v1.41.0).
pub(crate) const FIRST_CHUNK_BUCKETS_S: &[f64] = &[
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// Bucket boundaries in tokens of `gen_ai.client.token.usage` (v1.41.0).
pub(crate) const TOKEN_BUCKETS: &[f64] = &[
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// The most (operation, provider, model) series kept; later ones count
/// under the `other` series.
pub(crate) const MAX_SERIES: usize = 2_000;

/// A histogram with fixed bounds; counts are per bucket, made cumulative
/// when rendered.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    pub(crate) bounds: &'static [f64],
    /// One count per bound plus one for values above the last.
    pub(crate) counts: Vec<u64>,
    pub(crate) sum: f64,
    pub(crate) count: u64,
}

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    pub(crate) fn observe(&mut self, value: f64) {
        let index = self.bounds.partition_point(|bound| *bound < value);
        if let Some(count) = self.counts.get_mut(index) {
            *count += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    fn heap_bytes(&self) -> usize {
        self.counts.capacity() * std::mem::size_of::<u64>()
    }
}

/// (operation, provider, model)
pub(crate) type SeriesKey = (LabelId, LabelId, LabelId);

/// The totals of one (operation, provider, model) series.
#[derive(Debug, Clone)]
pub(crate) struct SeriesTotals {
    pub(crate) usage: Usage,
    pub(crate) cancelled: u64,
    pub(crate) cache_hits: u64,
    pub(crate) cache_lookups: u64,
    pub(crate) fallbacks: u64,
    /// Duration by error class; [`NONE`] for successes.
    pub(crate) duration: Vec<(LabelId, Histogram)>,
    pub(crate) first_chunk: Histogram,
    pub(crate) input_tokens: Histogram,
    pub(crate) output_tokens: Histogram,
}

impl Default for SeriesTotals {
    fn default() -> Self {
        SeriesTotals {
            usage: Usage::default(),
            cancelled: 0,
            cache_hits: 0,
            cache_lookups: 0,
            fallbacks: 0,
            duration: Vec::new(),
            first_chunk: Histogram::new(FIRST_CHUNK_BUCKETS_S),
            input_tokens: Histogram::new(TOKEN_BUCKETS),
            output_tokens: Histogram::new(TOKEN_BUCKETS),
        }
    }
}

impl SeriesTotals {
    /// The duration histogram of `error_class`.
    pub(crate) fn duration_mut(&mut self, error_class: LabelId) -> &mut Histogram {
        let position = self
            .duration
            .iter()
            .position(|(class, _)| *class == error_class);
        let index = match position {
            Some(index) => index,
            None => {
                self.duration
                    .push((error_class, Histogram::new(DURATION_BUCKETS_S)));
                self.duration.len() - 1
            }
        };
        &mut self.duration[index].1
    }

    fn heap_bytes(&self) -> usize {
        self.duration.capacity() * std::mem::size_of::<(LabelId, Histogram)>()
            + self
                .duration
                .iter()
                .map(|(_, histogram)| histogram.heap_bytes())
                .sum::<usize>()
            + self.first_chunk.heap_bytes()
            + self.input_tokens.heap_bytes()
            + self.output_tokens.heap_bytes()
    }
}

/// Everything since start.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) series: FastMap<SeriesKey, SeriesTotals>,
    pub(crate) by_team: Vec<Usage>,
    pub(crate) by_key: Vec<Usage>,
    pub(crate) by_route: Vec<Usage>,
    pub(crate) by_prompt_version: Vec<Usage>,
    pub(crate) failed_attempts: Vec<u64>,
    pub(crate) guard_findings: Vec<u64>,
    /// Mean score by prompt version, model and metric.
    pub(crate) scores: HashMap<(LabelId, LabelId, LabelId), Mean>,
    /// Groundedness by model and prompt version.
    pub(crate) grounding: HashMap<(LabelId, LabelId), Grounding>,
    /// Records dropped because they were older than every window or
    /// later than the clock allows.
    pub(crate) dropped_records: u64,
}

impl Totals {
    /// The series of `key`, or the `other` series once [`MAX_SERIES`]
    /// exist.
    pub(crate) fn series_mut(&mut self, key: SeriesKey) -> &mut SeriesTotals {
        let key = if self.series.len() >= MAX_SERIES && !self.series.contains_key(&key) {
            (0, 0, 0)
        } else {
            key
        };
        self.series.entry(key).or_default()
    }

    /// Adds `usage` to a per-label vector, skipping requests without the
    /// label.
    pub(crate) fn add_usage(values: &mut Vec<Usage>, id: LabelId, usage: &Usage) {
        if id != NONE {
            slot(values, id).add(usage);
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let usage = std::mem::size_of::<Usage>();
        self.series.capacity() * (std::mem::size_of::<(SeriesKey, SeriesTotals)>() + 1)
            + self
                .series
                .values()
                .map(SeriesTotals::heap_bytes)
                .sum::<usize>()
            + (self.by_team.capacity()
                + self.by_key.capacity()
                + self.by_route.capacity()
                + self.by_prompt_version.capacity())
                * usage
            + (self.failed_attempts.capacity() + self.guard_findings.capacity()) * 8
            + self.scores.capacity()
                * (std::mem::size_of::<((LabelId, LabelId, LabelId), Mean)>() + 1)
            + self.grounding.capacity()
                * (std::mem::size_of::<((LabelId, LabelId), Grounding)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_puts_bound_values_in_their_bucket() {
        let mut histogram = Histogram::new(&[1.0, 2.0]);
        histogram.observe(1.0);
        histogram.observe(1.5);
        histogram.observe(9.0);
        assert_eq!(histogram.counts, vec![1, 1, 1]);
        assert_eq!(histogram.count, 3);
        assert_eq!(histogram.sum, 11.5);
    }

    #[test]
    fn series_past_cap_fold_into_other() {
        let mut totals = Totals::default();
        for model in 0..MAX_SERIES as LabelId + 5 {
            totals.series_mut((1, 1, model + 1)).usage.requests += 1;
        }
        assert_eq!(totals.series.len(), MAX_SERIES + 1);
        assert_eq!(totals.series[&(0, 0, 0)].usage.requests, 5);
    }
}
