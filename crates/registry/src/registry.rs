//! The registry: publishing and reading prompt versions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use llmops_store::{Store, now_ms};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::cache::ResolutionCache;
use crate::error::{RegistryError, Result};
use crate::prompt::PromptContent;
use crate::schema::MIGRATIONS;
use crate::selector::{Selector, validate_name};
use crate::version::{PromptSummary, PromptVersion, Published};

const VERSION_COLUMNS: &str =
    "v.prompt, v.version, v.content_hash, v.created_by, v.created_at_ms, v.content";

/// Settings of a [`Registry`].
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    cache_check_interval: Duration,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            cache_check_interval: Duration::from_secs(1),
        }
    }
}

impl RegistryOptions {
    /// Sets how often the cache checks for label moves by other processes.
    /// Defaults to 1 s; zero checks on every read.
    pub fn cache_check_interval(mut self, interval: Duration) -> Self {
        self.cache_check_interval = interval;
        self
    }
}

/// Versioned prompts with labels, on a [`Store`].
///
/// Cloning is cheap and shares the cache and the pool.
#[derive(Debug, Clone)]
pub struct Registry {
    store: Store,
    cache: Arc<ResolutionCache>,
}

impl Registry {
    /// Opens the registry on `store`, applying its migrations.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Store`] when the database fails or is ahead of this build.
    pub async fn open(store: Store) -> Result<Self> {
        Registry::open_with(store, RegistryOptions::default()).await
    }

    /// Opens the registry with options.
    ///
    /// # Errors
    ///
    /// As [`Registry::open`].
    pub async fn open_with(store: Store, options: RegistryOptions) -> Result<Self> {
        store.migrate(MIGRATIONS).await?;
        Ok(Registry {
            store,
            cache: Arc::new(ResolutionCache::new(options.cache_check_interval)),
        })
    }

