//! The Llama forward pass over quantized weights: RMSNorm, rotary
//! embeddings, grouped-query attention with a KV cache, a SwiGLU MLP and the
//! output head.
//!
//! Each step follows the f32 formulas of candle-transformers 0.11's
//! `quantized_llama`, and every matrix product quantizes its input the way
//! candle's quantized matmul does, so the logits differ from candle's only
//! by f32 rounding order. Matrix rows are split across the threads of the
//! current rayon pool.

use rayon::prelude::*;

use crate::kernels::{dot_f32, matmul_rows};
use crate::quant::{QuantActivations, QuantMatrix};
use crate::weights::{LayerWeights, LlamaParams, LlamaWeights};

/// Rows per parallel task at least, so tiny products stay on one thread.
const MIN_ROWS_PER_TASK: usize = 16;

/// Tasks per thread for a matrix product, so a thread that is descheduled
/// for a while leaves work that the others can take.
const TASKS_PER_THREAD: usize = 4;

/// The state of one sequence: its KV cache, rotary table and scratch
/// buffers, all sized when the session is created.
pub(crate) struct Session {
    params: LlamaParams,
    /// The positions the cache holds.
    capacity: usize,
    /// The tokens run so far.
    position: usize,
    /// The maximum number of tokens per forward pass.
    max_batch: usize,
    /// Keys and values, laid out `[layer][kv head][position][head_dim]`.
    keys: Vec<f32>,
    values: Vec<f32>,
    /// `(cos, sin)` of `position × theta_i`, laid out `[position][head_dim / 2]`.
    rotary: Vec<(f32, f32)>,
    scratch: Scratch,
}

/// Buffers reused by every forward pass.
struct Scratch {
    hidden: Vec<f32>,
    normed: Vec<f32>,
    query: Vec<f32>,
    key: Vec<f32>,
    value: Vec<f32>,
    attention: Vec<f32>,
    projected: Vec<f32>,
    gate: Vec<f32>,
    up: Vec<f32>,
    /// Matrix product outputs before they are transposed to one vector per
    /// token.
    transposed: Vec<f32>,
    /// Attention scores, one row of `capacity` per attention task.
    scores: Vec<f32>,
    attention_tasks: usize,
    activations: QuantActivations,
    logits: Vec<f32>,
}

impl Session {
    /// Creates a session for up to `capacity` positions, run `max_batch`
    /// tokens at a time, on a pool of `threads` threads.
    pub(crate) fn new(
        params: &LlamaParams,
        capacity: usize,
        max_batch: usize,
        threads: usize,
    ) -> Self {
        let p = params;
        let q_dim = p.heads * p.head_dim;
        let kv_dim = p.kv_heads * p.head_dim;
        let capacity = capacity.max(1);
        let cache_len = p.layers * kv_dim * capacity;
        let max_batch = max_batch.clamp(1, capacity);
        let widest = p.embedding.max(p.feed_forward).max(q_dim);
        // The maximum number of rows one `project` call computes at once.
        let fused_rows = (q_dim + 2 * kv_dim)
            .max(2 * p.feed_forward)
            .max(p.embedding);
        let attention_tasks = (threads.max(1) * TASKS_PER_THREAD).min(max_batch * p.heads);
        Session {
            params: p.clone(),
            capacity,
            position: 0,
            max_batch,
            keys: vec![0.0; cache_len],
            values: vec![0.0; cache_len],
            rotary: rotary_table(p, capacity),
            scratch: Scratch {
                hidden: vec![0.0; max_batch * p.embedding],
                normed: vec![0.0; max_batch * p.embedding],
                query: vec![0.0; max_batch * q_dim],
                key: vec![0.0; max_batch * kv_dim],
                value: vec![0.0; max_batch * kv_dim],
                attention: vec![0.0; max_batch * q_dim],
                projected: vec![0.0; max_batch * p.embedding],
                gate: vec![0.0; max_batch * p.feed_forward],
                up: vec![0.0; max_batch * p.feed_forward],
                transposed: vec![0.0; (max_batch * fused_rows).max(p.vocab)],
                scores: vec![0.0; attention_tasks * capacity],
                attention_tasks,
                activations: QuantActivations::with_capacity(max_batch, widest),
                logits: vec![0.0; p.vocab],
            },
        }
    }

