//! Keys in a SQL database through `llmops-store` (SQLite or PostgreSQL).

use async_trait::async_trait;
use llmops_store::sqlx::{self, Row as _, any::AnyRow};
use llmops_store::{Migration, Store};
use rust_decimal::Decimal;

use super::{KeyStore, VirtualKey};
use crate::server::error::ServerError;

/// The schema of the key table; the same SQL runs on SQLite and PostgreSQL.
pub const KEY_MIGRATIONS: &[Migration] = &[Migration::new(
    "server_keys",
    1,
    "create llmops_server_keys",
    "CREATE TABLE llmops_server_keys (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        display_prefix TEXT NOT NULL,
        team TEXT,
        models TEXT NOT NULL,
        requests_per_minute BIGINT,
        tokens_per_minute BIGINT,
        budget_usd TEXT,
        created_at_ms BIGINT NOT NULL,
        revoked_at_ms BIGINT
    )",
)];

const COLUMNS: &str = "id, name, display_prefix, team, models, requests_per_minute, tokens_per_minute, budget_usd, created_at_ms";

/// A key store in a SQL database. Revoked keys keep their row, with
/// `revoked_at_ms` set, so the database keeps who had access when.
#[derive(Debug, Clone)]
pub struct SqlKeyStore {
    store: Store,
}

impl SqlKeyStore {
    /// Applies the key table's migrations and wraps `store`.
    ///
    /// # Errors
    ///
    /// Returns [`ServerError::Store`] when a migration fails.
    pub async fn open(store: Store) -> Result<Self, ServerError> {
        store.migrate(KEY_MIGRATIONS).await?;
        Ok(SqlKeyStore { store })
    }

    fn db(&self, source: sqlx::Error) -> ServerError {
        ServerError::Store(self.store.error(source))
    }
}

/// Converts an optional count to the BIGINT the table stores.
fn to_column(value: Option<u64>) -> Option<i64> {
    value.map(|value| i64::try_from(value).unwrap_or(i64::MAX))
}

fn read_key(row: &AnyRow) -> Result<VirtualKey, ServerError> {
    let id: String = row.try_get("id").unwrap_or_default();
    let corrupt = |message: String| ServerError::CorruptKey {
        id: id.clone(),
        message,
    };
    let column = |error: sqlx::Error| corrupt(error.to_string());
    let models: String = row.try_get("models").map_err(column)?;
    let models: Vec<String> = serde_json::from_str(&models)
        .map_err(|error| corrupt(format!("models is not a JSON list of names: {error}")))?;
    let budget: Option<String> = row.try_get("budget_usd").map_err(column)?;
    let budget_usd = match budget {
        Some(text) => Some(
            text.parse::<Decimal>()
                .map_err(|error| corrupt(format!("budget_usd {text:?}: {error}")))?,
        ),
        None => None,
    };
    let count = |name: &str| -> Result<Option<u64>, ServerError> {
        let value: Option<i64> = row.try_get(name).map_err(column)?;
        Ok(value.map(|value| value.max(0) as u64))
    };
    let created_at_ms: i64 = row.try_get("created_at_ms").map_err(column)?;
    Ok(VirtualKey {
        id: id.clone(),
        name: row.try_get("name").map_err(column)?,
        display_prefix: row.try_get("display_prefix").map_err(column)?,
        team: row.try_get("team").map_err(column)?,
        models,
        requests_per_minute: count("requests_per_minute")?,
        tokens_per_minute: count("tokens_per_minute")?,
        budget_usd,
        created_at_ms: created_at_ms.max(0) as u64,
    })
}

#[async_trait]
impl KeyStore for SqlKeyStore {
    async fn insert(&self, key: &VirtualKey, secret_hash: &str) -> Result<(), ServerError> {
        let models =
            serde_json::to_string(&key.models).map_err(|error| ServerError::InvalidKey {
                field: "models".to_owned(),
                message: error.to_string(),
            })?;
        sqlx::query(
            "INSERT INTO llmops_server_keys (id, secret_hash, name, display_prefix, team, models, requests_per_minute, tokens_per_minute, budget_usd, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&key.id)
        .bind(secret_hash)
        .bind(&key.name)
        .bind(&key.display_prefix)
        .bind(key.team.clone())
        .bind(models)
        .bind(to_column(key.requests_per_minute))
        .bind(to_column(key.tokens_per_minute))
        .bind(key.budget_usd.map(|budget| budget.to_string()))
        .bind(i64::try_from(key.created_at_ms).unwrap_or(i64::MAX))
        .execute(self.store.pool())
        .await
        .map_err(|error| self.db(error))?;
        Ok(())
    }

    async fn find_by_hash(&self, secret_hash: &str) -> Result<Option<VirtualKey>, ServerError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM llmops_server_keys WHERE secret_hash = $1 AND revoked_at_ms IS NULL"
        ))
        .bind(secret_hash)
        .fetch_optional(self.store.pool())
        .await
        .map_err(|error| self.db(error))?;
        row.as_ref().map(read_key).transpose()
    }

    async fn list(&self) -> Result<Vec<VirtualKey>, ServerError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM llmops_server_keys WHERE revoked_at_ms IS NULL ORDER BY created_at_ms, id"
        ))
        .fetch_all(self.store.pool())
        .await
        .map_err(|error| self.db(error))?;
        rows.iter().map(read_key).collect()
    }

    async fn revoke(&self, id: &str) -> Result<bool, ServerError> {
        let result = sqlx::query(
            "UPDATE llmops_server_keys SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
        )
        .bind(llmops_store::now_ms())
        .bind(id)
        .execute(self.store.pool())
        .await
        .map_err(|error| self.db(error))?;
        Ok(result.rows_affected() > 0)
    }
}
