//! Export and import of prompts, versions, labels and history as YAML or JSON,
//! so prompts can live in git next to the code that uses them.

use std::collections::BTreeMap;

use llmops_store::now_ms;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;

use crate::error::{RegistryError, Result};
use crate::labels::LabelMove;
use crate::prompt::PromptContent;
use crate::registry::{Draft, Registry, bump_generation, text_column, version_column};
use crate::selector::{validate_label, validate_name};
use crate::version::Deployment;

/// The version of the export file format.
pub const EXPORT_FORMAT: u32 = 1;

/// A file of prompts with their whole history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryExport {
    /// The file format version; this build reads 1.
    pub format: u32,
    /// The prompts, by name.
    pub prompts: Vec<PromptExport>,
}

/// One prompt in an export file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptExport {
    /// The prompt name.
    pub name: String,
    /// Every version, oldest first.
    pub versions: Vec<VersionExport>,
    /// Each label and the version it points to.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, u32>,
    /// The label moves, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Deployment>,
}

/// One version in an export file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionExport {
    /// The version number.
    pub version: u32,
    /// The content hash; checked on import when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// The author.
    pub created_by: String,
    /// When, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// The content.
    pub content: PromptContent,
}

/// Counts of the changes an import made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// Versions added.
    pub versions_added: usize,
    /// Versions already present with the same content.
    pub versions_present: usize,
    /// Labels moved.
    pub labels_moved: usize,
}

impl RegistryExport {
    /// Parses an export from YAML or JSON.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Format`] with the parser's line and column, also for
    /// an unknown format version.
    pub fn parse(text: &str) -> Result<Self> {
        let export: RegistryExport =
            serde_yaml::from_str(text).map_err(|error| RegistryError::Format {
                format: "YAML",
                reason: error.to_string(),
            })?;
        if export.format != EXPORT_FORMAT {
            return Err(RegistryError::Format {
                format: "YAML",
                reason: format!(
                    "format {} is not supported; this build reads format {EXPORT_FORMAT}",
                    export.format
                ),
            });
        }
        Ok(export)
    }

    /// Writes the export as YAML.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Format`] if a metadata value cannot be written.
    pub fn to_yaml(&self) -> Result<String> {
        serde_yaml::to_string(self).map_err(|error| RegistryError::Format {
            format: "YAML",
            reason: error.to_string(),
        })
    }

    /// Writes the export as pretty JSON.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Format`] if a metadata value cannot be written.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|error| RegistryError::Format {
            format: "JSON",
            reason: error.to_string(),
        })
    }
}

impl Registry {
    /// Exports the named prompts, or all prompts when `names` is empty.
    ///
    /// # Errors
    ///
    /// [`RegistryError::PromptNotFound`] for an unknown name, and [`RegistryError::Store`].
    pub async fn export(&self, names: &[String]) -> Result<RegistryExport> {
        let names: Vec<String> = if names.is_empty() {
            self.list()
                .await?
                .into_iter()
                .map(|summary| summary.name)
                .collect()
        } else {
            names.to_vec()
        };
        let mut prompts = Vec::with_capacity(names.len());
        for name in names {
            let versions = self
                .versions(&name)
                .await?
                .into_iter()
                .map(|version| VersionExport {
                    version: version.version,
                    content_hash: Some(version.content_hash),
                    created_by: version.created_by,
                    created_at_ms: version.created_at_ms,
                    content: version.content,
                })
                .collect();
            let label_rows = sqlx::query(
                "SELECT label, version FROM registry_labels WHERE prompt = $1 ORDER BY label",
            )
            .bind(name.as_str())
            .fetch_all(self.store().pool())
            .await
            .map_err(|e| self.db(e))?;
            let mut labels = BTreeMap::new();
            for row in &label_rows {
                labels.insert(text_column(row, 0)?, version_column(row, 1)?);
            }
            let history = self.history(&name, None).await?;
            prompts.push(PromptExport {
                name,
                versions,
                labels,
                history,
            });
        }
        Ok(RegistryExport {
            format: EXPORT_FORMAT,
            prompts,
        })
    }

