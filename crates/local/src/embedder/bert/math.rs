//! Element-wise steps of the encoder: layer normalisation, exact GELU and
//! row softmax.
//!
//! Each loop is plain arithmetic on slices, run through
//! [`pulp::Arch::dispatch`] so the compiler vectorises it for the widest
//! instruction set the CPU has. The exponential and the error function are
//! polynomials instead of libm calls, which would keep the loops scalar.

use std::sync::LazyLock;

/// The instruction set detected once per process.
static ARCH: LazyLock<pulp::Arch> = LazyLock::new(pulp::Arch::new);

/// `1.5 × 2^23`: adding it to a float of magnitude below 2^22 rounds the
/// float to the nearest integer, which then sits in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// Returns `e^x` with a relative error below 2e-7 for `x` in
/// `[-87, 88]`; inputs outside are clamped to that range.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC;
    let exponent = shifted.to_bits() as i32 - ROUND_MAGIC.to_bits() as i32;
    // x = n ln 2 + r with |r| ≤ ln 2 / 2; e^r by its Taylor series to r^7.
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    let scale = f32::from_bits(((exponent + 127) << 23) as u32);
    p * scale
}

/// Returns `erf(x)` with an absolute error below 5e-7, by Abramowitz and
/// Stegun's formula 7.1.26 (Handbook of Mathematical Functions, 1964).
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_72,
        1.421_413_8,
        -1.453_152_1,
        1.061_405_4,
    ];
    let magnitude = x.abs();
    let t = 1.0 / (1.0 + P * magnitude);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let value = 1.0 - poly * exp(-magnitude * magnitude);
    value.copysign(x)
}

/// Applies the exact GELU, `x Φ(x) = x (1 + erf(x / √2)) / 2`, in place.
pub(crate) fn gelu_in_place(values: &mut [f32]) {
    ARCH.dispatch(
        #[inline(always)]
        || {
            for value in values.iter_mut() {
                let x = *value;
                *value = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
            }
        },
    );
}

/// Adds `bias` to each row of `rows` (`rows.len()` a multiple of
/// `bias.len()`).
pub(crate) fn add_bias(rows: &mut [f32], bias: &[f32]) {
    ARCH.dispatch(
        #[inline(always)]
        || {
            for row in rows.chunks_exact_mut(bias.len()) {
                for (value, add) in row.iter_mut().zip(bias) {
                    *value += add;
                }
            }
        },
    );
}

/// Layer normalisation with a learned scale and shift.
pub(crate) struct LayerNorm<'a> {
    pub(crate) weight: &'a [f32],
    pub(crate) bias: &'a [f32],
    pub(crate) eps: f32,
}

impl LayerNorm<'_> {
    /// Normalises each row of `rows + bias + residual` and writes it to
    /// `residual`, the stream the next step reads.
    pub(crate) fn add_and_normalize(&self, rows: &mut [f32], bias: &[f32], residual: &mut [f32]) {
        let width = self.weight.len();
        ARCH.dispatch(
            #[inline(always)]
            || {
                for (row, out) in rows
                    .chunks_exact_mut(width)
                    .zip(residual.chunks_exact_mut(width))
                {
                    for ((value, add), skip) in row.iter_mut().zip(bias).zip(out.iter()) {
                        *value += add + skip;
                    }
                    self.normalize_row(row, out);
                }
            },
        );
    }

    /// Normalises each row of `rows` in place.
    pub(crate) fn normalize_in_place(&self, rows: &mut [f32]) {
        let width = self.weight.len();
        ARCH.dispatch(
            #[inline(always)]
            || {
                for row in rows.chunks_exact_mut(width) {
                    let (mean, inverse) = moments(row, self.eps);
                    for ((value, scale), shift) in row.iter_mut().zip(self.weight).zip(self.bias) {
                        *value = (*value - mean) * inverse * scale + shift;
                    }
                }
            },
        );
    }

    #[inline(always)]
    fn normalize_row(&self, row: &[f32], out: &mut [f32]) {
        let (mean, inverse) = moments(row, self.eps);
        for (((out, value), scale), shift) in
            out.iter_mut().zip(row).zip(self.weight).zip(self.bias)
        {
            *out = (value - mean) * inverse * scale + shift;
        }
    }
}

/// Returns the mean of `row` and `1 / sqrt(variance + eps)`, with the
/// variance taken around the mean in a second pass.
#[inline(always)]
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let count = row.len().max(1) as f32;
    let mean = lane_sum(row.iter().copied()) / count;
    let variance = lane_sum(row.iter().map(|value| (value - mean) * (value - mean))) / count;
    (mean, 1.0 / (variance + eps).sqrt())
}

