//! The consuming side of a sink stage (store, index): a [`Consumer`] of the annotations topic (a
//! Kafka consumer group, or a channel) feeding a [`Sink`] that keeps its own record of the offsets it has written, durably and in
//! the same unit as the data (a Postgres transaction, a tantivy commit). That record is the
//! truth. Partitions start at the group's committed offsets, which mirror the sink's (they are
//! committed only after the sink's write is durable): on every assignment the runner asks the
//! sink for its offsets and skips the records below them (those written before a crash, for
//! example). It takes a record only when it is the one the sink needs next: the topic's offsets
//! follow one another (idempotent, non-transactional producers; no compaction), so a record past
//! that offset means records were not handed over (the group ahead of a reset or restored sink,
//! or a consumer position moved by a seek or an offset fetch lost in a rebalance or a broker
//! restart), and the runner seeks back to where the sink stands and takes nothing of that
//! partition until the records come in order; only records the topic's retention removed are
//! passed over, with a warning (exactly-once, docs/architecture.md).
//!
//! A record that cannot be decoded goes to the dead-letter topic (acknowledged before the batch
//! that covers its offset is written), is counted, and the stream goes on.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use std::collections::BTreeMap;

use crate::codec::{decode_annotations, encode_dead_letter};
use crate::error::{Classify, ErrorClass};

use crate::record::{Annotations, DeadLetter};
use crate::transport::{
    Consumer, InRecord, Offsets, Origin, OutRecord, Producer, TransportError, next_offsets,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The write did not happen and may succeed later (connection lost, serialization failure,
    /// a lock timeout): the runner retries the batch with backoff.
    #[error("sink write failed, will retry: {0}")]
    Transient(#[source] BoxError),
    /// A record of the batch is one the sink can never take (text the database refuses, a
    /// value past its limits): the runner writes the batch again a record at a time, and the
    /// record whose write is refused goes to the dead letters.
    #[error("the sink refused a record: {0}")]
    Poison(#[source] BoxError),
    /// Retrying cannot help (schema missing, disk full, a corrupt index).
    #[error("sink failed: {0}")]
    Fatal(#[source] BoxError),
}

impl Classify for SinkError {
    fn class(&self) -> ErrorClass {
        match self {
            SinkError::Transient(_) => ErrorClass::Transient,
            SinkError::Poison(_) => ErrorClass::Poison,
            SinkError::Fatal(_) => ErrorClass::Fatal,
        }
    }
}

impl SinkError {
    /// The sink's error for a failure of its own kind, by that failure's class: the one way a
    /// sink turns its errors into the runner's (which retries, sets aside or stops by it).
    pub fn classified<E>(e: E) -> SinkError
    where
        E: Classify + std::error::Error + Send + Sync + 'static,
    {
        match e.class() {
            ErrorClass::Transient => SinkError::Transient(Box::new(e)),
            ErrorClass::Poison => SinkError::Poison(Box::new(e)),
            ErrorClass::Fatal => SinkError::Fatal(Box::new(e)),
        }
    }
}

/// One record for a sink: the annotations of a document, or its deletion.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkItem {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// The document id.
    pub key: String,
    /// `None`: a tombstone; the sink deletes the document and everything about it.
    pub annotations: Option<Box<Annotations>>,
    /// The record this one was made from ([`crate::transport::OutRecord::origin`]): a sink
    /// keeps, per document, the origin of what it holds, and refuses a record made from an
    /// older record of the same partition ([`Origin::is_before`]).
    pub origin: Option<Origin>,
}

/// Records to write, and the offsets the write covers (dead-lettered records included).
#[derive(Debug, Clone, Default)]
pub struct SinkBatch {
    pub items: Vec<SinkItem>,
    /// The next offset to read per partition once this batch is written.
    pub next: Offsets,
}

/// A durable destination that records its own offsets.
pub trait Sink: Send {
    /// The next offsets to read, as this sink durably recorded them, for `partitions`; a
    /// partition the sink has never written is absent.
    fn stored_offsets<'a>(
        &'a mut self,
        partitions: &'a [(String, i32)],
    ) -> BoxFuture<'a, Result<Offsets, SinkError>>;

    /// Writes the batch together with its offsets. A sink that commits at once returns the
    /// offsets now durable; one that buffers returns them when its commit happens (possibly in a
    /// later call), `None` meanwhile. Items at offsets the sink already holds must be skipped.
    fn write(&mut self, batch: SinkBatch) -> BoxFuture<'_, Result<Option<Offsets>, SinkError>>;

    /// Makes everything written so far durable (called when the stream is idle and at shutdown).
    fn flush(&mut self) -> BoxFuture<'_, Result<Option<Offsets>, SinkError>>;
}

/// A deliberate crash, for the tests that show a crash loses and doubles nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// Exit after the n-th durable write, before the Kafka offsets are committed.
    AfterWrite(u64),
}

impl std::str::FromStr for CrashPoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let n = s
            .strip_prefix("after-write:")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("crash point {s:?} is not after-write:N"))?;
        Ok(CrashPoint::AfterWrite(n))
    }
}

