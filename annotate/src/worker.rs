//! The annotate worker: a consumer of the documents topic (a Kafka consumer group, or a channel)
//! producing to the annotations topic. Each batch of records is decoded, tokenized, annotated (NER, then RE when RE models are
//! set) on blocking threads (never on the async runtime), the next batch's tokenization
//! overlapping this one's inference, and its outputs produced; the batch's offsets are committed
//! only once every output is acknowledged. Tombstones pass through; on shutdown the batch in hand
//! is finished and committed before the worker returns.
//!
//! Errors have a class ([`ErrorClass`]). A record at fault (poison: it cannot be decoded, its
//! text cannot be tokenized, its annotations are larger than the output topic takes) is
//! dead-lettered with the reason and the stream goes on. A fault of the broker that may pass
//! (transient) is retried with backoff: receiving (for as long as the broker is away), producing a
//! batch's outputs again, the offset commit. A fault that is not the records' (fatal: the model session failing, a device lost)
//! stops the worker with the error, and nothing past the batches already finished is committed:
//! a restarted worker annotates those records again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use pubmine_stream::codec::{decode_document, encode_annotations, encode_dead_letter};
use pubmine_stream::error::{Classify, ErrorClass};
use pubmine_stream::metrics;
use pubmine_stream::record::{Annotations, DeadLetter, Document, ModelRef, SCHEMA_VERSION};
use pubmine_stream::retry;
use pubmine_stream::transport::{
    Consumer, InRecord, Offsets, OutRecord, Producer, TransportError, advance, next_offsets,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::annotator::{Annotator, Found, Prepared};
use crate::error::AnnotateError;

/// Settings of the worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub output_topic: String,
    pub dead_letter_topic: String,
    /// Documents per batch.
    pub batch_docs: usize,
    /// How long a batch waits to fill after its first record.
    pub linger: Duration,
    /// Where the worker keeps the tokens it has run through the models so far, batch by batch,
    /// for a live display.
    pub tokens: Option<Arc<AtomicU64>>,
}

