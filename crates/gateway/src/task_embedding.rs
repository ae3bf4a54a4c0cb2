//! Routing by the nearest task in meaning. The examples of each routed task
//! are embedded once into a centroid. A request that names no task and no
//! configured model takes the route of the task whose centroid is nearest
//! to its last user message, if the cosine similarity reaches
//! `defaults.min_task_similarity`.

use std::sync::Arc;

use llmops_core::types::{ChatRequest, Role};
use llmops_core::{Embedder, Error};
use tokio::sync::OnceCell;

use crate::config::GatewayConfig;
use crate::gateway::Gateway;
use crate::hooks::CallContext;
use crate::record::RouteDecision;

/// The task nearest to a request, with its cosine similarity.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NearestTask {
    pub(crate) task: String,
    pub(crate) similarity: f32,
}

/// The embedder, the example texts per task and, once computed, the
/// centroid per task.
pub(crate) struct TaskEmbeddings {
    embedder: Arc<dyn Embedder>,
    /// (task, examples) in configuration order, tasks with examples only.
    examples: Vec<(String, Vec<String>)>,
    min_similarity: f32,
    centroids: OnceCell<Vec<(String, Vec<f32>)>>,
}

impl TaskEmbeddings {
    /// Collects the examples of `config`'s routes, or returns none when no
    /// route has examples.
    pub(crate) fn new(config: &GatewayConfig, embedder: Arc<dyn Embedder>) -> Option<Self> {
        let examples: Vec<(String, Vec<String>)> = config
            .routes
            .iter()
            .filter(|route| !route.examples.is_empty())
            .map(|route| (route.task.clone(), route.examples.clone()))
            .collect();
        if examples.is_empty() {
            tracing::warn!(
                "a task embedder is set but no [[routes]] entry has examples, so no request is routed by embedding"
            );
            return None;
        }
        Some(TaskEmbeddings {
            embedder,
            examples,
            min_similarity: config.defaults.min_task_similarity,
            centroids: OnceCell::new(),
        })
    }

    /// Embeds every example once and returns the centroid per task. A
    /// failed attempt is retried at the next call.
    async fn centroids(&self) -> Result<&[(String, Vec<f32>)], Error> {
        let centroids = self
            .centroids
            .get_or_try_init(|| async {
                let mut centroids = Vec::with_capacity(self.examples.len());
                for (task, examples) in &self.examples {
                    let vectors = self.embedder.embed(examples).await?;
                    if let Some(centroid) = centroid(&vectors) {
                        centroids.push((task.clone(), centroid));
                    }
                }
                tracing::info!(
                    tasks = centroids.len(),
                    embedder = self.embedder.model(),
                    "task examples embedded"
                );
                Ok::<_, Error>(centroids)
            })
            .await?;
        Ok(centroids)
    }

    /// Returns the task whose centroid is nearest to the last user message
    /// of `request`, when its similarity reaches the threshold. A request
    /// without user text, or a failing embedder, gives none, so the rule
    /// classifier decides.
    pub(crate) async fn nearest(&self, request: &ChatRequest) -> Option<NearestTask> {
        let text = request
            .messages
            .iter()
            .rev()
            .find(|message| message.role == Role::User)
            .map(|message| message.text())
            .filter(|text| !text.trim().is_empty())?;
        let centroids = match self.centroids().await {
            Ok(centroids) => centroids,
            Err(error) => {
                tracing::warn!(%error, class = error.class(), "task examples not embedded; routing by the rule classifier");
                return None;
            }
        };
        let query = match self.embedder.embed(&[text]).await {
            Ok(mut vectors) if vectors.len() == 1 => vectors.pop()?,
            Ok(vectors) => {
                tracing::warn!(
                    vectors = vectors.len(),
                    "the task embedder returned a wrong number of vectors for one text; routing by the rule classifier"
                );
                return None;
            }
            Err(error) => {
                tracing::warn!(%error, class = error.class(), "request not embedded; routing by the rule classifier");
                return None;
            }
        };
        let nearest = nearest_centroid(&query, centroids)?;
        tracing::debug!(task = %nearest.task, similarity = nearest.similarity, "nearest task by embedding");
        (nearest.similarity >= self.min_similarity).then_some(nearest)
    }
}

