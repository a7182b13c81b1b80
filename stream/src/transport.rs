//! Both sides of a stage, whatever carries the records: Kafka between processes, a bounded
//! in-process channel inside one process. Stage code is written against [`Producer`] and
//! [`Consumer`], never against a transport.
//!
//! Sending is two steps, so a stage can keep many records in flight and still know when each one
//! is safe: [`Producer::enqueue`] waits only for room in the transport's queue, and the returned
//! [`Ack`] resolves once the record is durably accepted (for Kafka: acknowledged by the brokers).

use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::error::{Classify, ErrorClass};

/// One record to send: a topic, a key, and a value (`None` is a tombstone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRecord {
    pub topic: String,
    pub key: String,
    pub value: Option<Vec<u8>>,
    /// The input record this one was made from, when it was made from one: carried beside the
    /// value (a Kafka header), on tombstones too, so that a later stage can tell an older
    /// version of a key from a newer one whatever order they arrive in.
    pub origin: Option<Origin>,
}

impl OutRecord {
    /// A record made from no other record.
    pub fn new(topic: impl Into<String>, key: impl Into<String>, value: Option<Vec<u8>>) -> Self {
        OutRecord {
            topic: topic.into(),
            key: key.into(),
            value,
            origin: None,
        }
    }

    /// The same record, naming `origin` as the record it was made from.
    pub fn made_from(self, origin: Origin) -> Self {
        OutRecord {
            origin: Some(origin),
            ..self
        }
    }
}

/// Where a record sits: its topic, partition and offset, written `topic/partition@offset`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}@{}", self.topic, self.partition, self.offset)
    }
}

impl std::str::FromStr for Position {
    type Err = String;

    /// Reads `topic/partition@offset` (the topic may itself hold `/` or `@`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not a position (topic/partition@offset): {s:?}");
        let (rest, offset) = s.rsplit_once('@').ok_or_else(bad)?;
        let (topic, partition) = rest.rsplit_once('/').ok_or_else(bad)?;
        if topic.is_empty() {
            return Err(bad());
        }
        Ok(Position {
            topic: topic.to_owned(),
            partition: partition.parse().map_err(|_| bad())?,
            offset: offset.parse().map_err(|_| bad())?,
        })
    }
}

/// Resolves when the record is durably accepted, or with why it was not.
pub type Ack = BoxFuture<'static, Result<(), TransportError>>;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The broker refused or lost the record after the client's own retries; the record was not
    /// accepted. Retrying the whole unit of work (a file, a batch) is safe.
    #[error("delivery failed: {0}")]
    Delivery(String),
    /// This one record is larger than the transport takes (`message.max.bytes`): a poison
    /// record, for the dead-letter topic; the records around it are unaffected.
    #[error("record too large: {0}")]
    TooLarge(String),
    /// The transport is closed (shutdown, or the consuming side went away).
    #[error("transport closed")]
    Closed,
    /// Misconfiguration or an error that retrying cannot fix.
    #[error("transport error: {0}")]
    Fatal(String),
}

impl TransportError {
    /// True when retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Transient
    }
}

impl Classify for TransportError {
    fn class(&self) -> ErrorClass {
        match self {
            TransportError::Delivery(_) => ErrorClass::Transient,
            TransportError::TooLarge(_) => ErrorClass::Poison,
            TransportError::Closed | TransportError::Fatal(_) => ErrorClass::Fatal,
        }
    }
}

/// Where a stage sends its records.
pub trait Producer: Send + Sync {
    /// Hands a record to the transport, waiting while its queue is full.
    fn enqueue(&self, record: OutRecord) -> BoxFuture<'_, Result<Ack, TransportError>>;

    /// Waits until every record enqueued so far is acknowledged or has failed.
    fn flush(&self) -> BoxFuture<'_, Result<(), TransportError>>;
}

/// The in-process transport: a bounded channel. A record counts as accepted once it is in the
/// channel; the process is the unit of durability in this mode.
#[derive(Debug, Clone)]
pub struct ChannelProducer {
    tx: tokio::sync::mpsc::Sender<OutRecord>,
}

impl ChannelProducer {
    /// A producer and the receiver the next stage reads from, holding at most `capacity` records.
    pub fn new(capacity: usize) -> (Self, tokio::sync::mpsc::Receiver<OutRecord>) {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
        (ChannelProducer { tx }, rx)
    }
}

impl Producer for ChannelProducer {
    fn enqueue(&self, record: OutRecord) -> BoxFuture<'_, Result<Ack, TransportError>> {
        Box::pin(async move {
            self.tx
                .send(record)
                .await
                .map_err(|_| TransportError::Closed)?;
            let ack: Ack = Box::pin(async { Ok(()) });
            Ok(ack)
        })
    }

    fn flush(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async { Ok(()) })
    }
}

