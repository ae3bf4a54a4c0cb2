//! Dot products of quantized weight rows with quantized activations, and
//! the matrix product over a range of rows built on them.
//!
//! On x86-64 CPUs with AVX2 and FMA the products use 256-bit integer
//! multiply-adds through `pulp`'s safe intrinsics, selected at run time;
//! elsewhere a scalar loop computes the same sums. Both add the integer
//! products of a block exactly and differ only in the order in which the
//! per-block f32 terms are added.

use std::ops::Range;

use crate::quant::{QuantActivations, QuantMatrix, Quants};

/// Computes `out[r][t] = dot(w row rows.start + r, x vector t)` for every
/// row in `rows` and every vector of `x`; `out` contains `rows.len() × x.len()`
/// values, row by row.
pub(crate) fn matmul_rows(
    weights: &QuantMatrix,
    activations: &QuantActivations,
    rows: Range<usize>,
    out: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        simd.vectorize(|| {
            matmul_rows_with(weights, activations, rows, out, |w, x| {
                avx2::dot(simd, w, x)
            })
        });
        return;
    }
    matmul_rows_with(weights, activations, rows, out, scalar::dot);
}

/// Returns the f32 dot product of `a` and `b`, summed in 8 interleaved
/// lanes so that the compiler can vectorize it.
#[inline(always)]
pub(crate) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let a_chunks = a.chunks_exact(8);
    let b_chunks = b.chunks_exact(8);
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            lanes[lane] += a[lane] * b[lane];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[inline(always)]
fn matmul_rows_with(
    weights: &QuantMatrix,
    activations: &QuantActivations,
    rows: Range<usize>,
    out: &mut [f32],
    dot: impl Fn(RowBlocks<'_>, (&[[i8; 32]], &[f32], &[f32])) -> f32,
) {
    let vectors = activations.len();
    if vectors == 0 {
        return;
    }
    for (row, out_row) in rows.zip(out.chunks_exact_mut(vectors)) {
        let blocks = RowBlocks::of(weights, row);
        for (vector, out) in out_row.iter_mut().enumerate() {
            *out = dot(blocks, activations.vector(vector));
        }
    }
}

/// One weight row's blocks.
#[derive(Clone, Copy)]
pub(crate) enum RowBlocks<'a> {
    Q4_1 {
        quants: &'a [[u8; 16]],
        scales: &'a [f32],
        mins: &'a [f32],
    },
    Q8_0 {
        quants: &'a [[i8; 32]],
        scales: &'a [f32],
    },
}

impl<'a> RowBlocks<'a> {
    #[inline(always)]
    fn of(weights: &'a QuantMatrix, row: usize) -> Self {
        let blocks = weights.row_blocks();
        let range = row * blocks..(row + 1) * blocks;
        let scales = &weights.scales[range.clone()];
        match &weights.quants {
            Quants::Q4_1 { quants, mins } => RowBlocks::Q4_1 {
                quants: &quants[range.clone()],
                scales,
                mins: &mins[range],
            },
            Quants::Q8_0 { quants } => RowBlocks::Q8_0 {
                quants: &quants[range],
                scales,
            },
        }
    }
}

/// The portable kernels: the block sums in candle 0.11's scalar order.
pub(crate) mod scalar {
    use super::RowBlocks;

    /// Returns the dot product of a weight row with one activation vector
    /// (values, scales, sums).
    #[inline(always)]
    pub(crate) fn dot(row: RowBlocks<'_>, vector: (&[[i8; 32]], &[f32], &[f32])) -> f32 {
        let (y_quants, y_scales, y_sums) = vector;
        let mut total = 0f32;
        match row {
            RowBlocks::Q4_1 {
                quants,
                scales,
                mins,
            } => {
                let blocks = quants.iter().zip(scales).zip(mins);
                let activations = y_quants.iter().zip(y_scales).zip(y_sums);
                for (((packed, &scale), &min), ((values, &y_scale), &y_sum)) in
                    blocks.zip(activations)
                {
                    let mut sum = 0i32;
                    for (j, &byte) in packed.iter().enumerate() {
                        sum += i32::from(byte & 0x0F) * i32::from(values[j])
                            + i32::from(byte >> 4) * i32::from(values[j + 16]);
                    }
                    total += sum as f32 * scale * y_scale + min * y_sum;
                }
            }
            RowBlocks::Q8_0 { quants, scales } => {
                let blocks = quants.iter().zip(scales);
                for ((weights, &scale), (values, &y_scale)) in
                    blocks.zip(y_quants.iter().zip(y_scales))
                {
                    let sum: i32 = weights
                        .iter()
                        .zip(values)
                        .map(|(&w, &x)| i32::from(w) * i32::from(x))
                        .sum();
                    total += sum as f32 * (scale * y_scale);
                }
            }
        }
        total
    }
}

