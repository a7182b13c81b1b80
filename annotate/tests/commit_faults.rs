//! An offset commit that fails (the broker away) after the last batch before a quiet spell is
//! tried again while the topic is quiet, not left until a next batch that may never come. Against
//! the real broker and ONNX Runtime, the failure injected at a named fault point. Its own test
//! process: fault points are global to a process.

mod common;

use std::time::Duration;

use common::{annotator, cfg, doc, send, topics};
use pubmine_annotate::worker::run;
use pubmine_stream::kafka::KafkaConfig;
use pubmine_stream::testing::{brokers, unique};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_of_the_last_batch_is_tried_again_while_the_topic_is_quiet() {
    let (kafka, input, out, dlq) = topics(1).await;
    // One document: one batch, so no later batch's commit can cover the failed one.
    let docs = vec![doc(0, "Cisplatin caused kidney injury in patient 0.")];
    send(&kafka, &input, &docs).await;
    let cfg = cfg(&out, &dlq);
    let group = unique("annotate");
    // The batch's own three tries and the first retry while quiet fail; the next succeeds.
    fail::cfg("annotate::commit", "4*return(broker away)->off").unwrap();
    let consumer = kafka.consumer(&group, &[&input]).unwrap();
    let producer = kafka.producer().unwrap();
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let worker =
        tokio::spawn(async move { run(&consumer, &producer, annotator(), &cfg, &stop).await });
    let started = std::time::Instant::now();
    let mut at = 0;
    while at < docs.len() as i64 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        at = committed(&group, &input);
    }
    shutdown.cancel();
    let stats = worker.await.unwrap().unwrap();
    fail::cfg("annotate::commit", "off").unwrap();
    assert_eq!(stats.documents as usize, docs.len());
    assert_eq!(
        at,
        docs.len() as i64,
        "the worker, still running on a quiet topic, committed its last batch"
    );
}

/// The offset `group` has committed on partition 0 of `topic` (0 if none).
fn committed(group: &str, topic: &str) -> i64 {
    use rdkafka::consumer::{BaseConsumer, Consumer as _};
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
