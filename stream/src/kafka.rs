//! The Kafka transport (rdkafka / librdkafka).
//!
//! Producers are idempotent (`enable.idempotence=true`, hence `acks=all`) and compress batches
//! (lz4 by default). Consumers have auto-commit off: a stage stores an offset only after the
//! downstream write it covers is durable (docs/architecture.md, "Habits", 4).

use std::time::Duration;

use futures::future::BoxFuture;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};

use crate::transport::{Ack, Consumer, Origin, OutRecord, Producer, TransportError};
pub use crate::transport::{InRecord, Offsets, next_offsets};

/// How to reach the cluster.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// `host:port[,host:port...]`.
    pub brokers: String,
    /// Extra librdkafka properties (`security.protocol`, `sasl.*`, `compression.type`, ...),
    /// applied last so they override the defaults.
    pub options: Vec<(String, String)>,
}

impl KafkaConfig {
    pub fn new(brokers: impl Into<String>) -> Self {
        KafkaConfig {
            brokers: brokers.into(),
            options: Vec::new(),
        }
    }

    /// Parses `key=value` pairs, as given on the command line. The command line splits its
    /// list at commas, and librdkafka values hold commas too (`debug=cgrp,fetch`): a piece with
    /// no `=` continues the value before it.
    pub fn with_options<S: AsRef<str>>(mut self, pairs: &[S]) -> Result<Self, TransportError> {
        for p in pairs {
            let p = p.as_ref();
            match (p.split_once('='), self.options.last_mut()) {
                (Some((k, v)), _) => self
                    .options
                    .push((k.trim().to_string(), v.trim().to_string())),
                (None, Some((_, v))) => {
                    v.push(',');
                    v.push_str(p.trim());
                }
                (None, None) => {
                    return Err(TransportError::Fatal(format!(
                        "kafka option {p:?} is not key=value"
                    )));
                }
            }
        }
        Ok(self)
    }

    fn base(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        c.set("client.id", "pubmine");
        c
    }

    fn apply_options(&self, c: &mut ClientConfig) {
        for (k, v) in &self.options {
            c.set(k, v);
        }
    }

    /// The options with secret values hidden, for logs.
    pub fn redacted_options(&self) -> Vec<(String, String)> {
        self.options
            .iter()
            .map(|(k, v)| {
                let secret = ["password", "secret", "key", "token"]
                    .iter()
                    .any(|s| k.contains(s));
                (k.clone(), if secret { "***".into() } else { v.clone() })
            })
            .collect()
    }

    /// librdkafka settings of an idempotent, compressing producer.
    pub fn producer_config(&self) -> ClientConfig {
        let mut c = self.base();
        c.set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", "lz4")
            .set("linger.ms", "20")
            .set("batch.size", "1000000")
            .set("message.timeout.ms", "120000")
            .set("queue.buffering.max.kbytes", "262144");
        self.apply_options(&mut c);
        c
    }

    /// librdkafka settings of a consumer in `group` that commits only what it is told to.
    pub fn consumer_config(&self, group: &str) -> ClientConfig {
        let mut c = self.base();
        c.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false");
        self.apply_options(&mut c);
        c
    }

    pub fn producer(&self) -> Result<KafkaProducer, TransportError> {
        let inner: FutureProducer = self
            .producer_config()
            .create()
            .map_err(|e| TransportError::Fatal(format!("failed to create kafka producer: {e}")))?;
        Ok(KafkaProducer { inner })
    }

    /// A client that asks the cluster for its metadata: whether a broker answers, for
    /// readiness checks.
    pub fn probe(&self) -> Result<KafkaProbe, TransportError> {
        let mut c = self.base();
        self.apply_options(&mut c);
        let inner: rdkafka::consumer::BaseConsumer = c
            .create()
            .map_err(|e| TransportError::Fatal(format!("failed to create kafka client: {e}")))?;
        Ok(KafkaProbe {
            inner: std::sync::Arc::new(inner),
        })
    }