/// Settings of a sink runner.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// The stage name, for dead letters and logs (`store`, `index`).
    pub stage: String,
    pub dead_letter_topic: String,
    /// Records per batch.
    pub batch_records: usize,
    /// How long a batch waits to fill after its first record.
    pub linger: Duration,
    /// With no record for this long, the sink is flushed.
    pub idle_flush: Duration,
    pub crash: Option<CrashPoint>,
}

/// What a runner did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SinkStats {
    /// Documents written (upserts).
    pub documents: u64,
    pub deletions: u64,
    pub dead_lettered: u64,
    /// Records read again after a restart or rebalance and skipped: already written.
    pub skipped: u64,
    /// Times a partition was read again from the sink's offset because records before the
    /// one received had not been handed over.
    pub rewinds: u64,
    pub batches: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl Classify for RunError {
    fn class(&self) -> ErrorClass {
        match self {
            RunError::Sink(e) => e.class(),
            RunError::Transport(e) => e.class(),
        }
    }
}

/// Runs until `shutdown`, or until the consumer's input ends ([`TransportError::Closed`]); the
/// batch in hand is finished and flushed before it returns.
pub async fn run(
    consumer: &dyn Consumer,
    producer: &dyn Producer,
    sink: &mut dyn Sink,
    cfg: &SinkConfig,
    shutdown: &CancellationToken,
) -> Result<SinkStats, RunError> {
    let mut stats = SinkStats::default();
    let mut epoch = 0;
    // Per assigned partition: the sink's next offset (`None`: it holds nothing), the record
    // each partition must hand over next.
    let mut position: BTreeMap<(String, i32), Option<i64>> = BTreeMap::new();
    let mut durable_writes = 0u64;
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let records = match consumer
            .recv_batch(
                cfg.batch_records.max(1),
                cfg.linger,
                Some(cfg.idle_flush),
                shutdown,
            )
            .await
        {
            // An input with an end (a channel whose producers are done): flush and return.
            Err(TransportError::Closed) => break,
            other => other?,
        };
        crate::metrics::records_in(&cfg.stage, records.len());
        // Assignments happen inside a receive: read the sink's offsets for the partitions now
        // assigned before taking any record (another member may have written them since).
        let (now, assigned) = consumer.assignment();
        if now != epoch {
            let stored = retried(
                &mut (&mut *sink, assigned.as_slice()),
                cfg,
                shutdown,
                |(s, tps)| s.stored_offsets(tps),
            )
            .await?;
            position.clear();
            for tp in assigned {
                let at = stored.get(&tp).copied();
                tracing::info!(stage = %cfg.stage, topic = %tp.0, partition = tp.1, offset = ?at, "the sink's offset");
                position.insert(tp, at);
            }
            epoch = now;
        }
        if records.is_empty() {
            let started = Instant::now();
            if let Some(done) = retried(sink, cfg, shutdown, |s| s.flush()).await? {
                crate::metrics::sink_commit(&cfg.stage, started.elapsed());
                commit_to_group(consumer, &done);
            }
            continue;
        }
        let mut fresh = Vec::with_capacity(records.len());
        let mut rewound: Vec<(String, i32)> = Vec::new();
        for r in records {
            let tp = (r.topic.clone(), r.partition);
            if rewound.contains(&tp) {
                continue;
            }
            if !position.contains_key(&tp) {
                // A partition the last assignment did not list: ask the sink where it stands.
                let one = [tp.clone()];
                let stored = retried(&mut (&mut *sink, &one[..]), cfg, shutdown, |(s, tps)| {
                    s.stored_offsets(tps)
                })
                .await?;
                position.insert(tp.clone(), stored.get(&tp).copied());
            }
            let next = position.get_mut(&tp).expect("looked up above");
            let expected = next.unwrap_or(0);
            if r.offset < expected {
                stats.skipped += 1;
                continue;
            }
            if r.offset > expected {
                // Records between the sink's offset and this one were not delivered: the
                // group's offset is past the sink's (the sink was reset or restored, the group
                // reused), or the consumer's position moved past records it did not hand over
                // (a seek or an offset fetch lost in a rebalance or a broker restart). Offsets
                // of the topic follow one another (the producers are idempotent and not
                // transactional, the topic not compacted), so only the topic's retention
                // explains a gap; anything else is read again from the sink's offset.
                match consumer.low_watermark(&tp.0, tp.1).await {
                    Ok(low) if low >= r.offset => {
                        tracing::warn!(stage = %cfg.stage, topic = %tp.0, partition = tp.1, from = expected, to = r.offset, "records the sink never took were removed by the topic's retention; going on after them");
                    }
                    held => {
                        tracing::warn!(stage = %cfg.stage, topic = %tp.0, partition = tp.1, expected, got = r.offset, low_watermark = ?held, "records were skipped before the sink had them; reading again from the sink's offset");
                        stats.rewinds += 1;
                        crate::metrics::retry(&cfg.stage, "rewind");
                        match consumer.seek(&tp.0, tp.1, *next) {
                            Ok(()) => {}
                            // The records after this one are dropped all the same: while the
                            // sink's offset is not reached, no later record is taken.
                            Err(e) if e.class() == ErrorClass::Transient => {
                                tracing::warn!(stage = %cfg.stage, error = %e, "the seek failed; trying again at the next record");
                            }
                            Err(e) => return Err(e.into()),
                        }
                        rewound.push(tp);
                        continue;
                    }
                }
            }
            *next = Some(r.offset + 1);
            fresh.push(r);
        }
        tracing::debug!(stage = %cfg.stage, fresh = fresh.len(), skipped = stats.skipped, "records received");
        if fresh.is_empty() {
            continue;
        }
        let batch = decode_batch(&fresh, producer, cfg, &mut stats).await?;
        let (docs, dels) = batch.items.iter().fold((0, 0), |(d, t), i| {
            if i.annotations.is_some() {
                (d + 1, t)
            } else {
                (d, t + 1)
            }
        });
        let started = Instant::now();
        let (done, refused) = match retried(sink, cfg, shutdown, |s| s.write(batch.clone())).await {
            Err(SinkError::Poison(e)) => {
                tracing::warn!(stage = %cfg.stage, error = %e, "the sink refused a record of the batch; writing it a record at a time");
                write_one_by_one(producer, sink, cfg, batch, shutdown, &mut stats).await?
            }
            other => (other?, (0, 0)),
        };
        stats.documents += docs - refused.0;
        stats.deletions += dels - refused.1;
        stats.batches += 1;
        crate::metrics::records_out(&cfg.stage, (docs + dels - refused.0 - refused.1) as usize);
        if let Some(done) = done {
            crate::metrics::sink_commit(&cfg.stage, started.elapsed());
            durable_writes += 1;
            if cfg.crash == Some(CrashPoint::AfterWrite(durable_writes)) {
                tracing::error!(stage = %cfg.stage, writes = durable_writes, "crashing on purpose after a durable write, before the group commit");
                std::process::exit(70);
            }
            commit_to_group(consumer, &done);
        }
    }
    let started = Instant::now();
    if let Some(done) = retried(sink, cfg, shutdown, |s| s.flush()).await? {
        crate::metrics::sink_commit(&cfg.stage, started.elapsed());
        commit_to_group(consumer, &done);
    }
    Ok(stats)
}

