//! The Kafka transport (rdkafka / librdkafka).
//!
//! Producers are idempotent (`enable.idempotence=true`, hence `acks=all`) and compress batches
//! (lz4 by default). Consumers have auto-commit off: a stage stores an offset only after the
//! downstream write it covers is durable (DESIGN.md, habit 4).

use std::time::Duration;

use futures::future::BoxFuture;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};

use crate::transport::{Ack, OutRecord, Producer, TransportError};

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

    /// Parses `key=value` pairs, as given on the command line.
    pub fn with_options<S: AsRef<str>>(mut self, pairs: &[S]) -> Result<Self, TransportError> {
        for p in pairs {
            let p = p.as_ref();
            let (k, v) = p.split_once('=').ok_or_else(|| {
                TransportError::Fatal(format!("kafka option {p:?} is not key=value"))
            })?;
            self.options
                .push((k.trim().to_string(), v.trim().to_string()));
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

/// A record as a consumer receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    /// `None`: a tombstone.
    pub value: Option<Vec<u8>>,
}

impl InRecord {
    /// `topic/partition@offset`, for dead letters and logs.
    pub fn position(&self) -> String {
        format!("{}/{}@{}", self.topic, self.partition, self.offset)
    }
}

/// A consumer-group member that commits only offsets it is given: a stage commits a batch's
/// offsets after the writes it caused are durable (at-least-once).
pub struct KafkaConsumer {
    inner: rdkafka::consumer::StreamConsumer,
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
        let inner: rdkafka::consumer::StreamConsumer = self
            .consumer_config(group)
            .create()
            .map_err(|e| TransportError::Fatal(format!("failed to create kafka consumer: {e}")))?;
        inner.subscribe(topics).map_err(|e| {
            TransportError::Fatal(format!("failed to subscribe to {topics:?}: {e}"))
        })?;
        Ok(KafkaConsumer { inner })
    }
}

impl KafkaConsumer {
    /// Up to `max` records: waits for the first (until `cancel` resolves), then takes what comes
    /// within `linger`.
    pub async fn recv_batch(
        &self,
        max: usize,
        linger: Duration,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Vec<InRecord>, TransportError> {
        use rdkafka::Message as _;
        let mut out = Vec::new();
        let mut deadline: Option<tokio::time::Instant> = None;
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
            out.push(InRecord {
                topic: m.topic().to_string(),
                partition: m.partition(),
                offset: m.offset(),
                key: String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                value: m.payload().map(<[u8]>::to_vec),
            });
            deadline.get_or_insert_with(|| tokio::time::Instant::now() + linger);
        }
        Ok(out)
    }

    /// Commits, for each topic and partition of `records`, the offset after the last one.
    pub fn commit(&self, records: &[InRecord]) -> Result<(), TransportError> {
        use rdkafka::consumer::{CommitMode, Consumer as _};
        let mut next: std::collections::BTreeMap<(&str, i32), i64> = Default::default();
        for r in records {
            let e = next.entry((r.topic.as_str(), r.partition)).or_insert(0);
            *e = (*e).max(r.offset + 1);
        }
        if next.is_empty() {
            return Ok(());
        }
        let mut tpl = rdkafka::TopicPartitionList::new();
        for ((topic, partition), offset) in next {
            tpl.add_partition_offset(topic, partition, rdkafka::Offset::Offset(offset))
                .map_err(|e| TransportError::Fatal(e.to_string()))?;
        }
        self.inner
            .commit(&tpl, CommitMode::Sync)
            .map_err(|e| TransportError::Delivery(format!("offset commit failed: {e}")))
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
            loop {
                let mut fr: FutureRecord<'_, str, [u8]> =
                    FutureRecord::to(&record.topic).key(record.key.as_str());
                if let Some(v) = &record.value {
                    fr = fr.payload(v.as_slice());
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
        let pc = c.producer_config();
        assert_eq!(pc.get("enable.idempotence"), Some("true"));
        assert_eq!(pc.get("sasl.password"), Some("hunter2"));
    }
}