/// What a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WorkerStats {
    pub documents: u64,
    pub tombstones: u64,
    pub dead_lettered: u64,
    pub mentions: u64,
    pub relations: u64,
    pub batches: u64,
    /// The models' work: tokens, batches, padding, inference time.
    pub annotator: crate::annotator::AnnotatorStats,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The broker failed past the retries, or is closed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Annotation failed for a reason that is not the records' own.
    #[error("annotation failed")]
    Annotate(#[source] AnnotateError),
    #[error("annotation thread failed")]
    Thread(#[source] tokio::task::JoinError),
    /// A broken invariant of the worker itself.
    #[error("annotate worker bug: {0}")]
    Bug(&'static str),
}

impl Classify for WorkerError {
    fn class(&self) -> ErrorClass {
        match self {
            WorkerError::Transport(e) => e.class(),
            WorkerError::Annotate(e) => e.class(),
            WorkerError::Thread(_) | WorkerError::Bug(_) => ErrorClass::Fatal,
        }
    }
}

/// Tries of a transient broker fault before the worker gives up (and exits, uncommitted).
const TRIES: usize = 8;

/// How often an offset commit that failed is tried again while the input is quiet.
const OWED_COMMIT_RETRY: Duration = Duration::from_secs(1);

/// The delays between tries of a delivery or a commit (the house's policy): 200 ms doubling to
/// 10 s, for the `TRIES` tries of a delivery.
fn retry_policy() -> retry::ExponentialBuilder {
    retry::policy(
        Duration::from_millis(200),
        Duration::from_secs(10),
        Some(TRIES - 1),
    )
}

/// The stage name in dead letters and metrics.
const STAGE: &str = "annotate";

fn dead_letter(cfg: &WorkerConfig, r: &InRecord, class: &'static str, reason: String) -> OutRecord {
    metrics::dead_letter(STAGE, class);
    tracing::warn!(record = %r.position(), key = %r.key, %reason, "record dead-lettered");
    let dl = DeadLetter::new(STAGE, r.position().to_string(), reason).with_id(Some(r.key.clone()));
    OutRecord::new(
        cfg.dead_letter_topic.clone(),
        r.key.clone(),
        Some(encode_dead_letter(&dl)),
    )
}

/// A batch of records, decoded; its documents are annotated while the next batch is received,
/// decoded and tokenized.
struct Batch {
    /// The batch's trace span: its decode, tokenize, annotate and produce spans are children.
    span: tracing::Span,
    /// The consumer's assignment epoch when the batch was received: if it changes before the
    /// batch is delivered, the batch is left to the partitions' owners ([`still_ours`]).
    epoch: u64,
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

type Annotated = (
    Annotator,
    Vec<Document>,
    Result<Vec<Result<Found, AnnotateError>>, AnnotateError>,
);

/// Runs until `shutdown`, or until the input ends (a consumer that has an end, such as a file's
/// lines, says [`TransportError::Closed`]); returns what it did. Two batches are in hand at a time: while one is
/// annotated on a blocking thread, the next is received, decoded and tokenized (on another
/// blocking thread), so tokenization overlaps inference. Outputs are produced and offsets
/// committed in input order.
pub async fn run(
    consumer: &dyn Consumer,
    producer: &dyn Producer,
    annotator: Annotator,
    cfg: &WorkerConfig,
    shutdown: &CancellationToken,
) -> Result<WorkerStats, WorkerError> {
    let mut stats = WorkerStats::default();
    let models = annotator.model_refs();
    let tokenizers = annotator.tokenizers();
    let max_chars = annotator.max_document_chars();
    let mut idle = Some(annotator);
    let mut inflight: Option<(Batch, tokio::task::JoinHandle<Annotated>)> = None;
    // Offsets of finished batches whose commit failed: tried again until it succeeds, or until
    // a new assignment makes them another member's.
    let mut owed = Owed::default();
    // The assignment epoch of the last batch left to the partitions' owners.
    let mut left: Option<u64> = None;
    let mut ended = false;
    loop {
        let stopping = ended || shutdown.is_cancelled();
        if stopping && inflight.is_none() {
            break;
        }
        // With a batch in flight, wait for the next one no longer than a linger, so the batch
        // in flight is never held back by a quiet topic; with a commit owed, no longer than a
        // second, so that it is tried again while the topic is quiet.
        // The records, and the assignment epoch they were received in.
        let (records, epoch) = if stopping {
            (Vec::new(), 0)
        } else {
            let wait = match (&inflight, owed.offsets.is_empty()) {
                (Some(_), _) => Some(cfg.linger),
                (None, false) => Some(OWED_COMMIT_RETRY),
                (None, true) => None,
            };
            match receive(consumer, cfg, wait, shutdown).await {
                Err(WorkerError::Transport(TransportError::Closed)) => {
                    ended = true;
                    (Vec::new(), 0)
                }
                other => other?,
            }
        };
        metrics::records_in(STAGE, records.len());
        if records.is_empty() && inflight.is_none() {
            commit_owed(consumer, &mut owed, 1).await;
        }
        let next =
            (!records.is_empty()).then(|| decode(cfg, records, epoch, max_chars, &mut stats));
        let prepared = next.as_ref().map(|b| {
            let tokenizers = tokenizers.clone();
            let docs = b.docs.clone();
            let span = b.span.clone();
            tokio::task::spawn_blocking(move || {
                let _span =
                    tracing::debug_span!(parent: &span, "tokenize", docs = docs.len()).entered();
                let refs: Vec<&Document> = docs.iter().collect();
                tokenizers.prepare(&refs)
            })
        });
        if let Some((batch, handle)) = inflight.take() {
            let (back, docs, results) = handle.await.map_err(WorkerError::Thread)?;
            if let Some(tokens) = &cfg.tokens {
                tokens.store(back.stats.tokens, Ordering::Relaxed);
            }
            idle = Some(back);
            // A fatal fault: stop before producing or committing anything of this batch.
            let results = results.map_err(WorkerError::Annotate)?;
            let io = Io {
                consumer,
                producer,
                cfg,
            };
            let batch_epoch = batch.epoch;
            if left == Some(batch_epoch) {
                // An earlier batch of the same assignment was left: so is this one, or its
                // offsets would be committed past the records left.
                tracing::info!(
                    records = batch.records.len(),
                    "a batch after one left to the partitions' owners is left too"
                );
            } else if !finish(io, &models, batch, docs, results, &mut owed, &mut stats).await? {
                left = Some(batch_epoch);
            }
        }
        if let (Some(mut batch), Some(prepared)) = (next, prepared) {
            let prepared = prepared.await.map_err(WorkerError::Thread)?;
            let annotator = idle
                .take()
                .ok_or(WorkerError::Bug("the annotator is busy"))?;
            let docs = std::mem::take(&mut batch.docs);
            let span = batch.span.clone();
            let handle = tokio::task::spawn_blocking(move || {
                let _span = tracing::debug_span!(parent: &span, "annotate").entered();
                let (annotator, results) = annotate(annotator, &docs, prepared);
                (annotator, docs, results)
            });
            inflight = Some((batch, handle));
        }
    }
    commit_owed(consumer, &mut owed, 3).await;
    stats.annotator = idle.map(|a| a.stats).unwrap_or_default();
    Ok(stats)
}

/// The next batch of records, and the assignment epoch after the receive; a failed receive is
/// retried with backoff for as long as the broker is away. When the partitions were assigned
/// anew during the receive, the records of
/// partitions no longer assigned are dropped: they were taken before the rebalance, and their
/// new owner reads them again.
async fn receive(
    consumer: &dyn Consumer,
    cfg: &WorkerConfig,
    wait: Option<Duration>,
    shutdown: &CancellationToken,
) -> Result<(Vec<InRecord>, u64), WorkerError> {
    let before = consumer.assignment().0;
    let mut records = consumer
        .recv_batch(cfg.batch_docs.max(1), cfg.linger, wait, shutdown)
        .await?;
    let (after, assigned) = consumer.assignment();
    if after != before {
        let taken = records.len();
        records.retain(|r| assigned.contains(&(r.topic.clone(), r.partition)));
        if records.len() < taken {
            tracing::info!(
                dropped = taken - records.len(),
                "records of partitions revoked during the receive are left to their new owner"
            );
        }
    }
    Ok((records, after))
}

/// Whether the batch's records are still this worker's to answer: no assignment since the
/// batch was received, and each record's partition still assigned. A worker whose partitions
/// were revoked (a rebalance, or its session lost while the broker was away) must not produce
/// for them: their new owner reads the same records from the committed offsets and produces
/// in order, and a late output of the old owner (a tombstoned document's annotations after
/// its tombstone) would undo what came after it. After a new assignment the records come
/// again from the committed offsets, so nothing is lost by leaving them.
fn still_ours(consumer: &dyn Consumer, batch: &Batch) -> bool {
    let (epoch, assigned) = consumer.assignment();
    epoch == batch.epoch
        && batch
            .records
            .iter()
            .all(|r| assigned.contains(&(r.topic.clone(), r.partition)))
}

/// Decodes the records; tombstones pass through, undecodable records and documents longer than
/// `max_chars` become dead letters.
fn decode(
    cfg: &WorkerConfig,
    records: Vec<InRecord>,
    epoch: u64,
    max_chars: usize,
    stats: &mut WorkerStats,
) -> Batch {
    let span = tracing::debug_span!("batch", records = records.len());
    let _decoding = tracing::debug_span!(parent: &span, "decode").entered();
    let mut batch = Batch {
        span: span.clone(),
        epoch,
        slots: Vec::with_capacity(records.len()),
        docs: Vec::new(),
        doc_records: Vec::new(),
        records: Vec::new(),
    };
    for (i, r) in records.iter().enumerate() {
        match &r.value {
            None => {
                stats.tombstones += 1;
                batch.slots.push(Slot::Out(
                    OutRecord::new(cfg.output_topic.clone(), r.key.clone(), None)
                        .made_from(r.as_origin()),
                ));
            }
            Some(bytes) => match decode_document(bytes) {
                Ok(d) if let Some(chars) = too_long(&d, max_chars) => {
                    stats.dead_lettered += 1;
                    let reason = format!(
                        "the document's text is {chars} characters, more than the {max_chars} annotate takes (--max-document-chars)"
                    );
                    batch
                        .slots
                        .push(Slot::Out(dead_letter(cfg, r, "too_large", reason)));
                }
                Ok(d) => {
                    batch.slots.push(Slot::Doc(batch.docs.len()));
                    batch.docs.push(d);
                    batch.doc_records.push(i);
                }
                Err(e) => {
                    stats.dead_lettered += 1;
                    batch
                        .slots
                        .push(Slot::Out(dead_letter(cfg, r, "decode", e.to_string())));
                }
            },
        }
    }
    batch.records = records;
    batch
}

/// The characters of `d`'s text when they are more than `max`. Only a document of more than
/// `max` bytes is counted: a character is at least a byte, so the others fit.
fn too_long(d: &Document, max: usize) -> Option<usize> {
    let bytes: usize = d.passages.iter().map(|p| p.text.len()).sum();
    if bytes <= max {
        return None;
    }
    Some(d.text_chars()).filter(|&chars| chars > max)
}

/// Annotates the documents from their prepared tokens. When that fails because of a document
/// (poison), document by document, so that the bad one is set aside and the others go on; when
/// it fails for a reason that is not a document's (fatal), the error is returned and nothing of
/// the batch is to be produced or committed.
fn annotate(
    mut annotator: Annotator,
    docs: &[Document],
    prepared: Result<Prepared, AnnotateError>,
) -> (
    Annotator,
    Result<Vec<Result<Found, AnnotateError>>, AnnotateError>,
) {
    let refs: Vec<&Document> = docs.iter().collect();
    let all = prepared.and_then(|p| annotator.annotate_prepared(&refs, p));
    let results = match all {
        Ok(all) => Ok(all.into_iter().map(Ok).collect()),
        Err(e) if e.class() != ErrorClass::Poison => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, documents = refs.len(), "a document of the batch cannot be annotated; annotating one at a time");
            let mut one_by_one = Vec::with_capacity(refs.len());
            let mut fatal = None;
            for d in &refs {
                match annotator.annotate_all(&[d]).map(|mut m| m.remove(0)) {
                    Err(e) if e.class() != ErrorClass::Poison => {
                        fatal = Some(e);
                        break;
                    }
                    r => one_by_one.push(r),
                }
            }
            fatal.map_or(Ok(one_by_one), Err)
        }
    };
    (annotator, results)
}

/// Where a batch's outputs go: the consumer whose offsets are committed, the producer, and the
/// worker's settings (topics).
#[derive(Clone, Copy)]
struct Io<'a> {
    consumer: &'a dyn Consumer,
    producer: &'a dyn Producer,
    cfg: &'a WorkerConfig,
}