/// The record another was made from: its position, and its timestamp (milliseconds since the
/// epoch, Kafka's `CreateTime` or `LogAppendTime`) when the transport gives one. Written
/// `topic/partition@offset` or `topic/partition@offset timestamp`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub position: Position,
    pub timestamp: Option<i64>,
}

impl Origin {
    /// The record at `offset` of `partition` of `topic`, written at `timestamp` when known.
    pub fn new(
        topic: impl Into<String>,
        partition: i32,
        offset: i64,
        timestamp: Option<i64>,
    ) -> Origin {
        Origin {
            position: Position {
                topic: topic.into(),
                partition,
                offset,
            },
            timestamp,
        }
    }

    /// True when `self` is an earlier record than `other`: the same partition of the same topic,
    /// a smaller offset, and (when both have one) a timestamp no later. Records of different
    /// partitions or topics are not ordered: neither is earlier. The timestamps keep a topic
    /// deleted and made again under the same name (its offsets starting over) from passing for
    /// the past of the old one.
    pub fn is_before(&self, other: &Origin) -> bool {
        let (a, b) = (&self.position, &other.position);
        a.topic == b.topic
            && a.partition == b.partition
            && a.offset < b.offset
            && match (self.timestamp, other.timestamp) {
                (Some(x), Some(y)) => x <= y,
                _ => true,
            }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.timestamp {
            Some(t) => write!(f, "{} {t}", self.position),
            None => write!(f, "{}", self.position),
        }
    }
}

impl std::str::FromStr for Origin {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (position, timestamp) = match s.rsplit_once(' ') {
            Some((p, t)) => (
                p,
                Some(
                    t.parse()
                        .map_err(|_| format!("not a timestamp after the position: {s:?}"))?,
                ),
            ),
            None => (s, None),
        };
        Ok(Origin {
            position: position.parse()?,
            timestamp,
        })
    }
}

/// A record as a consumer receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    /// `None`: a tombstone.
    pub value: Option<Vec<u8>>,
    /// When the record was written (milliseconds since the epoch), when the transport says.
    pub timestamp: Option<i64>,
    /// What the producer named as the record this one was made from ([`OutRecord::origin`]).
    pub origin: Option<Origin>,
}

impl InRecord {
    /// Where this record sits (`topic/partition@offset` when written), for dead letters and
    /// logs.
    pub fn position(&self) -> Position {
        Position {
            topic: self.topic.clone(),
            partition: self.partition,
            offset: self.offset,
        }
    }

    /// This record as the origin of what is made from it.
    pub fn as_origin(&self) -> Origin {
        Origin {
            position: self.position(),
            timestamp: self.timestamp,
        }
    }
}

/// Next offset to read, per topic and partition.
pub type Offsets = std::collections::BTreeMap<(String, i32), i64>;

/// The offsets after the last record of each topic and partition in `records`.
pub fn next_offsets(records: &[InRecord]) -> Offsets {
    let mut next = Offsets::new();
    for r in records {
        let e = next.entry((r.topic.clone(), r.partition)).or_insert(0);
        *e = (*e).max(r.offset + 1);
    }
    next
}

/// Where a stage reads its records from: a member of a consumer group (Kafka), or the receiving
/// end of a channel. Offsets are the transport's positions; a stage commits the offsets after
/// the records whose outputs are durable (at-least-once).
pub trait Consumer: Send + Sync {
    /// Up to `max` records: waits for the first (until `cancel` resolves, or until `idle` has
    /// passed, when given: then it returns empty, so a caller can do timed work), then takes what
    /// comes within `linger`. A fault of the transport that may pass is ridden out inside; an
    /// error returned is not worth retrying.
    fn recv_batch<'a>(
        &'a self,
        max: usize,
        linger: Duration,
        idle: Option<Duration>,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Vec<InRecord>, TransportError>>;

    /// The partitions assigned now, and a number that changes with every assignment, so that a
    /// caller knows when to look again.
    fn assignment(&self) -> (u64, Vec<(String, i32)>);

    /// Moves the read position of an assigned partition: to `offset`, or to its start (`None`).
    fn seek(&self, topic: &str, partition: i32, offset: Option<i64>) -> Result<(), TransportError>;

    /// The first offset the partition still holds: the records before it were removed (a
    /// topic's retention), and a reader that wanted them cannot have them.
    fn low_watermark<'a>(
        &'a self,
        topic: &'a str,
        partition: i32,
    ) -> BoxFuture<'a, Result<i64, TransportError>>;

    /// Records that every record before these next-to-read offsets is done.
    fn commit_offsets(&self, next: &Offsets) -> Result<(), TransportError>;

    /// [`Consumer::commit_offsets`] for the offsets after the last of each partition's records.
    fn commit(&self, records: &[InRecord]) -> Result<(), TransportError> {
        self.commit_offsets(&next_offsets(records))
    }
}

