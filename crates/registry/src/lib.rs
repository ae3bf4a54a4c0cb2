//! A versioned prompt registry on [`llmops_store`].
//!
//! A prompt is a name plus [`PromptContent`]: a text or chat [`Template`],
//! model parameters, a variable schema and free metadata. Publishing stores
//! immutable versions numbered 1, 2, ... per prompt, and a new version only
//! when the content hash (SHA-256 of canonical JSON) changes. Labels such as
//! `production` point to versions; each move is recorded with who, when,
//! from, to and why, and a rollback is a move back. Reads go through an
//! in-memory cache that label moves invalidate, also across processes that
//! share the database.
//!
//! A [`Selector`] picks a version by number, by label, or the latest, so a
//! label named `3` never shadows version 3. As text, [`PromptRef`] writes
//! them `NAME@3` (version), `NAME:production` (label) and `NAME` (latest).
//!
//! Two modules need no database: [`render`] compiles prompt templates
//! (chat messages or a single text) against a variable schema with MiniJinja
//! in strict mode, and [`experiment`] assigns units to weighted arms and
//! analyses the outcome with a stopping recommendation.
//!
//! # Example
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use llmops_registry::{LabelMove, PromptContent, Registry, Selector};
//! use llmops_store::Store;
//!
//! let registry = Registry::open(Store::connect("sqlite::memory:").await?).await?;
//! let v1 = registry.publish("greet", &PromptContent::text("Hello {{ name }}"), "ana").await?;
//! let v2 = registry.publish("greet", &PromptContent::text("Hi {{ name }}!"), "ana").await?;
//! assert_eq!((v1.version, v2.version), (1, 2));
//!
//! let launch = LabelMove { prompt: "greet", label: "production", version: 1, actor: "ana", reason: "launch" };
//! registry.set_label(&launch).await?;
//! registry.set_label(&LabelMove { version: 2, reason: "shorter", ..launch }).await?;
//! let live = registry.get("greet", &Selector::Label("production".into())).await?;
//! assert_eq!(live.version, 2);
//!
//! registry.rollback("greet", "production", "ana", "tone regression").await?;
//! let live = registry.get("greet", &Selector::Label("production".into())).await?;
//! assert_eq!(live.version, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub mod experiment;
pub mod render;

mod cache;
mod canonical;
mod error;
mod labels;
mod logging;
mod metrics;
#[cfg(feature = "monitor")]
mod monitor_source;
mod prompt;
mod registry;
mod render_hook;
mod schema;
mod selector;
mod transfer;
mod version;

pub use error::{RegistryError, Result};
pub use labels::LabelMove;
pub use logging::{CallLogger, CallLoggerOptions, CallRecord, LoggerStats};
pub use metrics::{MetricsScope, Score, ScoreSummary, TimeWindows, WindowMetrics};
pub use prompt::{ChatMessage, PromptContent, Role, Template, VariableSpec, VariableType};
pub use registry::{Registry, RegistryOptions};
pub use render_hook::{RenderedPrompt, render};
pub use schema::MIGRATIONS;
pub use selector::{
    MAX_LABEL_BYTES, MAX_NAME_BYTES, PromptRef, Selector, validate_label, validate_name,
};
pub use transfer::{EXPORT_FORMAT, ImportReport, PromptExport, RegistryExport, VersionExport};
pub use version::{Deployment, PromptSummary, PromptVersion, Published};