    /// Returns the store the registry writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn db(&self, source: sqlx::Error) -> RegistryError {
        RegistryError::Store(self.store.error(source))
    }

    pub(crate) fn cache(&self) -> &ResolutionCache {
        &self.cache
    }

    /// Stores `content` as the next version of `name`, unless the latest
    /// version has the same content hash; creates the prompt on first use.
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidName`] or [`RegistryError::InvalidPrompt`]
    /// for bad input, and [`RegistryError::Store`] when the database fails.
    /// [`RegistryError::VersionConflict`] means a concurrent writer took the
    /// next version number first. Nothing was written, so publish again.
    pub async fn publish(
        &self,
        name: &str,
        content: &PromptContent,
        author: &str,
    ) -> Result<Published> {
        self.publish_checked(name, content, author, None).await
    }

    /// Like [`Registry::publish`], but fails with
    /// [`RegistryError::VersionConflict`] unless the latest version is
    /// `expected_latest` (0 for a new prompt): optimistic concurrency for
    /// editors that started from a known version.
    ///
    /// # Errors
    ///
    /// As [`Registry::publish`].
    pub async fn publish_if_latest(
        &self,
        name: &str,
        content: &PromptContent,
        author: &str,
        expected_latest: u32,
    ) -> Result<Published> {
        self.publish_checked(name, content, author, Some(expected_latest))
            .await
    }

    async fn publish_checked(
        &self,
        name: &str,
        content: &PromptContent,
        author: &str,
        expected_latest: Option<u32>,
    ) -> Result<Published> {
        validate_name(name)?;
        content.validate(name)?;
        crate::render_hook::check_compiles(name, content)?;
        let mut transaction = self.store.begin().await?;
        let draft = Draft {
            name,
            content,
            author,
            created_at_ms: now_ms(),
        };
        let published = self
            .publish_in(&mut transaction, &draft, expected_latest)
            .await?;
        transaction.commit().await.map_err(|e| self.db(e))?;
        if published.created {
            self.cache.clear_movable();
            tracing::info!(
                prompt = name,
                version = published.version,
                "prompt version published"
            );
        }
        Ok(published)
    }

    /// Inserts a version inside the caller's transaction.
    pub(crate) async fn publish_in(
        &self,
        connection: &mut AnyConnection,
        draft: &Draft<'_>,
        expected_latest: Option<u32>,
    ) -> Result<Published> {
        let name = draft.name;
        let content_hash = draft.content.content_hash();
        sqlx::query(
            "INSERT INTO registry_prompts (name, created_at_ms) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(draft.created_at_ms)
        .execute(&mut *connection)
        .await
        .map_err(|e| self.db(e))?;

        let latest = sqlx::query(
            "SELECT version, content_hash FROM registry_versions WHERE prompt = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(name)
        .fetch_optional(&mut *connection)
        .await
        .map_err(|e| self.db(e))?;
        let (latest_version, latest_hash) = match latest {
            Some(row) => (version_column(&row, 0)?, Some(text_column(&row, 1)?)),
            None => (0, None),
        };
        if let Some(expected) = expected_latest {
            if expected != latest_version {
                return Err(RegistryError::VersionConflict {
                    name: name.to_owned(),
                    expected,
                    found: latest_version,
                });
            }
        }
        if latest_hash.as_deref() == Some(content_hash.as_str()) {
            return Ok(Published {
                version: latest_version,
                created: false,
                content_hash,
            });
        }

        let version = latest_version + 1;
        let inserted = sqlx::query(
            "INSERT INTO registry_versions (prompt, version, content_hash, content, created_by, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(name)
        .bind(i64::from(version))
        .bind(&content_hash)
        .bind(crate::canonical::canonical_json(&draft.content.to_json()))
        .bind(draft.author)
        .bind(draft.created_at_ms)
        .execute(&mut *connection)
        .await;
        if let Err(source) = inserted {
            let error = self.store.error(source);
            if error.is_unique_violation() {
                return Err(RegistryError::VersionConflict {
                    name: name.to_owned(),
                    expected: latest_version,
                    found: version,
                });
            }
            return Err(error.into());
        }
        bump_generation(self, connection).await?;
        Ok(Published {
            version,
            created: true,
            content_hash,
        })
    }

    /// Returns the version of `name` that `selector` picks, from the cache
    /// when it contains the entry.
    ///
    /// # Errors
    ///
    /// [`RegistryError::PromptNotFound`], [`RegistryError::VersionNotFound`]
    /// or [`RegistryError::LabelNotFound`], and [`RegistryError::Store`].
    pub async fn get(&self, name: &str, selector: &Selector) -> Result<Arc<PromptVersion>> {
        self.cache.check(&self.store).await?;
        if let Some(hit) = self.cache.get(name, selector) {
            return Ok(hit);
        }
        let version = Arc::new(self.load(name, selector).await?);
        self.cache.insert(name, selector, Arc::clone(&version));
        Ok(version)
    }

    async fn load(&self, name: &str, selector: &Selector) -> Result<PromptVersion> {
        let row = match selector {
            Selector::Latest => {
                sqlx::query(&format!(
                    "SELECT {VERSION_COLUMNS} FROM registry_versions v WHERE v.prompt = $1 ORDER BY v.version DESC LIMIT 1"
                ))
                .bind(name)
                .fetch_optional(self.store.pool())
                .await
            }
            Selector::Version(version) => {
                sqlx::query(&format!(
                    "SELECT {VERSION_COLUMNS} FROM registry_versions v WHERE v.prompt = $1 AND v.version = $2"
                ))
                .bind(name)
                .bind(i64::from(*version))
                .fetch_optional(self.store.pool())
                .await
            }
            Selector::Label(label) => {
                sqlx::query(&format!(
                    "SELECT {VERSION_COLUMNS} FROM registry_labels l
                     JOIN registry_versions v ON v.prompt = l.prompt AND v.version = l.version
                     WHERE l.prompt = $1 AND l.label = $2"
                ))
                .bind(name)
                .bind(label.as_str())
                .fetch_optional(self.store.pool())
                .await
            }
        }
        .map_err(|e| self.db(e))?;
        match row {
            Some(row) => version_from_row(&row),
            None => Err(self.not_found(name, selector).await),
        }
    }

    async fn not_found(&self, name: &str, selector: &Selector) -> RegistryError {
        let latest = match self.latest_version(name).await {
            Ok(latest) => latest,
            Err(error) => return error,
        };
        match (latest, selector) {
            (0, _) | (_, Selector::Latest) => RegistryError::PromptNotFound {
                name: name.to_owned(),
            },
            (latest, Selector::Version(version)) => RegistryError::VersionNotFound {
                name: name.to_owned(),
                version: *version,
                latest,
            },
            (_, Selector::Label(label)) => RegistryError::LabelNotFound {
                name: name.to_owned(),
                label: label.clone(),
            },
        }
    }

    /// Returns the latest version number of `name`, or 0 when it has none.
    pub(crate) async fn latest_version(&self, name: &str) -> Result<u32> {
        let row = sqlx::query("SELECT MAX(version) FROM registry_versions WHERE prompt = $1")
            .bind(name)
            .fetch_one(self.store.pool())
            .await
            .map_err(|e| self.db(e))?;
        let latest: Option<i64> = row.try_get(0).map_err(|e| self.db(e))?;
        Ok(latest.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
    }

    /// Returns every version of `name`, oldest first.
    ///
    /// # Errors
    ///
    /// [`RegistryError::PromptNotFound`] and [`RegistryError::Store`].
    pub async fn versions(&self, name: &str) -> Result<Vec<PromptVersion>> {
        let rows = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM registry_versions v WHERE v.prompt = $1 ORDER BY v.version"
        ))
        .bind(name)
        .fetch_all(self.store.pool())
        .await
        .map_err(|e| self.db(e))?;
        if rows.is_empty() {
            return Err(RegistryError::PromptNotFound {
                name: name.to_owned(),
            });
        }
        rows.iter().map(version_from_row).collect()
    }

    /// Lists every prompt with its latest version and labels, by name.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Store`].
    pub async fn list(&self) -> Result<Vec<PromptSummary>> {
        let rows = sqlx::query(
            "SELECT prompt, MAX(version) FROM registry_versions GROUP BY prompt ORDER BY prompt",
        )
        .fetch_all(self.store.pool())
        .await
        .map_err(|e| self.db(e))?;
        let mut summaries: Vec<PromptSummary> = Vec::with_capacity(rows.len());
        for row in &rows {
            summaries.push(PromptSummary {
                name: text_column(row, 0)?,
                latest_version: version_column(row, 1)?,
                labels: BTreeMap::new(),
            });
        }
        let labels = sqlx::query("SELECT prompt, label, version FROM registry_labels")
            .fetch_all(self.store.pool())
            .await
            .map_err(|e| self.db(e))?;
        for row in &labels {
            let prompt = text_column(row, 0)?;
            if let Ok(index) = summaries.binary_search_by(|s| s.name.as_str().cmp(&prompt)) {
                summaries[index]
                    .labels
                    .insert(text_column(row, 1)?, version_column(row, 2)?);
            }
        }
        Ok(summaries)
    }
}

