//! LLM operations for Rust applications.
//!
//! This facade re-exports the llmops crates, each behind a cargo feature, so
//! an application depends on one crate and takes only what it needs.
//!
//! | feature | crate | what it adds |
//! | --- | --- | --- |
//! | always | [`core`] | wire types, backend traits, errors, tokens, pricing |
//! | `openai` (default) | [`core::providers`] | OpenAI-compatible HTTP backend |
//! | `anthropic` (default) | [`core::providers`] | Anthropic Messages HTTP backend |
//! | `local` (default) | [`local`] | SmolLM2 on CPU, no API key needed |
//! | `gateway` (default) | [`gateway`] | routing, fallback, retries, circuit breakers, request records |
//! | `guardrails` (default) | [`guardrails`] | PII and secret detection, anonymisation, prompt-injection scores, output checks |
//! | `compliance` (default) | [`compliance`] | tamper-evident audit log, signed checkpoints, extracts, review queue, impact assessments, incidents |
//! | `rag` (default) | [`rag`] | ingestion, chunking, hybrid retrieval, index versions, context packing, retrieval metrics |
//! | `eval` (default) | [`eval`] | datasets, reference and deterministic metrics, LLM judges, RAG and groundedness metrics, evaluation runs, reports, regression gates |
//! | `drift` (default) | [`drift`] | topic baselines, drift statistics, policies and actions |
//! | `monitor` (default) | [`monitor`] | sliding-window metrics, alerts, Prometheus text, the live dashboard |

#[cfg(feature = "compliance")]
pub use llmops_compliance as compliance;
pub use llmops_core as core;
#[cfg(feature = "drift")]
pub use llmops_drift as drift;
#[cfg(feature = "eval")]
pub use llmops_eval as eval;
#[cfg(feature = "gateway")]
pub use llmops_gateway as gateway;
#[cfg(feature = "guardrails")]
pub use llmops_guardrails as guardrails;
#[cfg(feature = "local")]
pub use llmops_local as local;
#[cfg(feature = "monitor")]
pub use llmops_monitor as monitor;
#[cfg(feature = "rag")]
pub use llmops_rag as rag;
