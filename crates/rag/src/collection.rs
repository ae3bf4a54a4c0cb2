//! A named document collection in the store, with its index versions and
//! blue/green switching.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use llmops_core::Embedder;
use llmops_core::tokens::TokenCounter;
use llmops_store::sqlx::{self, Row, any::AnyRow};
use llmops_store::{Store, now_ms};
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::document::{Document, Format, IngestLimits, extract_text};
use crate::error::{RagError, Result};
use crate::index::{IndexSettings, SearchIndex, SourceText};
use crate::schema::MIGRATIONS;

/// The effect of [`Collection::ingest`] on a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IngestOutcome {
    /// The id was new.
    Added,
    /// The id existed with other content, which was replaced.
    Replaced,
    /// The id existed with the same content hash; nothing was written.
    Unchanged,
}

/// One recorded index version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexVersion {
    /// Version number, from 1, increasing per collection.
    pub version: i64,
    /// The embedding model's name.
    pub embedder: String,
    /// Vector length.
    pub dimensions: usize,
    /// Chunking, HNSW and BM25 settings.
    pub settings: IndexSettings,
    /// Hash over the indexed documents' ids and content hashes.
    pub corpus_hash: String,
    /// Documents indexed.
    pub documents: usize,
    /// Chunks indexed.
    pub chunks: usize,
    /// The index file.
    pub file: PathBuf,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// Documents and index versions of one collection.
///
/// Documents and version records live in the store; each version's chunks
/// and indexes are one file in the index folder. A version becomes visible
/// to [`Collection::load_live`] only through [`Collection::switch_to`], after
/// its file is complete, so queries never see a partial index.
#[derive(Debug, Clone)]
pub struct Collection {
    store: Store,
    name: String,
    folder: PathBuf,
}