    /// Creates the topics that do not exist yet; existing ones are left as they are.
    pub async fn ensure_topics(
        &self,
        topics: &[&str],
        partitions: i32,
        replication: i32,
    ) -> Result<(), TransportError> {
        let mut c = self.base();
        self.apply_options(&mut c);
        let admin: AdminClient<DefaultClientContext> = c
            .create()
            .map_err(|e| TransportError::Fatal(format!("failed to create kafka admin: {e}")))?;
        let new: Vec<NewTopic> = topics
            .iter()
            .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(replication)))
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results = admin
            .create_topics(&new, &opts)
            .await
            .map_err(|e| TransportError::Delivery(format!("failed to create topics: {e}")))?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(TransportError::Delivery(format!(
                        "failed to create topic {topic}: {code}"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Asks the cluster whether it is there ([`KafkaConfig::probe`]).
#[derive(Clone)]
pub struct KafkaProbe {
    inner: std::sync::Arc<rdkafka::consumer::BaseConsumer>,
}

impl std::fmt::Debug for KafkaProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProbe").finish_non_exhaustive()
    }
}

impl KafkaProbe {
    /// Fetches the cluster's metadata within `timeout`: `Ok` when a broker answered.
    pub async fn check(&self, timeout: Duration) -> Result<(), String> {
        use rdkafka::consumer::Consumer as _;
        let c = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            c.fetch_metadata(None, timeout)
                .map(|_| ())
                .map_err(|e| format!("no broker answered: {e}"))
        })
        .await
        .map_err(|e| format!("the check failed: {e}"))?
    }
}

/// Notes the partitions each rebalance assigns, so that a sink that keeps its own offsets can
/// look them up on every assignment (see [`KafkaConsumer::assignment`]).
#[derive(Debug, Default)]
pub struct AssignContext {
    assigned: std::sync::Mutex<Vec<(String, i32)>>,
    /// Bumped by every assignment.
    epoch: std::sync::atomic::AtomicU64,
}

impl rdkafka::ClientContext for AssignContext {}

impl rdkafka::consumer::ConsumerContext for AssignContext {
    fn post_rebalance(
        &self,
        _consumer: &rdkafka::consumer::BaseConsumer<Self>,
        rebalance: &rdkafka::consumer::Rebalance<'_>,
    ) {
        use rdkafka::consumer::Rebalance;
        let mut assigned = self.assigned.lock().unwrap_or_else(|e| e.into_inner());
        match rebalance {
            Rebalance::Assign(tpl) => {
                self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                for e in tpl.elements() {
                    tracing::info!(
                        topic = e.topic(),
                        partition = e.partition(),
                        "partition assigned"
                    );
                    assigned.push((e.topic().to_string(), e.partition()));
                }
            }
            Rebalance::Revoke(tpl) => {
                for e in tpl.elements() {
                    tracing::info!(
                        topic = e.topic(),
                        partition = e.partition(),
                        "partition revoked"
                    );
                    assigned.retain(|(t, p)| !(t == e.topic() && *p == e.partition()));
                }
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance failed"),
        }
    }
}

/// A consumer-group member that commits only offsets it is given: a stage commits a batch's
/// offsets after the writes it caused are durable (at-least-once).
pub struct KafkaConsumer {
    inner: std::sync::Arc<rdkafka::consumer::StreamConsumer<AssignContext>>,
}

impl std::fmt::Debug for KafkaConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConsumer").finish_non_exhaustive()
    }
}

impl KafkaConfig {
    /// Joins `group` and subscribes to `topics`.
    pub fn consumer(&self, group: &str, topics: &[&str]) -> Result<KafkaConsumer, TransportError> {
        use rdkafka::consumer::Consumer as _;
        let inner: rdkafka::consumer::StreamConsumer<AssignContext> = self
            .consumer_config(group)
            .create_with_context(AssignContext::default())
            .map_err(|e| TransportError::Fatal(format!("failed to create kafka consumer: {e}")))?;
        inner.subscribe(topics).map_err(|e| {
            TransportError::Fatal(format!("failed to subscribe to {topics:?}: {e}"))
        })?;
        Ok(KafkaConsumer {
            inner: std::sync::Arc::new(inner),
        })
    }
}

impl KafkaConsumer {
    /// Reports the lag of every partition assigned to this member
    /// ([`crate::metrics::CONSUMER_LAG`]) every `every`, on a thread of its own that ends with
    /// the consumer. The lag is the partition's high watermark, asked of the broker, minus the
    /// position of this member (the offset after the last record it has taken; before it has
    /// taken one, the group's committed offset), so a stage that stops taking records shows a
    /// growing lag. A partition the broker does not answer for keeps its last figure; one taken
    /// away by a rebalance is reported as 0 here, as its new member reports its lag.
    pub fn report_lag(&self, every: Duration) -> std::io::Result<()> {
        let consumer = std::sync::Arc::downgrade(&self.inner);
        std::thread::Builder::new()
            .name("pubmine-lag".into())
            .spawn(move || {
                let mut reported: Vec<(String, i32)> = Vec::new();
                loop {
                    std::thread::sleep(every);
                    let Some(c) = consumer.upgrade() else {
                        return;
                    };
                    let now = report_lag_once(&c);
                    for (topic, partition) in reported.iter().filter(|tp| !now.contains(tp)) {
                        crate::metrics::lag(topic, *partition, 0);
                    }
                    reported = now;
                }
            })
            .map(|_| ())
    }

