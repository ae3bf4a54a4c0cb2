//! Weight matrices in their stored GGUF blocks, and activations quantized
//! per block of 32 for integer dot products against them.
//!
//! Q4_1 stores each weight as `d * q + m` with a 4-bit `q` and an f16 scale
//! `d` and minimum `m` per block of 32. Q8_0 stores `d * q` with an 8-bit
//! `q`. Activations are quantized the way GGML and candle 0.11 pair them
//! with these formats: Q8_1 (8-bit values, a scale and the scaled sum of the
//! values) for Q4_1, Q8_0 for Q8_0, with the scales rounded to f16.

use half::f16;

/// Values per quantization block in every format here.
pub(crate) const BLOCK: usize = 32;

/// Bytes of one Q4_1 block in a GGUF file: f16 `d`, f16 `m`, 16 bytes of
/// 4-bit values.
pub(crate) const Q4_1_BLOCK_BYTES: usize = 20;

/// Bytes of one Q8_0 block in a GGUF file: f16 `d`, 32 signed bytes.
pub(crate) const Q8_0_BLOCK_BYTES: usize = 34;

/// The 4-bit or 8-bit values of a weight matrix, block by block.
pub(crate) enum Quants {
    /// Q4_1: byte `j` contains value `j` in its low and value `j + 16` in its
    /// high nibble.
    Q4_1 {
        quants: Vec<[u8; 16]>,
        /// The block minimums `m`, as f32.
        mins: Vec<f32>,
    },
    /// Q8_0: one signed byte per value.
    Q8_0 { quants: Vec<[i8; 32]> },
}

/// A weight matrix of `rows × cols` kept in its stored quantized blocks;
/// each row is `cols / 32` consecutive blocks.
pub(crate) struct QuantMatrix {
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    /// The block scales `d`, converted from f16 to f32 once at load.
    pub(crate) scales: Vec<f32>,
    pub(crate) quants: Quants,
}

impl QuantMatrix {
    /// Parses `rows × cols` Q4_1 blocks from GGUF bytes.
    pub(crate) fn from_q4_1(rows: usize, cols: usize, bytes: &[u8]) -> Result<Self, String> {
        let blocks = checked_blocks(rows, cols, bytes.len(), Q4_1_BLOCK_BYTES)?;
        let mut scales = Vec::with_capacity(blocks);
        let mut mins = Vec::with_capacity(blocks);
        let mut quants = Vec::with_capacity(blocks);
        for block in bytes.chunks_exact(Q4_1_BLOCK_BYTES) {
            let (header, values) = block.split_at(4);
            scales.push(f16::from_le_bytes([header[0], header[1]]).to_f32());
            mins.push(f16::from_le_bytes([header[2], header[3]]).to_f32());
            let mut packed = [0u8; 16];
            packed.copy_from_slice(values);
            quants.push(packed);
        }
        Ok(QuantMatrix {
            rows,
            cols,
            scales,
            quants: Quants::Q4_1 { quants, mins },
        })
    }

    /// Parses `rows × cols` Q8_0 blocks from GGUF bytes.
    pub(crate) fn from_q8_0(rows: usize, cols: usize, bytes: &[u8]) -> Result<Self, String> {
        let blocks = checked_blocks(rows, cols, bytes.len(), Q8_0_BLOCK_BYTES)?;
        let mut scales = Vec::with_capacity(blocks);
        let mut quants = Vec::with_capacity(blocks);
        for block in bytes.chunks_exact(Q8_0_BLOCK_BYTES) {
            scales.push(f16::from_le_bytes([block[0], block[1]]).to_f32());
            let mut values = [0i8; 32];
            for (value, &byte) in values.iter_mut().zip(&block[2..]) {
                *value = i8::from_ne_bytes([byte]);
            }
            quants.push(values);
        }
        Ok(QuantMatrix {
            rows,
            cols,
            scales,
            quants: Quants::Q8_0 { quants },
        })
    }