/// Moves `committed` forward to `next` where it is ahead (never back).
pub fn advance(committed: &mut Offsets, next: &Offsets) {
    for (tp, o) in next {
        let e = committed.entry(tp.clone()).or_insert(0);
        *e = (*e).max(*o);
    }
}

/// Up to `max` items of `rx`, each made a record by `f`: waits for the first (until `cancel`,
/// or until `idle` has passed: then empty), then takes what comes within `linger`. At the end of
/// the channel, what is in hand, then [`TransportError::Closed`].
pub(crate) async fn recv_from<T, R>(
    rx: &mut tokio::sync::mpsc::Receiver<T>,
    max: usize,
    linger: Duration,
    idle: Option<Duration>,
    cancel: &CancellationToken,
    mut f: impl FnMut(T) -> R,
) -> Result<Vec<R>, TransportError> {
    let mut out = Vec::new();
    let mut deadline = idle.map(|d| tokio::time::Instant::now() + d);
    while out.len() < max.max(1) {
        let next = match deadline {
            None => tokio::select! {
                r = rx.recv() => r,
                _ = cancel.cancelled() => break,
            },
            Some(d) => tokio::select! {
                r = rx.recv() => r,
                _ = tokio::time::sleep_until(d) => break,
                _ = cancel.cancelled() => break,
            },
        };
        let Some(item) = next else {
            if out.is_empty() {
                return Err(TransportError::Closed);
            }
            break;
        };
        if out.is_empty() {
            deadline = Some(tokio::time::Instant::now() + linger);
        }
        out.push(f(item));
    }
    Ok(out)
}

/// The receiving end of a [`ChannelProducer`]: one partition (0) per topic, offsets counted from
/// 0 as records arrive. It cannot go back: a seek to an offset it has passed fails (the records
/// before it are no longer held). What is committed is kept for the caller to read
/// ([`ChannelConsumer::committed`]): in one process, that is the acknowledgement that travels
/// back from the consuming stage.
#[derive(Debug)]
pub struct ChannelConsumer {
    rx: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<OutRecord>>,
    state: Mutex<ChannelState>,
}

#[derive(Debug, Default)]
struct ChannelState {
    /// Next offset per topic.
    next: std::collections::BTreeMap<String, i64>,
    committed: Offsets,
}

impl ChannelConsumer {
    pub fn new(rx: tokio::sync::mpsc::Receiver<OutRecord>) -> Self {
        ChannelConsumer {
            rx: tokio::sync::Mutex::new(rx),
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ChannelState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The offsets committed so far.
    pub fn committed(&self) -> Offsets {
        self.state().committed.clone()
    }

    fn number(&self, r: OutRecord) -> InRecord {
        let mut st = self.state();
        let next = st.next.entry(r.topic.clone()).or_insert(0);
        let offset = *next;
        *next += 1;
        InRecord {
            topic: r.topic,
            partition: 0,
            offset,
            key: r.key,
            value: r.value,
            timestamp: None,
            origin: r.origin,
        }
    }
}

impl Consumer for ChannelConsumer {
    fn recv_batch<'a>(
        &'a self,
        max: usize,
        linger: Duration,
        idle: Option<Duration>,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Vec<InRecord>, TransportError>> {
        Box::pin(async move {
            let mut rx = self.rx.lock().await;
            let got = recv_from(&mut rx, max, linger, idle, cancel, |r| self.number(r)).await;
            // What waits in the channel is this stage's lag.
            if let Some(r) = got.as_ref().ok().and_then(|g| g.first()) {
                crate::metrics::lag(&r.topic, 0, rx.len() as i64);
            }
            got
        })
    }

    fn assignment(&self) -> (u64, Vec<(String, i32)>) {
        let st = self.state();
        (1, st.next.keys().map(|t| (t.clone(), 0)).collect())
    }

    fn seek(&self, topic: &str, partition: i32, offset: Option<i64>) -> Result<(), TransportError> {
        let at = self.state().next.get(topic).copied().unwrap_or(0);
        if partition != 0 || offset.unwrap_or(0) < at {
            return Err(TransportError::Fatal(format!(
                "a channel cannot go back: {topic}/{partition} is at {at}, asked for {offset:?}"
            )));
        }
        Ok(())
    }

    /// A channel keeps every record it was given until it is read.
    fn low_watermark<'a>(
        &'a self,
        _topic: &'a str,
        _partition: i32,
    ) -> BoxFuture<'a, Result<i64, TransportError>> {
        Box::pin(async { Ok(0) })
    }

