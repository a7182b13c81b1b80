//! Ingest of files into the documents topic.
//!
//! Parsing and JSON encoding run on a blocking thread; the async side hands the encoded records
//! to the transport and keeps their acknowledgements. A file counts as done only when every one
//! of its records (and dead letters) is acknowledged: only then may the caller record it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use pubmine_stream::codec::{encode_dead_letter, encode_document};
use pubmine_stream::metrics;
use pubmine_stream::record::{DeadLetter, DocumentRecord};
use pubmine_stream::topics;
use pubmine_stream::transport::{OutRecord, Producer, TransportError};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::error::SourceError;
use crate::progress::FileProgress;
use crate::source::visit_file;

/// Where ingest sends what.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    pub topic: String,
    pub dead_letter_topic: String,
    /// Show a progress bar when stderr is a terminal.
    pub progress: bool,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            topic: topics::DOCUMENTS.into(),
            dead_letter_topic: topics::DEAD_LETTER.into(),
            progress: true,
        }
    }
}

/// What one file gave.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct FileReport {
    pub location: String,
    pub documents: u64,
    pub deletions: u64,
    pub dead_lettered: u64,
    /// Bytes of the file as stored (compressed when it is).
    pub bytes: u64,
    #[serde(skip)]
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file cannot be read, at all or to its end; the next file can go on. `sent` is what
    /// the file gave before that (its whole records, sent and acknowledged).
    #[error("{source}")]
    Source {
        #[source]
        source: SourceError,
        sent: Box<FileReport>,
    },
    /// Records were not acknowledged; the file must be sent again (sinks are idempotent).
    #[error("{location}: {source}")]
    Transport {
        location: String,
        #[source]
        source: TransportError,
    },
}

impl pubmine_stream::error::Classify for IngestError {
    /// An unreadable file is its own fault (poison: the next file goes on); a transport error
    /// has the transport's class.
    fn class(&self) -> pubmine_stream::error::ErrorClass {
        match self {
            IngestError::Source { source, .. } => source.class(),
            IngestError::Transport { source, .. } => source.class(),
        }
    }
}

/// Records handed to the transport and not yet acknowledged, keyed so that a refusal names the
/// record.
#[derive(Default)]
struct InFlight {
    acks:
        FuturesUnordered<futures::future::BoxFuture<'static, (String, Result<(), TransportError>)>>,
    too_large: Vec<(String, String)>,
    failure: Option<TransportError>,
}

impl InFlight {
    async fn send(
        &mut self,
        producer: &dyn Producer,
        record: OutRecord,
    ) -> Result<(), TransportError> {
        let key = record.key.clone();
        match producer.enqueue(record).await {
            Ok(ack) => {
                self.acks.push(Box::pin(async move { (key, ack.await) }));
                Ok(())
            }
            Err(TransportError::TooLarge(reason)) => {
                self.too_large.push((key, reason));
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn settle(&mut self, key: String, result: Result<(), TransportError>) {
        match result {
            Ok(()) => {}
            Err(TransportError::TooLarge(reason)) => self.too_large.push((key, reason)),
            Err(e) => {
                self.failure.get_or_insert(e);
            }
        }
    }

    /// Takes in the acknowledgements that have arrived, keeping the set small.
    fn collect_ready(&mut self) {
        while let Some(Some((key, r))) = futures::FutureExt::now_or_never(self.acks.next()) {
            self.settle(key, r);
        }
    }

    async fn wait_all(&mut self) {
        while let Some((key, r)) = self.acks.next().await {
            self.settle(key, r);
        }
    }

    fn take_too_large(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.too_large)
    }
}

fn dead_letter_record(cfg: &IngestConfig, dl: &DeadLetter) -> OutRecord {
    tracing::warn!(
        source = %dl.source, position = dl.position.as_deref().unwrap_or(""),
        id = dl.id.as_deref().unwrap_or(""), reason = %dl.reason,
        "record dead-lettered"
    );
    OutRecord::new(
        cfg.dead_letter_topic.clone(),
        dl.id.clone().unwrap_or_else(|| dl.source.clone()),
        Some(encode_dead_letter(dl)),
    )
}

/// The dead letter of a document the cluster refused for its size; it no longer counts as sent.
fn too_large(location: &str, key: String, reason: String, report: &mut FileReport) -> DeadLetter {
    report.documents = report.documents.saturating_sub(1);
    report.dead_lettered += 1;
    metrics::dead_letter(crate::metrics::STAGE, "too_large");
    DeadLetter::new(
        "ingest",
        location,
        format!(
            "document refused by the broker: {reason} (raise message.max.bytes on the topic and the producer)"
        ),
    )
    .with_id(Some(key))
}

enum Item {
    Record { key: String, value: Option<Vec<u8>> },
    Dead(DeadLetter),
}

/// Sends every record of the file at `path` and waits for all acknowledgements.
pub async fn ingest_file(
    producer: &dyn Producer,
    cfg: &IngestConfig,
    path: &Path,
) -> Result<FileReport, IngestError> {
    let result = send_file(producer, cfg, path).await;
    match &result {
        Ok(r) => {
            crate::metrics::file(true, r.bytes);
            metrics::records_out(crate::metrics::STAGE, (r.documents + r.deletions) as usize);
        }
        Err(_) => crate::metrics::file(false, 0),
    }
    result
}

async fn send_file(
    producer: &dyn Producer,
    cfg: &IngestConfig,
    path: &Path,
) -> Result<FileReport, IngestError> {
    let started = Instant::now();
    let location = path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| IngestError::Source {
            source: SourceError::Io {
                path: location.clone(),
                source: e,
            },
            sent: Box::default(),
        })?
        .len();
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| location.clone());
    let progress = Arc::new(FileProgress::new(&label, size, cfg.progress));

