//! Baselines and reports persisted in llmops-store.

use llmops_store::{Store, now_ms};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::baseline::Baseline;
use crate::error::{DriftError, Result};
use crate::report::DriftReport;
use crate::schema::MIGRATIONS;

/// Time span of a window, in milliseconds since the Unix epoch, end
/// exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpan {
    /// First millisecond in the window.
    pub start_ms: i64,
    /// First millisecond after the window.
    pub end_ms: i64,
}

/// A baseline as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBaseline {
    /// Row id.
    pub id: i64,
    /// Name the baseline was saved under, such as an application name.
    pub name: String,
    /// When it was saved.
    pub created_at_ms: i64,
    /// The baseline.
    pub baseline: Baseline,
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReport {
    /// Row id.
    pub id: i64,
    /// The baseline it was checked against.
    pub baseline_id: i64,
    /// The window it covers.
    pub window: WindowSpan,
    /// When it was saved.
    pub created_at_ms: i64,
    /// The report.
    pub report: DriftReport,
}

/// Baselines and drift reports on a [`Store`], SQLite or PostgreSQL.
///
/// Reports of one baseline list in window order, so a series of weekly
/// checks can be compared over time.
#[derive(Debug, Clone)]
pub struct DriftStore {
    store: Store,
}

impl DriftStore {
    /// Applies the drift migrations and returns the store.
    ///
    /// # Errors
    ///
    /// Returns [`DriftError::Store`] when a migration fails.
    pub async fn open(store: Store) -> Result<Self> {
        store.migrate(MIGRATIONS).await?;
        Ok(Self { store })
    }

