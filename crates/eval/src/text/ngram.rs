//! Token interning and n-gram counting shared by BLEU, ROUGE-N and chrF.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// FNV-1a: a fast hash for short keys. The maps here hold one text pair's
/// tokens, so flooding resistance is not needed.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

pub(crate) type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Maps each distinct token of a text pair to a small integer id.
#[derive(Default)]
pub(crate) struct Interner<'a> {
    ids: FnvMap<&'a str, u32>,
}

impl<'a> Interner<'a> {
    pub(crate) fn ids<I: IntoIterator<Item = &'a str>>(&mut self, tokens: I) -> Vec<u32> {
        tokens
            .into_iter()
            .map(|token| {
                let next = self.ids.len() as u32;
                *self.ids.entry(token).or_insert(next)
            })
            .collect()
    }
}

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
