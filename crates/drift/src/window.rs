//! A window of inputs to compare: texts and numeric signals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Inputs of one time window: the texts to embed and cluster, and numeric
/// signals per name (for example `prompt_tokens`, `latency_ms`, `cost_usd`).
///
/// A signal's values need not line up with the texts; each signal is
/// compared on its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Input texts, usually prompts.
    pub texts: Vec<String>,
    /// Numeric signals by name.
    pub features: BTreeMap<String, Vec<f64>>,
}

impl Window {
    /// Creates a window of texts without numeric signals.
    pub fn new(texts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            texts: texts.into_iter().map(Into::into).collect(),
            features: BTreeMap::new(),
        }
    }

    /// Adds or replaces the numeric signal `name`.
    pub fn with_feature(mut self, name: impl Into<String>, values: Vec<f64>) -> Self {
        self.features.insert(name.into(), values);
        self
    }

    /// Returns the number of texts.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Returns whether the window has no texts.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}
