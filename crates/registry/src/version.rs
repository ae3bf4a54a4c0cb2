//! Stored prompt versions, summaries and deployments.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::prompt::PromptContent;

/// One immutable version of a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptVersion {
    /// The prompt name.
    pub name: String,
    /// The version number, from 1.
    pub version: u32,
    /// The `sha256:` hash of the canonical content.
    pub content_hash: String,
    /// Who created the version.
    pub created_by: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// The templates, parameters, variables and metadata.
    pub content: PromptContent,
}

/// The outcome of publishing content.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Published {
    /// The version that holds the content.
    pub version: u32,
    /// False when the latest version already had this content.
    pub created: bool,
    /// The content hash.
    pub content_hash: String,
}

/// One prompt in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PromptSummary {
    /// The prompt name.
    pub name: String,
    /// The highest version number.
    pub latest_version: u32,
    /// Each label and the version it points to.
    pub labels: BTreeMap<String, u32>,
}

/// One move of a label: the deployment history of a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The prompt name.
    pub prompt: String,
    /// The label that moved.
    pub label: String,
    /// The version it pointed to before, if any.
    pub from_version: Option<u32>,
    /// The version it points to after.
    pub to_version: u32,
    /// Who moved it.
    pub actor: String,
    /// Why.
    pub reason: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}
