//! `pubmine ingest`: PubMed/PMC XML to the documents topic, or to stdout with `parse`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use pubmine_ingest::continuous::{SyncConfig, WatchConfig};
use pubmine_ingest::produce::{FileReport, IngestConfig, IngestError, ingest_file};
use pubmine_ingest::source::{Records, expand_paths, visit_file};
use pubmine_pipeline::ledger;
use pubmine_stream::kafka::KafkaProducer;
use pubmine_stream::record::DocumentRecord;
use pubmine_stream::{shutdown, topics};

use super::{BrokerOpts, DbOpts, parse_duration};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct IngestArgs {
    #[command(subcommand)]
    command: Option<IngestCommand>,
    /// Files (.xml, .xml.gz, .nxml, OA .tar.gz) or directories to ingest.
    paths: Vec<PathBuf>,
    #[command(flatten)]
    kafka: KafkaOpts,
    /// Record each file in Postgres and skip files already recorded (optional here; watch and
    /// sync always do).
    #[command(flatten)]
    db: DbOpts,
}

#[derive(Debug, Subcommand)]
enum IngestCommand {
    /// Print the documents of FILEs as JSON lines, with no broker (a deletion is
    /// {"id":"pmid:N","deleted":true}); bad records are reported on stderr.
    Parse {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Ingest files as they land in DIR (polling), each once, recorded in Postgres.
    Watch {
        dir: PathBuf,
        #[command(flatten)]
        watch: WatchOpts,
        #[command(flatten)]
        kafka: KafkaOpts,
        #[command(flatten)]
        db: DbOpts,
    },
    /// Follow NCBI-style listings (baseline, updatefiles): verify each file against its .md5,
    /// download, ingest in name order, record in Postgres.
    Sync {
        /// Listing URLs, such as https://ftp.ncbi.nlm.nih.gov/pubmed/baseline/ and
        /// https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles/.
        #[arg(required = true)]
        urls: Vec<String>,
        #[command(flatten)]
        sync: SyncOpts,
        #[command(flatten)]
        kafka: KafkaOpts,
        #[command(flatten)]
        db: DbOpts,
    },
}

/// How a directory is watched (`ingest watch`, `run --watch`).
#[derive(Debug, Args, Clone)]
pub struct WatchOpts {
    /// Time between scans.
    #[arg(long, env = "PUBMINE_WATCH_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    interval: Duration,
    /// A file modified more recently than this is still being written and waits.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    settle: Duration,
    /// Scan once, take what is there, and exit.
    #[arg(long)]
    once: bool,
}

impl WatchOpts {
    pub fn config(&self, dir: PathBuf) -> WatchConfig {
        WatchConfig {
            dir,
            interval: self.interval,
            settle: self.settle,
            once: self.once,
        }
    }
}

/// How listings are followed (`ingest sync`, `run --sync`).
#[derive(Debug, Args, Clone)]
pub struct SyncOpts {
    /// Download directory; each file is removed once ingested.
    #[arg(long, env = "PUBMINE_SPOOL", default_value = "pubmine-spool")]
    spool: PathBuf,
    /// Check the listings again after this long; without it, one pass and exit.
    #[arg(long, value_parser = parse_duration)]
    every: Option<Duration>,
}

impl SyncOpts {
    pub fn config(&self, urls: Vec<String>) -> SyncConfig {
        SyncConfig {
            urls,
            spool: self.spool.clone(),
            interval: self.every,
        }
    }
}

/// Where documents go.
#[derive(Debug, Args, Clone)]
pub struct KafkaOpts {
    #[command(flatten)]
    broker: BrokerOpts,
    /// Topic documents go to.
    #[arg(long, env = "PUBMINE_DOCUMENTS_TOPIC", default_value = topics::DOCUMENTS)]
    topic: String,
    /// Topic records that cannot be parsed go to, with file, position and reason.
    #[arg(long, env = "PUBMINE_DEAD_LETTER_TOPIC", default_value = topics::DEAD_LETTER)]
    dead_letter_topic: String,
    /// Partitions of the topics when ingest creates them (existing topics are left alone).
    #[arg(long, env = "PUBMINE_PARTITIONS", default_value_t = 6)]
    partitions: i32,
    /// Replication factor of the topics when ingest creates them.
    #[arg(long, env = "PUBMINE_REPLICATION", default_value_t = 1)]
    replication: i32,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    no_progress: bool,
    #[command(flatten)]
    metrics: super::MetricsOpts,
}

impl KafkaOpts {
    /// The producer and its settings, with metrics and health served when asked for.
    async fn connect(&self) -> anyhow::Result<(KafkaProducer, IngestConfig, super::Health)> {
        let health = self.metrics.start().await?;
        let cfg = self
            .broker
            .config("use `pubmine ingest parse` to print documents without one")?;
        cfg.ensure_topics(
            &[&self.topic, &self.dead_letter_topic],
            self.partitions,
            self.replication,
        )
        .await
        .context("failed to create the topics")?;
        let producer = cfg.producer()?;
        health.broker(&cfg)?;
        let ingest = IngestConfig {
            topic: self.topic.clone(),
            dead_letter_topic: self.dead_letter_topic.clone(),
            progress: !self.no_progress,
        };
        Ok((producer, ingest, health))
    }
}

pub async fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(IngestCommand::Parse { files }) => {
            tokio::task::spawn_blocking(move || parse_to_stdout(&files)).await?
        }
        Some(IngestCommand::Watch {
            dir,
            watch,
            kafka,
            db,
        }) => {
            let pool = db.connect("ingest watch").await?;
            let (producer, cfg, health) = kafka.connect().await?;
            health.database(&pool);
            let token = shutdown::on_signal();
            let wcfg = watch.config(dir);
            let reports = ledger::watch(&producer, &cfg, &pool, &wcfg, &token).await?;
            print_summary(&reports, &[], 0);
            Ok(ExitCode::SUCCESS)
        }
        Some(IngestCommand::Sync {
            urls,
            sync,
            kafka,
            db,
        }) => {
            let pool = db.connect("ingest sync").await?;
            let (producer, cfg, health) = kafka.connect().await?;
            health.database(&pool);
            let token = shutdown::on_signal();
            let scfg = sync.config(urls);
            let reports = ledger::sync(&producer, &cfg, &pool, &scfg, &token).await?;
            print_summary(&reports, &[], 0);
            Ok(ExitCode::SUCCESS)
        }
        None => ingest_paths(args).await,
    }
}

