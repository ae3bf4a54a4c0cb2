//! The encoder's settings and weights, read from `config.json` and
//! `model.safetensors` in the layout Hugging Face's `BertModel` saves.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use crate::error::LocalError;

/// The fields of `config.json` the encoder uses.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct BertSettings {
    pub(crate) vocab_size: usize,
    pub(crate) hidden_size: usize,
    pub(crate) num_hidden_layers: usize,
    pub(crate) num_attention_heads: usize,
    pub(crate) intermediate_size: usize,
    pub(crate) max_position_embeddings: usize,
    #[serde(default = "default_type_vocab_size")]
    pub(crate) type_vocab_size: usize,
    #[serde(default = "default_layer_norm_eps")]
    pub(crate) layer_norm_eps: f64,
    #[serde(default = "default_hidden_act")]
    pub(crate) hidden_act: String,
}

fn default_type_vocab_size() -> usize {
    2
}

fn default_layer_norm_eps() -> f64 {
    1e-12
}

fn default_hidden_act() -> String {
    "gelu".to_owned()
}

impl BertSettings {
    /// Checks the values the forward pass relies on, naming the field and
    /// its value when one is unusable.
    pub(crate) fn validate(&self, path: &Path) -> Result<(), LocalError> {
        let invalid = |message: String| {
            Err(LocalError::InvalidModel {
                path: path.to_owned(),
                message,
            })
        };
        if self.hidden_act != "gelu" {
            return invalid(format!(
                "hidden_act is {:?}, but this embedder runs BERT models with \"gelu\" only",
                self.hidden_act
            ));
        }
        for (field, value) in [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ] {
            if value == 0 {
                return invalid(format!("{field} is 0; a BERT model needs at least 1"));
            }
        }
        if self.hidden_size % self.num_attention_heads != 0 {
            return invalid(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return invalid(format!(
                "layer_norm_eps is {}; it must be a positive number",
                self.layer_norm_eps
            ));
        }
        Ok(())
    }

    pub(crate) fn head_size(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

/// A linear layer: `out = x W^T + b`, with `W` stored row-major as
/// `[outputs][inputs]`.
pub(crate) struct Linear {
    pub(crate) weight: Vec<f32>,
    pub(crate) bias: Vec<f32>,
    pub(crate) outputs: usize,
}

/// A layer normalisation's scale and shift.
pub(crate) struct NormWeights {
    pub(crate) weight: Vec<f32>,
    pub(crate) bias: Vec<f32>,
}

/// One transformer layer; query, key and value are stacked into one
/// linear layer of `3 × hidden` outputs.
pub(crate) struct Layer {
    pub(crate) qkv: Linear,
    pub(crate) attention_out: Linear,
    pub(crate) attention_norm: NormWeights,
    pub(crate) intermediate: Linear,
    pub(crate) output: Linear,
    pub(crate) output_norm: NormWeights,
}

/// The embedding tables and the layers.
pub(crate) struct BertWeights {
    pub(crate) word: Vec<f32>,
    pub(crate) position: Vec<f32>,
    /// Row 0 of the token type table; every input is segment 0.
    pub(crate) token_type: Vec<f32>,
    pub(crate) embedding_norm: NormWeights,
    pub(crate) layers: Vec<Layer>,
}

impl BertWeights {
    /// Reads every tensor the encoder needs from `path` and checks its
    /// shape against `settings`.
    pub(crate) fn load(path: &Path, settings: &BertSettings) -> Result<Self, LocalError> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu).map_err(|error| {
            LocalError::InvalidModel {
                path: path.to_owned(),
                message: error.to_string(),
            }
        })?;
        let mut reader = Reader {
            path: path.to_owned(),
            tensors,
            prefix: "",
        };
        if !reader
            .tensors
            .contains_key("embeddings.word_embeddings.weight")
            && reader
                .tensors
                .contains_key("bert.embeddings.word_embeddings.weight")
        {
            reader.prefix = "bert.";
        }

        let hidden = settings.hidden_size;
        let inner = settings.intermediate_size;
        let mut token_type = reader.take(
            "embeddings.token_type_embeddings.weight",
            &[settings.type_vocab_size, hidden],
        )?;
        token_type.truncate(hidden);
        let mut layers = Vec::with_capacity(settings.num_hidden_layers);
        for index in 0..settings.num_hidden_layers {
            let name = |part: &str| format!("encoder.layer.{index}.{part}");
            let mut qkv = reader.linear(&name("attention.self.query"), hidden, hidden)?;
            for part in ["key", "value"] {
                let next =
                    reader.linear(&name(&format!("attention.self.{part}")), hidden, hidden)?;
                qkv.weight.extend(next.weight);
                qkv.bias.extend(next.bias);
                qkv.outputs += next.outputs;
            }
            layers.push(Layer {
                qkv,
                attention_out: reader.linear(&name("attention.output.dense"), hidden, hidden)?,
                attention_norm: reader.norm(&name("attention.output.LayerNorm"), hidden)?,
                intermediate: reader.linear(&name("intermediate.dense"), hidden, inner)?,
                output: reader.linear(&name("output.dense"), inner, hidden)?,
                output_norm: reader.norm(&name("output.LayerNorm"), hidden)?,
            });
        }
        Ok(BertWeights {
            word: reader.take(
                "embeddings.word_embeddings.weight",
                &[settings.vocab_size, hidden],
            )?,
            position: reader.take(
                "embeddings.position_embeddings.weight",
                &[settings.max_position_embeddings, hidden],
            )?,
            token_type,
            embedding_norm: reader.norm("embeddings.LayerNorm", hidden)?,
            layers,
        })
    }
}

struct Reader {
    path: PathBuf,
    tensors: HashMap<String, Tensor>,
    prefix: &'static str,
}

impl Reader {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, LocalError> {
        let full = format!("{}{name}", self.prefix);
        let invalid = |message: String| LocalError::InvalidModel {
            path: self.path.clone(),
            message,
        };
        let tensor = self
            .tensors
            .remove(&full)
            .ok_or_else(|| invalid(format!("the tensor {full} is missing")))?;
        if tensor.dims() != shape {
            return Err(invalid(format!(
                "the tensor {full} has shape {:?}, but config.json implies {shape:?}",
                tensor.dims()
            )));
        }
        tensor
            .to_dtype(DType::F32)
            .and_then(|tensor| tensor.flatten_all())
            .and_then(|tensor| tensor.to_vec1::<f32>())
            .map_err(|error| invalid(format!("cannot read the tensor {full}: {error}")))
    }

