//! Groundedness monitoring: a cheap score for every production response.
//!
//! [`GroundednessScorer`] makes no LLM call. A response with retrieved
//! contexts is scored by claim support ([`crate::rag::SupportScorer`]):
//! the score is the support of its weakest claim, so a response is flagged
//! as soon as one claim falls below the threshold. A response without
//! contexts is scored by self-consistency against other sampled responses
//! when the caller provides them, else by its mean token probability when
//! the backend returned log-probabilities, else it is undetermined.
//!
//! [`GroundednessRecord`]s go to a [`GroundednessSink`];
//! [`GroundednessAggregate`] is a sink that keeps counts and mean scores per
//! prompt version. With the `gateway` feature, `GroundednessHook` scores
//! every gateway response on a background worker.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use llmops_eval::{GroundednessInput, GroundednessScorer};
//!
//! let scorer = GroundednessScorer::lexical();
//! let contexts = ["The Oberoi Group has its head office in Delhi.".to_owned()];
//! let grounded = scorer
//!     .score(&GroundednessInput::new("The head office is in Delhi.").with_contexts(&contexts))
//!     .await;
//! assert!(!grounded.flagged);
//! let invented = scorer
//!     .score(&GroundednessInput::new("Mumbai, the financial capital.").with_contexts(&contexts))
//!     .await;
//! assert!(invented.flagged);
//! assert_eq!(invented.unsupported_claims, ["Mumbai, the financial capital."]);
//! # });
//! ```

#[cfg(feature = "gateway")]
mod hook;
mod record;
mod scorer;
mod signals;

#[cfg(feature = "gateway")]
pub use hook::{
    GroundednessHook, GroundednessHookBuilder, GroundednessHookStats, contexts_from_request,
};
pub use record::{
    GroundednessAggregate, GroundednessRecord, GroundednessSink, PromptVersionSummary, ReviewSink,
};
pub use scorer::{
    DEFAULT_GROUNDEDNESS_THRESHOLD, Groundedness, GroundednessInput, GroundednessScorer,
    GroundednessSignal,
};
pub use signals::{mean_token_probability, token_logprobs};
