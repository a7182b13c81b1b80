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

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use pubmine_annotate::ner::Annotator;
use pubmine_annotate::worker::{WorkerConfig, WorkerStats};
use pubmine_index::{IndexConfig, IndexSink, Indexer};
use pubmine_ingest::continuous::{
    already_ingested, file_name, ingested_file, md5_file, record_file,
};
use pubmine_ingest::produce::{IngestConfig, ingest_file};
use pubmine_store::Pool;
use pubmine_store::files::IngestedFile;
use pubmine_store::sink::PgSink;
use pubmine_stream::embedded::{Completion, RouteProducer, TeeProducer};
use pubmine_stream::sink::{SinkConfig, SinkStats};
use pubmine_stream::transport::{
    Ack, ChannelConsumer, ChannelProducer, OutRecord, Producer, TransportError,
};
use tokio_util::sync::CancellationToken;

/// How a run is made.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Files and directories to mine, as `ingest` takes them.
    pub paths: Vec<PathBuf>,
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
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RunReport {
    /// Files read and recorded as done; files already recorded by an earlier run; files that
    /// failed (not recorded: the next run reads them again).
    pub files: u64,
    pub files_skipped: u64,
    pub files_failed: u64,
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

/// How often a run logs where it stands.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

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

/// Mines `cfg.paths` to the end: every record stored in `pool` and indexed in `cfg.index`, every
/// file recorded. `shutdown` stops it early; what is not recorded is read again next time.
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

    // Annotate.
    let wcfg = WorkerConfig {
        output_topic: annotations_topic.clone(),
        dead_letter_topic: dead_letter_topic.clone(),
        batch_docs: cfg.batch_docs,
        linger: cfg.linger,
    };
    let annotate = {
        let docs_in = docs_in.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
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
        tokio::spawn(async move {
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
        tokio::spawn(async move {
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

    // Ingest, file by file, noting each file sent whole.
    let completion: Arc<Mutex<Completion<Sent>>> = Arc::default();
    let mut report = RunReport::default();
    let icfg = IngestConfig {
        topic: documents_topic.clone(),
        dead_letter_topic: dead_letter_topic.clone(),
        progress: false,
    };
    let expanded = pubmine_ingest::source::expand_paths(&cfg.paths);
    report.files_failed += expanded.errors.len() as u64;
    for e in &expanded.errors {
        tracing::error!(error = %e, "input not readable");
    }
    let recorder = {
        let (completion, pool) = (completion.clone(), pool.clone());
        let (docs_in, store_in, index_in) = (docs_in.clone(), store_in.clone(), index_in.clone());
        let (documents_topic, annotations_topic) =
            (documents_topic.clone(), annotations_topic.clone());
        let sent = annotations_sent.clone();
        let done_sending = CancellationToken::new();
        let finished = done_sending.clone();
        let (parsed, dead) = (docs_sent.clone(), dead.clone());
        let handle = tokio::spawn(async move {
            let mut recorded = 0u64;
            let began = Instant::now();
            let mut reported = Instant::now();
            loop {
                let last = finished.is_cancelled();
                let annotated = committed(&docs_in, &documents_topic);
                let annotations = sent.load(Ordering::SeqCst);
                let stored = committed(&store_in, &annotations_topic);
                let indexed = committed(&index_in, &annotations_topic);
                let written = stored.min(indexed);
                // Where the run stands, every few seconds (the summary comes at the end).
                if reported.elapsed() >= PROGRESS_EVERY {
                    reported = Instant::now();
                    tracing::info!(
                        files_done = recorded,
                        parsed = parsed.load(Ordering::SeqCst),
                        annotated,
                        stored,
                        indexed,
                        dead_letters = dead.count.load(Ordering::SeqCst),
                        documents_per_s = annotated as f64 / began.elapsed().as_secs_f64(),
                        "progress"
                    );
                }
                let done = completion.lock().unwrap_or_else(|e| e.into_inner()).done(
                    annotated,
                    annotations,
                    written,
                );
                for Sent { file } in done {
                    record_file(&pool, &file).await?;
                    tracing::info!(file = %file.name, documents = file.documents, "file done: stored and indexed");
                    recorded += 1;
                }
                if last {
                    return Ok::<u64, pubmine_store::StoreError>(recorded);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        (handle, done_sending)
    };
    for path in &expanded.files {
        if shutdown.is_cancelled() {
            break;
        }
        let name = file_name(path);
        let md5 = match md5_file(path) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "file not readable, skipped");
                report.files_failed += 1;
                continue;
            }
        };
        if already_ingested(&pool, &name, &md5).await? {
            tracing::info!(file = %name, "already mined, skipped");
            report.files_skipped += 1;
            continue;
        }
        let started_at = time::OffsetDateTime::now_utc();
        // On shutdown the stages stop taking records: the file in hand is left (not recorded,
        // read again next run) rather than waited for.
        let sent = tokio::select! {
            r = ingest_file(&ingest_out, &icfg, path) => r,
            _ = shutdown.cancelled() => {
                tracing::warn!(file = %path.display(), "stopped mid-file: it is read again next run");
                break;
            }
        };
        match sent {
            Ok(r) => {
                report.documents += r.documents;
                report.deletions += r.deletions;
                report.files += 1;
                let file = ingested_file(&name, &md5, &path.display().to_string(), &r, started_at);
                let end = docs_sent.load(Ordering::SeqCst);
                completion
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .sent(Sent { file }, end);
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "file failed; it is read again next run");
                report.files_failed += 1;
            }
        }
    }
    // Every file is in: the documents channel closes, and each stage ends after the last record.
    drop(ingest_out);
    drop(docs);
    let worker: WorkerStats = annotate
        .await
        .map_err(RunError::Thread)?
        .map_err(RunError::Annotate)?;
    let stored: SinkStats =
        store
            .await
            .map_err(RunError::Thread)?
            .map_err(|source| RunError::Sink {
                stage: "store",
                source,
            })?;
    let indexed: SinkStats =
        index
            .await
            .map_err(RunError::Thread)?
            .map_err(|source| RunError::Sink {
                stage: "index",
                source,
            })?;
    let (recorder, done_sending) = recorder;
    done_sending.cancel();
    let recorded = recorder.await.map_err(RunError::Thread)??;
    let pending = completion
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pending();
    if pending > 0 {
        tracing::warn!(
            files = pending,
            "files not done (stopped early): read again next run"
        );
    }
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
