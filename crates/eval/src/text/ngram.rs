//! N-gram counting shared by BLEU, ROUGE-N and chrF.

use std::collections::HashMap;
use std::hash::Hash;

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
