//! The result of a token count and how it was obtained.

use std::fmt;

/// A number of tokens, labelled with how it was obtained.
///
/// An estimate is never presented as exact: check [`TokenCount::is_exact`]
/// or match on [`CountMethod`] before relying on the number for a hard limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCount {
    /// The number of tokens.
    pub tokens: u64,
    /// The counting method: exact or estimate.
    pub method: CountMethod,
}

/// The method behind a [`TokenCount`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CountMethod {
    /// Counted with the model's own tokenizer, and for chat input with a
    /// message format that the provider has published.
    Exact {
        /// The encoding or tokenizer name, such as `o200k_base`.
        encoding: String,
    },
    /// An approximation, for example with another model's tokenizer.
    Estimate {
        /// The basis of the estimate, in one sentence.
        basis: String,
    },
}

impl TokenCount {
    /// Creates an exact count made with `encoding`.
    pub fn exact(tokens: u64, encoding: impl Into<String>) -> Self {
        TokenCount {
            tokens,
            method: CountMethod::Exact {
                encoding: encoding.into(),
            },
        }
    }

    /// Creates an estimate resting on `basis`.
    pub fn estimate(tokens: u64, basis: impl Into<String>) -> Self {
        TokenCount {
            tokens,
            method: CountMethod::Estimate {
                basis: basis.into(),
            },
        }
    }

    /// Returns whether the count is exact.
    pub fn is_exact(&self) -> bool {
        matches!(self.method, CountMethod::Exact { .. })
    }

    /// Turns the count into an estimate resting on `basis`; an estimate
    /// stays an estimate and keeps its first basis.
    pub(crate) fn into_estimate(self, basis: impl Into<String>) -> Self {
        match self.method {
            CountMethod::Exact { .. } => TokenCount::estimate(self.tokens, basis),
            CountMethod::Estimate { .. } => self,
        }
    }
}

impl fmt::Display for TokenCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.method {
            CountMethod::Exact { encoding } => {
                write!(f, "{} tokens (exact, {encoding})", self.tokens)
            }
            CountMethod::Estimate { basis } => {
                write!(f, "{} tokens (estimate: {basis})", self.tokens)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_labels_exact_and_estimate() {
        assert_eq!(
            TokenCount::exact(6, "cl100k_base").to_string(),
            "6 tokens (exact, cl100k_base)"
        );
        assert_eq!(
            TokenCount::estimate(7, "o200k_base as a proxy").to_string(),
            "7 tokens (estimate: o200k_base as a proxy)"
        );
    }

    #[test]
    fn estimate_keeps_first_basis() {
        let count = TokenCount::estimate(3, "first").into_estimate("second");
        assert_eq!(count, TokenCount::estimate(3, "first"));
        let count = TokenCount::exact(3, "o200k_base").into_estimate("second");
        assert!(!count.is_exact());
        assert_eq!(count.tokens, 3);
    }
}
