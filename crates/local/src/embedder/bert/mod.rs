//! A BERT encoder forward pass on the CPU, for sentence embeddings.
//!
//! The texts of a call are packed one after another into one matrix of
//! token rows, with no padding. Every step but attention treats each token
//! row alone, so the linear layers run as one matrix product over all the
//! tokens, and attention runs per text and head. Buffers are allocated
//! once per call and reused by every layer. A call with several texts is
//! split into parts of about equal token counts, one per rayon thread, and
//! each part runs with single-threaded matrix products, so the threads
//! never wait on each other between steps.

mod math;
mod weights;

use std::path::Path;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::error::LocalError;
use math::LayerNorm;
pub(crate) use weights::BertSettings;
use weights::{BertWeights, Linear, NormWeights};

/// The encoder of a BERT model with mean pooling and L2 normalisation on
/// top.
pub(crate) struct BertEncoder {
    settings: BertSettings,
    weights: BertWeights,
}

impl BertEncoder {
    /// Loads the weights in `weights_path` for the model `settings`
    /// describes; `config_path` only names `config.json` in errors.
    pub(crate) fn load(
        config_path: &Path,
        settings: BertSettings,
        weights_path: &Path,
    ) -> Result<Self, LocalError> {
        settings.validate(config_path)?;
        let weights = BertWeights::load(weights_path, &settings)?;
        Ok(BertEncoder { settings, weights })
    }

    /// Returns the size of each output vector.
    pub(crate) fn dimensions(&self) -> usize {
        self.settings.hidden_size
    }

    /// Returns the longest input the position table covers.
    pub(crate) fn max_positions(&self) -> usize {
        self.settings.max_position_embeddings
    }

    /// Returns, for each token id sequence, the mean of its final token
    /// vectors scaled to unit L2 norm.
    ///
    /// # Errors
    ///
    /// [`LocalError::Inference`] for a token id outside the vocabulary or
    /// a sequence longer than the position table.
    pub(crate) fn embed(&self, inputs: &[&[u32]]) -> Result<Vec<Vec<f32>>, LocalError> {
        for input in inputs {
            self.check(input)?;
        }
        let parts = split_by_tokens(inputs, rayon::current_num_threads());
        if parts.len() <= 1 {
            return Ok(self.embed_part(inputs));
        }
        let pooled: Vec<(Vec<usize>, Vec<Vec<f32>>)> = parts
            .into_par_iter()
            .map(|part| {
                let part_inputs: Vec<&[u32]> = part.iter().map(|&index| inputs[index]).collect();
                let vectors = self.embed_part(&part_inputs);
                (part, vectors)
            })
            .collect();
        let mut vectors = vec![Vec::new(); inputs.len()];
        for (part, part_vectors) in pooled {
            for (index, vector) in part.into_iter().zip(part_vectors) {
                vectors[index] = vector;
            }
        }
        Ok(vectors)
    }

    fn check(&self, input: &[u32]) -> Result<(), LocalError> {
        if input.len() > self.settings.max_position_embeddings {
            return Err(LocalError::inference(format!(
                "an input has {} tokens, but the model's position table has {}",
                input.len(),
                self.settings.max_position_embeddings
            )));
        }
        if let Some(id) = input
            .iter()
            .find(|&&id| id as usize >= self.settings.vocab_size)
        {
            return Err(LocalError::inference(format!(
                "token id {id} is outside the model's vocabulary of {}; \
                 tokenizer.json does not belong to this model",
                self.settings.vocab_size
            )));
        }
        Ok(())
    }

    /// Runs the encoder over `inputs` on the calling thread. The inputs
    /// have been checked.
    fn embed_part(&self, inputs: &[&[u32]]) -> Vec<Vec<f32>> {
        let hidden = self.settings.hidden_size;
        let tokens: usize = inputs.iter().map(|input| input.len()).sum();
        let longest = inputs.iter().map(|input| input.len()).max().unwrap_or(0);
        let mut buffers = Buffers {
            state: self.embed_tokens(inputs, tokens),
            qkv: vec![0.0; tokens * 3 * hidden],
            context: vec![0.0; tokens * hidden],
            projected: vec![0.0; tokens * hidden],
            inner: vec![0.0; tokens * self.settings.intermediate_size],
            scores: vec![0.0; longest * longest],
            head: vec![0.0; longest * self.settings.head_size()],
        };
        let lengths: Vec<usize> = inputs.iter().map(|input| input.len()).collect();
        for layer in &self.weights.layers {
            project(&buffers.state, tokens, &layer.qkv, &mut buffers.qkv);
            math::add_bias(&mut buffers.qkv, &layer.qkv.bias);
            self.attend(&lengths, &mut buffers);
            project(
                &buffers.context,
                tokens,
                &layer.attention_out,
                &mut buffers.projected,
            );
            self.norm(&layer.attention_norm).add_and_normalize(
                &mut buffers.projected,
                &layer.attention_out.bias,
                &mut buffers.state,
            );
            project(
                &buffers.state,
                tokens,
                &layer.intermediate,
                &mut buffers.inner,
            );
            math::add_bias(&mut buffers.inner, &layer.intermediate.bias);
            math::gelu_in_place(&mut buffers.inner);
            project(
                &buffers.inner,
                tokens,
                &layer.output,
                &mut buffers.projected,
            );
            self.norm(&layer.output_norm).add_and_normalize(
                &mut buffers.projected,
                &layer.output.bias,
                &mut buffers.state,
            );
        }
        super::pooling::mean_pool_normalized(&buffers.state, &lengths, hidden)
    }

