//! Helpers of the annotate tests that talk to the real broker and ONNX Runtime.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use pubmine_annotate::annotator::Annotator;
use pubmine_annotate::model::session::SessionOptions;
use pubmine_annotate::ner::{NerModel, NerOptions};
use pubmine_annotate::worker::{WorkerConfig, WorkerError, WorkerStats, run};
use pubmine_stream::codec::encode_document;
use pubmine_stream::kafka::KafkaConfig;
use pubmine_stream::record::{Document, Passage, PassageKind, SourceKind};
use pubmine_stream::testing::{brokers, unique};
use pubmine_stream::transport::{OutRecord, Producer};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use tokio_util::sync::CancellationToken;

pub fn annotator() -> Annotator {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh, or export ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)"
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/demo-ner");
    let opts = NerOptions::default();
    let m = NerModel::open(&dir, SessionOptions::default(), &opts).unwrap();
    Annotator::new(vec![m], &opts)
}

/// The broker's client, and three new topics of `partitions` partitions each: documents in,
/// annotations out, dead letters.
pub async fn topics(partitions: i32) -> (KafkaConfig, String, String, String) {
    let kafka = KafkaConfig::new(brokers());
    let (input, out, dlq) = (unique("docs"), unique("annotations"), unique("dlq"));
    kafka
        .ensure_topics(&[&input, &out, &dlq], partitions, 1)
        .await
        .unwrap();
    (kafka, input, out, dlq)
}

pub fn doc(i: usize, text: &str) -> (String, Vec<u8>) {
    let mut d = Document::new(SourceKind::Pubmed, format!("pmid:{i}"));
    d.passages
        .push(Passage::new(PassageKind::Abstract, text.into()));
    (d.id.clone(), encode_document(&d))
}

pub async fn send(kafka: &KafkaConfig, topic: &str, docs: &[(String, Vec<u8>)]) {
    let producer = kafka.producer().unwrap();
    for (key, value) in docs {
        let ack = producer
            .enqueue(OutRecord::new(topic, key.clone(), Some(value.clone())))
            .await
            .unwrap();
        ack.await.unwrap();
    }
}

/// A consumer of `topic` in a group of its own, reading from the start.
pub fn reader(topic: &str) -> StreamConsumer {
    let c: StreamConsumer = KafkaConfig::new(brokers())
        .consumer_config(&unique("reader"))
        .create()
        .unwrap();
    c.subscribe(&[topic]).unwrap();
    c
}

/// Every record of `topic` (keys and values), reading until it has been quiet for `quiet`.
pub async fn read_all(topic: &str, quiet: Duration) -> Vec<(String, Vec<u8>)> {
    let c = reader(topic);
    let mut out = Vec::new();
    while let Ok(m) = tokio::time::timeout(quiet, c.recv()).await {
        let m = m.unwrap();
        out.push((
            String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
            m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        ));
    }
    out
}

/// The records of the one-partition `topic` that came before now, markers of earlier calls left
/// out: a marker record is produced, then the topic is read from its start until the marker
/// comes (within 60 s, or the test fails). The positive control of "nothing there": a reader that
/// never joined, or read too soon, cannot pass for an empty topic.
pub async fn read_to_marker(kafka: &KafkaConfig, topic: &str) -> Vec<(String, Vec<u8>)> {
    let marker = unique("marker:");
    send(kafka, topic, &[(marker.clone(), b"marker".to_vec())]).await;
    let c = reader(topic);
    let mut out = Vec::new();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(60), c.recv())
            .await
            .unwrap_or_else(|_| panic!("{topic}: the marker not read within 60 s"))
            .unwrap();
        let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
        if key == marker {
            return out;
        }
        if !key.starts_with("marker:") {
            out.push((key, m.payload().map(<[u8]>::to_vec).unwrap_or_default()));
        }
    }
}

pub fn cfg(out: &str, dlq: &str) -> WorkerConfig {
    WorkerConfig {
        output_topic: out.into(),
        dead_letter_topic: dlq.into(),
        batch_docs: 2,
        linger: Duration::from_millis(100),
        tokens: None,
    }
}

/// A worker of `group` on `input`, running on its own task until the token returned is
/// cancelled.
pub fn spawn_worker(
    kafka: &KafkaConfig,
    group: &str,
    input: &str,
    cfg: WorkerConfig,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<Result<WorkerStats, WorkerError>>,
) {
    let consumer = kafka.consumer(group, &[input]).unwrap();
    let producer = kafka.producer().unwrap();
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let worker =
        tokio::spawn(async move { run(&consumer, &producer, annotator(), &cfg, &stop).await });
    (shutdown, worker)
}

/// Runs a worker on `group` until `stop_after` has passed or it returns.
pub async fn worker(
    kafka: &KafkaConfig,
    group: &str,
    input: &str,
    cfg: &WorkerConfig,
    stop_after: Duration,
) -> Result<WorkerStats, WorkerError> {
    let consumer = kafka.consumer(group, &[input]).unwrap();
    let producer = kafka.producer().unwrap();
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(stop_after).await;
        stop.cancel();
    });
    run(&consumer, &producer, annotator(), cfg, &shutdown).await
}

/// The offset `group` has committed on partition 0 of `topic` (0 if none).
pub fn committed(group: &str, topic: &str) -> i64 {
    use rdkafka::consumer::BaseConsumer;
    let c: BaseConsumer = KafkaConfig::new(brokers())
        .consumer_config(group)
        .create()
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition(topic, 0);
    match c
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap()
        .find_partition(topic, 0)
        .map(|e| e.offset())
    {
        Some(rdkafka::Offset::Offset(o)) => o,
        _ => 0,
    }
}