/// Returns the mean of the unit-length `vectors`, or none when there are
/// none, their lengths differ, or all are zero.
fn centroid(vectors: &[Vec<f32>]) -> Option<Vec<f32>> {
    let dimensions = vectors.first()?.len();
    let mut sum = vec![0.0f32; dimensions];
    let mut counted = 0usize;
    for vector in vectors {
        if vector.len() != dimensions {
            return None;
        }
        let norm = norm(vector);
        if norm == 0.0 {
            continue;
        }
        for (total, value) in sum.iter_mut().zip(vector) {
            *total += value / norm;
        }
        counted += 1;
    }
    if counted == 0 {
        return None;
    }
    Some(
        sum.into_iter()
            .map(|total| total / counted as f32)
            .collect(),
    )
}

fn norm(vector: &[f32]) -> f32 {
    vector.iter().map(|value| value * value).sum::<f32>().sqrt()
}

/// Returns the cosine similarity of two vectors of one length, or none
/// when a length differs or a vector is zero.
fn cosine(left: &[f32], right: &[f32]) -> Option<f32> {
    if left.len() != right.len() {
        return None;
    }
    let norms = norm(left) * norm(right);
    if norms == 0.0 {
        return None;
    }
    let dot: f32 = left.iter().zip(right).map(|(a, b)| a * b).sum();
    Some(dot / norms)
}

/// Returns the task of the most similar centroid. On a tie the first in
/// configuration order wins.
fn nearest_centroid(query: &[f32], centroids: &[(String, Vec<f32>)]) -> Option<NearestTask> {
    let mut best: Option<NearestTask> = None;
    for (task, centroid) in centroids {
        let Some(similarity) = cosine(query, centroid) else {
            continue;
        };
        if best
            .as_ref()
            .is_none_or(|best| similarity > best.similarity)
        {
            best = Some(NearestTask {
                task: task.clone(),
                similarity,
            });
        }
    }
    best
}

impl Gateway {
    /// Resolves the route of a request, first embedding it when it names
    /// no routed task and no configured model and a task embedder is set.
    pub(crate) async fn resolve_route(
        &self,
        request: &ChatRequest,
        context: &CallContext,
    ) -> Result<RouteDecision, Error> {
        let router = &self.inner.router;
        let nearest = match &self.inner.task_embeddings {
            Some(embeddings) if router.needs_classifier(request, context) => {
                embeddings.nearest(request).await
            }
            _ => None,
        };
        router.resolve(request, context, nearest)
    }

    /// Embeds the examples of the routed tasks now, instead of at the first
    /// request that needs them. Does nothing without a task embedder or
    /// once done.
    ///
    /// # Errors
    ///
    /// Returns the embedder's error; the next request that needs the
    /// examples tries again.
    pub async fn embed_task_examples(&self) -> Result<(), Error> {
        match &self.inner.task_embeddings {
            Some(embeddings) => embeddings.centroids().await.map(|_| ()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn centroid_averages_unit_vectors() {
        let centroid = centroid(&[vec![2.0, 0.0], vec![0.0, 5.0]]).unwrap();
        assert_eq!(centroid, vec![0.5, 0.5]);
        assert_eq!(super::centroid(&[]), None);
        assert_eq!(super::centroid(&[vec![0.0, 0.0]]), None);
        assert_eq!(super::centroid(&[vec![1.0], vec![1.0, 2.0]]), None);
    }

    #[test]
    fn nearest_centroid_ties_and_lengths() {
        let centroids = vec![
            ("a".to_owned(), vec![1.0, 0.0]),
            ("b".to_owned(), vec![1.0, 0.0]),
            ("c".to_owned(), vec![1.0, 0.0, 0.0]),
        ];
        let nearest = nearest_centroid(&[3.0, 0.0], &centroids).unwrap();
        assert_eq!(nearest.task, "a");
        assert!((nearest.similarity - 1.0).abs() < 1e-6);
        assert_eq!(nearest_centroid(&[0.0, 0.0], &centroids), None);
    }

    proptest! {
        #[test]
        fn cosine_stays_within_bounds(
            left in proptest::collection::vec(-100.0f32..100.0, 1..16),
            scale in 0.01f32..100.0,
        ) {
            let right: Vec<f32> = left.iter().map(|value| value * scale).collect();
            if let Some(similarity) = cosine(&left, &right) {
                prop_assert!((similarity - 1.0).abs() < 1e-3, "{similarity}");
            }
            let opposite: Vec<f32> = left.iter().map(|value| -value).collect();
            if let Some(similarity) = cosine(&left, &opposite) {
                prop_assert!((similarity + 1.0).abs() < 1e-3, "{similarity}");
            }
        }
    }
}
