//! Mean pooling over real tokens and L2 normalisation.

/// The smallest norm divided by, as in `torch.nn.functional.normalize`; a
/// zero vector stays zero instead of becoming NaN.
const MIN_NORM: f32 = 1e-12;

/// Token vectors of one batch, laid out `[text][token][dimension]` with
/// every text padded on the right to the same number of tokens.
pub(crate) struct TokenVectors<'a> {
    pub(crate) values: &'a [f32],
    pub(crate) padded_tokens: usize,
    pub(crate) dimensions: usize,
}

/// Returns, for each text, the mean of its first `lengths[i]` token vectors
/// (the tokens the attention mask keeps) scaled to unit L2 norm.
///
/// Lengths above the padded length are clamped to it, and a length of
/// zero gives a zero vector, so the function never reads outside
/// `vectors.values`.
pub(crate) fn mean_pool_normalized(vectors: &TokenVectors<'_>, lengths: &[usize]) -> Vec<Vec<f32>> {
    let dimensions = vectors.dimensions;
    let text_stride = vectors.padded_tokens * dimensions;
    lengths
        .iter()
        .enumerate()
        .map(|(text, &length)| {
            let start = text * text_stride;
            let length = length.min(vectors.padded_tokens);
            let tokens = vectors
                .values
                .get(start..start + length * dimensions)
                .unwrap_or(&[]);
            let mut mean = vec![0.0f32; dimensions];
            for token in tokens.chunks_exact(dimensions) {
                for (sum, value) in mean.iter_mut().zip(token) {
                    *sum += value;
                }
            }
            let count = (tokens.len() / dimensions.max(1)).max(1) as f32;
            mean.iter_mut().for_each(|value| *value /= count);
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
    fn mean_ignores_padding() {
        // Two texts, three padded tokens, two dimensions; the second text
        // has one real token and the padding holds large values.
        let values = [
            1.0, 0.0, 3.0, 0.0, 100.0, 100.0, //
            0.0, 2.0, 50.0, 50.0, 70.0, 70.0,
        ];
        let vectors = TokenVectors {
            values: &values,
            padded_tokens: 3,
            dimensions: 2,
        };
        let pooled = mean_pool_normalized(&vectors, &[2, 1]);
        assert_eq!(pooled.len(), 2);
        assert_eq!(pooled[0], vec![1.0, 0.0]);
        assert_eq!(pooled[1], vec![0.0, 1.0]);
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
    fn zero_length_reads_nothing() {
        let values = [5.0f32; 4];
        let vectors = TokenVectors {
            values: &values,
            padded_tokens: 2,
            dimensions: 2,
        };
        let pooled = mean_pool_normalized(&vectors, &[0]);
        assert_eq!(pooled, vec![vec![0.0, 0.0]]);
    }

    proptest! {
        #[test]
        fn pooled_vectors_have_unit_norm(
            values in prop::collection::vec(-10.0f32..10.0, 24),
            lengths in prop::collection::vec(1usize..=4, 2),
        ) {
            // Two texts of four padded tokens with three dimensions.
            let vectors = TokenVectors { values: &values, padded_tokens: 4, dimensions: 3 };
            for vector in mean_pool_normalized(&vectors, &lengths) {
                let norm: f32 = vector.iter().map(|value| value * value).sum::<f32>().sqrt();
                prop_assume!(norm > 0.0);
                prop_assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
            }
        }

        #[test]
        fn padding_never_changes_result(
            real in prop::collection::vec(-10.0f32..10.0, 6),
            padding in prop::collection::vec(-1000.0f32..1000.0, 6),
        ) {
            // The same two real tokens, once unpadded and once followed by
            // two padding tokens of arbitrary values.
            let unpadded = TokenVectors { values: &real, padded_tokens: 2, dimensions: 3 };
            let padded_values: Vec<f32> = real.iter().chain(&padding).copied().collect();
            let padded = TokenVectors { values: &padded_values, padded_tokens: 4, dimensions: 3 };
            prop_assert_eq!(
                mean_pool_normalized(&unpadded, &[2]),
                mean_pool_normalized(&padded, &[2])
            );
        }
    }
}
