//! Reading a Llama model's hyperparameters and weights out of a GGUF file.

use std::io::{Read, Seek, SeekFrom};

use candle_core::quantized::{GgmlDType, gguf_file};

use crate::quant::QuantMatrix;

/// The shape of a Llama model, from the GGUF metadata.
#[derive(Debug, Clone)]
pub(crate) struct LlamaParams {
    pub(crate) layers: usize,
    pub(crate) embedding: usize,
    pub(crate) feed_forward: usize,
    pub(crate) heads: usize,
    pub(crate) kv_heads: usize,
    pub(crate) head_dim: usize,
    pub(crate) rope_base: f32,
    pub(crate) norm_epsilon: f32,
    pub(crate) vocab: usize,
}

/// One transformer block's weights.
pub(crate) struct LayerWeights {
    pub(crate) attention_norm: Vec<f32>,
    pub(crate) query: QuantMatrix,
    pub(crate) key: QuantMatrix,
    pub(crate) value: QuantMatrix,
    pub(crate) attention_output: QuantMatrix,
    pub(crate) feed_forward_norm: Vec<f32>,
    pub(crate) gate: QuantMatrix,
    pub(crate) up: QuantMatrix,
    pub(crate) down: QuantMatrix,
}

/// All weights of a Llama model, kept in their stored quantized blocks.
pub(crate) struct LlamaWeights {
    pub(crate) params: LlamaParams,
    pub(crate) token_embedding: QuantMatrix,
    pub(crate) layers: Vec<LayerWeights>,
    pub(crate) output_norm: Vec<f32>,
    /// The output head; `None` when it is tied to the token embedding.
    output: Option<QuantMatrix>,
}

impl LlamaWeights {
    /// Reads the weights named in `content` from `reader`, one tensor at a
    /// time, so the raw bytes of at most one tensor are held besides the
    /// parsed weights.
    pub(crate) fn read<R: Read + Seek>(
        content: &gguf_file::Content,
        reader: &mut R,
    ) -> Result<Self, String> {
        let params = read_params(content)?;
        let mut tensors = TensorReader {
            content,
            reader,
            buffer: Vec::new(),
        };

        let token_embedding = tensors.matrix("token_embd.weight")?;
        let mut layers = Vec::with_capacity(params.layers);
        for layer in 0..params.layers {
            let name = |suffix: &str| format!("blk.{layer}.{suffix}.weight");
            layers.push(LayerWeights {
                attention_norm: tensors.vector(&name("attn_norm"))?,
                query: tensors.matrix(&name("attn_q"))?,
                key: tensors.matrix(&name("attn_k"))?,
                value: tensors.matrix(&name("attn_v"))?,
                attention_output: tensors.matrix(&name("attn_output"))?,
                feed_forward_norm: tensors.vector(&name("ffn_norm"))?,
                gate: tensors.matrix(&name("ffn_gate"))?,
                up: tensors.matrix(&name("ffn_up"))?,
                down: tensors.matrix(&name("ffn_down"))?,
            });
        }
        let output_norm = tensors.vector("output_norm.weight")?;
        let output = if content.tensor_infos.contains_key("output.weight") {
            Some(tensors.matrix("output.weight")?)
        } else {
            None
        };

        let weights = LlamaWeights {
            params,
            token_embedding,
            layers,
            output_norm,
            output,
        };
        weights.check_shapes()?;
        Ok(weights)
    }

    /// Returns the output head: `output.weight`, else the token embedding.
    pub(crate) fn output(&self) -> &QuantMatrix {
        self.output.as_ref().unwrap_or(&self.token_embedding)
    }

    fn check_shapes(&self) -> Result<(), String> {
        let p = &self.params;
        let q_dim = p.heads * p.head_dim;
        let kv_dim = p.kv_heads * p.head_dim;
        let mut expected = vec![
            ("token_embd", &self.token_embedding, p.vocab, p.embedding),
            ("output", self.output(), p.vocab, p.embedding),
        ];
        for layer in &self.layers {
            expected.extend([
                ("attn_q", &layer.query, q_dim, p.embedding),
                ("attn_k", &layer.key, kv_dim, p.embedding),
                ("attn_v", &layer.value, kv_dim, p.embedding),
                ("attn_output", &layer.attention_output, p.embedding, q_dim),
                ("ffn_gate", &layer.gate, p.feed_forward, p.embedding),
                ("ffn_up", &layer.up, p.feed_forward, p.embedding),
                ("ffn_down", &layer.down, p.embedding, p.feed_forward),
            ]);
            if layer.attention_norm.len() != p.embedding
                || layer.feed_forward_norm.len() != p.embedding
            {
                return Err(format!(
                    "a norm weight does not have llama.embedding_length = {} values",
                    p.embedding
                ));
            }
        }
        for (name, matrix, rows, cols) in expected {
            if (matrix.rows, matrix.cols) != (rows, cols) {
                return Err(format!(
                    "tensor {name} is {}×{}, expected {rows}×{cols} from the metadata",
                    matrix.rows, matrix.cols
                ));
            }
        }
        if self.output_norm.len() != p.embedding {
            return Err("output_norm.weight does not match llama.embedding_length".to_owned());
        }
        Ok(())
    }
}

