//! The whole pipeline in one process (`pubmine run`): ingest, annotate, store and index, the
//! same stage code as the separate commands, connected by bounded in-process channels instead
//! of Kafka topics. Backpressure comes from the bounded channels: the parser waits while the
//! models are behind.
//!
//! The input files are the log. A file is recorded as done (`ingested_files`) only when the
//! store and the index have both durably written every record of it: the positions each stage
//! commits travel back through its channel consumer, and [`Completion`] turns them into files
//! done. A run stopped at any moment (a crash, SIGKILL) leaves the files not recorded, and the
//! next run reads them again; the sinks are idempotent per key, so it ends as an uninterrupted
//! run would. Each run names its channels afresh (`run-<uuid>.annotations`): the sinks keep
//! their offsets per topic, and a channel's positions start at 0 on every run, so a later run
//! must never meet the offsets of an earlier one (nor those of a Kafka deployment).
//!
//! Records set aside (a record ingest cannot parse, a document the annotator refuses, a record
//! a sink cannot hold) are dead letters, appended as JSON lines to a file (each written and
//! synced before it counts as done).
//!
//! The files come from a [`Feed`]: paths mined to the end, or a directory watched and listings
//! followed until shutdown, by the same loops as `ingest watch` and `ingest sync`
//! (`pubmine_ingest::continuous`), given this run's [`Intake`], which keeps the ledger through
//! [`ledger`]. A file read whole but not yet stored and indexed is in hand: a scan that finds it
//! again leaves it. A stage that fails stops the feed, and its error is the run's.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use embedded::{Completion, RouteProducer, TeeProducer};
use futures::future::BoxFuture;
use pubmine_annotate::annotator::Annotator;
use pubmine_annotate::worker::{WorkerConfig, WorkerStats};
use pubmine_index::{IndexConfig, IndexSink, Indexer};
use pubmine_ingest::continuous::{
    ContinuousError, Found, Intake, SyncConfig, WatchConfig, file_name, md5_file, sync_into,
    watch_into,
};
use pubmine_ingest::produce::{FileReport, IngestConfig, IngestError, ingest_file};
use pubmine_store::Pool;
use pubmine_store::files::IngestedFile;
use pubmine_store::sink::PgSink;
use pubmine_stream::sink::{SinkConfig, SinkStats};
use pubmine_stream::transport::{
    Ack, ChannelConsumer, ChannelProducer, OutRecord, Producer, TransportError,
};
use tokio_util::sync::CancellationToken;

#[cfg(feature = "kafka")]
pub mod consume;
pub mod display;
pub mod embedded;
pub mod ledger;

use display::{Display, Progress, Rate};

/// Where a run's files come from.
#[derive(Debug, Clone)]
pub enum Feed {
    /// Files and directories, as `ingest` takes them: mined to the end, then the run ends.
    Paths(Vec<PathBuf>),
    /// A directory watched for files, as `ingest watch` does, until shutdown (or one scan).
    Watch(WatchConfig),
    /// NCBI-style listings followed, as `ingest sync` does, until shutdown (or one pass).
    Sync(SyncConfig),
}