    let (tx, mut rx) = mpsc::channel::<Item>(1024);
    let parse_path = path.to_path_buf();
    let bytes = progress.bytes.clone();
    let parser = tokio::task::spawn_blocking(move || parse_into(&parse_path, bytes, tx));

    let mut report = FileReport {
        location: location.clone(),
        bytes: size,
        ..Default::default()
    };
    let mut inflight = InFlight::default();
    let transport_err = |source| IngestError::Transport {
        location: location.clone(),
        source,
    };
    while let Some(item) = rx.recv().await {
        let record = match item {
            Item::Record { key, value } => {
                if value.is_some() {
                    report.documents += 1;
                } else {
                    report.deletions += 1;
                }
                OutRecord::new(cfg.topic.clone(), key, value)
            }
            Item::Dead(dl) => {
                report.dead_lettered += 1;
                metrics::dead_letter(crate::metrics::STAGE, "parse");
                dead_letter_record(cfg, &dl)
            }
        };
        inflight
            .send(producer, record)
            .await
            .map_err(transport_err)?;
        inflight.collect_ready();
        if (report.documents + report.deletions).is_multiple_of(512) {
            progress.add_articles(512);
        }
        // Records the cluster refused for their size become dead letters; the file goes on.
        for (key, reason) in inflight.take_too_large() {
            let dl = too_large(&location, key, reason, &mut report);
            inflight
                .send(producer, dead_letter_record(cfg, &dl))
                .await
                .map_err(transport_err)?;
        }
    }
    let parsed = parser
        .await
        .map_err(|e| transport_err(TransportError::Fatal(format!("parser thread failed: {e}"))))?;
    loop {
        inflight.wait_all().await;
        let refused = inflight.take_too_large();
        if refused.is_empty() {
            break;
        }
        for (key, reason) in refused {
            let dl = too_large(&location, key, reason, &mut report);
            inflight
                .send(producer, dead_letter_record(cfg, &dl))
                .await
                .map_err(transport_err)?;
        }
    }
    progress.finish(report.documents + report.deletions);
    if let Some(e) = inflight.failure.take() {
        return Err(transport_err(e));
    }
    report.elapsed = started.elapsed();
    match parsed {
        Ok(()) => Ok(report),
        Err(source) => Err(IngestError::Source {
            source,
            sent: Box::new(report),
        }),
    }
}

/// Runs on a blocking thread: parses the file and sends encoded records and dead letters. A bad
/// record is a dead letter and the file goes on; an input that stops early (a read error, a
/// truncated file) makes the file fail, after the records before the cut are sent.
fn parse_into(
    path: &Path,
    bytes: Arc<std::sync::atomic::AtomicU64>,
    tx: mpsc::Sender<Item>,
) -> Result<(), SourceError> {
    let mut on_error = |e: SourceError| {
        let dl = DeadLetter::new("ingest", path.display().to_string(), e.to_string());
        let _ = tx.blocking_send(Item::Dead(dl));
    };
    let tx2 = tx.clone();
    let mut cut: Option<SourceError> = None;
    let mut visit = |name: &str, records: crate::source::Records<'_>| -> bool {
        for r in records {
            let item = match r {
                Err(e) if e.fatal => {
                    cut = Some(SourceError::Incomplete {
                        path: name.to_string(),
                        position: e.position,
                        reason: e.reason,
                    });
                    return false;
                }
                Ok(DocumentRecord::Upsert(doc)) => Item::Record {
                    key: doc.id.clone(),
                    value: Some(encode_document(&doc)),
                },
                Ok(DocumentRecord::Delete(id)) => Item::Record {
                    key: id,
                    value: None,
                },
                Err(e) => Item::Dead(e.dead_letter(name)),
            };
            if tx2.blocking_send(item).is_err() {
                return false; // the sending side gave up
            }
        }
        true
    };
    visit_file(path, bytes, &mut visit, &mut on_error)?;
    match cut {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