/// Produces a batch's outputs in input order, waits for every acknowledgement, then commits
/// its offsets ([`outputs`], then [`deliver`]); `false` when the batch was left to the
/// partitions' owners instead ([`still_ours`]).
async fn finish(
    io: Io<'_>,
    models: &[ModelRef],
    mut batch: Batch,
    docs: Vec<Document>,
    results: Vec<Result<Found, AnnotateError>>,
    owed: &mut Owed,
    stats: &mut WorkerStats,
) -> Result<bool, WorkerError> {
    let outs = outputs(io.cfg, models, &mut batch, docs, results, stats)?;
    deliver(io, &batch, outs, owed, stats).await
}

/// A batch's outputs in input order, each with the index of the record it answers (a batch has
/// one slot per record): the documents' annotations, a dead letter for each document that could
/// not be annotated, and what decoding put in the other slots (tombstones, dead letters).
fn outputs(
    cfg: &WorkerConfig,
    models: &[ModelRef],
    batch: &mut Batch,
    docs: Vec<Document>,
    results: Vec<Result<Found, AnnotateError>>,
    stats: &mut WorkerStats,
) -> Result<Vec<(usize, OutRecord)>, WorkerError> {
    let records = &batch.records;
    let mut annotated: Vec<Option<OutRecord>> = Vec::with_capacity(docs.len());
    for ((doc, result), &ri) in docs.into_iter().zip(results).zip(&batch.doc_records) {
        annotated.push(Some(match result {
            Ok(Found {
                mentions,
                relations,
                abbreviations,
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
                    abbreviations,
                    document: Some(Box::new(doc)),
                };
                OutRecord::new(
                    cfg.output_topic.clone(),
                    records[ri].key.clone(),
                    Some(encode_annotations(&a)),
                )
                .made_from(records[ri].as_origin())
            }
            Err(e) => {
                stats.dead_lettered += 1;
                dead_letter(
                    cfg,
                    &records[ri],
                    "annotate",
                    format!("annotation failed: {e}"),
                )
            }
        }));
    }
    let mut outs: Vec<(usize, OutRecord)> = Vec::with_capacity(batch.slots.len());
    for (i, slot) in std::mem::take(&mut batch.slots).into_iter().enumerate() {
        let out = match slot {
            Slot::Out(o) => o,
            Slot::Doc(d) => annotated[d]
                .take()
                .ok_or(WorkerError::Bug("an output was produced twice"))?,
        };
        outs.push((i, out));
    }
    Ok(outs)
}

