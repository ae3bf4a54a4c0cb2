//! Experiments kept in the store: create, serve, stop and promote.

use std::fmt;
use std::sync::Arc;

use llmops_store::{Dialect, now_ms};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row as _};

use super::design::{Arm, ArmTarget, Experiment};
use super::error::ExperimentError;
use crate::error::{RegistryError, Result};
use crate::labels::LabelMove;
use crate::registry::{Registry, text_column, version_column};
use crate::selector::{Selector, validate_label, validate_name};
use crate::version::{Deployment, PromptVersion};

/// The lifecycle state of a stored experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentStatus {
    /// Splitting traffic between its arms.
    Running,
    /// Stopped without a winner; the label serves its own version again.
    Stopped,
    /// Ended by moving the label to the winning arm's version.
    Promoted,
}

impl ExperimentStatus {
    /// Returns the name stored in the database and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            ExperimentStatus::Running => "running",
            ExperimentStatus::Stopped => "stopped",
            ExperimentStatus::Promoted => "promoted",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "running" => Some(ExperimentStatus::Running),
            "stopped" => Some(ExperimentStatus::Stopped),
            "promoted" => Some(ExperimentStatus::Promoted),
            _ => None,
        }
    }
}

impl fmt::Display for ExperimentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An experiment as stored: its arms and the label whose traffic it splits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredExperiment {
    /// The id and weighted arms; the first arm is the control.
    pub experiment: Experiment,
    /// The prompt whose versions the arms serve.
    pub prompt: String,
    /// The label whose traffic the experiment splits; promoting an arm
    /// moves this label.
    pub label: String,
    /// Running, stopped or promoted.
    pub status: ExperimentStatus,
    /// The person or system that created it.
    pub created_by: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// The person or system that stopped or promoted it.
    pub ended_by: Option<String>,
    /// When it was stopped or promoted.
    pub ended_at_ms: Option<i64>,
    /// The promoted arm.
    pub winner: Option<String>,
}

/// A request to create an experiment.
#[derive(Debug, Clone)]
pub struct NewExperiment<'a> {
    /// A stable id, with the characters of a prompt name.
    pub id: &'a str,
    /// The prompt whose versions the arms serve.
    pub prompt: &'a str,
    /// The label whose traffic is split, such as `production`.
    pub label: &'a str,
    /// The arms; the first is the control.
    pub arms: Vec<Arm>,
    /// The person or system that creates it.
    pub actor: &'a str,
}

/// The experiment arm a unit was assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The experiment id.
    pub experiment: String,
    /// The arm name.
    pub arm: String,
    /// The unit assigned, such as a user id.
    pub unit: String,
}

/// The version to use for one call, and the experiment arm that chose it.
#[derive(Debug, Clone)]
pub struct Served {
    /// The version to render.
    pub version: Arc<PromptVersion>,
    /// The label the caller asked for.
    pub label: String,
    /// The arm, when a running experiment splits the label.
    pub assignment: Option<Assignment>,
}

const SELECT_EXPERIMENT: &str = "SELECT id, prompt, label, arms, status, created_by, created_at_ms, ended_by, ended_at_ms, winner FROM registry_experiments";