/// How a run is made.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub feed: Feed,
    /// The tantivy index directory.
    pub index: PathBuf,
    pub index_config: IndexConfig,
    /// Where dead letters are appended, as JSON lines.
    pub dead_letters: PathBuf,
    /// Documents per annotate batch, and how long a batch waits to fill.
    pub batch_docs: usize,
    pub linger: Duration,
    /// Records per store transaction.
    pub store_batch: usize,
    /// Records each channel holds (the backpressure).
    pub channel_capacity: usize,
    /// A progress line on stderr when it is a terminal (log events otherwise).
    pub terminal: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RunReport {
    /// Files read and recorded as done; files already recorded by an earlier run; files that
    /// failed (not recorded: the next run reads them again).
    pub files: u64,
    pub files_skipped: u64,
    pub files_failed: u64,
    /// Files a stop (SIGINT, SIGTERM) left undone: stopped mid-file, read but not yet stored
    /// and indexed, or not reached. The next run reads them.
    pub files_unfinished: u64,
    pub documents: u64,
    pub deletions: u64,
    pub annotated: u64,
    pub mentions: u64,
    pub relations: u64,
    pub stored: u64,
    pub indexed: u64,
    pub dead_letters: u64,
    pub tokens: u64,
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the annotate stage failed")]
    Annotate(#[source] pubmine_annotate::worker::WorkerError),
    #[error("the {stage} stage failed")]
    Sink {
        stage: &'static str,
        #[source]
        source: pubmine_stream::sink::RunError,
    },
    #[error(transparent)]
    Store(#[from] pubmine_store::StoreError),
    #[error("failed to open the index in {}", .dir.display())]
    Index {
        dir: PathBuf,
        #[source]
        source: pubmine_index::IndexError,
    },
    #[error("failed to open the dead-letter file {}", .path.display())]
    DeadLetters {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("a stage of the run panicked")]
    Thread(#[source] tokio::task::JoinError),
    #[error("reading the input failed")]
    Feed(#[source] ContinuousError),
}

impl pubmine_stream::error::Classify for RunError {
    /// A stage's failure has that stage's class; failing to open what the run needs (the
    /// database, the index, the dead-letter file) or a stage's panic stops the run.
    fn class(&self) -> pubmine_stream::error::ErrorClass {
        use pubmine_stream::error::ErrorClass;
        match self {
            RunError::Annotate(e) => e.class(),
            RunError::Sink { source, .. } => source.class(),
            RunError::Store(e) => e.class(),
            RunError::Feed(e) => e.class(),
            RunError::Index { .. } | RunError::DeadLetters { .. } | RunError::Thread(_) => {
                ErrorClass::Fatal
            }
        }
    }
}

/// Dead letters appended to a file, each synced before it is acknowledged.
struct DeadLetterFile {
    file: Mutex<std::fs::File>,
    count: AtomicI64,
}

impl std::fmt::Debug for DeadLetterFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetterFile").finish_non_exhaustive()
    }
}

impl Producer for DeadLetterFile {
    fn enqueue(&self, record: OutRecord) -> BoxFuture<'_, Result<Ack, TransportError>> {
        Box::pin(async move {
            let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
            let write = |f: &mut std::fs::File| -> std::io::Result<()> {
                f.write_all(record.value.as_deref().unwrap_or_default())?;
                f.write_all(b"\n")?;
                f.sync_data()
            };
            write(&mut f).map_err(|e| {
                TransportError::Fatal(format!("failed to write a dead letter: {e}"))
            })?;
            self.count.fetch_add(1, Ordering::SeqCst);
            let ack: Ack = Box::pin(async { Ok(()) });
            Ok(ack)
        })
    }

    fn flush(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Counts the records it passes on: the position the next one will have in its channel.
struct Counted {
    inner: Arc<dyn Producer>,
    sent: Arc<AtomicI64>,
}

impl std::fmt::Debug for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counted").field("sent", &self.sent).finish()
    }
}

impl Producer for Counted {
    fn enqueue(&self, record: OutRecord) -> BoxFuture<'_, Result<Ack, TransportError>> {
        Box::pin(async move {
            let ack = self.inner.enqueue(record).await?;
            self.sent.fetch_add(1, Ordering::SeqCst);
            Ok(ack)
        })
    }

    fn flush(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        self.inner.flush()
    }
}

/// A file sent whole, waiting for the sinks.
#[derive(Debug)]
struct Sent {
    file: IngestedFile,
}

/// The committed position of `consumer` on `topic` (partition 0).
fn committed(consumer: &ChannelConsumer, topic: &str) -> i64 {
    consumer
        .committed()
        .get(&(topic.to_string(), 0))
        .copied()
        .unwrap_or(0)
}

/// Files sent whole and not yet recorded, by name and md5: in hand, so a scan that finds one
/// again leaves it.
type InHand = Arc<Mutex<HashSet<(String, String)>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The run's [`Intake`]: a file's records go into the documents channel, and the file is noted
/// for [`Completion`], which the recorder turns into `ingested_files` rows once the sinks hold
/// all of it.
struct RunIntake {
    out: RouteProducer,
    cfg: IngestConfig,
    pool: Pool,
    completion: Arc<Mutex<Completion<Sent>>>,
    docs_sent: Arc<AtomicI64>,
    in_hand: InHand,
    /// Stops a file mid-way: shutdown, or a stage that failed.
    stop: CancellationToken,
    /// Files stopped mid-way.
    stopped: AtomicU64,
    documents: AtomicU64,
    deletions: AtomicU64,
}

