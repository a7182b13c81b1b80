//! The annotate worker against the real broker and the real ONNX Runtime: documents in,
//! annotations out (tombstones passed through, undecodable records dead-lettered), offsets
//! committed only after the outputs are acknowledged, so a restarted worker does not redo them.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{annotator, topics};
use pubmine_annotate::worker::{WorkerConfig, run};
use pubmine_stream::codec::{decode_dead_letter, encode_document};
use pubmine_stream::kafka::KafkaConfig;
use pubmine_stream::record::{Annotations, Document, Passage, PassageKind, SourceKind};
use pubmine_stream::testing::{brokers, unique};
use pubmine_stream::transport::{OutRecord, Producer};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use tokio_util::sync::CancellationToken;

async fn read(topic: &str, n: usize) -> Vec<(String, Option<Vec<u8>>)> {
    let c: StreamConsumer = KafkaConfig::new(brokers())
        .consumer_config(&unique("reader"))
        .create()
        .unwrap();
    c.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    while out.len() < n {
        let m = tokio::time::timeout(Duration::from_secs(30), c.recv())
            .await
            .expect("record within 30 s")
            .unwrap();
        out.push((
            String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
            m.payload().map(<[u8]>::to_vec),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_in_annotations_out_and_offsets_committed() {
    let (kafka, docs_topic, out_topic, dlq) = topics(2).await;
    let producer = kafka.producer().unwrap();
    let texts = [
        "Metformin reduced the expression of IL-6 in patients with type 2 diabetes.",
        "Cisplatin caused kidney injury in patients with colorectal cancer.",
        "TP53 variants were frequent in hepatocellular carcinoma.",
    ];
    let mut inputs: Vec<(String, Option<Vec<u8>>)> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut d = Document::new(SourceKind::Pubmed, format!("pmid:{}", 100 + i));
            d.passages
                .push(Passage::new(PassageKind::Abstract, (*t).into()));
            (d.id.clone(), Some(encode_document(&d)))
        })
        .collect();
    inputs.push(("pmid:200".into(), None));
    inputs.push(("pmid:300".into(), Some(b"{not json".to_vec())));
    for (key, value) in &inputs {
        let ack = producer
            .enqueue(OutRecord {
                topic: docs_topic.clone(),
                key: key.clone(),
                value: value.clone(),
            })
            .await
            .unwrap();
        ack.await.unwrap();
    }

    let cfg = WorkerConfig {
        output_topic: out_topic.clone(),
        dead_letter_topic: dlq.clone(),
        batch_docs: 2,
        linger: Duration::from_millis(200),
        tokens: None,
    };
    let group = unique("annotate");
    let consumer = kafka.consumer(&group, &[&docs_topic]).unwrap();
    let shutdown = CancellationToken::new();
    let worker = {
        let (shutdown, cfg) = (shutdown.clone(), cfg.clone());
        let producer = kafka.producer().unwrap();
        tokio::spawn(async move { run(&consumer, &producer, annotator(), &cfg, &shutdown).await })
    };
    let out = read(&out_topic, 4).await;
    let dead = read(&dlq, 1).await;
    shutdown.cancel();
    let stats = worker.await.unwrap().unwrap();
    assert_eq!(
        (stats.documents, stats.tombstones, stats.dead_lettered),
        (3, 1, 1)
    );

    let tomb = out
        .iter()
        .find(|(k, _)| k == "pmid:200")
        .expect("tombstone passed through");
    assert!(tomb.1.is_none());
    for (key, value) in out.iter().filter(|(_, v)| v.is_some()) {
        let a: Annotations = serde_json::from_slice(value.as_deref().unwrap()).unwrap();
        assert_eq!(&a.id, key);
        assert_eq!(a.models[0].name, "demo-ner");
        assert_eq!(a.models[0].hash.len(), 64);
        assert!(
            !a.mentions.is_empty(),
            "{key}: the demo model finds the obvious entities"
        );
        let text = texts[key.trim_start_matches("pmid:").parse::<usize>().unwrap() - 100];
        for m in &a.mentions {
            let s: String = text
                .chars()
                .skip(m.start as usize)
                .take((m.end - m.start) as usize)
                .collect();
            assert_eq!(s, m.text);
        }
    }
    let dl = decode_dead_letter(dead[0].1.as_deref().unwrap()).unwrap();
    assert_eq!(dl.stage, "annotate");
    assert!(dl.reason.contains("invalid JSON"), "{}", dl.reason);
    assert!(dl.source.starts_with(&docs_topic));

    // A worker of the same group starting again finds nothing left to do.
    let again = kafka.consumer(&group, &[&docs_topic]).unwrap();
    let records = again
        .recv_batch(10, Duration::from_millis(100), &{
            let t = CancellationToken::new();
            let c = t.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(8)).await;
                c.cancel();
            });
            t
        })
        .await
        .unwrap();
    assert!(
        records.is_empty(),
        "committed offsets are honoured: {records:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_annotations_record_too_large_for_the_topic_is_dead_lettered_and_the_stream_goes_on() {
    // The output side takes records of at most 4,000 bytes (librdkafka's message.max.bytes); the
    // input topic takes the documents, one of which annotates to more than that.
    let small = KafkaConfig::new(brokers())
        .with_options(&["message.max.bytes=4000"])
        .unwrap();
    let (kafka, input, out, dlq) = topics(1).await;
    let big_text = "Cisplatin caused kidney injury in patients with colorectal cancer. ".repeat(40);
    let docs = vec![
        common::doc(1, "Metformin reduced IL-6 in type 2 diabetes."),
        common::doc(2, &big_text),
        common::doc(
            3,
            "TP53 variants were frequent in hepatocellular carcinoma.",
        ),
    ];
    assert!(docs[1].1.len() < 4000, "the document itself fits");
    common::send(&kafka, &input, &docs).await;
    let cfg = common::cfg(&out, &dlq);
    let group = unique("annotate");
    let consumer = kafka.consumer(&group, &[&input]).unwrap();
    let producer = small.producer().unwrap();
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(12)).await;
        stop.cancel();
    });
    let stats = run(&consumer, &producer, annotator(), &cfg, &shutdown)
        .await
        .expect("a record too large is no reason to stop");
    assert_eq!((stats.documents, stats.dead_lettered), (2, 1));
    let keys: BTreeSet<String> = common::read_all(&out, Duration::from_secs(5))
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, BTreeSet::from(["pmid:1".into(), "pmid:3".into()]));
    let dead = common::read_all(&dlq, Duration::from_secs(3)).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, "pmid:2");
    let dl = decode_dead_letter(&dead[0].1).unwrap();
    assert_eq!(dl.stage, "annotate");
    assert!(
        dl.reason.contains("bytes") && dl.reason.contains(&out),
        "{}",
        dl.reason
    );
    drop(consumer);
    // The offsets are committed past all three: a worker of the group starting again has
    // nothing to do (before the fix it re-read the batch and exited again, for ever).
    let again = common::worker(&kafka, &group, &input, &cfg, Duration::from_secs(8))
        .await
        .unwrap();
    assert_eq!((again.documents, again.dead_lettered), (0, 0));
}