    /// Returns the tokens run so far.
    pub(crate) fn position(&self) -> usize {
        self.position
    }

    /// Returns the most tokens one [`Session::forward`] call takes.
    pub(crate) fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Runs `tokens` at the next positions and returns the logits after the
    /// last of them.
    ///
    /// Runs on the current rayon pool; call it inside `ThreadPool::install`.
    pub(crate) fn forward(
        &mut self,
        weights: &LlamaWeights,
        tokens: &[u32],
    ) -> Result<&[f32], String> {
        let batch = tokens.len();
        if batch == 0 || batch > self.max_batch {
            return Err(format!(
                "a forward pass takes 1 to {} tokens, got {batch}",
                self.max_batch
            ));
        }
        if self.position + batch > self.capacity {
            return Err(format!(
                "the KV cache holds {} positions; {} are used and {batch} more were requested",
                self.capacity, self.position
            ));
        }
        let dim = self.params.embedding;
        for (&token, hidden) in tokens.iter().zip(self.scratch.hidden.chunks_exact_mut(dim)) {
            let row = token as usize;
            if row >= weights.token_embedding.rows {
                return Err(format!(
                    "token id {token} is outside the vocabulary of {} tokens",
                    weights.token_embedding.rows
                ));
            }
            weights.token_embedding.dequantize_row(row, hidden);
        }

        for (index, layer) in weights.layers.iter().enumerate() {
            self.attention_block(index, layer, batch);
            self.feed_forward_block(layer, batch);
        }
        self.position += batch;

        let last = &self.scratch.hidden[(batch - 1) * dim..batch * dim];
        let normed = &mut self.scratch.normed[..dim];
        rms_norm(last, &weights.output_norm, self.params.norm_epsilon, normed);
        project(
            normed,
            dim,
            &mut [(weights.output(), &mut self.scratch.logits)],
            &mut self.scratch.activations,
            &mut self.scratch.transposed,
        );
        Ok(&self.scratch.logits)
    }

    fn attention_block(&mut self, index: usize, layer: &LayerWeights, batch: usize) {
        let p = &self.params;
        let dim = p.embedding;
        let q_dim = p.heads * p.head_dim;
        let kv_dim = p.kv_heads * p.head_dim;
        let s = &mut self.scratch;

        rms_norm_rows(
            &s.hidden[..batch * dim],
            &layer.attention_norm,
            p.norm_epsilon,
            &mut s.normed[..batch * dim],
        );
        project(
            &s.normed[..batch * dim],
            dim,
            &mut [
                (&layer.query, &mut s.query[..batch * q_dim]),
                (&layer.key, &mut s.key[..batch * kv_dim]),
                (&layer.value, &mut s.value[..batch * kv_dim]),
            ],
            &mut s.activations,
            &mut s.transposed,
        );

        // Rotate queries and keys, then append keys and values to the cache.
        let half = p.head_dim / 2;
        for token in 0..batch {
            let position = self.position + token;
            let angles = &self.rotary[position * half..(position + 1) * half];
            for head in s.query[token * q_dim..(token + 1) * q_dim].chunks_exact_mut(p.head_dim) {
                rotate(head, angles);
            }
            for head in s.key[token * kv_dim..(token + 1) * kv_dim].chunks_exact_mut(p.head_dim) {
                rotate(head, angles);
            }
            for kv_head in 0..p.kv_heads {
                let source = token * kv_dim + kv_head * p.head_dim
                    ..token * kv_dim + (kv_head + 1) * p.head_dim;
                let target = cache_offset(p, self.capacity, index, kv_head, position);
                self.keys[target..target + p.head_dim].copy_from_slice(&s.key[source.clone()]);
                self.values[target..target + p.head_dim].copy_from_slice(&s.value[source]);
            }
        }

        self.attend(index, batch);

        let s = &mut self.scratch;
        project(
            &s.attention[..batch * q_dim],
            q_dim,
            &mut [(&layer.attention_output, &mut s.projected[..batch * dim])],
            &mut s.activations,
            &mut s.transposed,
        );
        for (hidden, projected) in s.hidden[..batch * dim].iter_mut().zip(&s.projected) {
            *hidden += projected;
        }
    }

