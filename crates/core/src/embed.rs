//! The [`Embedder`] trait that turns texts into vectors.

use async_trait::async_trait;

use crate::error::Result;

/// Turns texts into fixed-length vectors, for retrieval, caching and drift.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// Embeds a batch of texts, returning one vector per text in order.
    ///
    /// # Errors
    ///
    /// Returns an [`Error`](crate::Error) when the model or provider fails,
    /// or when a text exceeds the model's input limit.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>>;

    /// Returns the length of every vector this embedder produces.
    fn dimensions(&self) -> usize;

    /// Returns the embedding model's name, recorded with every index built.
    fn model(&self) -> &str;
}

#[async_trait]
impl<T: Embedder + ?Sized> Embedder for std::sync::Arc<T> {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        (**self).embed(texts).await
    }

    fn dimensions(&self) -> usize {
        (**self).dimensions()
    }

    fn model(&self) -> &str {
        (**self).model()
    }
}
