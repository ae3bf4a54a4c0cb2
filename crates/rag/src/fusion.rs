//! Reciprocal rank fusion of several ranked lists.

use std::collections::HashMap;

/// Default RRF constant `k`, the value used by Cormack, Clarke and Büttcher
/// (SIGIR 2009), who introduced the method.
pub const DEFAULT_RRF_K: f32 = 60.0;

/// Fuses ranked lists of item ids by weighted reciprocal rank.
///
/// An item at 1-based rank `r` in list `i` earns `weights[i] / (k + r)`;
/// an item's score is the sum over the lists that contain it. Returns
/// `(id, score)` best first, ties broken by the smaller id. Lists without a
/// weight count with weight 1.
///
/// ```
/// use llmops_rag::reciprocal_rank_fusion;
///
/// let fused = reciprocal_rank_fusion(&[vec![1, 2], vec![2, 3]], &[1.0, 1.0], 60.0);
/// assert_eq!(fused[0].0, 2);
/// assert!((fused[0].1 - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-6);
/// ```
pub fn reciprocal_rank_fusion(lists: &[Vec<usize>], weights: &[f32], k: f32) -> Vec<(usize, f32)> {
    let mut scores: HashMap<usize, f32> = HashMap::new();
    for (list_index, list) in lists.iter().enumerate() {
        let weight = weights.get(list_index).copied().unwrap_or(1.0);
        for (rank, &id) in list.iter().enumerate() {
            *scores.entry(id).or_insert(0.0) += weight / (k + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<(usize, f32)> = scores.into_iter().collect();
    fused.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_change_the_winner() {
        let lists = [vec![1, 2], vec![2, 1]];
        assert_eq!(reciprocal_rank_fusion(&lists, &[2.0, 1.0], 60.0)[0].0, 1);
        assert_eq!(reciprocal_rank_fusion(&lists, &[1.0, 2.0], 60.0)[0].0, 2);
    }

    #[test]
    fn empty_lists_fuse_to_nothing() {
        assert!(reciprocal_rank_fusion(&[], &[], 60.0).is_empty());
        assert!(reciprocal_rank_fusion(&[vec![]], &[1.0], 60.0).is_empty());
    }

    #[test]
    fn equal_scores_order_by_id() {
        let fused = reciprocal_rank_fusion(&[vec![5], vec![3]], &[1.0, 1.0], 60.0);
        assert_eq!(fused, vec![(3, 1.0 / 61.0), (5, 1.0 / 61.0)]);
    }
}