/// A version about to be inserted.
#[derive(Debug)]
pub(crate) struct Draft<'a> {
    pub(crate) name: &'a str,
    pub(crate) content: &'a PromptContent,
    pub(crate) author: &'a str,
    pub(crate) created_at_ms: i64,
}

pub(crate) async fn bump_generation(
    registry: &Registry,
    connection: &mut AnyConnection,
) -> Result<()> {
    sqlx::query("UPDATE registry_generation SET generation = generation + 1 WHERE id = 1")
        .execute(&mut *connection)
        .await
        .map_err(|e| registry.db(e))?;
    Ok(())
}

fn corrupt(reason: String) -> RegistryError {
    RegistryError::Format {
        format: "stored JSON",
        reason,
    }
}

pub(crate) fn text_column(row: &AnyRow, index: usize) -> Result<String> {
    row.try_get(index)
        .map_err(|error| corrupt(format!("column {index}: {error}")))
}

pub(crate) fn version_column(row: &AnyRow, index: usize) -> Result<u32> {
    let value: i64 = row
        .try_get(index)
        .map_err(|error| corrupt(format!("column {index}: {error}")))?;
    u32::try_from(value).map_err(|_| corrupt(format!("version {value} is out of range")))
}

fn version_from_row(row: &AnyRow) -> Result<PromptVersion> {
    let name = text_column(row, 0)?;
    let content: String = text_column(row, 5)?;
    let content: PromptContent = serde_json::from_str(&content)
        .map_err(|error| corrupt(format!("content of `{name}`: {error}")))?;
    Ok(PromptVersion {
        version: version_column(row, 1)?,
        content_hash: text_column(row, 2)?,
        created_by: text_column(row, 3)?,
        created_at_ms: row
            .try_get(4)
            .map_err(|error| corrupt(format!("created_at_ms: {error}")))?,
        content,
        name,
    })
}