    /// Up to `max` records: waits for the first (until `cancel` resolves), then takes what comes
    /// within `linger`.
    pub async fn recv_batch(
        &self,
        max: usize,
        linger: Duration,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Vec<InRecord>, TransportError> {
        self.recv_batch_within(max, linger, None, cancel).await
    }

    /// As [`KafkaConsumer::recv_batch`], but returns (perhaps empty) once `idle` has passed with
    /// no record, so a caller can do timed work such as a periodic commit.
    pub async fn recv_batch_within(
        &self,
        max: usize,
        linger: Duration,
        idle: Option<Duration>,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Vec<InRecord>, TransportError> {
        use rdkafka::Message as _;
        let mut out = Vec::new();
        let mut deadline: Option<tokio::time::Instant> =
            idle.map(|d| tokio::time::Instant::now() + d);
        while out.len() < max {
            let recv = self.inner.recv();
            let msg = match deadline {
                None => tokio::select! {
                    m = recv => m,
                    _ = cancel.cancelled() => break,
                },
                Some(d) => tokio::select! {
                    m = recv => m,
                    _ = tokio::time::sleep_until(d) => break,
                    _ = cancel.cancelled() => break,
                },
            };
            let m = msg.map_err(|e| TransportError::Delivery(format!("consume failed: {e}")))?;
            if out.is_empty() {
                deadline = Some(tokio::time::Instant::now() + linger);
            }
            out.push(InRecord {
                topic: m.topic().to_string(),
                partition: m.partition(),
                offset: m.offset(),
                key: String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                value: m.payload().map(<[u8]>::to_vec),
                timestamp: m.timestamp().to_millis(),
                origin: origin_of(&m),
            });
        }
        Ok(out)
    }

    /// As [`KafkaConsumer::recv_batch_within`], riding out a broker that is away. librdkafka
    /// reconnects by itself and reports the outage through the consumer's queue, one event per
    /// failed connection ("all broker connections are down", "connection refused"): such a
    /// transient error is logged (the first of a run of them, then at most every 10 s) and the
    /// receive goes on, for as long as the outage lasts; nothing is lost by waiting, and a
    /// restarted process would wait the same. The errors were queued while the broker was away,
    /// so they are taken as they come, with only a short pause against a busy loop (backing off
    /// per error would fall behind the queue and leave the records waiting behind stale
    /// errors). Returns empty when `cancel` resolves meanwhile.
    pub async fn recv_batch_patient(
        &self,
        max: usize,
        linger: Duration,
        idle: Option<Duration>,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Vec<InRecord>, TransportError> {
        use crate::error::{Classify as _, ErrorClass};
        let mut errors = 0u64;
        let mut logged: Option<tokio::time::Instant> = None;
        loop {
            match self.recv_batch_within(max, linger, idle, cancel).await {
                Err(e) if e.class() == ErrorClass::Transient => {
                    errors += 1;
                    if logged.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                        tracing::warn!(error = %e, errors, "receive failed; librdkafka reconnects, receiving on");
                        logged = Some(tokio::time::Instant::now());
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                        _ = cancel.cancelled() => return Ok(Vec::new()),
                    }
                }
                Ok(records) => {
                    if errors > 0 {
                        tracing::info!(errors, "receiving again after broker errors");
                    }
                    return Ok(records);
                }
                other => return other,
            }
        }
    }

    /// The partitions assigned to this member now, and the assignment epoch: a number that
    /// changes with every assignment, so a caller knows when to look again.
    pub fn assignment(&self) -> (u64, Vec<(String, i32)>) {
        use rdkafka::consumer::Consumer as _;
        let ctx = self.inner.context();
        let assigned = ctx.assigned.lock().unwrap_or_else(|e| e.into_inner());
        let epoch = ctx.epoch.load(std::sync::atomic::Ordering::SeqCst);
        (epoch, assigned.clone())
    }

    /// Moves the read position of an assigned partition: to `offset`, or to the start of the
    /// partition when `None`.
    pub fn seek(
        &self,
        topic: &str,
        partition: i32,
        offset: Option<i64>,
    ) -> Result<(), TransportError> {
        use rdkafka::consumer::Consumer as _;
        let to = offset.map_or(rdkafka::Offset::Beginning, rdkafka::Offset::Offset);
        self.inner
            .seek(topic, partition, to, Duration::from_secs(10))
            .map_err(|e| {
                TransportError::Delivery(format!(
                    "failed to seek {topic}/{partition} to {to:?}: {e}"
                ))
            })
    }

    /// The partition's low watermark, asked of its leader (within 10 s).
    pub async fn low_watermark(&self, topic: &str, partition: i32) -> Result<i64, TransportError> {
        use rdkafka::consumer::Consumer as _;
        let c = self.inner.clone();
        let t = topic.to_string();
        tokio::task::spawn_blocking(move || {
            c.fetch_watermarks(&t, partition, Duration::from_secs(10))
        })
        .await
        .map_err(|e| TransportError::Fatal(format!("the watermark query failed: {e}")))?
        .map(|(low, _)| low)
        .map_err(|e| {
            TransportError::Delivery(format!(
                "failed to fetch the watermarks of {topic}/{partition}: {e}"
            ))
        })
    }

    /// Commits these next-to-read offsets to the group.
    pub fn commit_offsets(&self, next: &Offsets) -> Result<(), TransportError> {
        use rdkafka::consumer::{CommitMode, Consumer as _};
        if next.is_empty() {
            return Ok(());
        }
        let mut tpl = rdkafka::TopicPartitionList::new();
        for ((topic, partition), offset) in next {
            tpl.add_partition_offset(topic, *partition, rdkafka::Offset::Offset(*offset))
                .map_err(|e| TransportError::Fatal(e.to_string()))?;
        }
        self.inner
            .commit(&tpl, CommitMode::Sync)
            .map_err(|e| TransportError::Delivery(format!("offset commit failed: {e}")))
    }
}

/// Reports the lag of the partitions assigned now; returns them.
fn report_lag_once(c: &rdkafka::consumer::StreamConsumer<AssignContext>) -> Vec<(String, i32)> {
    use rdkafka::consumer::Consumer as _;
    const ASK: Duration = Duration::from_secs(2);
    let assigned = c
        .context()
        .assigned
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if assigned.is_empty() {
        return assigned;
    }
    let position = c.position().ok();
    let mut committed: Option<rdkafka::TopicPartitionList> = None;
    for (topic, partition) in &assigned {
        let (topic, partition) = (topic.as_str(), *partition);
        let Ok((low, high)) = c.fetch_watermarks(topic, partition, ASK) else {
            continue;
        };
        let at = |tpl: &rdkafka::TopicPartitionList| match tpl
            .find_partition(topic, partition)
            .map(|e| e.offset())
        {
            Some(rdkafka::Offset::Offset(o)) => Some(o),
            _ => None,
        };
        let mut offset = position.as_ref().and_then(at);
        if offset.is_none() {
            if committed.is_none() {
                committed = c.committed(ASK).ok();
            }
            offset = committed.as_ref().and_then(at);
        }
        // Nothing taken and nothing committed: the whole partition is ahead.
        crate::metrics::lag(topic, partition, high - offset.unwrap_or(low));
    }
    assigned
}

impl Consumer for KafkaConsumer {
    fn recv_batch<'a>(
        &'a self,
        max: usize,
        linger: Duration,
        idle: Option<Duration>,
        cancel: &'a tokio_util::sync::CancellationToken,
    ) -> BoxFuture<'a, Result<Vec<InRecord>, TransportError>> {
        Box::pin(self.recv_batch_patient(max, linger, idle, cancel))
    }