/// The AVX2 and FMA kernels.
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use pulp::x86::V3;
    use std::arch::x86_64::{__m128i, __m256, __m256i};

    use super::RowBlocks;

    /// Returns the dot product of a weight row with one activation vector,
    /// like [`super::scalar::dot`].
    #[inline(always)]
    pub(crate) fn dot(simd: V3, row: RowBlocks<'_>, vector: (&[[i8; 32]], &[f32], &[f32])) -> f32 {
        let (y_quants, y_scales, y_sums) = vector;
        let ones = simd.avx._mm256_set1_epi16(1);
        let mut acc = simd.avx._mm256_setzero_ps();
        match row {
            RowBlocks::Q4_1 {
                quants,
                scales,
                mins,
            } => {
                let low_nibbles = simd.avx._mm256_set1_epi8(0x0F);
                let mut min_total = 0f32;
                let blocks = quants.iter().zip(scales).zip(mins);
                let activations = y_quants.iter().zip(y_scales).zip(y_sums);
                for (((packed, &scale), &min), ((values, &y_scale), &y_sum)) in
                    blocks.zip(activations)
                {
                    // Low nibbles are values 0..16, high nibbles 16..32.
                    let packed: __m128i = pulp::cast(*packed);
                    let high = simd.sse2._mm_srli_epi16::<4>(packed);
                    let both = simd.avx._mm256_set_m128i(high, packed);
                    let weights = simd.avx2._mm256_and_si256(both, low_nibbles);
                    let values: __m256i = pulp::cast(*values);
                    // 4-bit × 8-bit pairs fit i16: 2 × 15 × 127 < 32767.
                    let pairs = simd.avx2._mm256_maddubs_epi16(weights, values);
                    let lanes = simd.avx2._mm256_madd_epi16(pairs, ones);
                    let lanes = simd.avx._mm256_cvtepi32_ps(lanes);
                    let block_scale = simd.avx._mm256_set1_ps(scale * y_scale);
                    acc = simd.fma._mm256_fmadd_ps(lanes, block_scale, acc);
                    min_total += min * y_sum;
                }
                horizontal_sum(acc) + min_total
            }
            RowBlocks::Q8_0 { quants, scales } => {
                let blocks = quants.iter().zip(scales);
                for ((weights, &scale), (values, &y_scale)) in
                    blocks.zip(y_quants.iter().zip(y_scales))
                {
                    let weights: __m256i = pulp::cast(*weights);
                    let values: __m256i = pulp::cast(*values);
                    // maddubs takes one unsigned operand: move the weights'
                    // signs onto the activations.
                    let unsigned = simd.avx2._mm256_sign_epi8(weights, weights);
                    let signed = simd.avx2._mm256_sign_epi8(values, weights);
                    let pairs = simd.avx2._mm256_maddubs_epi16(unsigned, signed);
                    let lanes = simd.avx2._mm256_madd_epi16(pairs, ones);
                    let lanes = simd.avx._mm256_cvtepi32_ps(lanes);
                    let block_scale = simd.avx._mm256_set1_ps(scale * y_scale);
                    acc = simd.fma._mm256_fmadd_ps(lanes, block_scale, acc);
                }
                horizontal_sum(acc)
            }
        }
    }

    #[inline(always)]
    fn horizontal_sum(acc: __m256) -> f32 {
        let lanes: [f32; 8] = pulp::cast(acc);
        (lanes[0] + lanes[4])
            + (lanes[1] + lanes[5])
            + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::{ActivationFormat, QuantActivations};
    use half::f16;
    use proptest::prelude::*;

    fn q4_1_matrix(rows: usize, cols: usize, seed: &[u8]) -> QuantMatrix {
        let mut bytes = Vec::new();
        for block in 0..rows * cols / 32 {
            let scale = 0.01 + (seed[block % seed.len()] as f32) / 1000.0;
            bytes.extend_from_slice(&f16::from_f32(scale).to_le_bytes());
            bytes.extend_from_slice(&f16::from_f32(-scale * 7.5).to_le_bytes());
            for j in 0..16 {
                bytes.push(seed[(block * 16 + j) % seed.len()]);
            }
        }
        QuantMatrix::from_q4_1(rows, cols, &bytes).unwrap()
    }

    fn q8_0_matrix(rows: usize, cols: usize, seed: &[u8]) -> QuantMatrix {
        let mut bytes = Vec::new();
        for block in 0..rows * cols / 32 {
            bytes.extend_from_slice(&f16::from_f32(0.02).to_le_bytes());
            for j in 0..32 {
                bytes.push(seed[(block * 32 + j) % seed.len()]);
            }
        }
        QuantMatrix::from_q8_0(rows, cols, &bytes).unwrap()
    }

    /// Returns the f64 product of the dequantized row with the dequantized vector,
    /// except that a Q4_1 block's offset term uses the vector's stored
    /// block sum, which is rounded to f16 as in candle's Q8_1 blocks.
    fn reference(weights: &QuantMatrix, activations: &QuantActivations, row: usize) -> f64 {
        let mut dense = vec![0f32; weights.cols];
        weights.dequantize_row(row, &mut dense);
        let mins = match RowBlocks::of(weights, row) {
            RowBlocks::Q4_1 { mins, .. } => mins.to_vec(),
            RowBlocks::Q8_0 { .. } => Vec::new(),
        };
        let (quants, scales, sums) = activations.vector(0);
        let mut total = 0f64;
        for (block, (values, &scale)) in quants.iter().zip(scales).enumerate() {
            let min = mins.get(block).map_or(0.0, |&min| f64::from(min));
            let mut exact_sum = 0f64;
            for (j, &value) in values.iter().enumerate() {
                let x = f64::from(value) * f64::from(scale);
                total += (f64::from(dense[block * 32 + j]) - min) * x;
                exact_sum += x;
            }
            total += if mins.is_empty() {
                min * exact_sum
            } else {
                min * f64::from(sums[block])
            };
        }
        total
    }

    fn check_all_rows(weights: &QuantMatrix, input: &[f32]) {
        let mut activations = QuantActivations::default();
        activations.quantize(input, weights.cols, weights.activation_format());
        let mut out = vec![0f32; weights.rows];
        matmul_rows(weights, &activations, 0..weights.rows, &mut out);
        let mut scalar_out = vec![0f32; weights.rows];
        matmul_rows_with(
            weights,
            &activations,
            0..weights.rows,
            &mut scalar_out,
            scalar::dot,
        );
        for row in 0..weights.rows {
            let expected = reference(weights, &activations, row);
            let tolerance = 1e-3 * expected.abs().max(1.0);
            assert!(
                (f64::from(out[row]) - expected).abs() < tolerance,
                "row {row}: {} vs {expected}",
                out[row]
            );
            assert!(
                (f64::from(scalar_out[row]) - expected).abs() < tolerance,
                "row {row} scalar: {} vs {expected}",
                scalar_out[row]
            );
        }
    }

    proptest! {
        #[test]
        fn q4_1_dot_matches_dequantized(
            seed in proptest::collection::vec(any::<u8>(), 1..64),
            input in proptest::collection::vec(-4.0f32..4.0, 96),
        ) {
            check_all_rows(&q4_1_matrix(5, 96, &seed), &input);
        }

        #[test]
        fn q8_0_dot_matches_dequantized(
            seed in proptest::collection::vec(any::<u8>(), 1..64),
            input in proptest::collection::vec(-4.0f32..4.0, 64),
        ) {
            check_all_rows(&q8_0_matrix(3, 64, &seed), &input);
        }
    }

    #[test]
    fn q8_0_extreme_values_exact() {
        // -128 has no positive i8 counterpart; GGUF Q8_0 files from GGML
        // never store it, but the kernel must not overflow on ±127.
        let weights = q8_0_matrix(1, 32, &[127u8, 0x81]);
        check_all_rows(&weights, &[-1.0; 32]);
    }

    #[test]
    fn several_vectors_fill_rows_by_vector() {
        let weights = q4_1_matrix(2, 32, &[1, 2, 3]);
        let mut first = [0.5f32; 32];
        first[3] = -1.0;
        let second = vec![-0.25f32; 32];
        let mut activations = QuantActivations::default();
        let both: Vec<f32> = first.iter().chain(&second).copied().collect();
        activations.quantize(&both, 32, ActivationFormat::Q8_1);
        let mut out = vec![0f32; 4];
        matmul_rows(&weights, &activations, 0..2, &mut out);

        let mut single = QuantActivations::default();
        single.quantize(&second, 32, ActivationFormat::Q8_1);
        let mut expected = vec![0f32; 2];
        matmul_rows(&weights, &single, 0..2, &mut expected);
        assert_eq!(out[1], expected[0]);
        assert_eq!(out[3], expected[1]);
    }
}
