//! RAG metrics: faithfulness, answer relevance, context precision and
//! recall, and citation correctness, all scored without an LLM call except
//! answer relevance with generated questions (Ragas' method), which asks a
//! model for questions the answer would answer.
//!
//! Every metric reads the retrieved contexts from
//! [`Case::contexts`](crate::Case::contexts) in rank order. Claims come
//! from a rule-based splitter ([`extract_claims`]) and claim support from a
//! [`SupportScorer`]: lexical evidence (content-word coverage, number and
//! named-entity consistency) and, with an [`llmops_core::Embedder`],
//! embedding evidence.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use llmops_eval::rag::Faithfulness;
//! use llmops_eval::{Case, Metric, Sample, Score};
//!
//! let case = Case::new("q1", "When did the bridge open?")
//!     .context("The Golden Gate Bridge opened in 1937 in San Francisco.");
//! let grounded = Sample::new(&case, "The Golden Gate Bridge opened in 1937.");
//! assert_eq!(Faithfulness::default().score(&grounded).await, Score::value(1.0));
//! let wrong_year = Sample::new(&case, "The Golden Gate Bridge opened in 1947.");
//! assert_eq!(Faithfulness::default().score(&wrong_year).await, Score::value(0.0));
//! # });
//! ```

mod citation;
mod claims;
mod context;
mod faithfulness;
pub(crate) mod lexical;
mod questions;
mod relevance;
mod support;

pub use citation::{CitationCorrectness, Passage, citable_passages, parse_packed_context};
pub use claims::{extract_claims, split_sentences};
pub use context::{ContextPrecision, ContextRecall, context_precision};
pub use faithfulness::{Faithfulness, FaithfulnessAssessment};
pub use questions::{
    GeneratedQuestions, MAX_GENERATED_QUESTIONS, QuestionGenerator, parse_generated_questions,
};
pub use relevance::{AnswerRelevance, Noncommittal};
pub use support::{
    ClaimSupport, DEFAULT_CLAIM_THRESHOLD, DEFAULT_LEXICAL_WEIGHT, NUMBER_MISMATCH_CAP,
    SupportScorer,
};