impl Intake for RunIntake {
    fn is_done<'a>(
        &'a self,
        name: &'a str,
        md5: &'a str,
    ) -> BoxFuture<'a, Result<bool, ContinuousError>> {
        Box::pin(async move {
            if lock(&self.in_hand).contains(&(name.to_string(), md5.to_string())) {
                return Ok(true);
            }
            ledger::is_done(&self.pool, name, md5)
                .await
                .map_err(ledger::ledger_error)
        })
    }

    fn ingest<'a>(
        &'a self,
        f: Found<'a>,
    ) -> BoxFuture<'a, Result<Option<FileReport>, ContinuousError>> {
        Box::pin(async move {
            let started_at = time::OffsetDateTime::now_utc();
            // On shutdown the stages stop taking records: the file in hand is left (not
            // recorded, read again next run) rather than waited for.
            let r = tokio::select! {
                r = ingest_file(&self.out, &self.cfg, f.path) => match r {
                    Ok(r) => r,
                    Err(e) => {
                        // A file cut short failed, but its whole records went on to be stored:
                        // the summary counts them.
                        if let IngestError::Source { sent, .. } = &e {
                            self.documents.fetch_add(sent.documents, Ordering::SeqCst);
                            self.deletions.fetch_add(sent.deletions, Ordering::SeqCst);
                        }
                        return Err(e.into());
                    }
                },
                _ = self.stop.cancelled() => {
                    tracing::warn!(file = %f.location, "stopped mid-file: it is read again next run");
                    self.stopped.fetch_add(1, Ordering::SeqCst);
                    return Ok(None);
                }
            };
            self.documents.fetch_add(r.documents, Ordering::SeqCst);
            self.deletions.fetch_add(r.deletions, Ordering::SeqCst);
            let file = ledger::ingested_file(f.name, f.md5, f.location, &r, started_at);
            lock(&self.in_hand).insert((file.name.clone(), file.md5.clone()));
            let end = self.docs_sent.load(Ordering::SeqCst);
            lock(&self.completion).sent(Sent { file }, end);
            tracing::debug!(file = %f.name, documents = r.documents, "file read: waiting for the sinks");
            Ok(Some(r))
        })
    }
}

/// Counts of a feed of paths.
#[derive(Debug, Default)]
struct PathsTally {
    skipped: u64,
    failed: u64,
    /// Files not reached before a stop.
    unreached: u64,
}

/// The files and directories of `paths`, in order, each given to `intake` unless done.
async fn feed_paths(intake: &RunIntake, paths: &[PathBuf]) -> Result<PathsTally, RunError> {
    let mut tally = PathsTally::default();
    let expanded = pubmine_ingest::source::expand_paths(paths);
    tally.failed += expanded.errors.len() as u64;
    for e in &expanded.errors {
        tracing::error!(error = %e, "input not readable");
    }
    for p in &expanded.skipped {
        tracing::warn!(path = %p.display(), "not a regular file (a FIFO, socket or device), skipped");
    }
    for (i, path) in expanded.files.iter().enumerate() {
        if intake.stop.is_cancelled() {
            tally.unreached = (expanded.files.len() - i) as u64;
            break;
        }
        let name = file_name(path);
        let md5 = match md5_file(path) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "file not readable, skipped");
                tally.failed += 1;
                continue;
            }
        };
        if intake.is_done(&name, &md5).await.map_err(RunError::Feed)? {
            tracing::info!(file = %name, "already mined, skipped");
            tally.skipped += 1;
            continue;
        }
        let location = path.display().to_string();
        let found = Found {
            path,
            name: &name,
            md5: &md5,
            location: &location,
        };
        if let Err(e) = intake.ingest(found).await {
            tracing::error!(file = %path.display(), error = %e, "file failed; it is read again next run");
            tally.failed += 1;
        }
    }
    Ok(tally)
}

/// A stage's task; when it fails, the feed stops (the stage's error is the run's).
fn stage<T, E>(
    stop: &CancellationToken,
    task: impl std::future::Future<Output = Result<T, E>> + Send + 'static,
) -> tokio::task::JoinHandle<Result<T, E>>
where
    T: Send + 'static,
    E: Send + 'static,
{
    let stop = stop.clone();
    tokio::spawn(async move {
        let r = task.await;
        if r.is_err() {
            stop.cancel();
        }
        r
    })
}

