//! Mean pooling over real tokens and L2 normalisation.

/// The smallest norm divided by, as in `torch.nn.functional.normalize`; a
/// zero vector stays zero instead of becoming NaN.
const MIN_NORM: f32 = 1e-12;

/// Returns, for each text, the mean of its token vectors scaled to unit
/// L2 norm.
///
/// `values` contains the token vectors of all texts one after another, each
/// of `dimensions` values: first the `lengths[0]` tokens of text 0, then
/// those of text 1, and so on. A length of zero gives a zero vector, and
/// tokens missing from the end of `values` are left out, so the function
/// never reads outside it.
pub(crate) fn mean_pool_normalized(
    values: &[f32],
    lengths: &[usize],
    dimensions: usize,
) -> Vec<Vec<f32>> {
    let mut rows = values.chunks_exact(dimensions.max(1));
    lengths
        .iter()
        .map(|&length| {
            let mut mean = vec![0.0f32; dimensions];
            let mut count = 0usize;
            for row in rows.by_ref().take(length) {
                for (sum, value) in mean.iter_mut().zip(row) {
                    *sum += value;
                }
                count += 1;
            }
            let divisor = count.max(1) as f32;
            mean.iter_mut().for_each(|value| *value /= divisor);
            normalize(&mut mean);
            mean
        })
        .collect()
}

/// Scales `vector` to unit L2 norm in place.
pub(crate) fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|value| value * value).sum::<f32>().sqrt();
    let divisor = norm.max(MIN_NORM);
    vector.iter_mut().for_each(|value| *value /= divisor);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn each_text_averages_its_own_tokens() {
        // Two texts of two dimensions: two tokens, then one token.
        let values = [1.0, 0.0, 3.0, 0.0, 0.0, 2.0];
        let pooled = mean_pool_normalized(&values, &[2, 1], 2);
        assert_eq!(pooled, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
    }

    #[test]
    fn normalize_divides_by_norm() {
        let mut vector = [3.0, 4.0];
        normalize(&mut vector);
        assert!((vector[0] - 0.6).abs() < 1e-6, "{vector:?}");
        assert!((vector[1] - 0.8).abs() < 1e-6, "{vector:?}");
    }

    #[test]
    fn zero_vector_stays_zero() {
        let mut vector = [0.0f32; 4];
        normalize(&mut vector);
        assert!(vector.iter().all(|value| *value == 0.0), "{vector:?}");
    }

    #[test]
    fn zero_and_missing_lengths_read_nothing() {
        let values = [5.0f32; 4];
        let pooled = mean_pool_normalized(&values, &[0, 5, 1], 2);
        let unit = 0.5f32.sqrt();
        assert_eq!(pooled[0], vec![0.0, 0.0]);
        assert_eq!(pooled[1], vec![unit, unit]);
        assert_eq!(pooled[2], vec![0.0, 0.0]);
    }

    proptest! {
        #[test]
        fn pooled_vectors_have_unit_norm(
            values in prop::collection::vec(-10.0f32..10.0, 24),
            first in 1usize..=4,
        ) {
            // Eight tokens of three dimensions, split into two texts.
            for vector in mean_pool_normalized(&values, &[first, 8 - first], 3) {
                let norm: f32 = vector.iter().map(|value| value * value).sum::<f32>().sqrt();
                prop_assume!(norm > 0.0);
                prop_assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
            }
        }

        #[test]
        fn a_text_pools_alike_alone_or_packed(
            before in prop::collection::vec(-10.0f32..10.0, 6),
            text in prop::collection::vec(-10.0f32..10.0, 6),
        ) {
            let packed: Vec<f32> = before.iter().chain(&text).copied().collect();
            let alone = mean_pool_normalized(&text, &[2], 3);
            let together = mean_pool_normalized(&packed, &[2, 2], 3);
            prop_assert_eq!(&alone[0], &together[1]);
        }
    }
}