    /// Imports an export in one transaction: adds missing versions with
    /// their original author and time, copies the history of prompts that
    /// have none, and moves labels to the file's versions (recorded with
    /// `actor`). Nothing is written when any prompt conflicts.
    ///
    /// # Errors
    ///
    /// [`RegistryError::ImportConflict`] when a version number has other
    /// content in the database or versions are not numbered 1, 2, ...;
    /// validation errors for names, labels and content; [`RegistryError::Store`].
    pub async fn import(&self, export: &RegistryExport, actor: &str) -> Result<ImportReport> {
        for prompt in &export.prompts {
            check_prompt(prompt)?;
        }
        let mut report = ImportReport::default();
        let mut transaction = self.store().begin().await?;
        for prompt in &export.prompts {
            self.import_versions(&mut transaction, prompt, &mut report)
                .await?;
            let has_history =
                sqlx::query("SELECT 1 FROM registry_deployments WHERE prompt = $1 LIMIT 1")
                    .bind(prompt.name.as_str())
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(|e| self.db(e))?
                    .is_some();
            if !has_history {
                for deployment in &prompt.history {
                    self.record_deployment(&mut transaction, deployment).await?;
                }
            }
            for (label, version) in &prompt.labels {
                let request = LabelMove {
                    prompt: &prompt.name,
                    label,
                    version: *version,
                    actor,
                    reason: "import",
                };
                let deployment = if has_history || prompt.history.is_empty() {
                    self.set_label_in(&mut transaction, &request, now_ms())
                        .await?
                } else {
                    // The copied history already records how the label got here.
                    self.place_label(&mut transaction, &request).await?
                };
                if deployment.from_version != Some(deployment.to_version) {
                    report.labels_moved += 1;
                }
            }
        }
        bump_generation(self, &mut transaction).await?;
        transaction.commit().await.map_err(|e| self.db(e))?;
        self.cache().clear_movable();
        tracing::info!(
            versions_added = report.versions_added,
            labels_moved = report.labels_moved,
            "prompts imported"
        );
        Ok(report)
    }

    async fn import_versions(
        &self,
        connection: &mut sqlx::AnyConnection,
        prompt: &PromptExport,
        report: &mut ImportReport,
    ) -> Result<()> {
        for version in &prompt.versions {
            let stored = sqlx::query(
                "SELECT content_hash FROM registry_versions WHERE prompt = $1 AND version = $2",
            )
            .bind(prompt.name.as_str())
            .bind(i64::from(version.version))
            .fetch_optional(&mut *connection)
            .await
            .map_err(|e| self.db(e))?;
            let hash = version.content.content_hash();
            if let Some(row) = stored {
                if text_column(&row, 0)? != hash {
                    return Err(conflict(
                        prompt,
                        version.version,
                        "the database holds other content under this number",
                    ));
                }
                report.versions_present += 1;
                continue;
            }
            let draft = Draft {
                name: &prompt.name,
                content: &version.content,
                author: &version.created_by,
                created_at_ms: version.created_at_ms,
            };
            let published = self
                .publish_in(connection, &draft, Some(version.version - 1))
                .await
                .map_err(|error| match error {
                    RegistryError::VersionConflict { found, .. } => conflict(
                        prompt,
                        version.version,
                        &format!(
                            "the database's latest version is {found}, not {}",
                            version.version - 1
                        ),
                    ),
                    other => other,
                })?;
            if !published.created {
                return Err(conflict(
                    prompt,
                    version.version,
                    "its content equals the previous version",
                ));
            }
            report.versions_added += 1;
        }
        Ok(())
    }

    async fn place_label(
        &self,
        connection: &mut sqlx::AnyConnection,
        request: &LabelMove<'_>,
    ) -> Result<Deployment> {
        let upsert = format!(
            "INSERT INTO registry_labels (prompt, label, version, updated_at_ms) VALUES ($1, $2, $3, $4) {}",
            self.store()
                .dialect()
                .upsert_clause(&["prompt", "label"], &["version", "updated_at_ms"])
        );
        let current =
            sqlx::query("SELECT version FROM registry_labels WHERE prompt = $1 AND label = $2")
                .bind(request.prompt)
                .bind(request.label)
                .fetch_optional(&mut *connection)
                .await
                .map_err(|e| self.db(e))?;
        let from_version = current
            .map(|row| row.try_get::<i64, _>(0))
            .transpose()
            .map_err(|e| self.db(e))?;
        sqlx::query(&upsert)
            .bind(request.prompt)
            .bind(request.label)
            .bind(i64::from(request.version))
            .bind(now_ms())
            .execute(&mut *connection)
            .await
            .map_err(|e| self.db(e))?;
        Ok(Deployment {
            prompt: request.prompt.to_owned(),
            label: request.label.to_owned(),
            from_version: from_version.and_then(|v| u32::try_from(v).ok()),
            to_version: request.version,
            actor: request.actor.to_owned(),
            reason: request.reason.to_owned(),
            at_ms: now_ms(),
        })
    }
}

fn conflict(prompt: &PromptExport, version: u32, reason: &str) -> RegistryError {
    RegistryError::ImportConflict {
        name: prompt.name.clone(),
        version,
        reason: reason.to_owned(),
    }
}

fn check_prompt(prompt: &PromptExport) -> Result<()> {
    validate_name(&prompt.name)?;
    for (index, version) in prompt.versions.iter().enumerate() {
        if version.version as usize != index + 1 {
            return Err(conflict(
                prompt,
                version.version,
                "versions must be numbered 1, 2, ... in order",
            ));
        }
        version.content.validate(&prompt.name)?;
        if let Some(hash) = &version.content_hash {
            if *hash != version.content.content_hash() {
                return Err(conflict(
                    prompt,
                    version.version,
                    "content_hash does not match the content",
                ));
            }
        }
    }
    for (label, version) in &prompt.labels {
        validate_label(label)?;
        if *version == 0 || *version as usize > prompt.versions.len() {
            return Err(conflict(
                prompt,
                *version,
                &format!("label `{label}` points to a version not in the file"),
            ));
        }
    }
    Ok(())
}
