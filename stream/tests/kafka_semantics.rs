//! What later stages rely on from the broker, checked against the real one the test script
//! starts (see docs/operations.md, "The local broker"): keyed records keep their order per key,
//! tombstones arrive as null values, a consumer group that commits offsets resumes after them,
//! and each record's origin (a header) travels with it.

use std::time::Duration;

use pubmine_stream::kafka::KafkaConfig;
use pubmine_stream::testing::{brokers, unique};
use pubmine_stream::transport::{Origin, OutRecord, Producer};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};

async fn next(consumer: &StreamConsumer) -> (String, Option<Vec<u8>>, i64) {
    let m = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
        .await
        .expect("a record within 30 s")
        .expect("consume");
    (
        String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
        m.payload().map(<[u8]>::to_vec),
        m.offset(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_resumes_after_its_committed_offset() {
    let kafka = KafkaConfig::new(brokers());
    let topic = unique("semantics");
    kafka.ensure_topics(&[&topic], 1, 1).await.unwrap();
    let producer = kafka.producer().unwrap();
    for i in 0..10 {
        let value = (i != 7).then(|| format!("v{i}").into_bytes());
        let ack = producer
            .enqueue(OutRecord::new(topic.clone(), format!("pmid:{i}"), value))
            .await
            .unwrap();
        ack.await.unwrap();
    }
    // Creating the topic again is harmless.
    kafka.ensure_topics(&[&topic], 1, 1).await.unwrap();

    let group = unique("group");
    {
        let consumer: StreamConsumer = kafka.consumer_config(&group).create().unwrap();
        consumer.subscribe(&[&topic]).unwrap();
        for i in 0..5 {
            let (key, value, _) = next(&consumer).await;
            assert_eq!(key, format!("pmid:{i}"));
            assert_eq!(value, Some(format!("v{i}").into_bytes()));
        }
        // Commit "next to read = 5", explicitly, as the sinks will after a durable write.
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, 0, Offset::Offset(5))
            .unwrap();
        consumer.commit(&tpl, CommitMode::Sync).unwrap();
    }
    let consumer: StreamConsumer = kafka.consumer_config(&group).create().unwrap();
    consumer.subscribe(&[&topic]).unwrap();
    let (key, _, offset) = next(&consumer).await;
    assert_eq!(
        (key.as_str(), offset),
        ("pmid:5", 5),
        "resumes after the commit"
    );
    next(&consumer).await;
    let (key, value, _) = next(&consumer).await;
    assert_eq!(
        (key.as_str(), value),
        ("pmid:7", None),
        "a tombstone is a null value"
    );
}

/// The origin a producer names travels with the record, on a tombstone too (a Kafka header),
/// and a record that names none arrives with none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_records_origin_travels_with_it_tombstones_included() {
    let kafka = KafkaConfig::new(brokers());
    let topic = unique("origin");
    kafka.ensure_topics(&[&topic], 1, 1).await.unwrap();
    let producer = kafka.producer().unwrap();
    let at = |offset| {
        Origin::new(
            "pubmed.documents",
            3,
            offset,
            Some(1_765_000_000_000 + offset),
        )
    };
    let sent = [
        OutRecord::new(topic.clone(), "pmid:1", Some(b"v".to_vec())).made_from(at(41)),
        OutRecord::new(topic.clone(), "pmid:2", None).made_from(at(42)),
        OutRecord::new(topic.clone(), "pmid:3", Some(b"w".to_vec())),
    ];
    for r in sent.clone() {
        producer.enqueue(r).await.unwrap().await.unwrap();
    }
    let consumer = kafka.consumer(&unique("group"), &[&topic]).unwrap();
    let never = tokio_util::sync::CancellationToken::new();
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let batch = tokio::time::timeout(
            Duration::from_secs(30),
            consumer.recv_batch(10, Duration::from_millis(50), &never),
        )
        .await
        .expect("records within 30 s")
        .unwrap();
        got.extend(batch);
    }
    // The broker gives each record's timestamp, which annotate passes on in its outputs'
    // origins.
    assert!(
        got.iter().all(|r| r.timestamp.is_some_and(|t| t > 0)),
        "{got:?}"
    );
    let seen: Vec<_> = got
        .iter()
        .map(|r| (r.key.as_str(), r.value.is_some(), r.origin.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("pmid:1", true, Some(at(41))),
            ("pmid:2", false, Some(at(42))),
            ("pmid:3", true, None)
        ]
    );
}
