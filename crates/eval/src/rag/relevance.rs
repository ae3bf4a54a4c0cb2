//! Answer relevance: how closely the answer addresses the question.

use std::sync::Arc;

use async_trait::async_trait;
use llmops_core::Embedder;

use crate::embedding::cosine_similarity;
use crate::metric::{Metric, Sample};
use crate::score::{Score, ScoreRange};

/// Relevance of the output to the case input, 0 to 1: the cosine
/// similarity of their embeddings, with negative values raised to 0.
///
/// Ragas defines answer relevancy as the mean cosine similarity between the
/// question and questions an LLM generates back from the answer. This
/// variant compares question and answer directly, which needs no LLM call
/// but also rewards an answer that repeats the question. The score is
/// undetermined when either text is blank or the embedder fails.
pub struct AnswerRelevance {
    embedder: Arc<dyn Embedder>,
}

impl AnswerRelevance {
    /// Creates the metric on an embedder.
    pub fn new(embedder: Arc<dyn Embedder>) -> Self {
        AnswerRelevance { embedder }
    }
}

impl std::fmt::Debug for AnswerRelevance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerRelevance")
            .field("model", &self.embedder.model())
            .finish()
    }
}

#[async_trait]
impl Metric for AnswerRelevance {
    fn name(&self) -> &str {
        "answer_relevance"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        if sample.output.trim().is_empty() || sample.case.input.trim().is_empty() {
            return Score::undetermined("answer relevance needs a non-blank question and answer");
        }
        let texts = [sample.case.input.clone(), sample.output.to_owned()];
        let vectors = match self.embedder.embed(&texts).await {
            Ok(vectors) => vectors,
            Err(error) => {
                tracing::warn!(model = self.embedder.model(), %error, "embedding failed");
                return Score::undetermined(format!("embedding failed: {error}"));
            }
        };
        let [question, answer] = vectors.as_slice() else {
            return Score::undetermined(format!(
                "embedder `{}` returned {} vectors for 2 texts",
                self.embedder.model(),
                vectors.len()
            ));
        };
        match cosine_similarity(question, answer) {
            Some(similarity) => Score::value(similarity.max(0.0)),
            None => Score::undetermined("an embedding is a zero vector or the lengths differ"),
        }
    }
}
