//! Metadata filters applied during retrieval.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A condition on document metadata; every clause must hold.
///
/// ```
/// use std::collections::BTreeMap;
/// use llmops_rag::MetadataFilter;
///
/// let filter = MetadataFilter::new().equals("lang", "en").any_of("team", ["a", "b"]);
/// let metadata = BTreeMap::from([("lang".to_owned(), "en".to_owned()), ("team".to_owned(), "b".to_owned())]);
/// assert!(filter.matches(&metadata));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataFilter {
    clauses: Vec<(String, Vec<String>)>,
}

impl MetadataFilter {
    /// Creates a filter that accepts everything.
    pub fn new() -> Self {
        MetadataFilter::default()
    }

    /// Requires `key` to equal `value`.
    pub fn equals(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.any_of(key, [value.into()])
    }

    /// Requires `key` to equal one of `values`.
    pub fn any_of<I, S>(mut self, key: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.clauses
            .push((key.into(), values.into_iter().map(Into::into).collect()));
        self
    }

    /// Returns true when the filter has no clause.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// Returns true when `metadata` satisfies every clause; a missing key
    /// fails its clause.
    pub fn matches(&self, metadata: &BTreeMap<String, String>) -> bool {
        self.clauses.iter().all(|(key, values)| {
            metadata
                .get(key)
                .is_some_and(|value| values.iter().any(|allowed| allowed == value))
        })
    }
}