    /// Sums each token's word, position and segment-0 vectors and
    /// normalises them.
    fn embed_tokens(&self, inputs: &[&[u32]], tokens: usize) -> Vec<f32> {
        let hidden = self.settings.hidden_size;
        let mut state = vec![0.0f32; tokens * hidden];
        let mut rows = state.chunks_exact_mut(hidden);
        for input in inputs {
            for (position, &id) in input.iter().enumerate() {
                let id = id as usize;
                let (Some(row), Some(word), Some(place)) = (
                    rows.next(),
                    self.weights.word.get(id * hidden..(id + 1) * hidden),
                    self.weights
                        .position
                        .get(position * hidden..(position + 1) * hidden),
                ) else {
                    continue;
                };
                for (((out, word), place), segment) in row
                    .iter_mut()
                    .zip(word)
                    .zip(place)
                    .zip(&self.weights.token_type)
                {
                    *out = word + place + segment;
                }
            }
        }
        self.norm(&self.weights.embedding_norm)
            .normalize_in_place(&mut state);
        state
    }

    /// Computes multi-head self-attention of each text over its own tokens, from
    /// the stacked query, key and value rows into `context`.
    fn attend(&self, lengths: &[usize], buffers: &mut Buffers) {
        let hidden = self.settings.hidden_size;
        let head_size = self.settings.head_size();
        let scale = 1.0 / (head_size as f32).sqrt();
        let mut start = 0;
        for &length in lengths {
            if length == 0 {
                continue;
            }
            let scores = &mut buffers.scores[..length * length];
            for head in 0..self.settings.num_attention_heads {
                let column = start * 3 * hidden + head * head_size;
                let query = rows_of(&buffers.qkv, column, length, head_size, 3 * hidden);
                let key = rows_of(&buffers.qkv, column + hidden, length, head_size, 3 * hidden);
                let value = rows_of(
                    &buffers.qkv,
                    column + 2 * hidden,
                    length,
                    head_size,
                    3 * hidden,
                );
                matmul(
                    MatMut::from_row_major_slice_mut(&mut *scores, length, length),
                    Accum::Replace,
                    query,
                    key.transpose(),
                    scale,
                    Par::Seq,
                );
                math::softmax_rows(scores, length);
                // faer 0.24.4 wrote past the last column of a destination
                // view with a row stride wider than the view (seen with 33
                // or more rows), so the product goes to a contiguous
                // buffer and is copied into the head's columns.
                let head_rows = &mut buffers.head[..length * head_size];
                matmul(
                    MatMut::from_row_major_slice_mut(&mut *head_rows, length, head_size),
                    Accum::Replace,
                    MatRef::from_row_major_slice(&*scores, length, length),
                    value,
                    1.0,
                    Par::Seq,
                );
                let context = &mut buffers.context[start * hidden..(start + length) * hidden];
                for (out, row) in context
                    .chunks_exact_mut(hidden)
                    .zip(head_rows.chunks_exact(head_size))
                {
                    out[head * head_size..(head + 1) * head_size].copy_from_slice(row);
                }
            }
            start += length;
        }
    }

    fn norm<'a>(&self, weights: &'a NormWeights) -> LayerNorm<'a> {
        LayerNorm {
            weight: &weights.weight,
            bias: &weights.bias,
            eps: self.settings.layer_norm_eps as f32,
        }
    }
}

/// The activations of one part, reused by every layer.
struct Buffers {
    /// The residual stream, `[token][hidden]`.
    state: Vec<f32>,
    /// Query, key and value of each token, `[token][3 × hidden]`.
    qkv: Vec<f32>,
    /// Attention output, `[token][hidden]`.
    context: Vec<f32>,
    /// A linear layer's output before its residual sum, `[token][hidden]`.
    projected: Vec<f32>,
    /// The feed-forward layer's inner activations, `[token][intermediate]`.
    inner: Vec<f32>,
    /// One head's attention weights for the longest text.
    scores: Vec<f32>,
    /// One head's attention output for the longest text.
    head: Vec<f32>,
}

/// Returns a view of `rows` rows of `columns` values that start at
/// `offset` in `values` and lie `stride` values apart.
fn rows_of(
    values: &[f32],
    offset: usize,
    rows: usize,
    columns: usize,
    stride: usize,
) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice_with_stride(&values[offset..], rows, columns, stride)
}

