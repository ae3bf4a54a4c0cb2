//! Drift detection for LLM inputs: topic clustering against a baseline,
//! distribution distances and tests, and thresholds that trigger actions.
//!
//! - [`Baseline`]: a reference window embedded with any
//!   [`llmops_core::Embedder`], clustered into topics by k-means (linfa;
//!   k chosen by silhouette or fixed; mini-batch for large windows), each
//!   topic labelled by its c-TF-IDF top terms.
//! - [`DriftCheck`]: assigns a current [`Window`] to the nearest topics (or
//!   "new topic" beyond a distance learnt from the baseline) and measures
//!   drift. The result, a [`DriftReport`], lists every [`Measure`] with its
//!   [`Severity`] under a [`Policy`], the topic shares, and new and
//!   vanished topics with examples.
//! - [`stats`]: the statistics. Topic shares are compared with
//!   Jensen-Shannon, PSI and a chi-square test; embeddings with the centroid
//!   cosine distance, MMD with a permutation test and a domain-classifier
//!   AUC; numeric signals (prompt length, tokens, latency, cost, scores)
//!   with Kolmogorov-Smirnov and a normalised Wasserstein distance. Each
//!   returns a [`Measurement`]: a finite value, or
//!   [`Measurement::InsufficientData`].
//! - [`DriftStore`]: baselines and reports in llmops-store (SQLite or
//!   PostgreSQL), listed in window order to compare over time.
//!   [`InputSource`] reads the inputs of a [`WindowSpan`];
//!   [`RegistryCalls`] reads the calls that the prompt registry logged, and
//!   [`WindowPlan`] cuts rolling or calendar windows.
//! - [`action`]: what to do about a report: webhook, JSON Lines export of
//!   drifted inputs, an evaluation hook and, with the feature `compliance`,
//!   a human-oversight item in the `llmops-compliance` review queue.
//!
//! ```
//! use llmops_drift::{Measurement, stats};
//!
//! let shares = stats::psi(&[120.0, 80.0, 0.0], &[60.0, 90.0, 50.0]).unwrap();
//! assert!(shares.statistic().unwrap() > 0.25);
//!
//! let empty = stats::ks_two_sample(&[], &[1.0]).unwrap();
//! assert!(matches!(empty, Measurement::InsufficientData { .. }));
//! ```

pub mod action;
mod assign;
mod baseline;
mod check;
mod cluster;
mod ctfidf;
mod embed;
mod error;
mod hashing;
#[cfg(feature = "monitor")]
mod monitor_source;
mod null_quantile;
mod policy;
mod render;
mod report;
mod schema;
mod silhouette;
mod source;
pub mod stats;
mod store;
mod text;
mod window;

pub use action::{Action, ActionRecord, Actions};
pub use assign::Assignment;
pub use baseline::{Baseline, BaselineConfig, Topic, TopicCount};
pub use check::{CheckConfig, CheckOutcome, DriftCheck, DriftedInput};
pub use ctfidf::TopicTerm;
pub use error::{DriftError, Result};
pub use hashing::HashingEmbedder;
#[cfg(feature = "monitor")]
pub use monitor_source::DriftPanel;
pub use null_quantile::{AppliedThresholds, NullQuantiles, ThresholdBasis};
pub use policy::{Policy, Rule, Severity};
pub use render::{render_html, render_markdown, topic_share_svg};
pub use report::{DriftReport, Measure, MeasureResult, NewTopic, TopicShare, VanishedTopic};
pub use schema::MIGRATIONS;
pub use source::{InputRecord, InputSource, RegistryCalls, WindowPlan};
pub use stats::Measurement;
pub use store::{DriftStore, StoredBaseline, StoredReport, WindowSpan};
pub use window::Window;