    /// Computes softmax(q·kᵀ / √d)·v for every query head of every token in
    /// the batch; token `t` attends to positions `0..=position + t`.
    fn attend(&mut self, layer: usize, batch: usize) {
        let p = &self.params;
        let head_dim = p.head_dim;
        let q_dim = p.heads * head_dim;
        let group = p.heads / p.kv_heads;
        let layer_len = p.kv_heads * self.capacity * head_dim;
        let keys = &self.keys[layer * layer_len..(layer + 1) * layer_len];
        let values = &self.values[layer * layer_len..(layer + 1) * layer_len];
        let s = &mut self.scratch;
        let query = &s.query;
        let pairs = batch * p.heads;
        let pairs_per_task = pairs.div_ceil(s.attention_tasks);
        let capacity = self.capacity;
        let start = self.position;
        let scale = 1.0 / (head_dim as f32).sqrt();

        let outputs = s.attention[..batch * q_dim].par_chunks_mut(pairs_per_task * head_dim);
        let scores = s.scores.par_chunks_mut(capacity);
        outputs
            .zip(scores)
            .enumerate()
            .for_each(|(task, (outputs, scores))| {
                for (offset, output) in outputs.chunks_exact_mut(head_dim).enumerate() {
                    let pair = task * pairs_per_task + offset;
                    let (token, head) = (pair / p.heads, pair % p.heads);
                    let kv_head = head / group;
                    let visible = start + token + 1;
                    let q = &query
                        [token * q_dim + head * head_dim..token * q_dim + (head + 1) * head_dim];
                    let head_keys = &keys[kv_head * capacity * head_dim..];
                    let head_values = &values[kv_head * capacity * head_dim..];
                    let scores = &mut scores[..visible];
                    #[cfg(target_arch = "x86_64")]
                    if let Some(simd) = pulp::x86::V3::try_new() {
                        simd.vectorize(
                            #[inline(always)]
                            || {
                                attend_head(
                                    q,
                                    head_keys,
                                    head_values,
                                    head_dim,
                                    scale,
                                    scores,
                                    output,
                                )
                            },
                        );
                        continue;
                    }
                    attend_head(q, head_keys, head_values, head_dim, scale, scores, output);
                }
            });
    }

    fn feed_forward_block(&mut self, layer: &LayerWeights, batch: usize) {
        let p = &self.params;
        let dim = p.embedding;
        let ff = p.feed_forward;
        let s = &mut self.scratch;
        rms_norm_rows(
            &s.hidden[..batch * dim],
            &layer.feed_forward_norm,
            p.norm_epsilon,
            &mut s.normed[..batch * dim],
        );
        project(
            &s.normed[..batch * dim],
            dim,
            &mut [
                (&layer.gate, &mut s.gate[..batch * ff]),
                (&layer.up, &mut s.up[..batch * ff]),
            ],
            &mut s.activations,
            &mut s.transposed,
        );
        for (gate, up) in s.gate[..batch * ff].iter_mut().zip(&s.up) {
            *gate = silu(*gate) * up;
        }
        project(
            &s.gate[..batch * ff],
            ff,
            &mut [(&layer.down, &mut s.projected[..batch * dim])],
            &mut s.activations,
            &mut s.transposed,
        );
        for (hidden, projected) in s.hidden[..batch * dim].iter_mut().zip(&s.projected) {
            *hidden += projected;
        }
    }
}

/// Returns where a key or value vector starts in the cache.
fn cache_offset(
    params: &LlamaParams,
    capacity: usize,
    layer: usize,
    kv_head: usize,
    position: usize,
) -> usize {
    ((layer * params.kv_heads + kv_head) * capacity + position) * params.head_dim
}

