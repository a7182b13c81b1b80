//! The record of files ingest has sent in full.

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::StoreError;

/// A file whose every record the broker acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestedFile {
    /// The file's name (no directory): the identity across hosts and spool directories.
    pub name: String,
    pub md5: String,
    /// Where it was read from: a path or URL.
    pub location: String,
    pub size_bytes: i64,
    pub documents: i32,
    pub deletions: i32,
    pub dead_lettered: i32,
    pub started_at: OffsetDateTime,
}

/// True when a file of this name and content was already ingested.
pub async fn is_ingested(pool: &PgPool, name: &str, md5: &str) -> Result<bool, StoreError> {
    let row = sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM ingested_files WHERE name = $1 AND md5 = $2) AS \"exists!\"",
        name,
        md5
    )
    .fetch_one(pool)
    .await?;
    Ok(row)
}

/// Records a file as ingested; recording it again updates the counts.
pub async fn record_ingested(pool: &PgPool, f: &IngestedFile) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO ingested_files
             (name, md5, location, size_bytes, documents, deletions, dead_lettered, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (name, md5) DO UPDATE SET
             location = EXCLUDED.location, size_bytes = EXCLUDED.size_bytes,
             documents = EXCLUDED.documents, deletions = EXCLUDED.deletions,
             dead_lettered = EXCLUDED.dead_lettered, started_at = EXCLUDED.started_at,
             finished_at = now()",
        f.name,
        f.md5,
        f.location,
        f.size_bytes,
        f.documents,
        f.deletions,
        f.dead_lettered,
        f.started_at
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Names of the ingested files, oldest first.
pub async fn list_ingested(pool: &PgPool) -> Result<Vec<IngestedFile>, StoreError> {
    let rows = sqlx::query_as!(
        IngestedFile,
        "SELECT name, md5, location, size_bytes, documents, deletions, dead_lettered, started_at
         FROM ingested_files ORDER BY finished_at, name"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}