/// Writes a batch that the sink refused as a whole one record at a time, in order: the record
/// whose own write is refused goes to the dead letters (acknowledged before the next write,
/// whose offsets cover it), the others are written. Returns the offsets durable at the end, and
/// how many upserts and deletions were refused.
async fn write_one_by_one(
    producer: &dyn Producer,
    sink: &mut dyn Sink,
    cfg: &SinkConfig,
    batch: SinkBatch,
    shutdown: &CancellationToken,
    stats: &mut SinkStats,
) -> Result<(Option<Offsets>, (u64, u64)), RunError> {
    let mut done = None;
    let mut refused = (0, 0);
    for item in batch.items {
        let mut next = Offsets::new();
        next.insert((item.topic.clone(), item.partition), item.offset + 1);
        let one = SinkBatch {
            items: vec![item.clone()],
            next,
        };
        match retried(sink, cfg, shutdown, |s| s.write(one.clone())).await {
            Ok(d) => done = d.or(done),
            Err(SinkError::Poison(e)) => {
                let r = InRecord {
                    topic: item.topic.clone(),
                    partition: item.partition,
                    offset: item.offset,
                    key: item.key.clone(),
                    value: None,
                    timestamp: None,
                    origin: item.origin.clone(),
                };
                let reason = format!(
                    "refused by the {} sink: {}",
                    cfg.stage,
                    crate::error::chain(&*e)
                );
                dead_letter(producer, cfg, &r, "refused", reason)
                    .await?
                    .await?;
                stats.dead_lettered += 1;
                if item.annotations.is_some() {
                    refused.0 += 1;
                } else {
                    refused.1 += 1;
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    // The offsets of the batch's dead-lettered and refused records, past its last item.
    let cover = SinkBatch {
        items: Vec::new(),
        next: batch.next,
    };
    let done = retried(sink, cfg, shutdown, |s| s.write(cover.clone()))
        .await?
        .or(done);
    Ok((done, refused))
}

/// Decodes the records; the undecodable ones are dead-lettered and acknowledged here.
async fn decode_batch(
    records: &[InRecord],
    producer: &dyn Producer,
    cfg: &SinkConfig,
    stats: &mut SinkStats,
) -> Result<SinkBatch, TransportError> {
    let mut items = Vec::with_capacity(records.len());
    let mut acks = Vec::new();
    for r in records {
        let annotations = match &r.value {
            None => None,
            Some(bytes) => match decode_annotations(bytes) {
                Ok(a) if a.id == r.key => Some(Box::new(a)),
                Ok(a) => {
                    let reason = format!("annotations of {} under the key {}", a.id, r.key);
                    acks.push(dead_letter(producer, cfg, r, "decode", reason).await?);
                    stats.dead_lettered += 1;
                    continue;
                }
                Err(e) => {
                    acks.push(dead_letter(producer, cfg, r, "decode", e.to_string()).await?);
                    stats.dead_lettered += 1;
                    continue;
                }
            },
        };
        items.push(SinkItem {
            topic: r.topic.clone(),
            partition: r.partition,
            offset: r.offset,
            key: r.key.clone(),
            annotations,
            origin: r.origin.clone(),
        });
    }
    for ack in acks {
        ack.await?;
    }
    Ok(SinkBatch {
        items,
        next: next_offsets(records),
    })
}

async fn dead_letter(
    producer: &dyn Producer,
    cfg: &SinkConfig,
    r: &InRecord,
    class: &'static str,
    reason: String,
) -> Result<crate::transport::Ack, TransportError> {
    crate::metrics::dead_letter(&cfg.stage, class);
    tracing::warn!(stage = %cfg.stage, record = %r.position(), key = %r.key, %reason, "record dead-lettered");
    let dl = DeadLetter::new(cfg.stage.clone(), r.position().to_string(), reason)
        .with_id(Some(r.key.clone()));
    producer
        .enqueue(OutRecord::new(
            cfg.dead_letter_topic.clone(),
            r.key.clone(),
            Some(encode_dead_letter(&dl)),
        ))
        .await
}

/// The group commit only mirrors the sink's offsets (for lag monitoring): a failure is logged,
/// never fatal, since the sink's record is what resuming uses.
fn commit_to_group(consumer: &dyn Consumer, done: &Offsets) {
    if let Err(e) = consumer.commit_offsets(done) {
        tracing::warn!(error = %e, "group offset commit failed; the sink's own offsets stand");
    }
}

/// A sink call (on the sink, or on what holds it), retried with the house's policy while it
/// fails transiently: 100 ms doubling to 30 s, for as long as it takes (a sink waits for its
/// database), unless shutdown is asked for.
async fn retried<S: ?Sized, T>(
    state: &mut S,
    cfg: &SinkConfig,
    shutdown: &CancellationToken,
    call: impl for<'a> FnMut(&'a mut S) -> BoxFuture<'a, Result<T, SinkError>>,
) -> Result<T, SinkError> {
    let policy = crate::retry::policy(Duration::from_millis(100), Duration::from_secs(30), None);
    let on_retry = |e: &SinkError, delay: Duration| {
        tracing::warn!(error = %e, retry_in = ?delay, "sink call failed, retrying");
        crate::metrics::retry(&cfg.stage, "sink");
    };
    crate::retry::transient(state, policy, shutdown, on_retry, call).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{ChannelConsumer, ChannelProducer};

    /// A sink that keeps what it is given in memory, committing at once.
    #[derive(Default)]
    struct MemorySink {
        written: Vec<(i64, String, bool)>,
        offsets: Offsets,
    }

    impl Sink for MemorySink {
        fn stored_offsets<'a>(
            &'a mut self,
            partitions: &'a [(String, i32)],
        ) -> BoxFuture<'a, Result<Offsets, SinkError>> {
            let got = partitions
                .iter()
                .filter_map(|tp| self.offsets.get(tp).map(|o| (tp.clone(), *o)))
                .collect();
            Box::pin(async move { Ok(got) })
        }

        fn write(&mut self, batch: SinkBatch) -> BoxFuture<'_, Result<Option<Offsets>, SinkError>> {
            for i in &batch.items {
                self.written
                    .push((i.offset, i.key.clone(), i.annotations.is_some()));
            }
            self.offsets.extend(batch.next.clone());
            Box::pin(async move { Ok(Some(batch.next)) })
        }

        fn flush(&mut self) -> BoxFuture<'_, Result<Option<Offsets>, SinkError>> {
            Box::pin(async { Ok(None) })
        }
    }

    /// Over a channel the runner takes every record in order, sets aside one it cannot decode,
    /// commits what its sink made durable, and returns when the channel's producers are done.
    #[tokio::test]
    async fn the_runner_reads_a_channel_to_its_end() {
        let (tx, rx) = ChannelProducer::new(4);
        let consumer = ChannelConsumer::new(rx);
        let (dead, mut dead_rx) = ChannelProducer::new(16);
        let feed = tokio::spawn(async move {
            for n in 0..10 {
                let value = match n {
                    3 => Some(b"not annotations".to_vec()),
                    7 => None,
                    _ => Some(annotations_of(n)),
                };
                let out = OutRecord::new("annotations", format!("pmid:{n}"), value);
                tx.enqueue(out).await.unwrap().await.unwrap();
            }
        });
        let cfg = SinkConfig {
            stage: "test".into(),
            dead_letter_topic: "dead".into(),
            batch_records: 3,
            linger: Duration::from_millis(5),
            idle_flush: Duration::from_millis(50),
            crash: None,
        };
        let mut sink = MemorySink::default();
        let never = CancellationToken::new();
        let stats = run(&consumer, &dead, &mut sink, &cfg, &never)
            .await
            .unwrap();
        feed.await.unwrap();
        assert_eq!(
            (stats.documents, stats.deletions, stats.dead_lettered),
            (8, 1, 1)
        );
        let offsets: Vec<i64> = sink.written.iter().map(|w| w.0).collect();
        assert_eq!(offsets, [0, 1, 2, 4, 5, 6, 7, 8, 9]);
        assert!(!sink.written[6].2, "offset 7 is a tombstone");
        assert_eq!(consumer.committed()[&("annotations".to_string(), 0)], 10);
        assert_eq!(dead_rx.recv().await.unwrap().key, "pmid:3");
    }

    fn annotations_of(n: i64) -> Vec<u8> {
        crate::codec::encode_annotations(&Annotations {
            schema_version: crate::record::SCHEMA_VERSION,
            id: format!("pmid:{n}"),
            models: Vec::new(),
            mentions: Vec::new(),
            abbreviations: Vec::new(),
            relations: Vec::new(),
            document: None,
        })
    }

    /// One partition's log (offsets `low..end`, one after another), read in order from a
    /// position that seeks move. It can be told to move its position past records once without
    /// handing them over (as a seek or an offset fetch lost in a rebalance does), and to ignore
    /// some seeks; it ends with [`TransportError::Closed`] at the end of the log.
    struct ScriptedConsumer {
        state: std::sync::Mutex<Scripted>,
    }

    struct Scripted {
        low: i64,
        end: i64,
        at: i64,
        /// On reaching the first offset, the position moves to the second.
        jump: Option<(i64, i64)>,
        ignore_seeks: usize,
        seeks: Vec<Option<i64>>,
    }

    impl ScriptedConsumer {
        fn new(low: i64, end: i64, at: i64) -> Self {
            ScriptedConsumer {
                state: std::sync::Mutex::new(Scripted {
                    low,
                    end,
                    at,
                    jump: None,
                    ignore_seeks: 0,
                    seeks: Vec::new(),
                }),
            }
        }
    }

    impl Consumer for ScriptedConsumer {
        fn recv_batch<'a>(
            &'a self,
            max: usize,
            _linger: Duration,
            _idle: Option<Duration>,
            _cancel: &'a CancellationToken,
        ) -> BoxFuture<'a, Result<Vec<InRecord>, TransportError>> {
            let mut st = self.state.lock().unwrap();
            let mut out = Vec::new();
            while out.len() < max && st.at < st.end {
                if let Some((from, to)) = st.jump
                    && st.at == from
                {
                    st.at = to;
                    st.jump = None;
                    continue;
                }
                out.push(InRecord {
                    topic: "annotations".into(),
                    partition: 0,
                    offset: st.at,
                    key: format!("pmid:{}", st.at),
                    value: Some(annotations_of(st.at)),
                    timestamp: None,
                    origin: None,
                });
                st.at += 1;
            }
            let got = if out.is_empty() {
                Err(TransportError::Closed)
            } else {
                Ok(out)
            };
            Box::pin(async move { got })
        }

        fn assignment(&self) -> (u64, Vec<(String, i32)>) {
            (1, vec![("annotations".into(), 0)])
        }

        fn seek(&self, _: &str, _: i32, offset: Option<i64>) -> Result<(), TransportError> {
            let mut st = self.state.lock().unwrap();
            st.seeks.push(offset);
            if st.ignore_seeks > 0 {
                st.ignore_seeks -= 1;
            } else {
                st.at = offset.unwrap_or(st.low).max(st.low);
            }
            Ok(())
        }

        fn low_watermark<'a>(
            &'a self,
            _: &'a str,
            _: i32,
        ) -> BoxFuture<'a, Result<i64, TransportError>> {
            let low = self.state.lock().unwrap().low;
            Box::pin(async move { Ok(low) })
        }

        fn commit_offsets(&self, _: &Offsets) -> Result<(), TransportError> {
            Ok(())
        }
    }

    fn gap_cfg() -> SinkConfig {
        SinkConfig {
            stage: "test".into(),
            dead_letter_topic: "dead".into(),
            batch_records: 3,
            linger: Duration::from_millis(1),
            idle_flush: Duration::from_millis(10),
            crash: None,
        }
    }

    async fn run_scripted(consumer: &ScriptedConsumer, sink: &mut MemorySink) -> SinkStats {
        let (dead, _dead_rx) = ChannelProducer::new(16);
        run(consumer, &dead, sink, &gap_cfg(), &CancellationToken::new())
            .await
            .unwrap()
    }

    fn written(sink: &MemorySink) -> Vec<i64> {
        sink.written.iter().map(|w| w.0).collect()
    }

    /// A consumer whose position moves past records without handing them over loses nothing:
    /// the runner seeks back to the sink's offset, again when a seek is not honoured, and the
    /// sink gets every record once, in order.
    #[tokio::test]
    async fn records_skipped_by_the_consumer_are_read_again() {
        let consumer = ScriptedConsumer::new(0, 20, 0);
        {
            let mut st = consumer.state.lock().unwrap();
            st.jump = Some((5, 9));
            st.ignore_seeks = 1;
        }
        let mut sink = MemorySink::default();
        let stats = run_scripted(&consumer, &mut sink).await;
        assert_eq!(written(&sink), (0..20).collect::<Vec<_>>());
        assert_eq!(stats.documents, 20);
        // The jump, then the ignored seek.
        assert_eq!(stats.rewinds, 2);
        assert_eq!(consumer.state.lock().unwrap().seeks, [Some(5), Some(5)]);
    }

    /// The group ahead of the sink (a sink restored from a backup): the runner goes back to
    /// where the sink stands and skips what it holds.
    #[tokio::test]
    async fn a_group_ahead_of_its_sink_is_taken_back() {
        let consumer = ScriptedConsumer::new(0, 12, 8);
        let mut sink = MemorySink::default();
        sink.offsets.insert(("annotations".into(), 0), 3);
        let stats = run_scripted(&consumer, &mut sink).await;
        assert_eq!(written(&sink), (3..12).collect::<Vec<_>>());
        assert_eq!((stats.rewinds, stats.skipped), (1, 0));
        // A sink that holds nothing goes back to the partition's start.
        let consumer = ScriptedConsumer::new(0, 6, 4);
        let mut sink = MemorySink::default();
        run_scripted(&consumer, &mut sink).await;
        assert_eq!(written(&sink), (0..6).collect::<Vec<_>>());
        assert_eq!(consumer.state.lock().unwrap().seeks, [None]);
    }

    /// Records the topic's retention removed before the sink read them cannot be read again:
    /// the runner goes on from the first the partition holds, without seeking.
    #[tokio::test]
    async fn records_removed_by_retention_are_passed_over() {
        let consumer = ScriptedConsumer::new(4, 10, 4);
        let mut sink = MemorySink::default();
        let stats = run_scripted(&consumer, &mut sink).await;
        assert_eq!(written(&sink), (4..10).collect::<Vec<_>>());
        assert_eq!(stats.rewinds, 0);
        assert!(consumer.state.lock().unwrap().seeks.is_empty());
    }

    #[test]
    fn crash_points_parse() {
        assert_eq!(
            "after-write:3".parse::<CrashPoint>(),
            Ok(CrashPoint::AfterWrite(3))
        );
        assert!("after-write:x".parse::<CrashPoint>().is_err());
        assert!("before:1".parse::<CrashPoint>().is_err());
    }
}