async fn ingest_paths(args: IngestArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !args.paths.is_empty(),
        "nothing to ingest: give files or directories (see `pubmine ingest --help`)"
    );
    let found = expand_paths(&args.paths);
    // Directories that cannot be listed and entries that cannot be read count as failed files;
    // the rest of the run goes on.
    for e in &found.errors {
        tracing::error!(error = %e, "file failed");
    }
    for p in &found.skipped {
        tracing::warn!(path = %p.display(), "not a regular file (a FIFO, socket or device), skipped");
    }
    let files = found.files;
    let pool = match &args.db.database_url {
        Some(_) => Some(args.db.connect("ingest").await?),
        None => None,
    };
    let (producer, cfg, health) = args.kafka.connect().await?;
    if let Some(pool) = &pool {
        health.database(pool);
    }
    let token = shutdown::on_signal();
    let mut reports = Vec::new();
    // What failed files gave before they failed: their whole records were sent.
    let mut partial = Vec::new();
    let mut failed = found.errors.len();
    for path in files {
        if token.is_cancelled() {
            break;
        }
        let result = match &pool {
            Some(pool) => ledger::ingest_path(&producer, &cfg, pool, &path)
                .await
                .map_err(anyhow::Error::from),
            None => ingest_file(&producer, &cfg, &path)
                .await
                .map(Some)
                .map_err(anyhow::Error::from),
        };
        match result {
            Ok(Some(report)) => {
                tracing::info!(
                    file = %report.location, documents = report.documents,
                    deletions = report.deletions, dead_lettered = report.dead_lettered,
                    seconds = report.elapsed.as_secs_f64(), "file ingested"
                );
                reports.push(report);
            }
            Ok(None) => tracing::info!(file = %path.display(), "already ingested, skipped"),
            Err(e) => {
                failed += 1;
                let sent = e.downcast_ref::<IngestError>().and_then(|e| match e {
                    IngestError::Source { sent, .. } => Some(sent),
                    _ => None,
                });
                tracing::error!(
                    error = %format!("{e:#}"), unreadable = sent.is_some(),
                    documents_sent = sent.map(|s| s.documents), "file failed"
                );
                partial.extend(sent.map(|s| (**s).clone()));
            }
        }
    }
    print_summary(&reports, &partial, failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One JSON line on stdout: what the run sent, the records of failed files included.
fn print_summary(reports: &[FileReport], partial: &[FileReport], failed_files: usize) {
    let sum = |f: fn(&FileReport) -> u64| reports.iter().chain(partial).map(f).sum::<u64>();
    let seconds: f64 = reports
        .iter()
        .chain(partial)
        .map(|r| r.elapsed.as_secs_f64())
        .sum();
    let summary = serde_json::json!({
        "files": reports.len(),
        "failed_files": failed_files,
        "documents": sum(|r| r.documents),
        "deletions": sum(|r| r.deletions),
        "dead_lettered": sum(|r| r.dead_lettered),
        "bytes": sum(|r| r.bytes),
        "seconds": (seconds * 1000.0).round() / 1000.0,
    });
    println!("{summary}");
}

/// `ingest parse`: documents as JSON lines on stdout, problems on stderr.
fn parse_to_stdout(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let problems = std::cell::Cell::new(0usize);
    let mut write_error: Option<std::io::Error> = None;
    let found = expand_paths(files);
    for e in &found.errors {
        problems.set(problems.get() + 1);
        eprintln!("error: {e}");
    }
    for p in &found.skipped {
        eprintln!("warning: {}: not a regular file, skipped", p.display());
    }
    for path in found.files {
        let mut visit = |name: &str, records: Records<'_>| -> bool {
            for r in records {
                let line = match r {
                    Ok(DocumentRecord::Upsert(doc)) => serde_json::to_string(&doc),
                    Ok(DocumentRecord::Delete(id)) => {
                        serde_json::to_string(&serde_json::json!({"id": id, "deleted": true}))
                    }
                    Err(e) => {
                        problems.set(problems.get() + 1);
                        eprintln!("error: {name}: {e}");
                        continue;
                    }
                };
                let line = line.unwrap_or_default();
                if let Err(e) = writeln!(out, "{line}") {
                    write_error = Some(e);
                    return false;
                }
            }
            true
        };
        let mut on_error = |e| {
            problems.set(problems.get() + 1);
            eprintln!("error: {e}");
        };
        if let Err(e) = visit_file(
            &path,
            Arc::new(AtomicU64::new(0)),
            &mut visit,
            &mut on_error,
        ) {
            problems.set(problems.get() + 1);
            eprintln!("error: {e}");
        }
        if let Some(e) = write_error.take() {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS); // `| head` closed the pipe
            }
            return Err(e).context("failed to write to stdout");
        }
    }
    out.flush().context("failed to write to stdout")?;
    Ok(if problems.get() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