impl Collection {
    /// Opens collection `name`, creating the tables when missing; index
    /// files go under `index_folder/name/`.
    ///
    /// # Errors
    ///
    /// [`RagError::InvalidConfig`] for an empty name or one with path
    /// separators, [`RagError::Store`] when migrating fails, and
    /// [`RagError::Io`] when the folder cannot be created.
    pub async fn open(store: Store, name: &str, index_folder: &Path) -> Result<Collection> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(RagError::InvalidConfig {
                setting: "collection name",
                message: format!("`{name}` must be non-empty ASCII letters, digits, `-` or `_`"),
            });
        }
        store.migrate(MIGRATIONS).await?;
        // Versions record their file by absolute path, so a later process
        // started in another working directory still finds it.
        let folder = index_folder.join(name);
        let folder = std::path::absolute(&folder)
            .map_err(|source| RagError::io("resolve", &folder, source))?;
        std::fs::create_dir_all(&folder)
            .map_err(|source| RagError::io("create", &folder, source))?;
        Ok(Collection {
            store,
            name: name.to_owned(),
            folder,
        })
    }

    /// Returns the collection name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn db(&self, error: sqlx::Error) -> RagError {
        RagError::Store(self.store.error(error))
    }

    /// Extracts and stores a document. Re-ingesting unchanged content is a
    /// no-op; changed content replaces the stored text in one transaction.
    ///
    /// # Errors
    ///
    /// Extraction errors ([`RagError::EmptyDocument`],
    /// [`RagError::BinaryDocument`], [`RagError::DocumentTooLarge`],
    /// [`RagError::Extraction`]) before anything is written, and
    /// [`RagError::Store`].
    pub async fn ingest(&self, document: &Document, limits: IngestLimits) -> Result<IngestOutcome> {
        let hash = document.content_hash();
        if self.stored_hash(&document.id).await?.as_deref() == Some(hash.as_str()) {
            return Ok(IngestOutcome::Unchanged);
        }
        let text = extract_text(document, limits)?;
        let metadata =
            serde_json::to_string(&document.metadata).map_err(|error| RagError::InvalidConfig {
                setting: "metadata",
                message: error.to_string(),
            })?;

        let mut transaction = self.store.begin().await?;
        let existing =
            sqlx::query("SELECT content_hash FROM rag_documents WHERE collection = $1 AND id = $2")
                .bind(&self.name)
                .bind(&document.id)
                .fetch_optional(&mut *transaction)
                .await
                .map_err(|error| self.db(error))?;
        let existing: Option<String> = match existing {
            Some(row) => Some(row.try_get(0).map_err(|error| self.db(error))?),
            None => None,
        };
        let outcome = match existing {
            Some(stored) if stored == hash => return Ok(IngestOutcome::Unchanged),
            Some(_) => IngestOutcome::Replaced,
            None => IngestOutcome::Added,
        };
        sqlx::query("DELETE FROM rag_documents WHERE collection = $1 AND id = $2")
            .bind(&self.name)
            .bind(&document.id)
            .execute(&mut *transaction)
            .await
            .map_err(|error| self.db(error))?;
        sqlx::query(
            "INSERT INTO rag_documents (collection, id, format, content_hash, metadata, text, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&self.name)
        .bind(&document.id)
        .bind(document.format.name())
        .bind(&hash)
        .bind(&metadata)
        .bind(&text)
        .bind(now_ms())
        .execute(&mut *transaction)
        .await
        .map_err(|error| self.db(error))?;
        transaction.commit().await.map_err(|error| self.db(error))?;
        Ok(outcome)
    }

    async fn stored_hash(&self, id: &str) -> Result<Option<String>> {
        let row =
            sqlx::query("SELECT content_hash FROM rag_documents WHERE collection = $1 AND id = $2")
                .bind(&self.name)
                .bind(id)
                .fetch_optional(self.store.pool())
                .await
                .map_err(|error| self.db(error))?;
        match row {
            Some(row) => Ok(Some(row.try_get(0).map_err(|error| self.db(error))?)),
            None => Ok(None),
        }
    }

    /// Removes a document; returns false when the id was not stored.
    ///
    /// # Errors
    ///
    /// [`RagError::Store`].
    pub async fn remove(&self, id: &str) -> Result<bool> {
        let result = sqlx::query("DELETE FROM rag_documents WHERE collection = $1 AND id = $2")
            .bind(&self.name)
            .bind(id)
            .execute(self.store.pool())
            .await
            .map_err(|error| self.db(error))?;
        Ok(result.rows_affected() > 0)
    }

    /// Returns every stored document's extracted text, ordered by id.
    ///
    /// # Errors
    ///
    /// [`RagError::Store`].
    pub async fn documents(&self) -> Result<Vec<SourceText>> {
        let rows = sqlx::query(
            "SELECT id, format, content_hash, metadata, text FROM rag_documents \
             WHERE collection = $1 ORDER BY id",
        )
        .bind(&self.name)
        .fetch_all(self.store.pool())
        .await
        .map_err(|error| self.db(error))?;
        rows.iter().map(|row| self.source_text(row)).collect()
    }

    /// Returns how many documents are stored.
    ///
    /// # Errors
    ///
    /// [`RagError::Store`].
    pub async fn document_count(&self) -> Result<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM rag_documents WHERE collection = $1",
        )
        .bind(&self.name)
        .fetch_one(self.store.pool())
        .await
        .map_err(|error| self.db(error))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn source_text(&self, row: &AnyRow) -> Result<SourceText> {
        let get =
            |index: usize| -> Result<String> { row.try_get(index).map_err(|error| self.db(error)) };
        let format_name = get(1)?;
        let format = Format::parse(&format_name).ok_or_else(|| RagError::UnsupportedFormat {
            id: get(0).unwrap_or_default(),
            format: format_name.clone(),
        })?;
        let metadata: BTreeMap<String, String> =
            serde_json::from_str(&get(3)?).map_err(|error| RagError::InvalidConfig {
                setting: "stored metadata",
                message: error.to_string(),
            })?;
        Ok(SourceText {
            id: get(0)?,
            format,
            content_hash: get(2)?,
            metadata,
            text: get(4)?,
        })
    }

    /// Builds a new index version from the stored documents beside the live
    /// one. The new version is recorded but not live until
    /// [`Collection::switch_to`].
    ///
    /// # Errors
    ///
    /// [`RagError::EmptyCorpus`] when no document is stored, any error of
    /// [`SearchIndex::build`] or [`SearchIndex::save`], and
    /// [`RagError::Store`].
    pub async fn build_version(
        &self,
        embedder: &dyn Embedder,
        settings: &IndexSettings,
    ) -> Result<IndexVersion> {
        let sources = self.documents().await?;
        if sources.is_empty() {
            return Err(RagError::EmptyCorpus {
                collection: self.name.clone(),
            });
        }
        let index = SearchIndex::build(&sources, embedder, settings, &TokenCounter::new()).await?;
        let version = self.next_version().await?;
        let created_at_ms = now_ms();
        // The time in the name keeps two concurrent builds that picked the
        // same number from writing one file; the loser's insert then fails
        // on the primary key and its file is left unreferenced.
        let file = self
            .folder
            .join(format!("v{version}-{created_at_ms}.index"));
        index.save(&file)?;

        let manifest = index.manifest();
        let settings_json =
            serde_json::to_string(&manifest.settings).map_err(|error| RagError::InvalidConfig {
                setting: "index settings",
                message: error.to_string(),
            })?;
        sqlx::query(
            "INSERT INTO rag_versions (collection, version, embedder, dimensions, settings, corpus_hash, documents, chunks, file, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&self.name)
        .bind(version)
        .bind(&manifest.embedder)
        .bind(manifest.dimensions as i64)
        .bind(&settings_json)
        .bind(&manifest.corpus_hash)
        .bind(manifest.documents as i64)
        .bind(manifest.chunks as i64)
        .bind(file.display().to_string())
        .bind(created_at_ms)
        .execute(self.store.pool())
        .await
        .map_err(|error| self.db(error))?;
        info!(collection = %self.name, version, chunks = manifest.chunks, "built index version");
        Ok(IndexVersion {
            version,
            embedder: manifest.embedder.clone(),
            dimensions: manifest.dimensions,
            settings: manifest.settings.clone(),
            corpus_hash: manifest.corpus_hash.clone(),
            documents: manifest.documents,
            chunks: manifest.chunks,
            file,
            created_at_ms,
        })
    }

    async fn next_version(&self) -> Result<i64> {
        let row = sqlx::query("SELECT MAX(version) FROM rag_versions WHERE collection = $1")
            .bind(&self.name)
            .fetch_one(self.store.pool())
            .await
            .map_err(|error| self.db(error))?;
        let latest: Option<i64> = row.try_get(0).map_err(|error| self.db(error))?;
        Ok(latest.unwrap_or(0) + 1)
    }

    /// Returns every recorded version, oldest first.
    ///
    /// # Errors
    ///
    /// [`RagError::Store`].
    pub async fn versions(&self) -> Result<Vec<IndexVersion>> {
        let rows = sqlx::query(
            "SELECT version, embedder, dimensions, settings, corpus_hash, documents, chunks, file, created_at_ms \
             FROM rag_versions WHERE collection = $1 ORDER BY version",
        )
        .bind(&self.name)
        .fetch_all(self.store.pool())
        .await
        .map_err(|error| self.db(error))?;
        rows.iter().map(|row| self.index_version(row)).collect()
    }

    fn index_version(&self, row: &AnyRow) -> Result<IndexVersion> {
        let text =
            |index: usize| -> Result<String> { row.try_get(index).map_err(|error| self.db(error)) };
        let number =
            |index: usize| -> Result<i64> { row.try_get(index).map_err(|error| self.db(error)) };
        let settings: IndexSettings =
            serde_json::from_str(&text(3)?).map_err(|error| RagError::InvalidConfig {
                setting: "stored index settings",
                message: error.to_string(),
            })?;
        Ok(IndexVersion {
            version: number(0)?,
            embedder: text(1)?,
            dimensions: usize::try_from(number(2)?).unwrap_or(0),
            settings,
            corpus_hash: text(4)?,
            documents: usize::try_from(number(5)?).unwrap_or(0),
            chunks: usize::try_from(number(6)?).unwrap_or(0),
            file: PathBuf::from(text(7)?),
            created_at_ms: number(8)?,
        })
    }

    /// Returns one recorded version.
    ///
    /// # Errors
    ///
    /// [`RagError::VersionNotFound`] and [`RagError::Store`].
    pub async fn version(&self, version: i64) -> Result<IndexVersion> {
        self.versions()
            .await?
            .into_iter()
            .find(|recorded| recorded.version == version)
            .ok_or_else(|| RagError::VersionNotFound {
                collection: self.name.clone(),
                version,
            })
    }

    /// Returns the live version number, if any.
    ///
    /// # Errors
    ///
    /// [`RagError::Store`].
    pub async fn live_version(&self) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT to_version FROM rag_switches WHERE collection = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(&self.name)
        .fetch_optional(self.store.pool())
        .await
        .map_err(|error| self.db(error))?;
        match row {
            Some(row) => Ok(Some(row.try_get(0).map_err(|error| self.db(error))?)),
            None => Ok(None),
        }
    }

    /// Makes `version` live in one write; queries that load the live
    /// version afterwards get it. The version's file is checked first.
    /// Switching to the live version changes nothing.
    ///
    /// # Errors
    ///
    /// [`RagError::VersionNotFound`], [`RagError::CorruptIndex`] when its
    /// file fails the checks, and [`RagError::Store`].
    pub async fn switch_to(&self, version: i64) -> Result<()> {
        let recorded = self.version(version).await?;
        // An index folder that was moved, or a version recorded with a
        // relative path by an earlier release, is found by its file name in
        // this collection's folder.
        let moved = recorded
            .file
            .file_name()
            .map(|name| self.folder.join(name))
            .filter(|moved| !recorded.file.exists() && moved.exists());
        SearchIndex::load(moved.as_deref().unwrap_or(&recorded.file))?;
        let from = self.live_version().await?;
        if from == Some(version) {
            // Recording a switch to itself would make it the rollback
            // target, and rollback would then stay on this version.
            info!(collection = %self.name, version, "index version already live");
            return Ok(());
        }
        self.record_switch(from, version, "switch").await?;
        info!(collection = %self.name, ?from, to = version, "switched live index version");
        Ok(())
    }

    /// Makes the version that was live before the current one live again.
    /// Returns the version now live.
    ///
    /// # Errors
    ///
    /// [`RagError::NoEarlierVersion`] when no switch preceded the current
    /// version, and [`RagError::Store`].
    pub async fn rollback(&self) -> Result<i64> {
        let row = sqlx::query(
            "SELECT from_version, to_version FROM rag_switches WHERE collection = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(&self.name)
        .fetch_optional(self.store.pool())
        .await
        .map_err(|error| self.db(error))?;
        let no_earlier = || RagError::NoEarlierVersion {
            collection: self.name.clone(),
        };
        let row = row.ok_or_else(no_earlier)?;
        let previous: Option<i64> = row.try_get(0).map_err(|error| self.db(error))?;
        let current: i64 = row.try_get(1).map_err(|error| self.db(error))?;
        let previous = previous.ok_or_else(no_earlier)?;
        self.record_switch(Some(current), previous, "rollback")
            .await?;
        info!(collection = %self.name, from = current, to = previous, "rolled back live index version");
        Ok(previous)
    }

    async fn record_switch(&self, from: Option<i64>, to: i64, reason: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO rag_switches (collection, from_version, to_version, reason, at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&self.name)
        .bind(from)
        .bind(to)
        .bind(reason)
        .bind(now_ms())
        .execute(self.store.pool())
        .await
        .map_err(|error| self.db(error))?;
        Ok(())
    }

    /// Loads one version's index from its file.
    ///
    /// # Errors
    ///
    /// [`RagError::VersionNotFound`], [`RagError::Io`],
    /// [`RagError::CorruptIndex`] and [`RagError::Store`].
    pub async fn load(&self, version: i64) -> Result<SearchIndex> {
        let recorded = self.version(version).await?;
        // An index folder that was moved, or a version recorded with a
        // relative path by an earlier release, is found by its file name in
        // this collection's folder.
        let moved = recorded
            .file
            .file_name()
            .map(|name| self.folder.join(name))
            .filter(|moved| !recorded.file.exists() && moved.exists());
        SearchIndex::load(moved.as_deref().unwrap_or(&recorded.file))
    }

    /// Loads the live version's index.
    ///
    /// # Errors
    ///
    /// [`RagError::NoLiveVersion`] and the errors of [`Collection::load`].
    pub async fn load_live(&self) -> Result<SearchIndex> {
        let version = self
            .live_version()
            .await?
            .ok_or_else(|| RagError::NoLiveVersion {
                collection: self.name.clone(),
            })?;
        self.load(version).await
    }
}