/// Computes `out = input W^T` for `rows` input rows, without the bias.
fn project(input: &[f32], rows: usize, linear: &Linear, out: &mut [f32]) {
    let inputs = linear.weight.len() / linear.outputs;
    let x = MatRef::from_row_major_slice(&input[..rows * inputs], rows, inputs);
    let weight = MatRef::from_row_major_slice(&linear.weight, linear.outputs, inputs);
    let out =
        MatMut::from_row_major_slice_mut(&mut out[..rows * linear.outputs], rows, linear.outputs);
    matmul(out, Accum::Replace, x, weight.transpose(), 1.0, Par::Seq);
}

/// Splits the indexes of `inputs` into at most `parts` groups with about
/// equal token counts, giving each input, longest first, to the group
/// with the fewest tokens so far. Empty groups are dropped.
fn split_by_tokens(inputs: &[&[u32]], parts: usize) -> Vec<Vec<usize>> {
    let parts = parts.clamp(1, inputs.len().max(1));
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&index| std::cmp::Reverse(inputs[index].len()));
    let mut groups: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); parts];
    for index in order {
        if let Some(group) = groups.iter_mut().min_by_key(|(tokens, _)| *tokens) {
            group.0 += inputs[index].len();
            group.1.push(index);
        }
    }
    groups
        .into_iter()
        .map(|(_, group)| group)
        .filter(|group| !group.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use weights::{Layer, NormWeights};

    /// Returns a two-layer encoder of width 8 with two heads, its weights
    /// drawn from `seed`.
    fn tiny_encoder(seed: u64) -> BertEncoder {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let mut next = move |count: usize| -> Vec<f32> {
            (0..count)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
                })
                .collect()
        };
        let settings = BertSettings {
            vocab_size: 20,
            hidden_size: 8,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 16,
            max_position_embeddings: 40,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            hidden_act: "gelu".to_owned(),
        };
        let mut linear = |inputs: usize, outputs: usize| Linear {
            weight: next(inputs * outputs),
            bias: next(outputs),
            outputs,
        };
        let norm = || NormWeights {
            weight: vec![1.0; 8],
            bias: vec![0.0; 8],
        };
        let layers = (0..2)
            .map(|_| Layer {
                qkv: linear(8, 24),
                attention_out: linear(8, 8),
                attention_norm: norm(),
                intermediate: linear(8, 16),
                output: linear(16, 8),
                output_norm: norm(),
            })
            .collect();
        let weights = BertWeights {
            word: next(20 * 8),
            position: next(40 * 8),
            token_type: next(8),
            embedding_norm: norm(),
            layers,
        };
        BertEncoder { settings, weights }
    }

    #[test]
    fn empty_input_gives_zero_vector() {
        let encoder = tiny_encoder(1);
        let vectors = encoder.embed(&[&[], &[1, 2, 3]]).unwrap();
        assert_eq!(vectors[0], vec![0.0; 8]);
        let norm: f32 = vectors[1].iter().map(|value| value * value).sum();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    }

    #[test]
    fn out_of_range_inputs_are_errors() {
        let encoder = tiny_encoder(2);
        let error = encoder.embed(&[&[1, 20]]).unwrap_err().to_string();
        assert!(error.contains("token id 20"), "{error}");
        let long = vec![1u32; 41];
        let error = encoder.embed(&[&long]).unwrap_err().to_string();
        assert!(error.contains("41 tokens"), "{error}");
    }

    proptest! {
        #[test]
        fn packed_texts_embed_as_alone(
            texts in prop::collection::vec(prop::collection::vec(0u32..20, 1..40), 1..6),
            seed in any::<u64>(),
        ) {
            let encoder = tiny_encoder(seed);
            let views: Vec<&[u32]> = texts.iter().map(Vec::as_slice).collect();
            let together = encoder.embed(&views).unwrap();
            for (text, packed) in views.iter().zip(&together) {
                let alone = encoder.embed_part(&[text]);
                for (a, b) in alone[0].iter().zip(packed) {
                    prop_assert!((a - b).abs() < 1e-5, "{alone:?} vs {packed:?}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn split_covers_every_input_once(
            lengths in prop::collection::vec(0usize..300, 0..40),
            parts in 1usize..5,
        ) {
            let inputs: Vec<Vec<u32>> = lengths.iter().map(|&length| vec![0; length]).collect();
            let views: Vec<&[u32]> = inputs.iter().map(Vec::as_slice).collect();
            let groups = split_by_tokens(&views, parts);
            prop_assert!(groups.len() <= parts);
            let mut seen: Vec<usize> = groups.iter().flatten().copied().collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..inputs.len()).collect::<Vec<_>>());
            // Greedy balancing keeps every group within the longest input
            // of the lightest one.
            let totals: Vec<usize> = groups
                .iter()
                .map(|group| group.iter().map(|&index| lengths[index]).sum())
                .collect();
            if let (Some(max), Some(min)) = (totals.iter().max(), totals.iter().min()) {
                let longest = lengths.iter().copied().max().unwrap_or(0);
                prop_assert!(max - min <= longest, "{totals:?}");
            }
        }
    }
}