/// Produces `outs`, waits for every acknowledgement, then commits the batch's offsets. An output
/// the topic refuses as too large is replaced by a dead letter; when a delivery fails for a
/// reason that may pass, every output of the batch is produced again (the sinks are idempotent
/// per key, and the order of a key's records is kept), with backoff. Before each try the batch
/// is checked to be still this worker's ([`still_ours`]); when it is not, nothing more is
/// produced or committed and `false` is returned.
async fn deliver(
    io: Io<'_>,
    batch: &Batch,
    outs: Vec<(usize, OutRecord)>,
    owed: &mut Owed,
    stats: &mut WorkerStats,
) -> Result<bool, WorkerError> {
    let Io {
        consumer,
        producer,
        cfg,
    } = io;
    let records = &batch.records;
    let n = outs.len();
    let mut outgoing = Outgoing {
        producer,
        cfg,
        records,
        outs,
        stats,
        left: false,
    };
    let on_retry = |e: &TransportError, delay: Duration| {
        tracing::warn!(error = %e, retry_in = ?delay, outputs = n, "delivery failed, producing the batch again");
        metrics::retry(STAGE, "delivery");
    };
    // The batch in hand is finished before a shutdown takes effect, so no token stops this.
    retry::transient(
        &mut outgoing,
        retry_policy(),
        &CancellationToken::new(),
        on_retry,
        |o| {
            let produce = tracing::debug_span!(parent: &batch.span, "produce", outputs = n);
            Box::pin(
                async move {
                    if !still_ours(consumer, batch) {
                        o.left = true;
                        return Ok(());
                    }
                    produce_all(o).await
                }
                .instrument(produce),
            )
        },
    )
    .await?;
    let Outgoing {
        outs, stats, left, ..
    } = outgoing;
    if left {
        tracing::warn!(
            records = records.len(),
            "the batch's partitions were assigned anew before its outputs were delivered; leaving its records to their owners"
        );
        metrics::retry(STAGE, "revoked");
        return Ok(false);
    }
    // The acknowledgements may have taken long (a broker away): a batch whose partitions were
    // assigned anew meanwhile is not committed, since their new owner may have committed past
    // it already and a commit of its offsets would move the group back over records done.
    // Its outputs are delivered; the sinks keep the newer versions where they came after.
    if !still_ours(consumer, batch) {
        tracing::warn!(
            records = records.len(),
            "the batch's partitions were assigned anew while its outputs were acknowledged; its offsets are left to their owners"
        );
        metrics::retry(STAGE, "revoked");
        return Ok(false);
    }
    owed.add(batch.epoch, &next_offsets(records));
    commit_owed(consumer, owed, 3).await;
    let dead = outs
        .iter()
        .filter(|(_, o)| o.topic == cfg.dead_letter_topic)
        .count();
    metrics::records_out(STAGE, outs.len() - dead);
    stats.batches += 1;
    tracing::debug!(records = records.len(), "batch committed");
    Ok(true)
}

