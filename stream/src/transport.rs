//! The producing side of a stage, whatever carries the records: Kafka between processes, a
//! bounded in-process channel inside `pubmine run`. Stage code is written against [`Producer`].
//!
//! Sending is two steps, so a stage can keep many records in flight and still know when each one
//! is safe: [`Producer::enqueue`] waits only for room in the transport's queue, and the returned
//! [`Ack`] resolves once the record is durably accepted (for Kafka: acknowledged by the brokers).

use futures::future::BoxFuture;

use crate::error::{Classify, ErrorClass};

/// One record to send: a topic, a key, and a value (`None` is a tombstone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRecord {
    pub topic: String,
    pub key: String,
    pub value: Option<Vec<u8>>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn channel_carries_records_and_tombstones_in_order() {
        let (p, mut rx) = ChannelProducer::new(4);
        for (key, value) in [("pmid:1", Some(b"{}".to_vec())), ("pmid:2", None)] {
            let ack = p
                .enqueue(OutRecord {
                    topic: "t".into(),
                    key: key.into(),
                    value,
                })
                .await
                .unwrap();
            ack.await.unwrap();
        }
        assert_eq!(rx.recv().await.unwrap().key, "pmid:1");
        assert_eq!(rx.recv().await.unwrap().value, None);
        drop(rx);
        let err = p
            .enqueue(OutRecord {
                topic: "t".into(),
                key: "k".into(),
                value: None,
            })
            .await
            .err()
            .unwrap();
        assert!(matches!(err, TransportError::Closed));
    }
}
