//! The annotate worker: a consumer group on the documents topic producing to the annotations
//! topic. Each batch of records is decoded, annotated (NER, then RE when RE models are set) on a
//! blocking thread (never on the async runtime), and its outputs produced; the batch's offsets
//! are committed only once every output is acknowledged. Tombstones pass through; a record that
//! cannot be decoded, or whose annotation fails, is dead-lettered with the reason; on shutdown
//! the batch in hand is finished and committed before the worker returns.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use pubmine_stream::codec::{decode_document, encode_dead_letter};
use pubmine_stream::kafka::{InRecord, KafkaConsumer};
use pubmine_stream::record::{Annotations, DeadLetter, Document, SCHEMA_VERSION};
use pubmine_stream::transport::{Ack, OutRecord, Producer, TransportError};
use tokio_util::sync::CancellationToken;

use crate::ner::{Annotator, Found};

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

/// Runs until `shutdown`; returns what it did.
pub async fn run(
    consumer: &KafkaConsumer,
    producer: &dyn Producer,
    mut annotator: Annotator,
    cfg: &WorkerConfig,
    shutdown: &CancellationToken,
) -> Result<WorkerStats, WorkerError> {
    let mut stats = WorkerStats::default();
    let models = annotator.model_refs();
    while !shutdown.is_cancelled() {
        let records = consumer
            .recv_batch(cfg.batch_docs.max(1), cfg.linger, shutdown)
            .await?;
        if records.is_empty() {
            continue;
        }
        // Decode; keep the output order of the input.
        enum Slot {
            Doc(usize),
            Out(OutRecord),
        }
        let mut docs: Vec<Document> = Vec::new();
        let mut doc_records: Vec<usize> = Vec::new();
        let mut slots: Vec<Slot> = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            match &r.value {
                None => {
                    stats.tombstones += 1;
                    slots.push(Slot::Out(OutRecord {
                        topic: cfg.output_topic.clone(),
                        key: r.key.clone(),
                        value: None,
                    }));
                }
                Some(bytes) => match decode_document(bytes) {
                    Ok(d) => {
                        slots.push(Slot::Doc(docs.len()));
                        docs.push(d);
                        doc_records.push(i);
                    }
                    Err(e) => {
                        stats.dead_lettered += 1;
                        slots.push(Slot::Out(dead_letter(cfg, r, e.to_string())));
                    }
                },
            }
        }
        // Inference on a blocking thread; a failed batch is retried document by document so
        // that one bad document does not hold back the others.
        let (back, results) = tokio::task::spawn_blocking(move || {
            let refs: Vec<&Document> = docs.iter().collect();
            let results: Vec<Result<Found, String>> = match annotator.annotate_all(&refs) {
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
            (annotator, (docs, results))
        })
        .await
        .map_err(|e| WorkerError::Thread(e.to_string()))?;
        annotator = back;
        let (docs, results) = results;
        let mut outputs: Vec<Option<OutRecord>> = Vec::with_capacity(docs.len());
        for ((doc, result), &ri) in docs.into_iter().zip(results).zip(&doc_records) {
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
                        models: models.clone(),
                        mentions,
                        relations,
                        document: Some(Box::new(doc)),
                    };
                    OutRecord {
                        topic: cfg.output_topic.clone(),
                        key: records[ri].key.clone(),
                        value: Some(serde_json::to_vec(&a).unwrap_or_default()),
                    }
                }
                Err(reason) => {
                    stats.dead_lettered += 1;
                    dead_letter(cfg, &records[ri], format!("annotation failed: {reason}"))
                }
            }));
        }
        // Produce in input order, then wait for every acknowledgement before committing.
        let mut acks: FuturesUnordered<Ack> = FuturesUnordered::new();
        for slot in slots {
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
        consumer.commit(&records)?;
        stats.batches += 1;
        tracing::debug!(records = records.len(), "batch committed");
    }
    Ok(stats)
}