/// A batch's outputs on their way out: what each try of a delivery works on.
struct Outgoing<'a> {
    producer: &'a dyn Producer,
    cfg: &'a WorkerConfig,
    records: &'a [InRecord],
    /// Each output with the index of its input record.
    outs: Vec<(usize, OutRecord)>,
    stats: &'a mut WorkerStats,
    /// The batch was found to be no longer this worker's: nothing more is produced.
    left: bool,
}

/// Produces the outputs and waits for their acknowledgements. An output refused as too large
/// is replaced, in `outs`, by a dead letter for its record, which is produced too.
async fn produce_all(o: &mut Outgoing<'_>) -> Result<(), TransportError> {
    let Outgoing {
        producer,
        cfg,
        records,
        outs,
        stats,
        ..
    } = o;
    let (producer, cfg, records) = (*producer, *cfg, *records);
    let mut acks: FuturesUnordered<_> = FuturesUnordered::new();
    let mut too_large = Vec::new();
    for (k, (_, out)) in outs.iter().enumerate() {
        match producer.enqueue(out.clone()).await {
            Ok(ack) => acks.push(async move { (k, ack.await) }),
            Err(e) if e.class() == ErrorClass::Poison => too_large.push((k, e)),
            Err(e) => return Err(e),
        }
    }
    let mut failed = None;
    while let Some((k, r)) = acks.next().await {
        match r {
            Ok(()) => {}
            Err(e) if e.class() == ErrorClass::Poison => too_large.push((k, e)),
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    let mut dead = Vec::new();
    for (k, e) in too_large {
        let (ri, out) = &mut outs[k];
        let size = out.value.as_ref().map_or(0, Vec::len);
        let r = &records[*ri];
        let reason = format!(
            "the output record ({size} bytes) is refused by {}: {e}",
            out.topic
        );
        if out.topic == cfg.output_topic {
            stats.documents = stats.documents.saturating_sub(1);
        }
        stats.dead_lettered += 1;
        *out = dead_letter(cfg, r, "too_large", reason);
        dead.push(producer.enqueue(out.clone()).await?);
    }
    for ack in dead {
        ack.await?;
    }
    Ok(())
}

/// Offsets of finished batches not yet committed, and the assignment epoch they belong to.
#[derive(Debug, Default)]
struct Owed {
    epoch: u64,
    offsets: Offsets,
}

impl Owed {
    /// Adds the offsets of a batch of assignment `epoch`; those of an earlier assignment are
    /// dropped (their partitions were assigned anew, and are another member's to commit).
    fn add(&mut self, epoch: u64, next: &Offsets) {
        if epoch != self.epoch {
            self.offsets.clear();
            self.epoch = epoch;
        }
        advance(&mut self.offsets, next);
    }
}

/// Commits `owed` (the offsets of finished batches not yet committed), retrying a failure with
/// backoff `tries` times. A commit that keeps failing is logged and stays owed: the worker tries
/// it again with the next batch's commit, when the input is quiet, and before it returns, so the
/// last batch before a broker outage is not left uncommitted for want of a next one. The outputs
/// are durable either way, and a record read again after a restart is annotated again (at least
/// once; the sinks are idempotent). Offsets of partitions no longer assigned, and all of them
/// once the partitions were assigned anew since, are dropped: their owner commits them, and a
/// late commit of old offsets would move the group back over records it had done.
async fn commit_owed(consumer: &dyn Consumer, owed: &mut Owed, tries: u32) {
    let mut delays = retry::delays(retry_policy());
    for n in 1..=tries {
        if owed.offsets.is_empty() {
            return;
        }
        // Checked before every try: the partitions may be assigned anew while a broker that is
        // away makes the commits fail.
        let (epoch, assigned) = consumer.assignment();
        if epoch != owed.epoch {
            tracing::info!(
                partitions = owed.offsets.len(),
                "offsets owed from before a new assignment are left to the partitions' owners"
            );
            owed.offsets.clear();
            return;
        }
        owed.offsets.retain(|tp, _| assigned.contains(tp));
        if owed.offsets.is_empty() {
            return;
        }
        match try_commit(consumer, &owed.offsets) {
            Ok(()) => {
                owed.offsets.clear();
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, tries = n, "offset commit failed");
                metrics::retry(STAGE, "commit");
                if n < tries
                    && let Some(delay) = delays.next()
                {
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

/// One offset commit; the `annotate::commit` fault point makes it fail (tests).
fn try_commit(consumer: &dyn Consumer, owed: &Offsets) -> Result<(), TransportError> {
    fail::fail_point!("annotate::commit", |reason| Err(TransportError::Delivery(
        reason.unwrap_or_else(|| "offset commit failed (fault point)".into())
    )));
    consumer.commit_offsets(owed)
}
