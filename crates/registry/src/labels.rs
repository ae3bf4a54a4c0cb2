//! Labels and their deployment history.

use llmops_store::{Dialect, now_ms};
use sqlx::{AnyConnection, Row as _};

use crate::error::{RegistryError, Result};
use crate::registry::{Registry, bump_generation, text_column, version_column};
use crate::selector::{Selector, validate_label, validate_name};
use crate::version::Deployment;

/// A request to point a label at a version.
#[derive(Debug, Clone)]
pub struct LabelMove<'a> {
    /// The prompt name.
    pub prompt: &'a str,
    /// The label, such as `production`.
    pub label: &'a str,
    /// The version the label will point to.
    pub version: u32,
    /// The person or system that moves it.
    pub actor: &'a str,
    /// Why, for the history.
    pub reason: &'a str,
}

impl Registry {
    /// Points a label at a version and records the move in the history.
    ///
    /// Moving a label to the version it already points to changes nothing
    /// and returns a deployment with `from_version == Some(to_version)`
    /// that is not recorded.
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidLabel`], [`RegistryError::PromptNotFound`],
    /// [`RegistryError::VersionNotFound`],
    /// [`RegistryError::LabelInExperiment`] while a running experiment
    /// splits the label (its arms serve the traffic, so the move would not
    /// take effect; stop or promote the experiment first), and
    /// [`RegistryError::Store`].
    pub async fn set_label(&self, request: &LabelMove<'_>) -> Result<Deployment> {
        validate_name(request.prompt)?;
        validate_label(request.label)?;
        let mut transaction = self.store().begin().await?;
        if let Some(running) = self
            .running_in(&mut transaction, request.prompt, request.label)
            .await?
        {
            return Err(RegistryError::LabelInExperiment {
                prompt: request.prompt.to_owned(),
                label: request.label.to_owned(),
                running: running.experiment.id().to_owned(),
            });
        }
        let deployment = self
            .set_label_in(&mut transaction, request, now_ms())
            .await?;
        transaction.commit().await.map_err(|e| self.db(e))?;
        self.cache().clear_movable();
        tracing::info!(
            prompt = request.prompt,
            label = request.label,
            from = ?deployment.from_version,
            to = deployment.to_version,
            "label moved"
        );
        Ok(deployment)
    }

    pub(crate) async fn set_label_in(
        &self,
        connection: &mut AnyConnection,
        request: &LabelMove<'_>,
        at_ms: i64,
    ) -> Result<Deployment> {
        // Lock the prompt row so concurrent moves of its labels record a
        // correct `from_version`; SQLite's write transaction already
        // serializes writers.
        let lock = match self.store().dialect() {
            Dialect::Postgres => "SELECT name FROM registry_prompts WHERE name = $1 FOR UPDATE",
            _ => "SELECT name FROM registry_prompts WHERE name = $1",
        };
        let exists = sqlx::query(lock)
            .bind(request.prompt)
            .fetch_optional(&mut *connection)
            .await
            .map_err(|e| self.db(e))?;
        if exists.is_none() {
            return Err(RegistryError::PromptNotFound {
                name: request.prompt.to_owned(),
            });
        }
        let version_exists =
            sqlx::query("SELECT 1 FROM registry_versions WHERE prompt = $1 AND version = $2")
                .bind(request.prompt)
                .bind(i64::from(request.version))
                .fetch_optional(&mut *connection)
                .await
                .map_err(|e| self.db(e))?;
        if version_exists.is_none() {
            return Err(RegistryError::VersionNotFound {
                name: request.prompt.to_owned(),
                version: request.version,
                latest: self.latest_version(request.prompt).await?,
            });
        }

        let current =
            sqlx::query("SELECT version FROM registry_labels WHERE prompt = $1 AND label = $2")
                .bind(request.prompt)
                .bind(request.label)
                .fetch_optional(&mut *connection)
                .await
                .map_err(|e| self.db(e))?;
        let from_version = current.map(|row| version_column(&row, 0)).transpose()?;
        let deployment = Deployment {
            prompt: request.prompt.to_owned(),
            label: request.label.to_owned(),
            from_version,
            to_version: request.version,
            actor: request.actor.to_owned(),
            reason: request.reason.to_owned(),
            at_ms,
        };
        if from_version == Some(request.version) {
            return Ok(deployment);
        }

        let upsert = format!(
            "INSERT INTO registry_labels (prompt, label, version, updated_at_ms) VALUES ($1, $2, $3, $4) {}",
            self.store()
                .dialect()
                .upsert_clause(&["prompt", "label"], &["version", "updated_at_ms"])
        );
        sqlx::query(&upsert)
            .bind(request.prompt)
            .bind(request.label)
            .bind(i64::from(request.version))
            .bind(at_ms)
            .execute(&mut *connection)
            .await
            .map_err(|e| self.db(e))?;
        self.record_deployment(connection, &deployment).await?;
        bump_generation(self, connection).await?;
        Ok(deployment)
    }

    pub(crate) async fn record_deployment(
        &self,
        connection: &mut AnyConnection,
        deployment: &Deployment,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO registry_deployments (prompt, label, from_version, to_version, actor, reason, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(deployment.prompt.as_str())
        .bind(deployment.label.as_str())
        .bind(deployment.from_version.map(i64::from))
        .bind(i64::from(deployment.to_version))
        .bind(deployment.actor.as_str())
        .bind(deployment.reason.as_str())
        .bind(deployment.at_ms)
        .execute(&mut *connection)
        .await
        .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// Moves a label back to the version it pointed to before its latest
    /// move, recording the rollback as a new move.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NoPreviousDeployment`] when the label was never
    /// moved from an earlier version, and the errors of [`Registry::set_label`].
    pub async fn rollback(
        &self,
        prompt: &str,
        label: &str,
        actor: &str,
        reason: &str,
    ) -> Result<Deployment> {
        let history = self.history(prompt, Some(label)).await?;
        let previous = history.last().and_then(|latest| latest.from_version);
        let Some(version) = previous else {
            return Err(RegistryError::NoPreviousDeployment {
                name: prompt.to_owned(),
                label: label.to_owned(),
            });
        };
        self.set_label(&LabelMove {
            prompt,
            label,
            version,
            actor,
            reason,
        })
        .await
    }

    /// Returns the label moves of `prompt`, oldest first; only those of
    /// `label` when given.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Store`].
    pub async fn history(&self, prompt: &str, label: Option<&str>) -> Result<Vec<Deployment>> {
        let rows = sqlx::query(
            "SELECT prompt, label, from_version, to_version, actor, reason, at_ms FROM registry_deployments
             WHERE prompt = $1 AND ($2 = '' OR label = $2) ORDER BY id",
        )
        .bind(prompt)
        .bind(label.unwrap_or(""))
        .fetch_all(self.store().pool())
        .await
        .map_err(|e| self.db(e))?;
        rows.iter()
            .map(|row| {
                let from: Option<i64> = row.try_get(2).map_err(|e| self.db(e))?;
                Ok(Deployment {
                    prompt: text_column(row, 0)?,
                    label: text_column(row, 1)?,
                    from_version: from.and_then(|v| u32::try_from(v).ok()),
                    to_version: version_column(row, 3)?,
                    actor: text_column(row, 4)?,
                    reason: text_column(row, 5)?,
                    at_ms: row.try_get(6).map_err(|e| self.db(e))?,
                })
            })
            .collect()
    }

    /// Returns the version number a label points to.
    ///
    /// # Errors
    ///
    /// As [`Registry::get`].
    pub async fn label_version(&self, prompt: &str, label: &str) -> Result<u32> {
        let version = self.get(prompt, &Selector::Label(label.to_owned())).await?;
        Ok(version.version)
    }
}
