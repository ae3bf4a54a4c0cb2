//! Versioned, checksummed migrations that each domain crate registers.
//!
//! A migration belongs to a component (such as `registry`), has a version
//! that increases within that component, and carries its SQL for each
//! dialect. [`Store::migrate`] applies the missing ones in order, each in its
//! own transaction together with its row in `llmops_migrations`, so a failed
//! migration leaves neither its changes nor its record. Applied migrations
//! are compared by SHA-256 checksum: editing one after release is an error.

use crate::time::now_ms;
use std::collections::{BTreeSet, HashMap};

use sha2::{Digest, Sha256};
use sqlx::{Executor as _, Row as _};

use crate::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::store::{Store, StoreTransaction};

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS llmops_migrations (
    component TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at_ms BIGINT NOT NULL,
    PRIMARY KEY (component, version)
)";

/// Key of the PostgreSQL advisory lock that serializes migrations across
/// processes (the ASCII bytes of "llmopsmg").
const POSTGRES_LOCK_KEY: i64 = 0x6c6c_6d6f_7073_6d67;

/// One schema change of one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    component: &'static str,
    version: i64,
    name: &'static str,
    sqlite_sql: &'static str,
    postgres_sql: &'static str,
}

impl Migration {
    /// Creates a migration whose SQL runs unchanged on SQLite and PostgreSQL.
    pub const fn new(
        component: &'static str,
        version: i64,
        name: &'static str,
        sql: &'static str,
    ) -> Self {
        Migration {
            component,
            version,
            name,
            sqlite_sql: sql,
            postgres_sql: sql,
        }
    }

    /// Creates a migration with separate SQL for each dialect.
    pub const fn per_dialect(
        component: &'static str,
        version: i64,
        name: &'static str,
        sqlite_sql: &'static str,
        postgres_sql: &'static str,
    ) -> Self {
        Migration {
            component,
            version,
            name,
            sqlite_sql,
            postgres_sql,
        }
    }

    /// Returns the component that owns the migration.
    pub fn component(&self) -> &str {
        self.component
    }

    /// Returns the version within the component.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Returns the SQL for `dialect`; it may hold several statements.
    pub fn sql(&self, dialect: Dialect) -> &str {
        match dialect {
            Dialect::Sqlite => self.sqlite_sql,
            Dialect::Postgres => self.postgres_sql,
        }
    }

    /// Returns the hex SHA-256 of the SQL for `dialect`.
    pub fn checksum(&self, dialect: Dialect) -> String {
        let digest = Sha256::digest(self.sql(dialect).as_bytes());
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// What [`Store::migrate`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationReport {
    /// `(component, version)` of each migration applied by this call, in order.
    pub applied: Vec<(String, i64)>,
    /// How many of the given migrations were already applied.
    pub already_applied: usize,
}

impl Store {
    /// Applies the migrations in `migrations` that the database lacks, in order.
    ///
    /// Safe to call from several processes at once: SQLite's write lock and a
    /// PostgreSQL advisory lock let one apply each migration while the others
    /// wait and then skip it.
    ///
    /// # Errors
    ///
    /// [`StoreError::MigrationOrder`] when versions of a component do not
    /// increase, [`StoreError::MigrationChecksumMismatch`] when an applied
    /// migration was edited, [`StoreError::MigrationUnknown`] when the
    /// database is ahead of the code, and [`StoreError::MigrationFailed`]
    /// when a migration's SQL fails (that migration is rolled back; earlier
    /// ones stay applied).
    pub async fn migrate(&self, migrations: &[Migration]) -> Result<MigrationReport> {
        check_order(migrations)?;
        let mut report = MigrationReport::default();
        let recorded = self.recorded_checksums(migrations).await?;
        check_recorded(self.dialect(), migrations, &recorded)?;

        for migration in migrations {
            let key = (migration.component.to_owned(), migration.version);
            if recorded.contains_key(&key) {
                report.already_applied += 1;
                continue;
            }
            if self.apply(migration).await? {
                tracing::info!(
                    component = migration.component,
                    version = migration.version,
                    name = migration.name,
                    "migration applied"
                );
                report.applied.push(key);
            } else {
                report.already_applied += 1;
            }
        }
        Ok(report)
    }

    /// Reads the recorded checksums of the components in `migrations`.
    async fn recorded_checksums(
        &self,
        migrations: &[Migration],
    ) -> Result<HashMap<(String, i64), String>> {
        let mut transaction = self.begin_locked().await?;
        let components: BTreeSet<&str> = migrations.iter().map(|m| m.component).collect();
        let mut recorded = HashMap::new();
        for component in components {
            let rows = sqlx::query(
                "SELECT version, checksum FROM llmops_migrations WHERE component = $1 ORDER BY version",
            )
            .bind(component)
            .fetch_all(&mut *transaction)
            .await
            .map_err(|source| self.error(source))?;
            for row in rows {
                let version: i64 = row.try_get(0).map_err(|source| self.error(source))?;
                let checksum: String = row.try_get(1).map_err(|source| self.error(source))?;
                recorded.insert((component.to_owned(), version), checksum);
            }
        }
        transaction
            .commit()
            .await
            .map_err(|source| self.error(source))?;
        Ok(recorded)
    }