fn read_params(content: &gguf_file::Content) -> Result<LlamaParams, String> {
    let get_u32 = |key: &str| -> Result<usize, String> {
        content
            .metadata
            .get(key)
            .and_then(|value| value.to_u32().ok())
            .map(|value| value as usize)
            .ok_or_else(|| format!("the metadata has no integer {key}"))
    };
    let get_f32 = |key: &str| {
        content
            .metadata
            .get(key)
            .and_then(|value| value.to_f32().ok())
    };

    let embedding = get_u32("llama.embedding_length")?;
    let heads = get_u32("llama.attention.head_count")?;
    let kv_heads = get_u32("llama.attention.head_count_kv")?;
    if heads == 0 || kv_heads == 0 || heads % kv_heads != 0 || embedding % heads != 0 {
        return Err(format!(
            "{heads} attention heads, {kv_heads} key-value heads and embedding length \
             {embedding} do not divide evenly"
        ));
    }
    let head_dim = embedding / heads;
    if head_dim % 2 != 0 {
        return Err(format!(
            "head dimension {head_dim} is odd; rotary embeddings need pairs"
        ));
    }
    let vocab = match get_u32("llama.vocab_size") {
        Ok(vocab) => vocab,
        Err(_) => content
            .tensor_infos
            .get("token_embd.weight")
            .and_then(|info| info.shape.dims().first().copied())
            .ok_or("the model has no token_embd.weight tensor")?,
    };
    Ok(LlamaParams {
        layers: get_u32("llama.block_count")?,
        embedding,
        feed_forward: get_u32("llama.feed_forward_length")?,
        heads,
        kv_heads,
        head_dim,
        rope_base: get_f32("llama.rope.freq_base").unwrap_or(10_000.0),
        norm_epsilon: get_f32("llama.attention.layer_norm_rms_epsilon")
            .ok_or("the metadata has no llama.attention.layer_norm_rms_epsilon")?,
        vocab,
    })
}

/// Reads tensors by name into a reused byte buffer.
struct TensorReader<'a, R> {
    content: &'a gguf_file::Content,
    reader: &'a mut R,
    buffer: Vec<u8>,
}

impl<R: Read + Seek> TensorReader<'_, R> {
    /// Reads a tensor's raw bytes; returns its type and `(rows, cols)`.
    fn raw(&mut self, name: &str) -> Result<(GgmlDType, usize, usize), String> {
        let info = self
            .content
            .tensor_infos
            .get(name)
            .ok_or_else(|| format!("the model has no tensor {name}"))?;
        let dims = info.shape.dims();
        let (rows, cols) = match dims {
            [cols] => (1, *cols),
            [rows, cols] => (*rows, *cols),
            _ => {
                return Err(format!(
                    "tensor {name} has shape {dims:?}, expected 1 or 2 dimensions"
                ));
            }
        };
        let elements = rows * cols;
        let dtype = info.ggml_dtype;
        let bytes = elements / dtype.block_size() * dtype.type_size();
        let offset = self.content.tensor_data_offset + info.offset;
        self.buffer.resize(bytes, 0);
        self.reader
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.reader.read_exact(&mut self.buffer))
            .map_err(|error| format!("cannot read tensor {name}: {error}"))?;
        Ok((dtype, rows, cols))
    }

    fn matrix(&mut self, name: &str) -> Result<QuantMatrix, String> {
        let (dtype, rows, cols) = self.raw(name)?;
        let parsed = match dtype {
            GgmlDType::Q4_1 => QuantMatrix::from_q4_1(rows, cols, &self.buffer),
            GgmlDType::Q8_0 => QuantMatrix::from_q8_0(rows, cols, &self.buffer),
            other => Err(format!(
                "it is {other:?}; the local backend runs Q4_1 and Q8_0 weight matrices only"
            )),
        };
        parsed.map_err(|error| format!("tensor {name}: {error}"))
    }

    fn vector(&mut self, name: &str) -> Result<Vec<f32>, String> {
        let (dtype, rows, _) = self.raw(name)?;
        if dtype != GgmlDType::F32 || rows != 1 {
            return Err(format!(
                "tensor {name} is a {dtype:?} tensor of {rows} rows; expected one F32 row"
            ));
        }
        Ok(self
            .buffer
            .chunks_exact(4)
            .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            .collect())
    }
}