    fn commit_offsets(&self, next: &Offsets) -> Result<(), TransportError> {
        advance(&mut self.state().committed, next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn channel_carries_records_and_tombstones_in_order() {
        let (p, mut rx) = ChannelProducer::new(4);
        for (key, value) in [("pmid:1", Some(b"{}".to_vec())), ("pmid:2", None)] {
            let ack = p.enqueue(OutRecord::new("t", key, value)).await.unwrap();
            ack.await.unwrap();
        }
        assert_eq!(rx.recv().await.unwrap().key, "pmid:1");
        assert_eq!(rx.recv().await.unwrap().value, None);
        drop(rx);
        let err = p
            .enqueue(OutRecord::new("t", "k", None))
            .await
            .err()
            .unwrap();
        assert!(matches!(err, TransportError::Closed));
    }

    fn at(topic: &str, partition: i32, offset: i64, timestamp: Option<i64>) -> Origin {
        Origin::new(topic, partition, offset, timestamp)
    }

    #[test]
    fn origins_read_back_as_written_and_order_only_within_a_partition() {
        for o in [
            at("pubmed.documents", 3, 1234, Some(1_765_000_000_000)),
            at("pubmed.documents", 3, 1234, None),
            at("in/x@y.jsonl", 0, 7, None),
        ] {
            assert_eq!(o.to_string().parse::<Origin>(), Ok(o));
        }
        assert_eq!(at("docs", 3, 12, None).to_string(), "docs/3@12");
        assert_eq!(at("docs", 3, 12, Some(5)).to_string(), "docs/3@12 5");
        for bad in [
            "",
            "docs",
            "docs/3",
            "docs@3",
            "/3@4",
            "docs/x@4",
            "docs/3@",
            "docs/3@4 x",
        ] {
            assert!(bad.parse::<Origin>().is_err(), "{bad:?}");
        }
        let t = Some(100);
        assert!(at("d", 0, 1, t).is_before(&at("d", 0, 2, t)));
        assert!(at("d", 0, 1, None).is_before(&at("d", 0, 2, t)));
        assert!(!at("d", 0, 2, t).is_before(&at("d", 0, 2, t)));
        assert!(!at("d", 0, 2, t).is_before(&at("d", 0, 1, t)));
        assert!(
            !at("d", 0, 1, t).is_before(&at("d", 1, 2, t)),
            "another partition"
        );
        assert!(
            !at("d", 0, 1, t).is_before(&at("e", 0, 2, t)),
            "another topic"
        );
        // A topic made again under its name: a smaller offset, written later.
        assert!(!at("d", 0, 1, Some(200)).is_before(&at("d", 0, 2, t)));
    }

    #[tokio::test]
    async fn a_channel_carries_each_records_origin() {
        let (p, rx) = ChannelProducer::new(4);
        let c = ChannelConsumer::new(rx);
        let origin = at("docs", 2, 40, Some(7));
        for r in [
            OutRecord::new("out", "pmid:1", None).made_from(origin.clone()),
            OutRecord::new("out", "pmid:2", None),
        ] {
            p.enqueue(r).await.unwrap().await.unwrap();
        }
        let got = c
            .recv_batch(
                2,
                Duration::from_millis(10),
                None,
                &CancellationToken::new(),
            )
            .await
            .unwrap();
        assert_eq!(got[0].origin, Some(origin));
        assert_eq!(got[1].origin, None);
    }

    #[tokio::test]
    async fn channel_consumer_numbers_records_and_keeps_commits() {
        let (p, rx) = ChannelProducer::new(8);
        let c = ChannelConsumer::new(rx);
        for k in ["a", "b", "c"] {
            let out = OutRecord::new("docs", k, Some(k.as_bytes().to_vec()));
            p.enqueue(out).await.unwrap().await.unwrap();
        }
        let never = CancellationToken::new();
        let got = c
            .recv_batch(2, Duration::from_millis(10), None, &never)
            .await
            .unwrap();
        assert_eq!(
            got.iter()
                .map(|r| (r.key.as_str(), r.offset))
                .collect::<Vec<_>>(),
            [("a", 0), ("b", 1)]
        );
        c.commit(&got).unwrap();
        assert_eq!(c.committed()[&("docs".to_string(), 0)], 2);
        assert!(
            c.seek("docs", 0, Some(0)).is_err(),
            "a channel cannot go back"
        );
        assert_eq!(c.assignment().1, [("docs".to_string(), 0)]);
        // Nothing more for a while: empty after `idle`.
        drop(p);
        let last = c
            .recv_batch(
                8,
                Duration::from_millis(10),
                Some(Duration::from_millis(10)),
                &never,
            )
            .await
            .unwrap();
        assert_eq!(last[0].offset, 2);
        let end = c.recv_batch(8, Duration::ZERO, None, &never).await;
        assert!(matches!(end, Err(TransportError::Closed)));
    }
}