/// Multiplies each matrix of `parts` with every input vector (`cols`
/// values each) into its output, one vector of `rows` values per input.
///
/// Matrices that take the same activation format share one quantized copy
/// of the input and one parallel pass over their rows, so the threads meet
/// once for all of them.
fn project(
    inputs: &[f32],
    cols: usize,
    parts: &mut [(&QuantMatrix, &mut [f32])],
    activations: &mut QuantActivations,
    transposed: &mut [f32],
) {
    let Some((first, _)) = parts.first() else {
        return;
    };
    let format = first.activation_format();
    if parts
        .iter()
        .all(|(matrix, _)| matrix.activation_format() == format)
    {
        activations.quantize(inputs, cols, format);
        multiply(parts, activations, transposed);
        return;
    }
    for part in parts.iter_mut() {
        activations.quantize(inputs, cols, part.0.activation_format());
        multiply(std::slice::from_mut(part), activations, transposed);
    }
}

/// Computes the products of [`project`] with the rows of all `parts` split
/// across the current rayon pool into `transposed`, laid out `[row][vector]`,
/// then writes each output as `[vector][row]`.
fn multiply(
    parts: &mut [(&QuantMatrix, &mut [f32])],
    activations: &QuantActivations,
    transposed: &mut [f32],
) {
    let vectors = activations.len();
    let total_rows: usize = parts.iter().map(|(matrix, _)| matrix.rows).sum();
    if vectors == 0 || total_rows == 0 {
        return;
    }
    let matrices = &*parts;
    let target = &mut transposed[..total_rows * vectors];

    // Rows of all parts count as one range: the rows of part 0, then part 1.
    let run = |start: usize, chunk: &mut [f32]| {
        let mut offset = 0;
        let mut rest = chunk;
        let end = start + rest.len() / vectors;
        for &(matrix, _) in matrices {
            let rows = offset..offset + matrix.rows;
            offset += matrix.rows;
            let from = start.max(rows.start);
            let to = end.min(rows.end);
            if from >= to {
                continue;
            }
            let (here, later) = std::mem::take(&mut rest).split_at_mut((to - from) * vectors);
            matmul_rows(
                matrix,
                activations,
                from - rows.start..to - rows.start,
                here,
            );
            rest = later;
        }
    };
    let threads = rayon::current_num_threads();
    let rows_per_task = total_rows
        .div_ceil(threads * TASKS_PER_THREAD)
        .max(MIN_ROWS_PER_TASK);
    if threads <= 1 || total_rows <= rows_per_task {
        run(0, target);
    } else {
        target
            .par_chunks_mut(rows_per_task * vectors)
            .enumerate()
            .for_each(|(task, chunk)| run(task * rows_per_task, chunk));
    }

    let mut offset = 0;
    for (matrix, out) in parts.iter_mut() {
        let rows = matrix.rows;
        let block = &transposed[offset * vectors..(offset + rows) * vectors];
        if vectors == 1 {
            out[..rows].copy_from_slice(block);
        } else {
            for (row, values) in block.chunks_exact(vectors).enumerate() {
                for (vector, &value) in values.iter().enumerate() {
                    out[vector * rows + row] = value;
                }
            }
        }
        offset += rows;
    }
}

/// Writes `x / sqrt(mean(x²) + epsilon) * weight` into `out`, as
/// candle-nn 0.11's `rms_norm` computes it.
fn rms_norm(x: &[f32], weight: &[f32], epsilon: f32, out: &mut [f32]) {
    let sum_squares = dot_f32(x, x);
    let root = (sum_squares / x.len() as f32 + epsilon).sqrt();
    for ((out, &value), &weight) in out.iter_mut().zip(x).zip(weight) {
        *out = value / root * weight;
    }
}

fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

/// Returns `(cos, sin)` of `position × base^(-2i / head_dim)` for every
/// position below `capacity` and pair `i`, as candle's `quantized_llama`
/// tabulates them.
fn rotary_table(params: &LlamaParams, capacity: usize) -> Vec<(f32, f32)> {
    let thetas: Vec<f32> = (0..params.head_dim)
        .step_by(2)
        .map(|i| 1.0 / params.rope_base.powf(i as f32 / params.head_dim as f32))
        .collect();
    let mut table = Vec::with_capacity(capacity * thetas.len());
    for position in 0..capacity {
        for &theta in &thetas {
            let angle = position as f32 * theta;
            table.push((angle.cos(), angle.sin()));
        }
    }
    table
}

