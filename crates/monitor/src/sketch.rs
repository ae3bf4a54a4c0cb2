//! A mergeable quantile sketch of latencies, in milliseconds.
//!
//! DDSketch (Masson, Rim and Lee, VLDB 2019) keeps counts in logarithmic
//! bins, so every quantile it returns is within a fixed relative error of
//! the exact value at the same rank, and two sketches merge by adding
//! bins. A bucket of a sliding window holds one sketch, and a window's
//! percentiles come from merging its buckets.

use sketches_ddsketch::{Config, DDSketch};

/// The relative error of every quantile: 1%.
pub const RELATIVE_ERROR: f64 = 0.01;

/// Bins per sketch. At 1% error, 1024 bins span a ratio of about 8e8
/// between the smallest and largest value, 1 µs to about 13 minutes,
/// before the lowest bins collapse.
const MAX_BINS: u32 = 1024;

/// Values at or below this many milliseconds count as zero.
const MIN_VALUE_MS: f64 = 1e-3;

/// A quantile sketch with fixed configuration.
#[derive(Clone)]
pub(crate) struct Sketch {
    inner: DDSketch,
}

impl std::fmt::Debug for Sketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sketch")
            .field("count", &self.inner.count())
            .finish()
    }
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch {
            inner: DDSketch::new(config()),
        }
    }
}

fn config() -> Config {
    Config::new(RELATIVE_ERROR, MAX_BINS, MIN_VALUE_MS)
}

impl Sketch {
    /// Adds one value; negative and non-finite values are ignored.
    pub(crate) fn add(&mut self, value_ms: f64) {
        if value_ms.is_finite() && value_ms >= 0.0 {
            self.inner.add(value_ms);
        }
    }

    /// Adds every value of `other`.
    pub(crate) fn merge(&mut self, other: &Sketch) {
        if other.inner.count() == 0 {
            return;
        }
        // Both sketches come from `config()`, so the merge cannot fail.
        if let Err(error) = self.inner.merge(&other.inner) {
            tracing::debug!(%error, "quantile sketches did not merge");
        }
    }

    /// The value at quantile `q` (0 to 1), none when empty.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        self.inner.quantile(q).ok().flatten()
    }

    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.inner.count() as u64
    }

    /// Empties the sketch. Allocates a new, empty bin store; called once
    /// per bucket rotation, not per value.
    pub(crate) fn clear(&mut self) {
        if self.inner.count() > 0 {
            self.inner = DDSketch::new(config());
        }
    }

    /// Heap bytes held by the bins, estimated.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.inner.length() * std::mem::size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_sketch_has_no_quantile() {
        let sketch = Sketch::default();
        assert_eq!(sketch.quantile(0.5), None);
    }

    #[test]
    fn merge_adds_counts() {
        let mut left = Sketch::default();
        let mut right = Sketch::default();
        left.add(10.0);
        right.add(20.0);
        right.add(30.0);
        left.merge(&right);
        assert_eq!(left.count(), 3);
        let median = left.quantile(0.5).unwrap();
        assert!((median - 20.0).abs() <= 20.0 * RELATIVE_ERROR, "{median}");
    }

    #[test]
    fn invalid_values_are_ignored() {
        let mut sketch = Sketch::default();
        sketch.add(f64::NAN);
        sketch.add(-1.0);
        sketch.add(f64::INFINITY);
        assert_eq!(sketch.count(), 0);
    }

    #[test]
    fn clear_empties() {
        let mut sketch = Sketch::default();
        sketch.add(5.0);
        sketch.clear();
        assert_eq!(sketch.count(), 0);
        assert_eq!(sketch.quantile(0.99), None);
    }
}