    fn linear(&mut self, name: &str, inputs: usize, outputs: usize) -> Result<Linear, LocalError> {
        Ok(Linear {
            weight: self.take(&format!("{name}.weight"), &[outputs, inputs])?,
            bias: self.take(&format!("{name}.bias"), &[outputs])?,
            outputs,
        })
    }

    fn norm(&mut self, name: &str, width: usize) -> Result<NormWeights, LocalError> {
        Ok(NormWeights {
            weight: self.take(&format!("{name}.weight"), &[width])?,
            bias: self.take(&format!("{name}.bias"), &[width])?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> BertSettings {
        BertSettings {
            vocab_size: 5,
            hidden_size: 4,
            num_hidden_layers: 1,
            num_attention_heads: 2,
            intermediate_size: 8,
            max_position_embeddings: 6,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            hidden_act: "gelu".to_owned(),
        }
    }

    fn message(result: Result<(), LocalError>) -> String {
        match result {
            Err(error) => error.to_string(),
            Ok(()) => String::from("accepted"),
        }
    }

    #[test]
    fn validate_names_bad_fields() {
        let path = Path::new("config.json");
        assert_eq!(message(tiny().validate(path)), "accepted");

        let mut settings = tiny();
        settings.hidden_act = "relu".to_owned();
        assert!(message(settings.validate(path)).contains("\"relu\""));

        let mut settings = tiny();
        settings.num_attention_heads = 3;
        let text = message(settings.validate(path));
        assert!(text.contains("hidden_size 4"), "{text}");
        assert!(text.contains("num_attention_heads 3"), "{text}");

        let mut settings = tiny();
        settings.num_hidden_layers = 0;
        assert!(message(settings.validate(path)).contains("num_hidden_layers is 0"));

        let mut settings = tiny();
        settings.layer_norm_eps = f64::NAN;
        assert!(message(settings.validate(path)).contains("layer_norm_eps"));
    }

    #[test]
    fn load_names_missing_and_misshapen_tensors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let word = Tensor::zeros((5, 4), DType::F32, &Device::Cpu).unwrap();
        let types = Tensor::zeros((3, 4), DType::F32, &Device::Cpu).unwrap();
        let tensors = HashMap::from([
            ("embeddings.word_embeddings.weight".to_owned(), word),
            ("embeddings.token_type_embeddings.weight".to_owned(), types),
        ]);
        candle_core::safetensors::save(&tensors, &path).unwrap();

        let error = BertWeights::load(&path, &tiny()).err().unwrap().to_string();
        assert!(
            error.contains("embeddings.token_type_embeddings.weight has shape [3, 4]"),
            "{error}"
        );

        let mut settings = tiny();
        settings.type_vocab_size = 3;
        let error = BertWeights::load(&path, &settings)
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("encoder.layer.0.attention.self.query.weight is missing"),
            "{error}"
        );
    }
}