    fn assignment(&self) -> (u64, Vec<(String, i32)>) {
        KafkaConsumer::assignment(self)
    }

    fn seek(&self, topic: &str, partition: i32, offset: Option<i64>) -> Result<(), TransportError> {
        KafkaConsumer::seek(self, topic, partition, offset)
    }

    fn low_watermark<'a>(
        &'a self,
        topic: &'a str,
        partition: i32,
    ) -> BoxFuture<'a, Result<i64, TransportError>> {
        Box::pin(KafkaConsumer::low_watermark(self, topic, partition))
    }

    fn commit_offsets(&self, next: &Offsets) -> Result<(), TransportError> {
        KafkaConsumer::commit_offsets(self, next)
    }
}

/// An idempotent Kafka producer.
#[derive(Clone)]
pub struct KafkaProducer {
    inner: FutureProducer,
}

impl std::fmt::Debug for KafkaProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProducer").finish_non_exhaustive()
    }
}

impl Producer for KafkaProducer {
    fn enqueue(&self, record: OutRecord) -> BoxFuture<'_, Result<Ack, TransportError>> {
        Box::pin(async move {
            let origin = record.origin.as_ref().map(ToString::to_string);
            loop {
                let mut fr: FutureRecord<'_, str, [u8]> =
                    FutureRecord::to(&record.topic).key(record.key.as_str());
                if let Some(v) = &record.value {
                    fr = fr.payload(v.as_slice());
                }
                if let Some(origin) = &origin {
                    fr = fr.headers(OwnedHeaders::new().insert(Header {
                        key: ORIGIN_HEADER,
                        value: Some(origin.as_str()),
                    }));
                }
                match self.inner.send_result(fr) {
                    Ok(delivery) => {
                        let ack: Ack = Box::pin(async move {
                            match delivery.await {
                                Ok(Ok(_)) => Ok(()),
                                Ok(Err((e, _))) => Err(classify(e)),
                                Err(_) => Err(TransportError::Closed),
                            }
                        });
                        return Ok(ack);
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        // librdkafka's queue is full: wait for deliveries to make room.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((e, _)) => return Err(classify(e)),
                }
            }
        })
    }