/// Mines `cfg.feed`: every record stored in `pool` and indexed in `cfg.index`, every file
/// recorded; a feed of paths ends when they are done, a watch or a sync on `shutdown`.
/// `shutdown` stops it early; what is not recorded is read again next time.
pub async fn run(
    cfg: &RunConfig,
    pool: Pool,
    annotator: Annotator,
    shutdown: &CancellationToken,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let run_id = format!("run-{}", uuid::Uuid::new_v4().simple());
    let documents_topic = format!("{run_id}.documents");
    let annotations_topic = format!("{run_id}.annotations");
    let dead_letter_topic = format!("{run_id}.dead-letter");
    tracing::info!(run = %run_id, "run started");

    let dead = Arc::new(DeadLetterFile {
        file: Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&cfg.dead_letters)
                .map_err(|source| RunError::DeadLetters {
                    path: cfg.dead_letters.clone(),
                    source,
                })?,
        ),
        count: AtomicI64::new(0),
    });
    let dir = cfg.index.clone();
    let index_config = cfg.index_config.clone();
    let indexer = tokio::task::spawn_blocking(move || Indexer::open(&dir, index_config))
        .await
        .map_err(RunError::Thread)?
        .map_err(|source| RunError::Index {
            dir: cfg.index.clone(),
            source,
        })?;

    // The channels: documents to annotate; annotations to the store and to the index.
    let (docs_tx, docs_rx) = ChannelProducer::new(cfg.channel_capacity);
    let docs_sent = Arc::new(AtomicI64::new(0));
    let docs = Arc::new(Counted {
        inner: Arc::new(docs_tx),
        sent: docs_sent.clone(),
    });
    let docs_in = Arc::new(ChannelConsumer::new(docs_rx));
    let (store_tx, store_rx) = ChannelProducer::new(cfg.channel_capacity);
    let (index_tx, index_rx) = ChannelProducer::new(cfg.channel_capacity);
    let store_in = Arc::new(ChannelConsumer::new(store_rx));
    let index_in = Arc::new(ChannelConsumer::new(index_rx));
    let annotations_sent = Arc::new(AtomicI64::new(0));
    let tee = Arc::new(Counted {
        inner: Arc::new(TeeProducer::new(vec![
            Arc::new(store_tx),
            Arc::new(index_tx),
        ])),
        sent: annotations_sent.clone(),
    });

    let ingest_out = RouteProducer::new(vec![
        (documents_topic.clone(), docs.clone() as Arc<dyn Producer>),
        (dead_letter_topic.clone(), dead.clone()),
    ]);
    let annotate_out = RouteProducer::new(vec![
        (annotations_topic.clone(), tee as Arc<dyn Producer>),
        (dead_letter_topic.clone(), dead.clone()),
    ]);
    // The feed stops on shutdown, and when a stage fails.
    let feed_stop = shutdown.child_token();

    // Annotate.
    let tokens = Arc::new(AtomicU64::new(0));
    let wcfg = WorkerConfig {
        output_topic: annotations_topic.clone(),
        dead_letter_topic: dead_letter_topic.clone(),
        batch_docs: cfg.batch_docs,
        linger: cfg.linger,
        tokens: Some(tokens.clone()),
    };
    let annotate = {
        let docs_in = docs_in.clone();
        let shutdown = shutdown.clone();
        stage(&feed_stop, async move {
            let r = pubmine_annotate::worker::run(
                docs_in.as_ref(),
                &annotate_out,
                annotator,
                &wcfg,
                &shutdown,
            )
            .await;
            // The annotations channels close with the worker's producer.
            drop(annotate_out);
            r
        })
    };

    // Store and index.
    let sink_cfg = |stage: &str, batch: usize, idle: Duration| SinkConfig {
        stage: stage.into(),
        dead_letter_topic: dead_letter_topic.clone(),
        batch_records: batch,
        linger: Duration::from_millis(50),
        idle_flush: idle,
        crash: None,
    };
    let store = {
        let (consumer, dead, shutdown) = (store_in.clone(), dead.clone(), shutdown.clone());
        let scfg = sink_cfg("store", cfg.store_batch, Duration::from_millis(500));
        let mut sink = PgSink::new(pool.clone(), "pubmine-run");
        stage(&feed_stop, async move {
            pubmine_stream::sink::run(
                consumer.as_ref(),
                dead.as_ref(),
                &mut sink,
                &scfg,
                &shutdown,
            )
            .await
        })
    };
    let index = {
        let (consumer, dead, shutdown) = (index_in.clone(), dead.clone(), shutdown.clone());
        let icfg = sink_cfg("index", cfg.store_batch, cfg.index_config.commit_interval);
        stage(&feed_stop, async move {
            let mut sink = IndexSink::new(indexer);
            let stats = pubmine_stream::sink::run(
                consumer.as_ref(),
                dead.as_ref(),
                &mut sink,
                &icfg,
                &shutdown,
            )
            .await;
            if let Some(indexer) = sink.into_inner() {
                let _ = tokio::task::spawn_blocking(move || indexer.close()).await;
            }
            stats
        })
    };

    // The recorder: files done once both sinks hold all of them; the display.
    let completion: Arc<Mutex<Completion<Sent>>> = Arc::default();
    let in_hand: InHand = Arc::default();
    let done_sending = CancellationToken::new();
    let recorder = {
        let (completion, pool, in_hand) = (completion.clone(), pool.clone(), in_hand.clone());
        let (docs_in, store_in, index_in) = (docs_in.clone(), store_in.clone(), index_in.clone());
        let (documents_topic, annotations_topic) =
            (documents_topic.clone(), annotations_topic.clone());
        let sent = annotations_sent.clone();
        let finished = done_sending.clone();
        let (parsed, dead, tokens) = (docs_sent.clone(), dead.clone(), tokens.clone());
        let mut display = Display::new(cfg.terminal);
        tokio::spawn(async move {
            let mut recorded = 0u64;
            let mut rate = Rate::new(Duration::from_secs(10));
            let r = 'poll: loop {
                let last = finished.is_cancelled();
                let annotated = committed(&docs_in, &documents_topic);
                let annotations = sent.load(Ordering::SeqCst);
                let stored = committed(&store_in, &annotations_topic);
                let indexed = committed(&index_in, &annotations_topic);
                let written = stored.min(indexed);
                let done = lock(&completion).done(annotated, annotations, written);
                for Sent { file } in done {
                    if let Err(e) = ledger::record(&pool, &file).await {
                        break 'poll Err(e);
                    }
                    lock(&in_hand).remove(&(file.name.clone(), file.md5.clone()));
                    tracing::info!(file = %file.name, documents = file.documents, "file done: stored and indexed");
                    recorded += 1;
                }
                display.show(&Progress {
                    files_done: recorded,
                    files_in_hand: lock(&completion).pending() as u64,
                    parsed: parsed.load(Ordering::SeqCst),
                    annotated,
                    stored,
                    indexed,
                    dead_letters: dead.count.load(Ordering::SeqCst),
                    tokens_per_s: rate.sample(Instant::now(), tokens.load(Ordering::Relaxed)),
                });
                if last {
                    break Ok::<u64, pubmine_store::StoreError>(recorded);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            display.finish();
            r
        })
    };

    // Ingest: the feed's files, each noted once sent whole.
    let intake = RunIntake {
        out: ingest_out,
        cfg: IngestConfig {
            topic: documents_topic.clone(),
            dead_letter_topic: dead_letter_topic.clone(),
            progress: false,
        },
        pool: pool.clone(),
        completion: completion.clone(),
        docs_sent: docs_sent.clone(),
        in_hand,
        stop: feed_stop.clone(),
        stopped: AtomicU64::new(0),
        documents: AtomicU64::new(0),
        deletions: AtomicU64::new(0),
    };
    let mut report = RunReport::default();
    let fed = match &cfg.feed {
        Feed::Paths(paths) => feed_paths(&intake, paths).await.map(|t| {
            report.files_skipped = t.skipped;
            report.files_failed = t.failed;
            report.files_unfinished = t.unreached;
        }),
        Feed::Watch(w) => watch_into(&intake, w, &feed_stop)
            .await
            .map(drop)
            .map_err(RunError::Feed),
        Feed::Sync(s) => sync_into(&intake, s, &feed_stop)
            .await
            .map(drop)
            .map_err(RunError::Feed),
    };
    report.files_unfinished += intake.stopped.load(Ordering::SeqCst);
    report.documents = intake.documents.load(Ordering::SeqCst);
    report.deletions = intake.deletions.load(Ordering::SeqCst);
    // Every file is in: the documents channel closes, and each stage ends after the last
    // record (or at once, on shutdown).
    drop(intake);
    drop(docs);
    let worker = annotate.await.map_err(RunError::Thread)?;
    let stored = store.await.map_err(RunError::Thread)?;
    let indexed = index.await.map_err(RunError::Thread)?;
    done_sending.cancel();
    let recorded = recorder.await.map_err(RunError::Thread)??;
    // A stage's failure is the cause; the feed's error (if any) follows from it.
    let worker: WorkerStats = worker.map_err(RunError::Annotate)?;
    let stored: SinkStats = stored.map_err(|source| RunError::Sink {
        stage: "store",
        source,
    })?;
    let indexed: SinkStats = indexed.map_err(|source| RunError::Sink {
        stage: "index",
        source,
    })?;
    fed?;
    let pending = lock(&completion).pending();
    if pending > 0 {
        tracing::warn!(
            files = pending,
            "files not done (stopped early): read again next run"
        );
    }
    report.files_unfinished += pending as u64;
    report.files = recorded;
    report.annotated = worker.documents;
    report.mentions = worker.mentions;
    report.relations = worker.relations;
    report.tokens = worker.annotator.tokens;
    report.stored = stored.documents + stored.deletions;
    report.indexed = indexed.documents + indexed.deletions;
    report.dead_letters = dead.count.load(Ordering::SeqCst) as u64;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