/// Sums in eight interleaved lanes so the additions can be vectorised.
#[inline(always)]
fn lane_sum(values: impl Iterator<Item = f32>) -> f32 {
    let mut lanes = [0.0f32; 8];
    for (index, value) in values.enumerate() {
        lanes[index % 8] += value;
    }
    lanes.iter().sum()
}

/// Replaces each row of `rows` (of `width` values) by its softmax.
pub(crate) fn softmax_rows(rows: &mut [f32], width: usize) {
    ARCH.dispatch(
        #[inline(always)]
        || {
            for row in rows.chunks_exact_mut(width) {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                for value in row.iter_mut() {
                    *value = exp(*value - max);
                }
                let sum = lane_sum(row.iter().copied());
                let inverse = 1.0 / sum;
                for value in row.iter_mut() {
                    *value *= inverse;
                }
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// erf by its Taylor series in f64, accurate for |x| ≤ 3.
    fn erf_reference(x: f64) -> f64 {
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn exp_at_edges() {
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1000.0) >= 0.0);
        assert!(exp(-1000.0) < 1e-37);
        assert!(exp(1000.0).is_finite());
        assert!((exp(1.0) - std::f32::consts::E).abs() < 1e-6);
    }

    #[test]
    fn softmax_of_equal_values_is_uniform() {
        let mut rows = vec![3.0f32; 8];
        softmax_rows(&mut rows, 4);
        assert!(
            rows.iter().all(|value| (value - 0.25).abs() < 1e-7),
            "{rows:?}"
        );
    }

    #[test]
    fn normalized_rows_have_zero_mean_and_unit_variance() {
        let weight = [1.0f32; 5];
        let bias = [0.0f32; 5];
        let norm = LayerNorm {
            weight: &weight,
            bias: &bias,
            eps: 1e-12,
        };
        let mut rows = vec![1.0f32, 2.0, 3.0, 4.0, 10.0];
        norm.normalize_in_place(&mut rows);
        let mean: f32 = rows.iter().sum::<f32>() / 5.0;
        let variance: f32 = rows.iter().map(|v| v * v).sum::<f32>() / 5.0;
        assert!(mean.abs() < 1e-6, "{rows:?}");
        assert!((variance - 1.0).abs() < 1e-5, "{rows:?}");
    }

    proptest! {
        #[test]
        fn exp_matches_std(x in -87.0f32..88.0) {
            let expected = f64::from(x).exp();
            let relative = ((f64::from(exp(x)) - expected) / expected).abs();
            prop_assert!(relative < 2e-7, "x {x}: relative error {relative}");
        }

        #[test]
        fn erf_matches_series(x in -3.0f32..3.0) {
            let error = (f64::from(erf(x)) - erf_reference(f64::from(x))).abs();
            prop_assert!(error < 5e-7, "x {x}: error {error}");
        }

        #[test]
        fn erf_saturates(x in 3.0f32..1e30) {
            prop_assert!((erf(x) - 1.0).abs() < 3e-7);
            prop_assert!((erf(-x) + 1.0).abs() < 3e-7);
        }

        #[test]
        fn softmax_rows_sum_to_one(values in prop::collection::vec(-50.0f32..50.0, 1..64)) {
            let width = values.len();
            let mut rows = values.clone();
            softmax_rows(&mut rows, width);
            let sum: f32 = rows.iter().sum();
            prop_assert!((sum - 1.0).abs() < 1e-5, "sum {sum}");
            let max = values.iter().copied().fold(f32::MIN, f32::max);
            let total: f64 = values.iter().map(|v| f64::from(v - max).exp()).sum();
            for (soft, raw) in rows.iter().zip(&values) {
                let expected = f64::from(raw - max).exp() / total;
                prop_assert!((f64::from(*soft) - expected).abs() < 1e-6, "{soft} vs {expected}");
            }
        }

        #[test]
        fn add_and_normalize_matches_two_steps(
            rows in prop::collection::vec(-5.0f32..5.0, 12),
            residual in prop::collection::vec(-5.0f32..5.0, 12),
            bias in prop::collection::vec(-1.0f32..1.0, 4),
        ) {
            let weight = [0.5f32, 1.0, 1.5, 2.0];
            let shift = [0.1f32, -0.1, 0.2, 0.0];
            let norm = LayerNorm { weight: &weight, bias: &shift, eps: 1e-12 };
            let mut expected: Vec<f32> = rows
                .iter()
                .zip(&residual)
                .enumerate()
                .map(|(index, (value, skip))| value + skip + bias[index % 4])
                .collect();
            norm.normalize_in_place(&mut expected);
            let mut fused_rows = rows.clone();
            let mut fused = residual.clone();
            norm.add_and_normalize(&mut fused_rows, &bias, &mut fused);
            for (a, b) in fused.iter().zip(&expected) {
                prop_assert!((a - b).abs() < 1e-5, "{fused:?} vs {expected:?}");
            }
        }
    }
}