    fn flush(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || inner.flush(Duration::from_secs(120)))
                .await
                .map_err(|e| TransportError::Fatal(e.to_string()))?
                .map_err(|e| TransportError::Delivery(format!("flush failed: {e}")))
        })
    }
}

/// The header that carries a record's [`OutRecord::origin`], as `topic/partition@offset` and
/// the origin's timestamp (see [`Origin`]).
pub const ORIGIN_HEADER: &str = "pubmine-origin";

/// The origin a message's header names; a header that does not read as a position is ignored
/// with a warning (the record is then ordered by its arrival alone, as one without a header).
fn origin_of(m: &rdkafka::message::BorrowedMessage<'_>) -> Option<Origin> {
    use rdkafka::Message as _;
    let header = m
        .headers()?
        .iter()
        .filter(|h| h.key == ORIGIN_HEADER)
        .last()?;
    let text = String::from_utf8_lossy(header.value.unwrap_or_default());
    match text.parse() {
        Ok(p) => Some(p),
        Err(reason) => {
            tracing::warn!(topic = m.topic(), partition = m.partition(), offset = m.offset(), %reason, "origin header ignored");
            None
        }
    }
}

/// Sorts a produce error: a record the cluster will never take, or trouble worth retrying.
fn classify(e: KafkaError) -> TransportError {
    match e {
        KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge) => {
            TransportError::TooLarge(e.to_string())
        }
        KafkaError::MessageProduction(RDKafkaErrorCode::InvalidMessage) => {
            TransportError::Fatal(e.to_string())
        }
        other => TransportError::Delivery(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_secrets_are_redacted() {
        let c = KafkaConfig::new("b:9092")
            .with_options(&["security.protocol=SASL_SSL", "sasl.password = hunter2"])
            .unwrap();
        let shown = c.redacted_options();
        assert_eq!(shown[0].1, "SASL_SSL");
        assert_eq!(shown[1], ("sasl.password".into(), "***".into()));
        assert!(KafkaConfig::new("b").with_options(&["novalue"]).is_err());
        // `--kafka-option debug=cgrp,fetch`, split at its comma by the command line.
        let split = KafkaConfig::new("b")
            .with_options(&["debug=cgrp", "fetch", "linger.ms=5"])
            .unwrap();
        assert_eq!(
            split.options,
            [
                ("debug".to_string(), "cgrp,fetch".to_string()),
                ("linger.ms".to_string(), "5".to_string())
            ]
        );
        let pc = c.producer_config();
        assert_eq!(pc.get("enable.idempotence"), Some("true"));
        assert_eq!(pc.get("sasl.password"), Some("hunter2"));
    }

    /// What docs/ingest.md promises of the producer: idempotent with `acks=all`, compressing with
    /// lz4; and librdkafka takes the settings together (it refuses idempotence with other acks,
    /// and a codec it was built without).
    #[test]
    fn the_producer_is_idempotent_with_acks_all_and_compresses_with_lz4() {
        let pc = KafkaConfig::new("127.0.0.1:9").producer_config();
        assert_eq!(pc.get("enable.idempotence"), Some("true"));
        assert_eq!(pc.get("acks"), Some("all"));
        assert_eq!(pc.get("compression.type"), Some("lz4"));
        assert!(KafkaConfig::new("127.0.0.1:9").producer().is_ok());
        let mut bad = KafkaConfig::new("127.0.0.1:9").producer_config();
        bad.set("acks", "1");
        assert!(
            bad.create::<rdkafka::producer::FutureProducer>().is_err(),
            "librdkafka checks the settings it is given"
        );
    }
}
