//! Answer relevance: how closely the answer addresses the question.

use std::sync::Arc;

use async_trait::async_trait;
use llmops_core::Embedder;

use crate::embedding::cosine_similarity;
use crate::metric::{Metric, Sample};
use crate::rag::questions::QuestionGenerator;
use crate::score::{Score, ScoreRange};

/// The score a generated-question [`AnswerRelevance`] gives when the
/// question generator judges the answer noncommittal ("I don't know", "it
/// depends").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Noncommittal {
    /// Score 0, because an evasive answer does not address the question,
    /// however close its generated questions are. The default.
    #[default]
    Zero,
    /// Leave the case undetermined, for datasets where declining to answer
    /// is acceptable and should not lower the mean.
    Undetermined,
}

/// Relevance of the output to the case input, 0 to 1.
///
/// By default it is the cosine similarity of the embeddings of question and
/// answer, with negative values raised to 0. That needs no LLM call but
/// also rewards an answer that repeats the question.
///
/// With [`with_generated_questions`](Self::with_generated_questions) it
/// follows the answer relevancy of Ragas (as its documentation defines
/// it) instead: a [`QuestionGenerator`] writes N questions (3 by default)
/// that the output would answer, and the score is the mean cosine
/// similarity between each generated question and the case input (raised
/// to 0 when negative). An output the generator calls noncommittal gets
/// the score [`Noncommittal`] selects (0 by default). This mode's metric
/// name is `answer_relevance_generated`, so runs scored by the two methods
/// are not compared by mistake.
///
/// The score is undetermined when either text is blank, the embedder
/// fails, or question generation fails or returns no question.
pub struct AnswerRelevance {
    embedder: Arc<dyn Embedder>,
    generator: Option<QuestionGenerator>,
    noncommittal: Noncommittal,
}

impl AnswerRelevance {
    /// Creates the metric on an embedder, comparing question and answer
    /// directly.
    pub fn new(embedder: Arc<dyn Embedder>) -> Self {
        AnswerRelevance {
            embedder,
            generator: None,
            noncommittal: Noncommittal::default(),
        }
    }

    /// Scores with questions generated back from the answer (Ragas' method).
    pub fn with_generated_questions(mut self, generator: QuestionGenerator) -> Self {
        self.generator = Some(generator);
        self
    }

    /// Sets the score of a noncommittal answer in generated-question mode
    /// (default [`Noncommittal::Zero`]).
    pub fn on_noncommittal(mut self, policy: Noncommittal) -> Self {
        self.noncommittal = policy;
        self
    }

    async fn embed(&self, texts: &[String]) -> std::result::Result<Vec<Vec<f32>>, Score> {
        let vectors = match self.embedder.embed(texts).await {
            Ok(vectors) => vectors,
            Err(error) => {
                tracing::warn!(model = self.embedder.model(), %error, "embedding failed");
                return Err(Score::undetermined(format!("embedding failed: {error}")));
            }
        };
        if vectors.len() != texts.len() {
            return Err(Score::undetermined(format!(
                "embedder `{}` returned {} vectors for {} texts",
                self.embedder.model(),
                vectors.len(),
                texts.len()
            )));
        }
        Ok(vectors)
    }

    async fn direct(&self, sample: &Sample<'_>) -> Score {
        let texts = [sample.case.input.clone(), sample.output.to_owned()];
        let vectors = match self.embed(&texts).await {
            Ok(vectors) => vectors,
            Err(undetermined) => return undetermined,
        };
        match cosine_similarity(&vectors[0], &vectors[1]) {
            Some(similarity) => Score::value(similarity.max(0.0)),
            None => Score::undetermined("an embedding is a zero vector or the lengths differ"),
        }
    }

    async fn generated(&self, generator: &QuestionGenerator, sample: &Sample<'_>) -> Score {
        let generated = match generator.generate(sample.output).await {
            Ok(generated) => generated,
            Err(reason) => {
                return Score::undetermined(format!("question generation failed: {reason}"));
            }
        };
        if generated.noncommittal {
            return match self.noncommittal {
                Noncommittal::Zero => Score::value(0.0),
                Noncommittal::Undetermined => {
                    Score::undetermined("the question generator judged the answer noncommittal")
                }
            };
        }

        let mut texts = Vec::with_capacity(generated.questions.len() + 1);
        texts.push(sample.case.input.clone());
        texts.extend(generated.questions);
        let vectors = match self.embed(&texts).await {
            Ok(vectors) => vectors,
            Err(undetermined) => return undetermined,
        };
        let similarities: Option<Vec<f64>> = vectors[1..]
            .iter()
            .map(|question| cosine_similarity(&vectors[0], question))
            .collect();
        match similarities {
            Some(similarities) => {
                let mean = similarities.iter().sum::<f64>() / similarities.len() as f64;
                Score::value(mean.max(0.0))
            }
            None => Score::undetermined("an embedding is a zero vector or the lengths differ"),
        }
    }
}

impl std::fmt::Debug for AnswerRelevance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerRelevance")
            .field("model", &self.embedder.model())
            .field("generator", &self.generator)
            .field("noncommittal", &self.noncommittal)
            .finish()
    }
}

#[async_trait]
impl Metric for AnswerRelevance {
    fn name(&self) -> &str {
        match self.generator {
            Some(_) => "answer_relevance_generated",
            None => "answer_relevance",
        }
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        if sample.output.trim().is_empty() || sample.case.input.trim().is_empty() {
            return Score::undetermined("answer relevance needs a non-blank question and answer");
        }
        match &self.generator {
            Some(generator) => self.generated(generator, sample).await,
            None => self.direct(sample).await,
        }
    }
}
