//! Longest common subsequence length of two token-id sequences, 64 tokens
//! of the first sequence per machine word.
//!
//! This is the bit-parallel LCS-length method known from Allison and Dix
//! and from Hyyrö; the property tests below check it against the dynamic
//! program. Bit `i` of the vector `V` is 0 where the LCS row grows at position `i`
//! of `a`. For each token `y` of `b`, with `M` the positions of `y` in `a`:
//! `V = (V + (V & M)) | (V & !M)`, the addition carrying across words. The
//! LCS length is the number of 0 bits among the first `|a|` at the end.
//! It takes O(|a|/64 · |b|) steps where the dynamic program takes
//! O(|a| · |b|).

/// Buffers kept between calls: the match masks and the vector `V`.
#[derive(Debug, Default)]
pub(crate) struct LcsScratch {
    /// `words` mask words per id, for ids 0 to the largest id of `a`.
    masks: Vec<u64>,
    row: Vec<u64>,
}

impl LcsScratch {
    /// Returns the LCS length of `a` and `b`, whose ids must be below
    /// `id_bound`.
    pub(crate) fn lcs_len(&mut self, a: &[u32], b: &[u32], id_bound: usize) -> usize {
        if a.is_empty() || b.is_empty() {
            return 0;
        }
        let words = a.len().div_ceil(64);
        self.masks.clear();
        self.masks.resize(id_bound * words, 0);
        for (position, &id) in a.iter().enumerate() {
            self.masks[id as usize * words + position / 64] |= 1 << (position % 64);
        }
        self.row.clear();
        self.row.resize(words, u64::MAX);

        for &id in b {
            let Some(mask) = self
                .masks
                .get(id as usize * words..(id as usize + 1) * words)
            else {
                continue;
            };
            let mut carry = false;
            for (v, &m) in self.row.iter_mut().zip(mask) {
                let matched = *v & m;
                let (sum, overflow_a) = v.overflowing_add(matched);
                let (sum, overflow_b) = sum.overflowing_add(u64::from(carry));
                carry = overflow_a || overflow_b;
                *v = sum | (*v & !m);
            }
        }

        let ones: usize = self.row.iter().map(|v| v.count_ones() as usize).sum();
        // Bits past `a.len()` in the last word start as 1 and stay 1: their
        // mask bits are 0, so `V & !M` keeps them.
        let padding = words * 64 - a.len();
        a.len() - (ones - padding)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Computes the LCS length with the textbook dynamic program.
    fn lcs_dynamic(a: &[u32], b: &[u32]) -> usize {
        let mut table = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in 0..a.len() {
            for j in 0..b.len() {
                table[i + 1][j + 1] = if a[i] == b[j] {
                    table[i][j] + 1
                } else {
                    table[i][j + 1].max(table[i + 1][j])
                };
            }
        }
        table[a.len()][b.len()]
    }

    fn bits(a: &[u32], b: &[u32]) -> usize {
        let bound = a.iter().chain(b).max().map_or(0, |&id| id as usize + 1);
        LcsScratch::default().lcs_len(a, b, bound)
    }

    #[test]
    fn lcs_of_known_pairs() {
        assert_eq!(bits(&[1, 2, 3, 4], &[1, 3, 4, 5]), 3);
        assert_eq!(bits(&[1, 2, 3], &[4, 5, 6]), 0);
        assert_eq!(bits(&[], &[1]), 0);
        assert_eq!(bits(&[1], &[]), 0);
        assert_eq!(bits(&[7; 10], &[7; 3]), 3);
    }

    #[test]
    fn lcs_ignores_ids_absent_from_first() {
        // Ids of `b` beyond the mask table are skipped, not an error.
        let mut scratch = LcsScratch::default();
        assert_eq!(scratch.lcs_len(&[1, 2], &[9, 1, 9, 2], 3), 2);
    }

    #[test]
    fn lcs_carries_across_words() {
        let a: Vec<u32> = (0..200).map(|i| i % 7 + 1).collect();
        let b: Vec<u32> = (0..150).map(|i| (i * 3) % 7 + 1).collect();
        assert_eq!(bits(&a, &b), lcs_dynamic(&a, &b));
    }

    #[test]
    fn scratch_reuse_gives_same_result() {
        let mut scratch = LcsScratch::default();
        let first = scratch.lcs_len(&[1, 2, 3, 1, 2], &[2, 1, 2], 4);
        scratch.lcs_len(&[3; 100], &[3; 70], 4);
        assert_eq!(scratch.lcs_len(&[1, 2, 3, 1, 2], &[2, 1, 2], 4), first);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn bit_parallel_equals_dynamic_program(
            a in prop::collection::vec(1u32..6, 0..150),
            b in prop::collection::vec(1u32..6, 0..150),
        ) {
            prop_assert_eq!(bits(&a, &b), lcs_dynamic(&a, &b));
        }

        #[test]
        fn bit_parallel_equals_dynamic_program_wide_alphabet(
            a in prop::collection::vec(1u32..40, 0..80),
            b in prop::collection::vec(1u32..40, 0..80),
        ) {
            prop_assert_eq!(bits(&a, &b), lcs_dynamic(&a, &b));
        }
    }
}
