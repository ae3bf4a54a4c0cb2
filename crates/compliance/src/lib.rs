//! Compliance records for llmops on [`llmops_store`].
//!
//! llmops does not give legal advice. This crate keeps records that audits
//! and regulations commonly ask for. Whether they meet a given obligation is
//! for the operator and their counsel to decide.
//!
//! - [`AuditLog`]: an append-only log of [`NewEvent`]s (model calls,
//!   guardrail findings, evaluation scores, oversight decisions, changes).
//!   Each entry's hash is the RFC 9162 leaf hash of the RFC 8785 canonical
//!   JSON of its fields, the SHA-256 digest of its payload and the previous
//!   entry's hash, and is a leaf of the Merkle tree over the log.
//!   Appends are transactional and serialized across connections and
//!   processes; [`AuditLog::append_batch`] writes many entries per
//!   transaction.
//! - [`AuditLog::verify`] recomputes every hash and link and reports the
//!   first [`ChainBreak`]: an edited, deleted, inserted or reordered entry,
//!   a missing or damaged head row, or a checkpoint that does not match.
//!   A log cut back together with its later checkpoints and head row still
//!   verifies on its own; [`VerifyOptions::tree_heads`] checks it against
//!   a signed tree head kept elsewhere ([`read_tree_head`] reads one from
//!   an extract). [`AuditLog::open_existing`] opens a log without
//!   migrating, for commands that must not write.
//! - [`merkle`]: tree heads, inclusion and consistency proofs and their
//!   verification. [`Checkpoint`]s are tree heads signed with Ed25519,
//!   stored with the log and recorded in it.
//! - [`AuditLog::export_extract`] writes entries as JSON Lines with
//!   inclusion proofs, and [`verify_extract`] checks such a file offline.
//! - Crypto-shredding: personal fields of an event are encrypted under a key
//!   of their data subject. [`AuditLog::erase_data_subject`] destroys the
//!   keys; the chain still verifies and the fields read as
//!   [`PersonalData::Erased`].
//! - [`ReviewQueue`]: the human-oversight state machine, with every change
//!   recorded in the audit log.
//! - Retention: [`AuditLog::purge_payloads`] removes old payloads (the
//!   hashes cover a digest, so the chain still verifies) unless a
//!   [`LegalHold`] is in place.
//! - With the feature `gateway`, `AuditHook` appends a `model_call` entry
//!   for every request an `llmops-gateway` gateway ends.
//! - [`AiSystem`] register entries with a questionnaire over the
//!   high-impact domains of Korea's AI Basic Act, and a
//!   [`TransparencyReport`] over a period, as JSON or Markdown.
//!
//! # Example
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use llmops_compliance::{AuditLog, EventKind, NewEvent, PersonalData, VerifyOptions};
//! use llmops_compliance::ed25519_dalek::SigningKey;
//! use llmops_store::Store;
//! use serde_json::json;
//!
//! let log = AuditLog::open(Store::connect("sqlite::memory:").await?).await?;
//! let call = log
//!     .append(
//!         NewEvent::new(EventKind::ModelCall, "gateway", "request:1")
//!             .payload(json!({"model": "gpt-4o-mini", "prompt_tokens": 12}))
//!             .personal("user-7f3a", json!({"email": "ana@example.com"})),
//!     )
//!     .await?;
//!
//! // A fixed key keeps the example short; load a secret key in production.
//! let key = SigningKey::from_bytes(&[7; 32]);
//! let checkpoint = log.sign_checkpoint(&key).await?;
//! let options = VerifyOptions::default().trusted_keys([key.verifying_key()]);
//! assert!(log.verify(&options).await?.is_valid());
//!
//! log.erase_data_subject("user-7f3a", "privacy-team").await?;
//! assert_eq!(log.personal_data(&call).await?, PersonalData::Erased);
//! assert!(log.verify(&options).await?.is_valid());
//!
//! let mut extract = Vec::new();
//! log.export_extract(&mut extract, [0], &checkpoint).await?;
//! let report = llmops_compliance::verify_extract(&extract[..], &[key.verifying_key()])?;
//! assert_eq!(report.entries, vec![0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub mod merkle;

mod assessment;
mod bundle;
mod canonical;
mod checkpoint;
mod error;
mod event;
mod exact_json;
mod export;
#[cfg(feature = "gateway")]
mod gateway_hook;
mod hash;
mod incident;
mod log;
#[cfg(feature = "monitor")]
mod monitor_source;
mod register;
mod report;
mod retention;
mod review;
mod schema;
mod shred;
mod verify;

pub use assessment::{
    ASSESSMENT_KIND, Evidence, EvidenceKind, ImpactAssessment, Risk, RiskLevel, StoredAssessment,
};
pub use bundle::{
    BUNDLE_FAILED_KIND, BUNDLE_KIND, BundleCheck, BundleFile, BundleManifest, EXPORT_RECORD_FILE,
    EXTRACT_FILE, MANIFEST_FILE, verify_bundle,
};
pub use canonical::{canonical_json, canonical_value};
pub use checkpoint::{CHECKPOINT_KIND, Checkpoint, TreeHead, key_id};
pub use error::{ComplianceError, Result};
pub use event::{
    AuditEntry, EventKind, MAX_NAME_BYTES, NewEvent, SealedFields, content_digest, entry_hash,
};
pub use exact_json::{MAX_PAYLOAD_DEPTH, parse_exact_json};
pub use export::{ExtractReport, read_tree_head, verify_extract};
#[cfg(feature = "gateway")]
pub use gateway_hook::{AuditHook, model_call_event};
pub use hash::Hash;
pub use incident::{
    INCIDENT_KIND, Incident, IncidentSeverity, IncidentStatus, IncidentUpdate, NewIncident,
};
pub use log::{AuditLog, LogHead, RESERVED_KINDS};
pub use register::{AiSystem, HighImpactDomain};
pub use report::TransparencyReport;
pub use retention::{HOLD_PLACED_KIND, HOLD_RELEASED_KIND, LegalHold, PURGE_KIND, PurgeReport};
pub use review::{
    ApprovalGate, Decision, GateOutcome, NewReview, QueueSummary, ReviewItem, ReviewQueue,
    ReviewState, TimeoutPolicy,
};
pub use shred::{ErasureReport, PersonalData};
pub use verify::{BreakReason, ChainBreak, ReadPath, VerifyOptions, VerifyReport};

/// The Ed25519 crate that signs checkpoints, re-exported so callers build
/// keys with the same version.
pub use ed25519_dalek;