    /// Returns the blocks per row.
    pub(crate) fn row_blocks(&self) -> usize {
        self.cols / BLOCK
    }

    /// Returns the activation format that this matrix's dot products take.
    pub(crate) fn activation_format(&self) -> ActivationFormat {
        match self.quants {
            Quants::Q4_1 { .. } => ActivationFormat::Q8_1,
            Quants::Q8_0 { .. } => ActivationFormat::Q8_0,
        }
    }

    /// Writes row `row` as f32 into `out` (`cols` values).
    pub(crate) fn dequantize_row(&self, row: usize, out: &mut [f32]) {
        let blocks = self.row_blocks();
        let range = row * blocks..(row + 1) * blocks;
        let scales = &self.scales[range.clone()];
        let out_blocks = out.chunks_exact_mut(BLOCK);
        match &self.quants {
            Quants::Q4_1 { quants, mins } => {
                let rows = quants[range.clone()].iter().zip(&mins[range]);
                for ((out, (packed, &min)), &scale) in out_blocks.zip(rows).zip(scales) {
                    for (j, &byte) in packed.iter().enumerate() {
                        out[j] = scale * f32::from(byte & 0x0F) + min;
                        out[j + 16] = scale * f32::from(byte >> 4) + min;
                    }
                }
            }
            Quants::Q8_0 { quants } => {
                for ((out, values), &scale) in out_blocks.zip(&quants[range]).zip(scales) {
                    for (out, &value) in out.iter_mut().zip(values) {
                        *out = scale * f32::from(value);
                    }
                }
            }
        }
    }
}

fn checked_blocks(
    rows: usize,
    cols: usize,
    len: usize,
    block_bytes: usize,
) -> Result<usize, String> {
    if cols == 0 || cols % BLOCK != 0 {
        return Err(format!(
            "a row of {cols} values is not a whole number of {BLOCK}-value blocks"
        ));
    }
    let blocks = rows * cols / BLOCK;
    if blocks * block_bytes != len {
        return Err(format!(
            "{rows}×{cols} values need {} bytes, found {len}",
            blocks * block_bytes
        ));
    }
    Ok(blocks)
}

/// The 8-bit block format of the activations a weight format takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActivationFormat {
    /// For Q4_1 weights: values, scale and scaled sum per block.
    Q8_1,
    /// For Q8_0 weights: values and scale per block.
    Q8_0,
}

/// Activation vectors quantized per block of 32: `len` vectors of `cols`
/// values each, stored one after another.
#[derive(Default)]
pub(crate) struct QuantActivations {
    pub(crate) cols: usize,
    pub(crate) quants: Vec<[i8; 32]>,
    /// The f16-rounded block scales, as f32.
    pub(crate) scales: Vec<f32>,
    /// The f16-rounded `scale * sum(values)` per block (Q8_1 only; zeros for
    /// Q8_0).
    pub(crate) sums: Vec<f32>,
}

impl QuantActivations {
    /// Creates storage for up to `vectors` vectors of `cols` values.
    pub(crate) fn with_capacity(vectors: usize, cols: usize) -> Self {
        let blocks = vectors * cols / BLOCK;
        QuantActivations {
            cols,
            quants: Vec::with_capacity(blocks),
            scales: Vec::with_capacity(blocks),
            sums: Vec::with_capacity(blocks),
        }
    }

    /// Returns the number of vectors stored.
    pub(crate) fn len(&self) -> usize {
        self.quants.len() * BLOCK / self.cols.max(1)
    }