impl Registry {
    /// Creates a running experiment that splits `label`'s traffic between
    /// the arms.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Experiment`] for invalid arms or weights,
    /// [`RegistryError::InvalidName`] and [`RegistryError::InvalidLabel`],
    /// [`RegistryError::PromptNotFound`], [`RegistryError::VersionNotFound`]
    /// and [`RegistryError::LabelNotFound`] for arm targets that do not
    /// exist, [`RegistryError::ExperimentExists`],
    /// [`RegistryError::LabelInExperiment`] when another running
    /// experiment splits the label, and [`RegistryError::Store`]. Nothing
    /// is written on error.
    pub async fn create_experiment(&self, new: &NewExperiment<'_>) -> Result<StoredExperiment> {
        validate_name(new.id).map_err(|error| match error {
            RegistryError::InvalidName { name, reason } => {
                RegistryError::Experiment(ExperimentError::InvalidId { id: name, reason })
            }
            other => other,
        })?;
        validate_name(new.prompt)?;
        validate_label(new.label)?;
        let experiment = Experiment::new(new.id, new.arms.clone())?;
        if experiment.arms().len() < 2 {
            return Err(ExperimentError::TooFewArms {
                experiment: new.id.to_owned(),
                arms: experiment.arms().len(),
            }
            .into());
        }
        if let Some(control) = experiment.arms().first()
            && control.weight <= 0.0
        {
            return Err(ExperimentError::ControlWithoutTraffic {
                experiment: new.id.to_owned(),
                arm: control.name.clone(),
            }
            .into());
        }
        if let Some(idle) = experiment.arms()[1..].iter().find(|arm| arm.weight <= 0.0) {
            return Err(ExperimentError::CandidateWithoutTraffic {
                experiment: new.id.to_owned(),
                arm: idle.name.clone(),
            }
            .into());
        }
        // The split label must exist; promoting an arm moves it.
        self.get(new.prompt, &Selector::Label(new.label.to_owned()))
            .await?;
        // Arms that name a label are pinned to the version it points to
        // now, so a later label move cannot change an arm mid-experiment.
        let mut pinned = Vec::with_capacity(experiment.arms().len());
        for arm in experiment.arms() {
            let version = self.get(new.prompt, &arm_selector(&arm.target)).await?;
            pinned.push(Arm::new(
                arm.name.clone(),
                ArmTarget::Version(version.version),
                arm.weight,
            ));
        }
        reject_identical_arms(new.id, &pinned)?;
        let experiment = Experiment::new(new.id, pinned)?;
        let arms = serde_json::to_string(experiment.arms()).map_err(|error| {
            RegistryError::InvalidPrompt {
                name: new.prompt.to_owned(),
                reason: format!("cannot encode the arms: {error}"),
            }
        })?;

        let mut transaction = self.store().begin().await?;
        self.lock_prompt(&mut transaction, new.prompt).await?;
        if let Some(running) = self
            .running_in(&mut transaction, new.prompt, new.label)
            .await?
        {
            return Err(RegistryError::LabelInExperiment {
                prompt: new.prompt.to_owned(),
                label: new.label.to_owned(),
                running: running.experiment.id().to_owned(),
            });
        }
        let existing = sqlx::query("SELECT 1 FROM registry_experiments WHERE id = $1")
            .bind(new.id)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(|e| self.db(e))?;
        if existing.is_some() {
            return Err(RegistryError::ExperimentExists {
                id: new.id.to_owned(),
            });
        }
        let created_at_ms = now_ms();
        sqlx::query(
            "INSERT INTO registry_experiments (id, prompt, label, arms, status, created_by, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new.id)
        .bind(new.prompt)
        .bind(new.label)
        .bind(arms)
        .bind(ExperimentStatus::Running.as_str())
        .bind(new.actor)
        .bind(created_at_ms)
        .execute(&mut *transaction)
        .await
        .map_err(|e| self.db(e))?;
        transaction.commit().await.map_err(|e| self.db(e))?;
        tracing::info!(
            experiment = new.id,
            prompt = new.prompt,
            label = new.label,
            arms = experiment.arms().len(),
            "experiment created"
        );
        Ok(StoredExperiment {
            experiment,
            prompt: new.prompt.to_owned(),
            label: new.label.to_owned(),
            status: ExperimentStatus::Running,
            created_by: new.actor.to_owned(),
            created_at_ms,
            ended_by: None,
            ended_at_ms: None,
            winner: None,
        })
    }

    /// Returns one experiment.
    ///
    /// # Errors
    ///
    /// [`RegistryError::ExperimentNotFound`] and [`RegistryError::Store`].
    pub async fn experiment(&self, id: &str) -> Result<StoredExperiment> {
        let row = sqlx::query(&format!("{SELECT_EXPERIMENT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.store().pool())
            .await
            .map_err(|e| self.db(e))?;
        match row {
            Some(row) => self.experiment_from_row(&row),
            None => Err(RegistryError::ExperimentNotFound { id: id.to_owned() }),
        }
    }

    /// Returns every experiment, newest first.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Store`].
    pub async fn experiments(&self) -> Result<Vec<StoredExperiment>> {
        let rows = sqlx::query(&format!(
            "{SELECT_EXPERIMENT} ORDER BY created_at_ms DESC, id"
        ))
        .fetch_all(self.store().pool())
        .await
        .map_err(|e| self.db(e))?;
        rows.iter()
            .map(|row| self.experiment_from_row(row))
            .collect()
    }

    /// Resolves the version one call should use: the version `label`
    /// points to or, while a running experiment splits the label, the
    /// version of the arm `unit` is assigned to. The same unit always
    /// gets the same arm.
    ///
    /// # Errors
    ///
    /// As [`Registry::get`], and [`RegistryError::Store`].
    pub async fn serve(&self, prompt: &str, label: &str, unit: &str) -> Result<Served> {
        let mut connection = self
            .store()
            .pool()
            .acquire()
            .await
            .map_err(|e| self.db(e))?;
        let running = self.running_in(&mut connection, prompt, label).await?;
        drop(connection);
        let Some(running) = running else {
            let version = self.get(prompt, &Selector::Label(label.to_owned())).await?;
            return Ok(Served {
                version,
                label: label.to_owned(),
                assignment: None,
            });
        };
        let arm = running.experiment.assign(unit);
        let version = self.get(prompt, &arm_selector(&arm.target)).await?;
        Ok(Served {
            version,
            label: label.to_owned(),
            assignment: Some(Assignment {
                experiment: running.experiment.id().to_owned(),
                arm: arm.name.clone(),
                unit: unit.to_owned(),
            }),
        })
    }

    /// Stops a running experiment without a winner; the label serves the
    /// version it points to again.
    ///
    /// # Errors
    ///
    /// [`RegistryError::ExperimentNotFound`],
    /// [`RegistryError::ExperimentState`] when it is not running, and
    /// [`RegistryError::Store`].
    pub async fn stop_experiment(&self, id: &str, actor: &str) -> Result<StoredExperiment> {
        let mut transaction = self.store().begin().await?;
        let mut stored = self.lock_experiment(&mut transaction, id).await?;
        if stored.status != ExperimentStatus::Running {
            return Err(state_error(&stored, "stop", "a running experiment"));
        }
        let at_ms = now_ms();
        self.end(
            &mut transaction,
            id,
            ExperimentStatus::Stopped,
            actor,
            at_ms,
            None,
        )
        .await?;
        transaction.commit().await.map_err(|e| self.db(e))?;
        tracing::info!(experiment = id, "experiment stopped");
        stored.status = ExperimentStatus::Stopped;
        stored.ended_by = Some(actor.to_owned());
        stored.ended_at_ms = Some(at_ms);
        Ok(stored)
    }

    /// Ends an experiment by pointing its label at `arm`'s version, in one
    /// transaction; the move is recorded in the deployment history.
    ///
    /// A running or stopped experiment can be promoted, once.
    ///
    /// # Errors
    ///
    /// [`RegistryError::ExperimentNotFound`], [`RegistryError::UnknownArm`],
    /// [`RegistryError::ExperimentState`] when it was promoted already,
    /// the errors of [`Registry::set_label`], and [`RegistryError::Store`].
    pub async fn promote_experiment(
        &self,
        id: &str,
        arm: &str,
        actor: &str,
        reason: &str,
    ) -> Result<Deployment> {
        let mut transaction = self.store().begin().await?;
        let stored = self.lock_experiment(&mut transaction, id).await?;
        if stored.status == ExperimentStatus::Promoted {
            return Err(state_error(
                &stored,
                "promote",
                "a running or stopped experiment",
            ));
        }
        let Some(chosen) = stored.experiment.arms().iter().find(|a| a.name == arm) else {
            return Err(RegistryError::UnknownArm {
                id: id.to_owned(),
                arm: arm.to_owned(),
                arms: stored
                    .experiment
                    .arms()
                    .iter()
                    .map(|a| a.name.clone())
                    .collect(),
            });
        };
        let version = match &chosen.target {
            ArmTarget::Version(version) => *version,
            // Read on the transaction's connection: an in-memory SQLite
            // store has only that one.
            ArmTarget::Label(label) => {
                let row = sqlx::query(
                    "SELECT version FROM registry_labels WHERE prompt = $1 AND label = $2",
                )
                .bind(stored.prompt.as_str())
                .bind(label.as_str())
                .fetch_optional(&mut *transaction)
                .await
                .map_err(|e| self.db(e))?;
                match row {
                    Some(row) => version_column(&row, 0)?,
                    None => {
                        return Err(RegistryError::LabelNotFound {
                            name: stored.prompt.clone(),
                            label: label.clone(),
                        });
                    }
                }
            }
        };
        let reason = if reason.is_empty() {
            format!("promoted arm `{arm}` of experiment `{id}`")
        } else {
            reason.to_owned()
        };
        let at_ms = now_ms();
        let deployment = self
            .set_label_in(
                &mut transaction,
                &LabelMove {
                    prompt: &stored.prompt,
                    label: &stored.label,
                    version,
                    actor,
                    reason: &reason,
                },
                at_ms,
            )
            .await?;
        self.end(
            &mut transaction,
            id,
            ExperimentStatus::Promoted,
            actor,
            at_ms,
            Some(arm),
        )
        .await?;
        transaction.commit().await.map_err(|e| self.db(e))?;
        self.cache().clear_movable();
        tracing::info!(experiment = id, arm, version, "experiment promoted");
        Ok(deployment)
    }

    async fn end(
        &self,
        connection: &mut AnyConnection,
        id: &str,
        status: ExperimentStatus,
        actor: &str,
        at_ms: i64,
        winner: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE registry_experiments SET status = $1, ended_by = $2, ended_at_ms = $3, winner = $4 WHERE id = $5",
        )
        .bind(status.as_str())
        .bind(actor)
        .bind(at_ms)
        .bind(winner)
        .bind(id)
        .execute(&mut *connection)
        .await
        .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// Locks the prompt row, so two writers cannot both start an
    /// experiment on one label; SQLite's write transaction already
    /// serializes writers.
    async fn lock_prompt(&self, connection: &mut AnyConnection, prompt: &str) -> Result<()> {
        let lock = match self.store().dialect() {
            Dialect::Postgres => "SELECT name FROM registry_prompts WHERE name = $1 FOR UPDATE",
            _ => "SELECT name FROM registry_prompts WHERE name = $1",
        };
        let found = sqlx::query(lock)
            .bind(prompt)
            .fetch_optional(&mut *connection)
            .await
            .map_err(|e| self.db(e))?;
        if found.is_none() {
            return Err(RegistryError::PromptNotFound {
                name: prompt.to_owned(),
            });
        }
        Ok(())
    }

    async fn lock_experiment(
        &self,
        connection: &mut AnyConnection,
        id: &str,
    ) -> Result<StoredExperiment> {
        let suffix = match self.store().dialect() {
            Dialect::Postgres => " FOR UPDATE",
            _ => "",
        };
        let row = sqlx::query(&format!("{SELECT_EXPERIMENT} WHERE id = $1{suffix}"))
            .bind(id)
            .fetch_optional(&mut *connection)
            .await
            .map_err(|e| self.db(e))?;
        match row {
            Some(row) => self.experiment_from_row(&row),
            None => Err(RegistryError::ExperimentNotFound { id: id.to_owned() }),
        }
    }

    pub(crate) async fn running_in(
        &self,
        connection: &mut AnyConnection,
        prompt: &str,
        label: &str,
    ) -> Result<Option<StoredExperiment>> {
        let row = sqlx::query(&format!(
            "{SELECT_EXPERIMENT} WHERE prompt = $1 AND label = $2 AND status = 'running'"
        ))
        .bind(prompt)
        .bind(label)
        .fetch_optional(&mut *connection)
        .await
        .map_err(|e| self.db(e))?;
        row.map(|row| self.experiment_from_row(&row)).transpose()
    }

    fn experiment_from_row(&self, row: &sqlx::any::AnyRow) -> Result<StoredExperiment> {
        let id = text_column(row, 0)?;
        let corrupt = |reason: String| RegistryError::InvalidRecord {
            name: id.clone(),
            reason,
        };
        let arms: Vec<Arm> = serde_json::from_str(&text_column(row, 3)?)
            .map_err(|error| corrupt(format!("stored arms do not parse: {error}")))?;
        let status_text = text_column(row, 4)?;
        let status = ExperimentStatus::parse(&status_text)
            .ok_or_else(|| corrupt(format!("unknown stored status `{status_text}`")))?;
        let optional_text = |index: usize| -> Result<Option<String>> {
            row.try_get::<Option<String>, _>(index)
                .map_err(|e| self.db(e))
        };
        Ok(StoredExperiment {
            experiment: Experiment::new(id.clone(), arms)?,
            prompt: text_column(row, 1)?,
            label: text_column(row, 2)?,
            status,
            created_by: text_column(row, 5)?,
            created_at_ms: row.try_get(6).map_err(|e| self.db(e))?,
            ended_by: optional_text(7)?,
            ended_at_ms: row.try_get::<Option<i64>, _>(8).map_err(|e| self.db(e))?,
            winner: optional_text(9)?,
        })
    }
}

fn arm_selector(target: &ArmTarget) -> Selector {
    match target {
        ArmTarget::Version(version) => Selector::Version(*version),
        ArmTarget::Label(label) => Selector::Label(label.clone()),
    }
}

fn state_error(
    stored: &StoredExperiment,
    action: &'static str,
    allowed: &'static str,
) -> RegistryError {
    RegistryError::ExperimentState {
        id: stored.experiment.id().to_owned(),
        status: stored.status.as_str().to_owned(),
        action,
        allowed,
    }
}

/// Rejects two arms pinned to the same version, whose results could only
/// differ by chance.
fn reject_identical_arms(experiment: &str, pinned: &[Arm]) -> Result<()> {
    for (index, arm) in pinned.iter().enumerate() {
        let ArmTarget::Version(version) = arm.target else {
            continue;
        };
        let earlier = pinned[..index]
            .iter()
            .find(|earlier| earlier.target == arm.target);
        if let Some(earlier) = earlier {
            return Err(ExperimentError::IdenticalArms {
                experiment: experiment.to_owned(),
                first: earlier.name.clone(),
                second: arm.name.clone(),
                version,
            }
            .into());
        }
    }
    Ok(())
}
