//! The annotate worker: a consumer group on the documents topic producing to the annotations
//! topic. Each batch of records is decoded, tokenized, annotated (NER, then RE when RE models are
//! set) on blocking threads (never on the async runtime), the next batch's tokenization
//! overlapping this one's inference, and its outputs produced; the batch's offsets are committed
//! only once every output is acknowledged. Tombstones pass through; a record that
//! cannot be decoded, or whose annotation fails, is dead-lettered with the reason; on shutdown
//! the batch in hand is finished and committed before the worker returns.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use pubmine_stream::codec::{decode_document, encode_annotations, encode_dead_letter};
use pubmine_stream::kafka::{InRecord, KafkaConsumer};
use pubmine_stream::record::{Annotations, DeadLetter, Document, ModelRef, SCHEMA_VERSION};
use pubmine_stream::transport::{Ack, OutRecord, Producer, TransportError};
use tokio_util::sync::CancellationToken;

use crate::ner::{AnnotateError, Annotator, Found, Prepared};

/// Settings of the worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub output_topic: String,
    pub dead_letter_topic: String,
    /// Documents per batch.
    pub batch_docs: usize,
    /// How long a batch waits to fill after its first record.
    pub linger: Duration,
}

/// What a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    pub documents: u64,
    pub tombstones: u64,
    pub dead_lettered: u64,
    pub mentions: u64,
    pub relations: u64,
    pub batches: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("annotation thread failed: {0}")]
    Thread(String),
}

fn dead_letter(cfg: &WorkerConfig, r: &InRecord, reason: String) -> OutRecord {
    tracing::warn!(record = %r.position(), key = %r.key, %reason, "record dead-lettered");
    let dl = DeadLetter {
        schema_version: SCHEMA_VERSION,
        stage: "annotate".into(),
        source: r.position(),
        position: None,
        id: (!r.key.is_empty()).then(|| r.key.clone()),
        reason,
    };
    OutRecord {
        topic: cfg.dead_letter_topic.clone(),
        key: r.key.clone(),
        value: Some(encode_dead_letter(&dl)),
    }
}

/// A batch of records, decoded; its documents are annotated while the next batch is received,
/// decoded and tokenized.
struct Batch {
    records: Vec<InRecord>,
    slots: Vec<Slot>,
    docs: Vec<Document>,
    /// Index into `records` of each document.
    doc_records: Vec<usize>,
}

/// Where each record's output comes from, in input order.
enum Slot {
    Doc(usize),
    Out(OutRecord),
}

type Annotated = (Annotator, Vec<Document>, Vec<Result<Found, String>>);

/// Runs until `shutdown`; returns what it did. Two batches are in hand at a time: while one is
/// annotated on a blocking thread, the next is received, decoded and tokenized (on another
/// blocking thread), so tokenization overlaps inference. Outputs are produced and offsets
/// committed in input order.
pub async fn run(
    consumer: &KafkaConsumer,
    producer: &dyn Producer,
    annotator: Annotator,
    cfg: &WorkerConfig,
    shutdown: &CancellationToken,
) -> Result<WorkerStats, WorkerError> {
    let mut stats = WorkerStats::default();
    let models = annotator.model_refs();
    let tokenizers = annotator.tokenizers();
    let mut idle = Some(annotator);
    let mut inflight: Option<(Batch, tokio::task::JoinHandle<Annotated>)> = None;
    loop {
        let stopping = shutdown.is_cancelled();
        if stopping && inflight.is_none() {
            break;
        }
        // With a batch in flight, wait for the next one no longer than a linger, so the batch
        // in flight is never held back by a quiet topic.
        let records = if stopping {
            Vec::new()
        } else {
            let wait = inflight.as_ref().map(|_| cfg.linger);
            consumer
                .recv_batch_within(cfg.batch_docs.max(1), cfg.linger, wait, shutdown)
                .await?
        };
        let next = (!records.is_empty()).then(|| decode(cfg, records, &mut stats));
        let prepared = next.as_ref().map(|b| {
            let tokenizers = tokenizers.clone();
            let docs = b.docs.clone();
            tokio::task::spawn_blocking(move || {
                let refs: Vec<&Document> = docs.iter().collect();
                tokenizers.prepare(&refs)
            })
        });
        if let Some((batch, handle)) = inflight.take() {
            let (back, docs, results) = handle
                .await
                .map_err(|e| WorkerError::Thread(e.to_string()))?;
            idle = Some(back);
            finish(
                consumer, producer, cfg, &models, batch, docs, results, &mut stats,
            )
            .await?;
        }
        if let (Some(mut batch), Some(prepared)) = (next, prepared) {
            let prepared = prepared
                .await
                .map_err(|e| WorkerError::Thread(e.to_string()))?;
            let annotator = idle
                .take()
                .ok_or_else(|| WorkerError::Thread("the annotator is busy".into()))?;
            let docs = std::mem::take(&mut batch.docs);
            let handle = tokio::task::spawn_blocking(move || {
                let (annotator, results) = annotate(annotator, &docs, prepared);
                (annotator, docs, results)
            });
            inflight = Some((batch, handle));
        }
    }
    Ok(stats)
}