    /// Saves a baseline under `name` and returns its id.
    ///
    /// # Errors
    ///
    /// Returns an error when the database fails.
    pub async fn save_baseline(&self, name: &str, baseline: &Baseline) -> Result<i64> {
        validate_name(name)?;
        let body = to_json(baseline)?;
        let dialect = self.store.dialect();
        let sql = format!(
            "INSERT INTO drift_baselines (name, embedding_model, inputs, topics, body, created_at_ms) \
             VALUES ({}, {}, {}, {}, {}, {}) RETURNING id",
            dialect.placeholder(1),
            dialect.placeholder(2),
            dialect.placeholder(3),
            dialect.placeholder(4),
            dialect.placeholder(5),
            dialect.placeholder(6),
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .bind(&baseline.embedding_model)
            .bind(baseline.inputs as i64)
            .bind(baseline.topics.len() as i64)
            .bind(body)
            .bind(now_ms())
            .fetch_one(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        self.get_i64(&row, "id")
    }

    /// Loads the baseline with `id`.
    ///
    /// # Errors
    ///
    /// Returns [`DriftError::BaselineNotFound`] when there is none.
    pub async fn baseline(&self, id: i64) -> Result<StoredBaseline> {
        let sql = format!(
            "SELECT id, name, body, created_at_ms FROM drift_baselines WHERE id = {}",
            self.store.dialect().placeholder(1)
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        let row = row.ok_or_else(|| DriftError::BaselineNotFound {
            name: format!("id {id}"),
        })?;
        self.baseline_from_row(&row)
    }

    /// Loads the newest baseline saved under `name`.
    ///
    /// # Errors
    ///
    /// Returns [`DriftError::BaselineNotFound`] when there is none.
    pub async fn latest_baseline(&self, name: &str) -> Result<StoredBaseline> {
        validate_name(name)?;
        let sql = format!(
            "SELECT id, name, body, created_at_ms FROM drift_baselines WHERE name = {} \
             ORDER BY created_at_ms DESC, id DESC LIMIT 1",
            self.store.dialect().placeholder(1)
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        let row = row.ok_or_else(|| DriftError::BaselineNotFound {
            name: name.to_string(),
        })?;
        self.baseline_from_row(&row)
    }

    /// Saves a report of `window` against baseline `baseline_id`.
    ///
    /// # Errors
    ///
    /// Returns an error when the baseline does not exist or the database
    /// fails.
    pub async fn save_report(
        &self,
        baseline_id: i64,
        window: WindowSpan,
        report: &DriftReport,
    ) -> Result<i64> {
        self.baseline(baseline_id).await?;
        let body = to_json(report)?;
        let d = self.store.dialect();
        let sql = format!(
            "INSERT INTO drift_reports \
             (baseline_id, window_start_ms, window_end_ms, severity, current_inputs, body, created_at_ms) \
             VALUES ({}, {}, {}, {}, {}, {}, {}) RETURNING id",
            d.placeholder(1),
            d.placeholder(2),
            d.placeholder(3),
            d.placeholder(4),
            d.placeholder(5),
            d.placeholder(6),
            d.placeholder(7),
        );
        let row = sqlx::query(&sql)
            .bind(baseline_id)
            .bind(window.start_ms)
            .bind(window.end_ms)
            .bind(report.severity.as_str())
            .bind(report.current_inputs as i64)
            .bind(body)
            .bind(now_ms())
            .fetch_one(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        self.get_i64(&row, "id")
    }

    /// Lists the reports of a baseline by window start, oldest first.
    ///
    /// # Errors
    ///
    /// Returns an error when the database fails or a stored body no longer
    /// parses.
    pub async fn reports(&self, baseline_id: i64) -> Result<Vec<StoredReport>> {
        let sql = format!(
            "SELECT id, baseline_id, window_start_ms, window_end_ms, body, created_at_ms \
             FROM drift_reports WHERE baseline_id = {} ORDER BY window_start_ms, id",
            self.store.dialect().placeholder(1)
        );
        let rows = sqlx::query(&sql)
            .bind(baseline_id)
            .fetch_all(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;
        rows.iter()
            .map(|row| {
                let body: String = self.get(row, "body")?;
                Ok(StoredReport {
                    id: self.get_i64(row, "id")?,
                    baseline_id: self.get_i64(row, "baseline_id")?,
                    window: WindowSpan {
                        start_ms: self.get_i64(row, "window_start_ms")?,
                        end_ms: self.get_i64(row, "window_end_ms")?,
                    },
                    created_at_ms: self.get_i64(row, "created_at_ms")?,
                    report: from_json(&body)?,
                })
            })
            .collect()
    }

    /// Returns the most recently saved report of any baseline, with the
    /// name of its baseline, or `None` when no report was saved.
    ///
    /// # Errors
    ///
    /// Returns an error when the database fails or the stored body no
    /// longer parses.
    pub async fn latest_report(&self) -> Result<Option<(String, StoredReport)>> {
        let row = sqlx::query(
            "SELECT r.id, r.baseline_id, r.window_start_ms, r.window_end_ms, r.body, \
             r.created_at_ms, b.name FROM drift_reports r \
             JOIN drift_baselines b ON b.id = r.baseline_id \
             ORDER BY r.created_at_ms DESC, r.id DESC LIMIT 1",
        )
        .fetch_optional(self.store.pool())
        .await
        .map_err(|source| self.store.error(source))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let body: String = self.get(&row, "body")?;
        let report = StoredReport {
            id: self.get_i64(&row, "id")?,
            baseline_id: self.get_i64(&row, "baseline_id")?,
            window: WindowSpan {
                start_ms: self.get_i64(&row, "window_start_ms")?,
                end_ms: self.get_i64(&row, "window_end_ms")?,
            },
            created_at_ms: self.get_i64(&row, "created_at_ms")?,
            report: from_json(&body)?,
        };
        Ok(Some((self.get(&row, "name")?, report)))
    }

    fn baseline_from_row(&self, row: &AnyRow) -> Result<StoredBaseline> {
        let body: String = self.get(row, "body")?;
        Ok(StoredBaseline {
            id: self.get_i64(row, "id")?,
            name: self.get(row, "name")?,
            created_at_ms: self.get_i64(row, "created_at_ms")?,
            baseline: from_json(&body)?,
        })
    }

    fn get<T>(&self, row: &AnyRow, column: &str) -> Result<T>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        row.try_get(column)
            .map_err(|source| DriftError::Store(self.store.error(source)))
    }

    fn get_i64(&self, row: &AnyRow, column: &str) -> Result<i64> {
        self.get(row, column)
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|error| DriftError::Serialization {
        message: error.to_string(),
    })
}

fn from_json<T: for<'de> Deserialize<'de>>(body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|error| DriftError::Serialization {
        message: error.to_string(),
    })
}

/// Rejects an empty or blank baseline name, which no later lookup could
/// tell apart from a missing one.
fn validate_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(DriftError::InvalidParameter {
            name: "baseline name",
            value: format!("{name:?}"),
            reason: "the name is empty; name the baseline after the application, such as support",
        });
    }
    Ok(())
}