/// Rotates the pairs `(x[2i], x[2i + 1])` of one head by the angles of its
/// position (GGUF Llama weights expect this interleaved layout).
fn rotate(head: &mut [f32], angles: &[(f32, f32)]) {
    for (pair, &(cos, sin)) in head.chunks_exact_mut(2).zip(angles) {
        let (x0, x1) = (pair[0], pair[1]);
        pair[0] = x0 * cos - x1 * sin;
        pair[1] = x0 * sin + x1 * cos;
    }
}

/// Applies [`rms_norm`] to each row of `dim = weight.len()` values.
fn rms_norm_rows(rows: &[f32], weight: &[f32], epsilon: f32, out: &mut [f32]) {
    let dim = weight.len();
    for (row, out) in rows.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        rms_norm(row, weight, epsilon, out);
    }
}

/// Attends one query head over the first `scores.len()` cached positions of
/// its key-value head and writes the weighted sum of values to `output`.
#[inline(always)]
fn attend_head(
    query: &[f32],
    keys: &[f32],
    values: &[f32],
    head_dim: usize,
    scale: f32,
    scores: &mut [f32],
    output: &mut [f32],
) {
    let mut max = f32::NEG_INFINITY;
    for (score, key) in scores.iter_mut().zip(keys.chunks_exact(head_dim)) {
        *score = dot_f32(query, key) * scale;
        max = max.max(*score);
    }
    let mut total = 0.0;
    for score in scores.iter_mut() {
        *score = (*score - max).exp();
        total += *score;
    }
    output.fill(0.0);
    for (score, value) in scores.iter().zip(values.chunks_exact(head_dim)) {
        let weight = score / total;
        for (out, &v) in output.iter_mut().zip(value) {
            *out += weight * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_norm_unit_weight_gives_unit_rms() {
        let x = [3.0, -4.0, 0.0, 5.0];
        let mut out = [0.0; 4];
        rms_norm(&x, &[1.0; 4], 0.0, &mut out);
        let mean_square: f32 = out.iter().map(|v| v * v).sum::<f32>() / 4.0;
        assert!((mean_square - 1.0).abs() < 1e-6, "{mean_square}");
    }

    #[test]
    fn rotate_at_position_zero_is_identity() {
        let mut head = [1.0, 2.0, 3.0, 4.0];
        rotate(&mut head, &[(1.0, 0.0), (1.0, 0.0)]);
        assert_eq!(head, [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn rotate_quarter_turn_swaps_pair() {
        let mut head = [1.0, 2.0];
        rotate(&mut head, &[(0.0, 1.0)]);
        assert_eq!(head, [-2.0, 1.0]);
    }

    #[test]
    fn attention_single_position_returns_its_value() {
        let mut scores = [0.0];
        let mut output = [0.0; 2];
        attend_head(
            &[1.0, 1.0],
            &[5.0, -5.0],
            &[0.25, -0.5],
            2,
            1.0,
            &mut scores,
            &mut output,
        );
        assert_eq!(output, [0.25, -0.5]);
    }

    #[test]
    fn attention_equal_scores_average_values() {
        let mut scores = [0.0; 2];
        let mut output = [0.0; 1];
        attend_head(
            &[0.0],
            &[1.0, 2.0],
            &[1.0, 3.0],
            1,
            1.0,
            &mut scores,
            &mut output,
        );
        assert_eq!(output, [2.0]);
    }

    #[test]
    fn rotary_table_starts_at_zero_angle() {
        let params = LlamaParams {
            layers: 1,
            embedding: 8,
            feed_forward: 8,
            heads: 2,
            kv_heads: 1,
            head_dim: 4,
            rope_base: 10_000.0,
            norm_epsilon: 1e-5,
            vocab: 4,
        };
        let table = rotary_table(&params, 3);
        assert_eq!(table.len(), 6);
        assert_eq!(table[0], (1.0, 0.0));
        assert_eq!(table[2], (1f32.cos(), 1f32.sin()));
    }
}