    /// Applies one migration and records it; returns false when another
    /// process recorded it first.
    async fn apply(&self, migration: &Migration) -> Result<bool> {
        let mut transaction = self.begin_locked().await?;
        let exists =
            sqlx::query("SELECT 1 FROM llmops_migrations WHERE component = $1 AND version = $2")
                .bind(migration.component)
                .bind(migration.version)
                .fetch_optional(&mut *transaction)
                .await
                .map_err(|source| self.error(source))?;
        if exists.is_some() {
            return Ok(false);
        }

        // A `&str` statement without bind values runs over PostgreSQL's
        // simple-query protocol, which accepts several statements.
        let applied = transaction.execute(migration.sql(self.dialect())).await;
        if let Err(source) = applied {
            return Err(StoreError::MigrationFailed {
                component: migration.component.to_owned(),
                version: migration.version,
                name: migration.name.to_owned(),
                source,
            });
        }
        sqlx::query(
            "INSERT INTO llmops_migrations (component, version, name, checksum, applied_at_ms)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(migration.component)
        .bind(migration.version)
        .bind(migration.name)
        .bind(migration.checksum(self.dialect()))
        .bind(now_ms())
        .execute(&mut *transaction)
        .await
        .map_err(|source| self.error(source))?;
        transaction
            .commit()
            .await
            .map_err(|source| self.error(source))?;
        Ok(true)
    }

    /// Begins a write transaction that holds the migration lock and has the
    /// `llmops_migrations` table.
    async fn begin_locked(&self) -> Result<StoreTransaction> {
        let mut transaction = self.begin().await?;
        if self.dialect() == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(POSTGRES_LOCK_KEY)
                .execute(&mut *transaction)
                .await
                .map_err(|source| self.error(source))?;
        }
        transaction
            .execute(CREATE_TABLE)
            .await
            .map_err(|source| self.error(source))?;
        Ok(transaction)
    }
}

fn check_order(migrations: &[Migration]) -> Result<()> {
    let mut last: HashMap<&str, i64> = HashMap::new();
    for migration in migrations {
        let previous = last.get(migration.component).copied().unwrap_or(0);
        if migration.version <= previous {
            return Err(StoreError::MigrationOrder {
                component: migration.component.to_owned(),
                version: migration.version,
            });
        }
        last.insert(migration.component, migration.version);
    }
    Ok(())
}

fn check_recorded(
    dialect: Dialect,
    migrations: &[Migration],
    recorded: &HashMap<(String, i64), String>,
) -> Result<()> {
    let known: HashMap<(&str, i64), &Migration> = migrations
        .iter()
        .map(|migration| ((migration.component, migration.version), migration))
        .collect();
    let mut recorded_keys: Vec<&(String, i64)> = recorded.keys().collect();
    recorded_keys.sort();
    for key in recorded_keys {
        let Some(migration) = known.get(&(key.0.as_str(), key.1)) else {
            return Err(StoreError::MigrationUnknown {
                component: key.0.clone(),
                version: key.1,
            });
        };
        let expected = migration.checksum(dialect);
        let recorded_checksum = &recorded[key];
        if *recorded_checksum != expected {
            return Err(StoreError::MigrationChecksumMismatch {
                component: key.0.clone(),
                version: key.1,
                name: migration.name.to_owned(),
                recorded: recorded_checksum.clone(),
                expected,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_rejects_duplicates_and_decreases() {
        let a1 = Migration::new("a", 1, "one", "SELECT 1");
        let a2 = Migration::new("a", 2, "two", "SELECT 1");
        let b1 = Migration::new("b", 1, "one", "SELECT 1");
        assert!(check_order(&[a1.clone(), b1.clone(), a2.clone()]).is_ok());
        assert!(matches!(
            check_order(&[a2.clone(), a1.clone()]),
            Err(StoreError::MigrationOrder { version: 1, .. })
        ));
        assert!(check_order(&[a1.clone(), a1]).is_err());
        assert!(check_order(&[Migration::new("a", 0, "zero", "SELECT 1")]).is_err());
    }

    #[test]
    fn checksum_depends_on_dialect_sql() {
        let migration = Migration::per_dialect("a", 1, "x", "SELECT 1", "SELECT 2");
        assert_ne!(
            migration.checksum(Dialect::Sqlite),
            migration.checksum(Dialect::Postgres)
        );
        assert_eq!(migration.checksum(Dialect::Sqlite).len(), 64);
    }
}