/// Decodes the records; tombstones pass through, undecodable records become dead letters.
fn decode(cfg: &WorkerConfig, records: Vec<InRecord>, stats: &mut WorkerStats) -> Batch {
    let mut batch = Batch {
        slots: Vec::with_capacity(records.len()),
        docs: Vec::new(),
        doc_records: Vec::new(),
        records: Vec::new(),
    };
    for (i, r) in records.iter().enumerate() {
        match &r.value {
            None => {
                stats.tombstones += 1;
                batch.slots.push(Slot::Out(OutRecord {
                    topic: cfg.output_topic.clone(),
                    key: r.key.clone(),
                    value: None,
                }));
            }
            Some(bytes) => match decode_document(bytes) {
                Ok(d) => {
                    batch.slots.push(Slot::Doc(batch.docs.len()));
                    batch.docs.push(d);
                    batch.doc_records.push(i);
                }
                Err(e) => {
                    stats.dead_lettered += 1;
                    batch
                        .slots
                        .push(Slot::Out(dead_letter(cfg, r, e.to_string())));
                }
            },
        }
    }
    batch.records = records;
    batch
}

/// Annotates the documents from their prepared tokens; when that fails, document by document
/// so that one bad document does not hold back the others.
fn annotate(
    mut annotator: Annotator,
    docs: &[Document],
    prepared: Result<Prepared, AnnotateError>,
) -> (Annotator, Vec<Result<Found, String>>) {
    let refs: Vec<&Document> = docs.iter().collect();
    let all = prepared.and_then(|p| annotator.annotate_prepared(&refs, p));
    let results = match all {
        Ok(all) => all.into_iter().map(Ok).collect(),
        Err(_) => refs
            .iter()
            .map(|d| {
                annotator
                    .annotate_all(&[d])
                    .map(|mut m| m.remove(0))
                    .map_err(|e| e.to_string())
            })
            .collect(),
    };
    (annotator, results)
}

/// Produces a batch's outputs in input order, waits for every acknowledgement, then commits
/// its offsets.
#[allow(clippy::too_many_arguments)]
async fn finish(
    consumer: &KafkaConsumer,
    producer: &dyn Producer,
    cfg: &WorkerConfig,
    models: &[ModelRef],
    batch: Batch,
    docs: Vec<Document>,
    results: Vec<Result<Found, String>>,
    stats: &mut WorkerStats,
) -> Result<(), WorkerError> {
    let records = &batch.records;
    let mut outputs: Vec<Option<OutRecord>> = Vec::with_capacity(docs.len());
    for ((doc, result), &ri) in docs.into_iter().zip(results).zip(&batch.doc_records) {
        outputs.push(Some(match result {
            Ok(Found {
                mentions,
                relations,
            }) => {
                stats.documents += 1;
                stats.mentions += mentions.len() as u64;
                stats.relations += relations.len() as u64;
                let a = Annotations {
                    schema_version: SCHEMA_VERSION,
                    id: doc.id.clone(),
                    models: models.to_vec(),
                    mentions,
                    relations,
                    document: Some(Box::new(doc)),
                };
                OutRecord {
                    topic: cfg.output_topic.clone(),
                    key: records[ri].key.clone(),
                    value: Some(encode_annotations(&a)),
                }
            }
            Err(reason) => {
                stats.dead_lettered += 1;
                dead_letter(cfg, &records[ri], format!("annotation failed: {reason}"))
            }
        }));
    }
    let mut acks: FuturesUnordered<Ack> = FuturesUnordered::new();
    for slot in batch.slots {
        let out = match slot {
            Slot::Out(o) => o,
            Slot::Doc(d) => outputs[d]
                .take()
                .ok_or_else(|| WorkerError::Thread("an output was produced twice".into()))?,
        };
        let ack = producer.enqueue(out).await?;
        acks.push(ack);
    }
    while let Some(r) = acks.next().await {
        r?;
    }
    consumer.commit(records)?;
    stats.batches += 1;
    tracing::debug!(records = records.len(), "batch committed");
    Ok(())
}