    /// Quantizes `values` (whole vectors of `cols` values) in `format`,
    /// replacing what was stored.
    ///
    /// Matches candle 0.11's `from_float` for `BlockQ8_1` and `BlockQ8_0`:
    /// `d = max|x| / 127`, `q = round(x / d)`, and for Q8_1 the sum stored
    /// as `f16(f16(sum q) * f16(d))`.
    pub(crate) fn quantize(&mut self, values: &[f32], cols: usize, format: ActivationFormat) {
        self.cols = cols;
        self.quants.clear();
        self.scales.clear();
        self.sums.clear();
        for block in values.chunks_exact(BLOCK) {
            let max_abs = block.iter().fold(0f32, |max, value| max.max(value.abs()));
            let scale = max_abs / 127.0;
            let inverse = if scale != 0.0 { 1.0 / scale } else { 0.0 };
            let mut quants = [0i8; 32];
            let mut sum = 0i32;
            for (quant, &value) in quants.iter_mut().zip(block) {
                // `as` saturates, and |value * inverse| <= 127 up to rounding.
                *quant = (value * inverse).round() as i8;
                sum += i32::from(*quant);
            }
            let scale = f16::from_f32(scale);
            let block_sum = match format {
                ActivationFormat::Q8_1 => {
                    f16::from_f32(f16::from_f32(sum as f32).to_f32() * scale.to_f32()).to_f32()
                }
                ActivationFormat::Q8_0 => 0.0,
            };
            self.quants.push(quants);
            self.scales.push(scale.to_f32());
            self.sums.push(block_sum);
        }
    }

    /// Returns vector `index`'s blocks: values, scales and sums.
    pub(crate) fn vector(&self, index: usize) -> (&[[i8; 32]], &[f32], &[f32]) {
        let blocks = self.cols / BLOCK;
        let range = index * blocks..(index + 1) * blocks;
        (
            &self.quants[range.clone()],
            &self.scales[range.clone()],
            &self.sums[range],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q4_1_bytes(scale: f32, min: f32, low: u8, high: u8) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&f16::from_f32(scale).to_le_bytes());
        bytes.extend_from_slice(&f16::from_f32(min).to_le_bytes());
        bytes.extend(std::iter::repeat_n(low | (high << 4), 16));
        bytes
    }

    #[test]
    fn q4_1_row_dequantizes_both_nibbles() {
        let matrix = QuantMatrix::from_q4_1(1, 32, &q4_1_bytes(0.5, -1.0, 3, 15)).unwrap();
        let mut row = [0f32; 32];
        matrix.dequantize_row(0, &mut row);
        assert_eq!(row[0], 0.5 * 3.0 - 1.0);
        assert_eq!(row[15], 0.5 * 3.0 - 1.0);
        assert_eq!(row[16], 0.5 * 15.0 - 1.0);
        assert_eq!(row[31], 0.5 * 15.0 - 1.0);
    }

    #[test]
    fn q4_1_wrong_length_rejected() {
        let error = QuantMatrix::from_q4_1(2, 32, &q4_1_bytes(1.0, 0.0, 0, 0))
            .err()
            .unwrap();
        assert!(error.contains("need 40 bytes, found 20"), "{error}");
    }

    #[test]
    fn q8_0_partial_block_rejected() {
        let error = QuantMatrix::from_q8_0(1, 48, &[0u8; 68]).err().unwrap();
        assert!(error.contains("48 values"), "{error}");
    }

    #[test]
    fn zero_block_quantizes_to_zero() {
        let mut activations = QuantActivations::default();
        activations.quantize(&[0.0; 32], 32, ActivationFormat::Q8_1);
        assert_eq!(activations.quants[0], [0i8; 32]);
        assert_eq!(activations.scales[0], 0.0);
        assert_eq!(activations.sums[0], 0.0);
    }

    #[test]
    fn max_value_maps_to_127() {
        let mut values = [0.0f32; 64];
        values[5] = -2.54;
        values[40] = 1.0;
        let mut activations = QuantActivations::default();
        activations.quantize(&values, 64, ActivationFormat::Q8_0);
        assert_eq!(activations.len(), 1);
        assert_eq!(activations.quants[0][5], -127);
        assert_eq!(activations.quants[1][8], 127);
    }
}
