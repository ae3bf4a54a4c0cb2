//! A/B experiments between prompt versions: assignment and analysis.
//!
//! An [`Experiment`] splits traffic between [`Arm`]s by weight.
//! [`Experiment::assign`] maps a unit id to an arm with a stable hash
//! (SHA-256, see [`unit_interval`]), so a unit keeps its arm across
//! processes and releases. [`Experiment::analyze`] compares each arm with
//! the control (the first arm) and returns a serializable [`Report`]:
//!
//! - continuous metrics: Welch's t-test and a seeded percentile bootstrap
//!   interval;
//! - binary metrics: the pooled two-proportion z-test, Wilson intervals
//!   per arm and Newcombe's interval for the difference;
//! - ratio metrics: a z-test on delta-method variances;
//! - a sample ratio mismatch check (chi-square goodness of fit);
//! - the mSPRT always-valid p-value and confidence sequence, valid under
//!   repeated looks (mixing parameter documented in [`stats::msprt`]);
//! - the Bayesian probability that each arm is best;
//! - a [`Recommendation`]: continue, stop with a winner, stop with no
//!   difference, or stop on a sample ratio mismatch.
//!
//! [`Experiment::analyze`] stores nothing; callers pass counts and
//! samples. The registry also keeps experiments in the store:
//! [`Registry::create_experiment`](crate::Registry::create_experiment)
//! splits a label's traffic, [`Registry::serve`](crate::Registry::serve)
//! picks the version for one unit, calls logged with
//! [`CallRecord::served`](crate::CallRecord::served) carry the arm, and
//! [`Registry::experiment_report`](crate::Registry::experiment_report)
//! analyses what was logged (see [`outcomes`] for the metrics).
//!
//! # Example
//!
//! ```
//! use std::collections::BTreeMap;
//! use llmops_registry::experiment::{
//!     AnalysisConfig, Arm, ArmSamples, ArmTarget, Experiment, MetricSamples, Recommendation,
//! };
//!
//! let experiment = Experiment::new(
//!     "greeting-tone",
//!     vec![
//!         Arm::new("control", ArmTarget::Version(3), 1.0),
//!         Arm::new("friendly", ArmTarget::Label("candidate".into()), 1.0),
//!     ],
//! )?;
//! let arm = experiment.assign("user-42");
//! assert_eq!(experiment.assign("user-42").name, arm.name);
//!
//! let samples = |arm: &str, successes, trials| ArmSamples {
//!     arm: arm.to_owned(),
//!     units: trials,
//!     metrics: BTreeMap::from([(
//!         "thumbs_up".to_owned(),
//!         MetricSamples::Binary { successes, trials },
//!     )]),
//! };
//! let report = experiment.analyze(
//!     &[samples("control", 400, 5000), samples("friendly", 520, 5000)],
//!     &AnalysisConfig::default(),
//! )?;
//! assert!(matches!(
//!     report.recommendation,
//!     Recommendation::StopWinner { ref arm, .. } if arm == "friendly"
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod analysis;
mod config;
mod decision;
mod design;
mod error;
mod hash;
pub mod outcomes;
mod report;
mod samples;
pub mod stats;
mod stored;

pub use config::AnalysisConfig;
pub use design::{Arm, ArmTarget, Experiment};
pub use error::ExperimentError;
pub use hash::unit_interval;
pub use report::{ArmSummary, Comparison, MetricReport, Recommendation, Report};
pub use samples::{ArmSamples, MetricSamples};
pub use stored::{Assignment, ExperimentStatus, NewExperiment, Served, StoredExperiment};
