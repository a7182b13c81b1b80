//! `pubmine run`: the whole pipeline in one process, with no broker (pubmine_pipeline): the
//! given files mined to the end, stored in Postgres and indexed, each file recorded once both
//! sinks hold all of it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use pubmine_index::IndexConfig;
use pubmine_pipeline::{Feed, RunConfig};
use pubmine_stream::shutdown;

use super::annotate::ModelArgs;
use super::ingest::{SyncOpts, WatchOpts};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Files (.xml, .xml.gz, .nxml, OA .tar.gz) or directories to mine. Files an earlier run
    /// finished are skipped.
    #[arg(required_unless_present_any = ["watch", "sync"], conflicts_with_all = ["watch", "sync"])]
    paths: Vec<PathBuf>,
    /// Mine files as they land in this directory (polling), as `ingest watch` does, until
    /// stopped (SIGTERM or Ctrl-C): `--interval`, `--settle`, `--once`.
    #[arg(long, value_name = "DIR", conflicts_with = "sync")]
    watch: Option<PathBuf>,
    #[command(flatten)]
    watch_opts: WatchOpts,
    /// Follow NCBI-style listings (baseline, updatefiles), as `ingest sync` does: each file
    /// verified against its .md5, downloaded to `--spool`, mined in name order; `--every` to
    /// keep following.
    #[arg(long, value_name = "URL", num_args = 1..)]
    sync: Vec<String>,
    #[command(flatten)]
    sync_opts: SyncOpts,
    #[command(flatten)]
    models: ModelArgs,
    #[command(flatten)]
    db: super::DbOpts,
    /// The index directory (created when missing).
    #[arg(long, env = "PUBMINE_INDEX_DIR")]
    index: PathBuf,
    /// Where records set aside are appended, as JSON lines (stage, position, id, reason).
    #[arg(
        long,
        env = "PUBMINE_DEAD_LETTERS",
        default_value = "pubmine-dead-letters.jsonl"
    )]
    dead_letters: PathBuf,
    /// Documents annotated together.
    #[arg(long, default_value_t = 32)]
    docs_per_batch: usize,
    /// How long an annotate batch waits to fill after its first document.
    #[arg(long, default_value = "200ms", value_parser = super::parse_duration)]
    linger: Duration,
    /// The index commits once this many documents are buffered...
    #[arg(long, env = "PUBMINE_INDEX_COMMIT_DOCS", default_value_t = 10_000)]
    commit_docs: usize,
    /// ... or once the oldest buffered change is this old. A file is recorded as done only after
    /// the index commit that holds its last record, so this is also about how much a crash makes
    /// the next run read again.
    #[arg(long, env = "PUBMINE_INDEX_COMMIT_INTERVAL", default_value = "10s", value_parser = super::parse_duration)]
    commit_interval: Duration,
    /// Records per store transaction.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Records each in-process channel holds: how far the parser may run ahead of the models.
    #[arg(long, default_value_t = 256)]
    channel_capacity: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// No progress line, even on a terminal (log events every few seconds instead).
    #[arg(long)]
    no_progress: bool,
    #[command(flatten)]
    metrics: super::MetricsOpts,
}

/// The exit status of a run stopped (SIGINT, SIGTERM) with files left undone.
pub const EXIT_UNFINISHED: u8 = 75;

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    // Listening from the start, so that a stop while the models load is a stop with every file
    // left (status 75), not a death by the signal.
    let token = shutdown::on_signal();
    let health = args.metrics.start().await?;
    let pool = args.db.connect("run").await?;
    health.database(&pool);
    let loaded = health.models();
    let annotator = args.models.open()?;
    loaded();
    let feed = match (&args.watch, args.sync.is_empty()) {
        (Some(dir), _) => Feed::Watch(args.watch_opts.config(dir.clone())),
        (None, false) => Feed::Sync(args.sync_opts.config(args.sync.clone())),
        (None, true) => Feed::Paths(args.paths.clone()),
    };
    let cfg = RunConfig {
        feed,
        index: args.index.clone(),
        index_config: IndexConfig {
            commit_docs: args.commit_docs,
            commit_interval: args.commit_interval,
            ..IndexConfig::default()
        },
        dead_letters: args.dead_letters.clone(),
        batch_docs: args.docs_per_batch,
        linger: args.linger,
        store_batch: args.batch,
        channel_capacity: args.channel_capacity,
        terminal: !args.no_progress,
    };
    let r = pubmine_pipeline::run(&cfg, pool, annotator, &token).await?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{} files mined ({} skipped, {} failed, {} left for the next run): {} documents, {} deletions, {} annotated ({} mentions, {} relations), {} stored, {} indexed, {} dead letters ({}), {:.0} tokens/s, {:.1} s",
            r.files,
            r.files_skipped,
            r.files_failed,
            r.files_unfinished,
            r.documents,
            r.deletions,
            r.annotated,
            r.mentions,
            r.relations,
            r.stored,
            r.indexed,
            r.dead_letters,
            args.dead_letters.display(),
            r.tokens as f64 / r.seconds.max(1e-9),
            r.seconds
        );
    }
    Ok(if r.files_failed > 0 {
        ExitCode::FAILURE
    } else if r.files_unfinished > 0 {
        // Stopped before every file was done: not a success, though nothing failed; the next
        // run reads the rest (EX_TEMPFAIL, "try again later").
        ExitCode::from(EXIT_UNFINISHED)
    } else {
        ExitCode::SUCCESS
    })
}
