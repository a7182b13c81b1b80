//! Helpers of the integration tests: the real broker the test script starts (scripts/test.sh),
//! unique topics, the fixtures. `pipeline/tests/continuous.rs` includes them too.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use std::path::{Path, PathBuf};

use pubmine_ingest::produce::IngestConfig;
use pubmine_stream::kafka::{KafkaConfig, KafkaProducer};
pub use pubmine_stream::testing::{brokers, unique};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};

/// A file of ingest/tests/fixtures (from ingest's tests, and from pipeline's, which include
/// these helpers).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ingest/tests/fixtures")
        .join(name)
}

/// A producer of `kafka` and an ingest configuration with fresh documents and dead-letter
/// topics of `partitions` partitions.
pub async fn producer(kafka: &KafkaConfig, partitions: i32) -> (KafkaProducer, IngestConfig) {
    let cfg = IngestConfig {
        topic: unique("documents"),
        dead_letter_topic: unique("dead-letter"),
        progress: false,
    };
    kafka
        .ensure_topics(&[&cfg.topic, &cfg.dead_letter_topic], partitions, 1)
        .await
        .expect("create topics");
    (kafka.producer().expect("producer"), cfg)
}

/// Reads `topic` from the beginning until `n` records arrived (or 60 s passed), then waits 2 s
/// more for any record beyond them, so a test sees duplicates: keys and values.
pub async fn consume(topic: &str, n: usize) -> Vec<(String, Option<Vec<u8>>)> {
    let consumer: StreamConsumer = KafkaConfig::new(brokers())
        .consumer_config(&unique("test-reader"))
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut grace: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if out.len() >= n && grace.is_none() {
            grace = Some(now + Duration::from_secs(2));
        }
        let until = grace.unwrap_or(deadline);
        if now >= until {
            break;
        }
        match tokio::time::timeout(until - now, consumer.recv()).await {
            Ok(Ok(m)) => out.push((
                String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                m.payload().map(|p| p.to_vec()),
            )),
            Ok(Err(e)) => panic!("consume {topic}: {e}"),
            Err(_) => {}
        }
    }
    out
}
