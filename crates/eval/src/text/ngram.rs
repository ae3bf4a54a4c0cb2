//! Token interning and n-gram counting shared by BLEU, ROUGE-N and chrF.

use std::collections::HashMap;
use std::hash::Hash;

/// Returns the sorted keys of every n-gram of length `n` (1 to 4) of token
/// ids, each key packing the ids into 32-bit lanes so distinct n-grams get
/// distinct keys.
pub(crate) fn sorted_ngram_keys(ids: &[u32], n: usize) -> Vec<u128> {
    if n == 0 || ids.len() < n {
        return Vec::new();
    }
    let mut keys: Vec<u128> = ids
        .windows(n)
        .map(|window| {
            window
                .iter()
                .fold(0u128, |key, &id| (key << 32) | u128::from(id))
        })
        .collect();
    keys.sort_unstable();
    keys
}

/// Returns the clipped overlap of two sorted key lists: the sum over keys of
/// the smaller count.
pub(crate) fn sorted_overlap(left: &[u128], right: &[u128]) -> u64 {
    let (mut i, mut j, mut matched) = (0, 0, 0u64);
    while i < left.len() && j < right.len() {
        match left[i].cmp(&right[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                matched += 1;
                i += 1;
                j += 1;
            }
        }
    }
    matched
}

/// Counts every n-gram of length `n` in `items`.
pub(crate) fn count_ngrams<T: Eq + Hash>(items: &[T], n: usize) -> HashMap<&[T], u32> {
    let mut counts = HashMap::new();
    if n == 0 || items.len() < n {
        return counts;
    }
    for window in items.windows(n) {
        *counts.entry(window).or_insert(0) += 1;
    }
    counts
}

/// Returns the clipped overlap: the sum over n-grams of the smaller count.
pub(crate) fn overlap<K: Eq + Hash>(left: &HashMap<K, u32>, right: &HashMap<K, u32>) -> u32 {
    let (small, large) = if left.len() <= right.len() {
        (left, right)
    } else {
        (right, left)
    };
    small
        .iter()
        .map(|(ngram, count)| (*count).min(large.get(ngram).copied().unwrap_or(0)))
        .sum()
}

/// Packs the ids of one n-gram (up to 4 ids, each at least 1) into 32-bit
/// lanes. Because no id is 0, n-grams of different lengths get different
/// keys, so one map can hold every order.
#[inline]
pub(crate) fn pack_ngram(ids: &[u32]) -> u128 {
    ids.iter()
        .fold(0u128, |key, &id| (key << 32) | u128::from(id))
}

/// An open-addressing map from packed n-gram keys to counts that keeps its
/// memory between uses, so counting a text pair does not allocate.
#[derive(Debug, Default)]
pub(crate) struct NgramCounts {
    /// Keys per slot; 0 marks an empty slot, which no packed n-gram is.
    keys: Vec<u128>,
    counts: Vec<u32>,
    used: Vec<usize>,
    shift: u32,
}

impl NgramCounts {
    /// Empties the map and makes room for `entries` keys.
    pub(crate) fn reset(&mut self, entries: usize) {
        let capacity = (entries * 2).next_power_of_two().max(16);
        if capacity > self.keys.len() {
            self.keys = vec![0; capacity];
            self.counts = vec![0; capacity];
            self.shift = 64 - capacity.trailing_zeros();
        } else {
            for &slot in &self.used {
                self.keys[slot] = 0;
                self.counts[slot] = 0;
            }
        }
        self.used.clear();
    }

    /// Finds the slot of `key`: `Ok` when the key is stored, else `Err` with
    /// the empty slot where it would go. `reset` leaves at least half the
    /// slots empty, so the probe ends.
    #[inline]
    fn find(&self, key: u128) -> Result<usize, usize> {
        let mask = self.keys.len() - 1;
        let folded = (key as u64) ^ ((key >> 64) as u64).wrapping_mul(0xff51_afd7_ed55_8ccd);
        let mut slot = (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize;
        loop {
            let stored = self.keys[slot];
            if stored == key {
                return Ok(slot);
            }
            if stored == 0 {
                return Err(slot);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Returns the slot of `key`, claiming an empty one when the key is new.
    #[inline]
    fn slot(&mut self, key: u128) -> usize {
        self.find(key).unwrap_or_else(|empty| {
            self.keys[empty] = key;
            self.used.push(empty);
            empty
        })
    }

    /// Adds one to the count of `key`.
    #[inline]
    pub(crate) fn add(&mut self, key: u128) {
        let slot = self.slot(key);
        self.counts[slot] += 1;
    }

    /// Raises the count of `key` to `count` if it is lower.
    #[inline]
    pub(crate) fn raise_to(&mut self, key: u128, count: u32) {
        let slot = self.slot(key);
        self.counts[slot] = self.counts[slot].max(count);
    }

    /// Takes one from the count of `key`. Returns `None` when the key is
    /// absent, `Some(true)` when one was taken and `Some(false)` when the
    /// key is present with a count of 0.
    #[inline]
    pub(crate) fn take(&mut self, key: u128) -> Option<bool> {
        let slot = self.find(key).ok()?;
        let taken = self.counts[slot] > 0;
        if taken {
            self.counts[slot] -= 1;
        }
        Some(taken)
    }

    /// Returns every key with its count, in no particular order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (u128, u32)> + '_ {
        self.used
            .iter()
            .map(|&slot| (self.keys[slot], self.counts[slot]))
    }
}
