//! Postgres for pubmine: connection, migrations (from `../migrations`), and the queries of each
//! stage. Every SQL statement of the project lives here or in `migrations/`.

pub mod export;
pub mod files;
pub mod read;
pub mod sink;
pub mod testing;
pub mod views;

use sqlx::postgres::{PgPool, PgPoolOptions};

pub use sqlx::PgPool as Pool;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("failed to connect to Postgres: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("failed to run migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("failed to encode a record: {0}")]
    Encode(String),
}

impl pubmine_stream::error::Classify for StoreError {
    /// Poison when the record written is at fault, transient when the database may answer
    /// later, fatal otherwise (a migration failing, a missing table, a refused login).
    fn class(&self) -> pubmine_stream::error::ErrorClass {
        use pubmine_stream::error::ErrorClass;
        if self.is_transient() {
            ErrorClass::Transient
        } else if self.is_poison() {
            ErrorClass::Poison
        } else {
            ErrorClass::Fatal
        }
    }
}

impl StoreError {
    /// True when the record written is at fault, not the database: a data exception (class 22,
    /// such as a NUL character, which Postgres text cannot hold) or a value past a limit of the
    /// server (54000, such as an index row too large). Writing it again can never succeed.
    pub fn is_poison(&self) -> bool {
        match self {
            StoreError::Query(sqlx::Error::Database(db)) => {
                let code = db.code().unwrap_or_default();
                code.starts_with("22") || code == "54000"
            }
            StoreError::Encode(_) => true,
            _ => false,
        }
    }

    /// True when retrying later may succeed (the server went away, a deadlock, ...).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Connect(_) => true,
            StoreError::Query(sqlx::Error::Database(db)) => {
                // Serialization failure and deadlock (40), connection trouble (08),
                // insufficient resources (53), the server shutting down (57P01..57P03).
                let code = db.code().unwrap_or_default();
                ["40", "08", "53", "57P0"]
                    .iter()
                    .any(|c| code.starts_with(c))
            }
            StoreError::Query(e) => matches!(
                e,
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
            ),
            StoreError::Migrate(_) | StoreError::Encode(_) => false,
        }
    }
}

/// Connects to `url` (`postgres://user@host:port/db`).
pub async fn connect(url: &str) -> Result<PgPool, StoreError> {
    PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(StoreError::Connect)
}

/// Asks the server a trivial question: is the database there and answering?
pub async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

/// Applies the migrations that are not applied yet.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::migrate!("../migrations").run(pool).await?;
    Ok(())
}

/// Runs one administrative statement (such as `CREATE DATABASE`) that cannot be prepared; for
/// scripts and tests, never with user input.
pub async fn admin_execute(pool: &PgPool, sql: &str) -> Result<(), StoreError> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await?;
    Ok(())
}
