//! Errors of experiment configuration and analysis input.

use thiserror::Error;

/// An invalid experiment definition or analysis input.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ExperimentError {
    /// The experiment id is empty.
    #[error("experiment id is empty; give the experiment a stable, non-empty id")]
    EmptyExperimentId,
    /// The experiment has no arms.
    #[error("experiment `{experiment}` has no arms; add at least one arm")]
    NoArms {
        /// The experiment id.
        experiment: String,
    },
    /// An arm name is empty.
    #[error("experiment `{experiment}` has an arm with an empty name; name every arm")]
    EmptyArmName {
        /// The experiment id.
        experiment: String,
    },
    /// Two arms share a name.
    #[error("experiment `{experiment}` has two arms named `{arm}`; arm names must be unique")]
    DuplicateArm {
        /// The experiment id.
        experiment: String,
        /// The repeated name.
        arm: String,
    },
    /// An arm weight is negative, NaN or infinite.
    #[error("arm `{arm}` has weight {weight}; weights must be finite and zero or positive")]
    InvalidWeight {
        /// The arm name.
        arm: String,
        /// The rejected weight.
        weight: f64,
    },
    /// The weights do not add up to a positive, finite total.
    #[error("weights of experiment `{experiment}` sum to {total}; {}", total_weight_fix(*.total))]
    InvalidTotalWeight {
        /// The experiment id.
        experiment: String,
        /// The sum of the weights.
        total: f64,
    },
    /// Analysis input names an arm the experiment does not have, or omits one.
    #[error(
        "analysis input for arm `{arm}` does not match the experiment's arms; pass one entry per arm, in any order"
    )]
    ArmMismatch {
        /// The arm name in question.
        arm: String,
    },
    /// A sample value is NaN or infinite.
    #[error(
        "metric `{metric}` of arm `{arm}` contains a non-finite value; drop or fix NaN and infinite samples"
    )]
    NonFiniteSample {
        /// The metric name.
        metric: String,
        /// The arm name.
        arm: String,
    },
    /// A binary metric has more successes than trials.
    #[error(
        "metric `{metric}` of arm `{arm}` has {successes} successes in {trials} trials; successes cannot exceed trials"
    )]
    SuccessesExceedTrials {
        /// The metric name.
        metric: String,
        /// The arm name.
        arm: String,
        /// The number of successes.
        successes: u64,
        /// The number of trials.
        trials: u64,
    },
    /// A ratio metric has different numbers of numerators and denominators.
    #[error(
        "ratio metric `{metric}` of arm `{arm}` has {numerators} numerators and {denominators} denominators; pass one pair per unit"
    )]
    RatioLengthMismatch {
        /// The metric name.
        metric: String,
        /// The arm name.
        arm: String,
        /// The number of numerators.
        numerators: usize,
        /// The number of denominators.
        denominators: usize,
    },
    /// A metric has a different kind in different arms.
    #[error(
        "metric `{metric}` has a different kind in arm `{arm}` than in the control arm; use one kind per metric"
    )]
    MetricKindMismatch {
        /// The metric name.
        metric: String,
        /// The arm name.
        arm: String,
    },
    /// A metric is missing from an arm.
    #[error("metric `{metric}` is missing from arm `{arm}`; pass every metric for every arm")]
    MissingMetric {
        /// The metric name.
        metric: String,
        /// The arm name.
        arm: String,
    },
    /// A stored experiment has fewer than two arms, so nothing is compared.
    #[error(
        "experiment `{experiment}` has {arms} arm; add a second arm to compare with the control"
    )]
    TooFewArms {
        /// The experiment id.
        experiment: String,
        /// The number of arms given.
        arms: usize,
    },
    /// The control arm gets no traffic, so the other arms have nothing to
    /// be compared with.
    #[error(
        "control arm `{arm}` of experiment `{experiment}` has weight 0; give the first arm, the control, a positive weight"
    )]
    ControlWithoutTraffic {
        /// The experiment id.
        experiment: String,
        /// The control arm's name.
        arm: String,
    },
    /// A candidate arm gets no traffic, so it would never be measured.
    #[error(
        "arm `{arm}` of experiment `{experiment}` has weight 0, so it would never be served; give it a positive weight or leave it out"
    )]
    CandidateWithoutTraffic {
        /// The experiment id.
        experiment: String,
        /// The arm's name.
        arm: String,
    },
    /// Two arms serve the same prompt version, so they cannot differ.
    #[error(
        "arms `{first}` and `{second}` of experiment `{experiment}` both serve version {version}; point each arm at a different version"
    )]
    IdenticalArms {
        /// The experiment id.
        experiment: String,
        /// The earlier arm's name.
        first: String,
        /// The later arm's name.
        second: String,
        /// The prompt version both arms serve.
        version: u32,
    },
    /// The experiment id has characters a stored experiment cannot use.
    #[error("invalid experiment id `{id}`: {reason}")]
    InvalidId {
        /// The rejected id.
        id: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The primary metric named in the analysis settings has no samples.
    #[error(
        "primary metric `{metric}` is not among the measured metrics ({available}); name one of them"
    )]
    UnknownPrimaryMetric {
        /// The metric asked for.
        metric: String,
        /// The measured metrics, comma-separated.
        available: String,
    },
    /// An analysis setting is out of range.
    #[error("analysis setting `{setting}` is {value}; {expected}")]
    InvalidSetting {
        /// The setting name.
        setting: &'static str,
        /// The rejected value.
        value: f64,
        /// The valid range.
        expected: &'static str,
    },
}

/// Says how to fix a weight total that is zero or overflowed.
fn total_weight_fix(total: f64) -> &'static str {
    if total.is_infinite() {
        "the weights overflow when added; use smaller weights, such as percentages"
    } else {
        "give at least one arm a positive weight"
    }
}
