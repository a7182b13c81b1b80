//! The ledger of files ingested (`ingested_files` in Postgres): whether a file (its name and md5)
//! is done, and recording it once it is, each retried with backoff while the database is away.
//! One place for `ingest watch`, `ingest sync` and `ingest FILE --database-url` ([`Recorded`],
//! which records a file once the broker has all its records) and for `pubmine run` (whose
//! intake records a file once the sinks hold all of it). Continuous mining itself
//! (`pubmine_ingest::continuous`) knows only the [`Intake`] it is given.

use std::path::Path;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures::future::BoxFuture;
use pubmine_ingest::continuous::{
    ContinuousError, Found, Intake, SyncConfig, WatchConfig, file_name, md5_of, sync_into,
    watch_into,
};
use pubmine_ingest::produce::{FileReport, IngestConfig, ingest_file};
use pubmine_store::files::{IngestedFile, is_ingested, record_ingested};
use pubmine_store::{Pool, StoreError};
use pubmine_stream::error::{Classify, ErrorClass};
use pubmine_stream::transport::Producer;
use tokio_util::sync::CancellationToken;

/// Retries of a database call that failed for a reason that may pass (the server restarting):
/// 200 ms doubling to 10 s, for about a minute and a half, then the error stands.
fn database_retry() -> ExponentialBuilder {
    pubmine_stream::retry::policy(
        Duration::from_millis(200),
        Duration::from_secs(10),
        Some(12),
    )
}

fn transient(e: &StoreError) -> bool {
    e.class() == ErrorClass::Transient
}

/// A failure of the ledger, as continuous mining reports it.
pub fn ledger_error(e: StoreError) -> ContinuousError {
    ContinuousError::Ledger(Box::new(e))
}

/// True when a file of this name and md5 is recorded as done; a database away for a while is
/// waited for.
pub async fn is_done(pool: &Pool, name: &str, md5: &str) -> Result<bool, StoreError> {
    (|| is_ingested(pool, name, md5))
        .retry(database_retry())
        .when(transient)
        .notify(|e, after| tracing::warn!(error = %e, retry_in = ?after, "database unreachable, retrying"))
        .await
}

/// The record of a file sent whole, as `report` says it went.
pub fn ingested_file(
    name: &str,
    md5: &str,
    location: &str,
    report: &FileReport,
    started_at: time::OffsetDateTime,
) -> IngestedFile {
    IngestedFile {
        name: name.to_string(),
        md5: md5.to_string(),
        location: location.to_string(),
        size_bytes: report.bytes as i64,
        documents: report.documents as i32,
        deletions: report.deletions as i32,
        dead_lettered: report.dead_lettered as i32,
        started_at,
    }
}

/// Records a file as done. Its records are all acknowledged by now: a database away for a while
/// is waited for rather than making the whole file be sent again.
pub async fn record(pool: &Pool, file: &IngestedFile) -> Result<(), StoreError> {
    (|| record_ingested(pool, file))
        .retry(database_retry())
        .when(transient)
        .notify(|e, after| tracing::warn!(error = %e, retry_in = ?after, "database unreachable, retrying"))
        .await
}

/// Ingests one local file unless Postgres says it was done; records it when all its records are
/// acknowledged. `location` is what the record names as the origin (path or URL).
pub async fn ingest_once(
    producer: &dyn Producer,
    cfg: &IngestConfig,
    pool: &Pool,
    path: &Path,
    name: &str,
    md5: &str,
    location: &str,
) -> Result<Option<FileReport>, ContinuousError> {
    if is_done(pool, name, md5).await.map_err(ledger_error)? {
        tracing::debug!(file = name, "already ingested, skipped");
        return Ok(None);
    }
    let started_at = time::OffsetDateTime::now_utc();
    let report = ingest_file(producer, cfg, path).await?;
    record(
        pool,
        &ingested_file(name, md5, location, &report, started_at),
    )
    .await
    .map_err(ledger_error)?;
    tracing::info!(
        file = name,
        documents = report.documents,
        deletions = report.deletions,
        dead_lettered = report.dead_lettered,
        seconds = report.elapsed.as_secs_f64(),
        "file ingested"
    );
    Ok(Some(report))
}

/// Like [`ingest_once`] for a local file, named by its file name and identified by its md5; a
/// file that cannot be read is an error naming it, so the caller can count it and go on.
pub async fn ingest_path(
    producer: &dyn Producer,
    cfg: &IngestConfig,
    pool: &Pool,
    path: &Path,
) -> Result<Option<FileReport>, ContinuousError> {
    let md5 = md5_of(path).await?;
    let location = path.display().to_string();
    ingest_once(producer, cfg, pool, path, &file_name(path), &md5, &location).await
}

/// The [`Intake`] of `ingest watch` and `ingest sync`: [`ingest_once`].
#[derive(Clone, Copy)]
pub struct Recorded<'a> {
    pub producer: &'a dyn Producer,
    pub cfg: &'a IngestConfig,
    pub pool: &'a Pool,
}

impl std::fmt::Debug for Recorded<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorded").field("cfg", &self.cfg).finish()
    }
}

impl Intake for Recorded<'_> {
    fn is_done<'a>(
        &'a self,
        name: &'a str,
        md5: &'a str,
    ) -> BoxFuture<'a, Result<bool, ContinuousError>> {
        Box::pin(async move { is_done(self.pool, name, md5).await.map_err(ledger_error) })
    }

    fn ingest<'a>(
        &'a self,
        f: Found<'a>,
    ) -> BoxFuture<'a, Result<Option<FileReport>, ContinuousError>> {
        Box::pin(ingest_once(
            self.producer,
            self.cfg,
            self.pool,
            f.path,
            f.name,
            f.md5,
            f.location,
        ))
    }
}

/// `ingest watch`: watches a directory ([`watch_into`]) and ingests each input file once its
/// writer is done with it, recording it in the ledger once the broker has all its records.
pub async fn watch(
    producer: &dyn Producer,
    cfg: &IngestConfig,
    pool: &Pool,
    wcfg: &WatchConfig,
    shutdown: &CancellationToken,
) -> Result<Vec<FileReport>, ContinuousError> {
    let intake = Recorded {
        producer,
        cfg,
        pool,
    };
    watch_into(&intake, wcfg, shutdown).await
}

/// `ingest sync`: follows the listings ([`sync_into`]): verifies, downloads and ingests, in name
/// order, every file not yet recorded; with an interval, checks again after each pass until
/// shutdown.
pub async fn sync(
    producer: &dyn Producer,
    cfg: &IngestConfig,
    pool: &Pool,
    scfg: &SyncConfig,
    shutdown: &CancellationToken,
) -> Result<Vec<FileReport>, ContinuousError> {
    let intake = Recorded {
        producer,
        cfg,
        pool,
    };
    sync_into(&intake, scfg, shutdown).await
}
