//! Guardrails for LLM traffic: find PII and secrets, anonymise them, detect
//! prompt injection and check model output.
//!
//! - [`Analyzer`] runs [recognizers](recognizers) over a normalised copy of
//!   the text and returns [`Finding`]s whose offsets (bytes and chars) point at
//!   the original text. The built-in recognizers are patterns with checksums
//!   and context words; an in-process model plugs in as a
//!   [`NerModel`](recognizers::NerModel).
//! - [`ChatEntityExtractor`] is an optional model-based recognizer for person
//!   names and locations (places and street addresses, Korean ones
//!   included). It requests the mentions from any chat
//!   [`ModelBackend`](llmops_core::ModelBackend) under a strict JSON schema,
//!   and [`locate_mentions`] turns them into findings. Its [`EntityMention`]s go to
//!   [`Pipeline::check_with_mentions`] or `GuardHook`, where they are
//!   redacted together with the pattern findings. The pattern recognizers
//!   work without it.
//! - [`Anonymizer`] and [`Vault`] replace findings; the vault can restore them.
//! - [`InjectionDetector`] scores prompt-injection attempts; [`output`] contains
//!   checks of model responses, and [`StreamScanner`] redacts streamed output.
//! - [`ToxicityGuard`] flags insults, threats, identity attacks, profanity
//!   and sexually explicit terms from a [`ToxicityLexicon`] by whole-word
//!   matching; the crate bundles better-profanity's English profanity list.
//! - [`Guard`] is the object-safe check trait; [`Pipeline`] composes guards
//!   and can be built from TOML ([`PipelineConfig`]).
//! - With the feature `gateway`, `GuardHook` runs a pipeline's input guards
//!   as an `llmops-gateway` pre-call hook: redacted text replaces the
//!   request's, and a block rejects the request before any model call.
//!   `OutputGuardHook` runs the output guards as an output hook on whole
//!   completions and redacts PII in streams.
//!
//! ```
//! use llmops_guardrails::{Analyzer, Anonymizer, EntityType, PlaceholderScope};
//!
//! let text = "주민번호 900101-1234568로 조회, mail kim@example.com";
//! let findings = Analyzer::new().analyze(text).unwrap();
//! assert_eq!(findings[0].entity, EntityType::KrRrn);
//! assert_eq!(findings[0].value(text), "900101-1234568");
//!
//! let mut scope = PlaceholderScope::new();
//! let redacted = Anonymizer::default().anonymize(text, &findings, &mut scope);
//! assert_eq!(redacted, "주민번호 <KR_RRN_1>로 조회, mail <EMAIL_ADDRESS_1>");
//! ```

mod analyzer;
mod anonymize;
mod chat_ner;
mod entity;
mod error;
mod finding;
#[cfg(feature = "gateway")]
mod gateway_hook;
#[cfg(feature = "gateway")]
mod gateway_stream;
mod guard;
pub mod injection;
mod mention;
pub mod normalize;
pub mod output;
mod pii_guard;
mod pipeline;
pub mod recognizers;
mod resolve;
mod stream;
mod toxicity;
mod vault;

pub use analyzer::{Analyzer, DEFAULT_MIN_SCORE};
pub use anonymize::{Anonymizer, MIN_HASH_KEY_BYTES, Operator, PlaceholderScope};
pub use chat_ner::{
    ChatEntityExtractor, DEFAULT_ENTITY_MODEL_TIMEOUT, DEFAULT_MAX_CHARS_PER_CALL,
    DEFAULT_MENTION_SCORE, FailurePolicy,
};
pub use entity::EntityType;
pub use error::{GuardError, Result};
pub use finding::Finding;
#[cfg(feature = "gateway")]
pub use gateway_hook::{GuardEvent, GuardHook, GuardHookBuilder, GuardListener, OutputGuardHook};
pub use guard::{Action, Guard, Stage, Verdict};
pub use injection::{InjectionClassifier, InjectionDetector, InjectionGuard, InjectionReport};
pub use mention::{EntityMention, locate_mentions};
pub use pii_guard::PiiGuard;
pub use pipeline::{InjectionConfig, Outcome, OutputConfig, PiiConfig, Pipeline, PipelineConfig};
pub use resolve::resolve_overlaps;
pub use stream::{DEFAULT_WINDOW_CHARS, MAX_HELD_CHARS, StreamOutput, StreamScanner};
pub use toxicity::{ToxicityGuard, ToxicityLexicon};
pub use vault::Vault;
