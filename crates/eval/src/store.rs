//! Evaluation runs and case results in [`llmops_store`], so an interrupted
//! run resumes without re-running finished cases.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use llmops_store::sqlx::{self, Row};
use llmops_store::{Migration, Store, now_ms};
use rust_decimal::Decimal;

use crate::error::{EvalError, Result};
use crate::result::{CaseResult, EvalRun, RunInfo};

const COMPONENT: &str = "eval";

const SCHEMA: &str = "
CREATE TABLE eval_runs (
    run_id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    dataset_version TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_version TEXT,
    metrics TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE eval_results (
    run_id TEXT NOT NULL REFERENCES eval_runs (run_id),
    case_id TEXT NOT NULL,
    tags TEXT NOT NULL,
    output TEXT NOT NULL,
    latency_ms BIGINT,
    cost_usd TEXT,
    scores TEXT NOT NULL,
    finished_at_ms BIGINT NOT NULL,
    PRIMARY KEY (run_id, case_id)
);
CREATE INDEX eval_runs_prompt ON eval_runs (prompt_version, model);
";

/// The evaluation tables, for callers that migrate several components at
/// once.
pub const MIGRATIONS: &[Migration] = &[
    Migration::new(COMPONENT, 1, "runs and results", SCHEMA),
    Migration::new(
        COMPONENT,
        2,
        "score details",
        "ALTER TABLE eval_results ADD COLUMN details TEXT;",
    ),
];

/// Evaluation runs stored in an llmops [`Store`] (SQLite or PostgreSQL).
#[derive(Debug, Clone)]
pub struct ResultStore {
    store: Store,
}

impl ResultStore {
    /// Opens the result tables, creating them when missing.
    ///
    /// # Errors
    ///
    /// [`EvalError::Store`] when the migration fails.
    pub async fn open(store: Store) -> Result<Self> {
        store.migrate(MIGRATIONS).await?;
        Ok(ResultStore { store })
    }

    /// Returns the underlying store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn sql_error(&self, source: sqlx::Error) -> EvalError {
        EvalError::Store(self.store.error(source))
    }

    /// Records a run, or checks that a stored run with the same id
    /// evaluated the same dataset version and model.
    ///
    /// # Errors
    ///
    /// [`EvalError::IncomparableRuns`] when the id exists for another
    /// dataset version or model, and [`EvalError::Store`].
    pub async fn begin_run(&self, info: &RunInfo) -> Result<()> {
        if let Some(existing) = self.run_info(&info.run_id).await? {
            if existing.dataset_version != info.dataset_version || existing.model != info.model {
                return Err(EvalError::IncomparableRuns {
                    reason: format!(
                        "run `{}` already exists for dataset version {} and model `{}`; choose a new run id to evaluate dataset version {} with model `{}`",
                        info.run_id,
                        existing.dataset_version,
                        existing.model,
                        info.dataset_version,
                        info.model
                    ),
                });
            }
            return Ok(());
        }
        let metrics = encode(&info.metrics, "run metrics")?;
        sqlx::query(
            "INSERT INTO eval_runs (run_id, dataset, dataset_version, model, prompt_version, metrics, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&info.run_id)
        .bind(&info.dataset)
        .bind(&info.dataset_version)
        .bind(&info.model)
        .bind(info.prompt_version.as_deref())
        .bind(metrics)
        .bind(now_ms())
        .execute(self.store.pool())
        .await
        .map_err(|source| self.sql_error(source))?;
        Ok(())
    }

    /// Returns a run's description, or `None` when the id is unknown.
    ///
    /// # Errors
    ///
    /// [`EvalError::Store`].
    pub async fn run_info(&self, run_id: &str) -> Result<Option<RunInfo>> {
        let row = sqlx::query(
            "SELECT dataset, dataset_version, model, prompt_version, metrics FROM eval_runs WHERE run_id = $1",
        )
        .bind(run_id)
        .fetch_optional(self.store.pool())
        .await
        .map_err(|source| self.sql_error(source))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let get = |index: usize| -> Result<Option<String>> {
            row.try_get::<Option<String>, _>(index)
                .map_err(|source| self.sql_error(source))
        };
        let metrics_json = get(4)?.unwrap_or_default();
        let metrics = serde_json::from_str(&metrics_json).map_err(|source| EvalError::Json {
            what: "stored run metrics",
            source,
        })?;
        Ok(Some(RunInfo {
            run_id: run_id.to_owned(),
            dataset: get(0)?.unwrap_or_default(),
            dataset_version: get(1)?.unwrap_or_default(),
            model: get(2)?.unwrap_or_default(),
            prompt_version: get(3)?,
            metrics,
        }))
    }

    /// Stores finished case results in one transaction; a result already
    /// stored for the same run and case is kept.
    ///
    /// # Errors
    ///
    /// [`EvalError::Store`].
    pub async fn save_results(&self, run_id: &str, results: &[CaseResult]) -> Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        const COLUMNS: usize = 9;
        // Through sqlx, SQLite runs statements of a few dozen rows far faster
        // per row than statements of thousands.
        const MAX_ROWS: usize = 32;
        let dialect = self.store.dialect();
        let mut transaction = self.store.begin().await?;
        let finished_at_ms = now_ms();
        for chunk in results.chunks(dialect.max_rows_per_insert(COLUMNS).min(MAX_ROWS)) {
            let sql = format!(
                "INSERT INTO eval_results (run_id, case_id, tags, output, latency_ms, cost_usd, scores, details, finished_at_ms) VALUES {} ON CONFLICT (run_id, case_id) DO NOTHING",
                dialect.values_rows(chunk.len(), COLUMNS)
            );
            let mut query = sqlx::query(&sql);
            for result in chunk {
                let latency_ms = result
                    .latency_ms
                    .map(|ms| i64::try_from(ms).unwrap_or(i64::MAX));
                let details = if result.details.is_empty() {
                    None
                } else {
                    Some(encode(&result.details, "score details")?)
                };
                query = query
                    .bind(run_id)
                    .bind(&result.case_id)
                    .bind(encode(&result.tags, "case tags")?)
                    .bind(&result.output)
                    .bind(latency_ms)
                    .bind(result.cost_usd.map(|cost| cost.to_string()))
                    .bind(encode(&result.scores, "case scores")?)
                    .bind(details)
                    .bind(finished_at_ms);
            }
            query
                .execute(&mut *transaction)
                .await
                .map_err(|source| self.sql_error(source))?;
        }
        transaction
            .commit()
            .await
            .map_err(|source| self.sql_error(source))?;
        Ok(())
    }

    /// Loads the stored results of a run, keyed by case id.
    ///
    /// # Errors
    ///
    /// [`EvalError::Store`], or [`EvalError::Json`] for a corrupt row.
    pub async fn results(&self, run_id: &str) -> Result<HashMap<String, CaseResult>> {
        let rows = sqlx::query(
            "SELECT case_id, tags, output, latency_ms, cost_usd, scores, details FROM eval_results WHERE run_id = $1",
        )
        .bind(run_id)
        .fetch_all(self.store.pool())
        .await
        .map_err(|source| self.sql_error(source))?;
        let mut results = HashMap::with_capacity(rows.len());
        for row in rows {
            let result = self.decode_row(&row)?;
            results.insert(result.case_id.clone(), result);
        }
        Ok(results)
    }

    fn decode_row(&self, row: &sqlx::any::AnyRow) -> Result<CaseResult> {
        let text = |index: usize| -> Result<String> {
            row.try_get::<String, _>(index)
                .map_err(|source| self.sql_error(source))
        };
        let latency_ms: Option<i64> = row.try_get(3).map_err(|source| self.sql_error(source))?;
        let cost: Option<String> = row.try_get(4).map_err(|source| self.sql_error(source))?;
        let tags: Vec<String> = decode(&text(1)?, "stored case tags")?;
        let scores: BTreeMap<String, crate::Score> = decode(&text(5)?, "stored case scores")?;
        let details: Option<String> = row.try_get(6).map_err(|source| self.sql_error(source))?;
        let details = match details {
            Some(details) => decode(&details, "stored score details")?,
            None => BTreeMap::new(),
        };
        Ok(CaseResult {
            case_id: text(0)?,
            tags,
            output: text(2)?,
            latency_ms: latency_ms.and_then(|ms| u64::try_from(ms).ok()),
            cost_usd: cost.and_then(|cost| Decimal::from_str(&cost).ok()),
            scores,
            details,
            error: None,
        })
    }

    /// Loads a whole run, results ordered by case id.
    ///
    /// # Errors
    ///
    /// [`EvalError::RunNotFound`] for an unknown id, and [`EvalError::Store`].
    pub async fn load_run(&self, run_id: &str) -> Result<EvalRun> {
        let info = self
            .run_info(run_id)
            .await?
            .ok_or_else(|| EvalError::RunNotFound {
                run_id: run_id.to_owned(),
            })?;
        let mut results: Vec<CaseResult> = self.results(run_id).await?.into_values().collect();
        results.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        Ok(EvalRun { info, results })
    }
}

fn encode<T: serde::Serialize + ?Sized>(value: &T, what: &'static str) -> Result<String> {
    serde_json::to_string(value).map_err(|source| EvalError::Json { what, source })
}

fn decode<T: serde::de::DeserializeOwned>(text: &str, what: &'static str) -> Result<T> {
    serde_json::from_str(text).map_err(|source| EvalError::Json { what, source })
}
