//! The index sink behind the stream's sink runner, against the real broker: annotations in, a
//! stop, more annotations (a re-annotation, a tombstone, a new paper), a restart under a fresh
//! consumer group, which has no group offsets at all: the runner resumes from the offsets in
//! the index's commit payload, so each record is indexed exactly once.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{corpus, paper};
use pubmine_index::search::SearchRequest;
use pubmine_index::{IndexConfig, IndexSink, Indexer, Searcher};
use pubmine_stream::codec::encode_annotations;
use pubmine_stream::kafka::{KafkaConfig, KafkaProducer};
use pubmine_stream::record::Annotations;
use pubmine_stream::sink::{SinkConfig, SinkStats, run};
use pubmine_stream::testing::{brokers, unique};
use pubmine_stream::transport::{OutRecord, Producer};
use tokio_util::sync::CancellationToken;

async fn send(producer: &KafkaProducer, topic: &str, records: Vec<(String, Option<Vec<u8>>)>) {
    let mut acks = Vec::new();
    for (key, value) in records {
        let out = OutRecord::new(topic, key, value);
        acks.push(producer.enqueue(out).await.unwrap());
    }
    for ack in acks {
        ack.await.unwrap();
    }
}

fn upsert(a: &Annotations) -> (String, Option<Vec<u8>>) {
    (a.id.clone(), Some(encode_annotations(a)))
}

/// Runs the index sink in `group` until `done` holds for the index (or 60 s pass), then stops it.
async fn run_until(
    kafka: &KafkaConfig,
    group: &str,
    topic: &str,
    dlq: &str,
    dir: &Path,
    done: impl Fn(&Searcher) -> bool + Send + 'static,
) -> SinkStats {
    let consumer = kafka.consumer(group, &[topic]).unwrap();
    let producer = kafka.producer().unwrap();
    let cfg = IndexConfig {
        commit_docs: 2,
        commit_interval: Duration::from_millis(300),
        threads: 1,
        memory_bytes: 20 << 20,
    };
    let mut sink = IndexSink::new(Indexer::open(dir, cfg).unwrap());
    let sink_cfg = SinkConfig {
        stage: "index".into(),
        dead_letter_topic: dlq.into(),
        batch_records: 3,
        linger: Duration::from_millis(50),
        idle_flush: Duration::from_millis(300),
        crash: None,
    };
    let token = CancellationToken::new();
    let stop = token.clone();
    let dir = dir.to_owned();
    let watcher = tokio::spawn(async move {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let ok = Searcher::open(&dir).map(|s| done(&s)).unwrap_or(false);
            if ok || Instant::now() > deadline {
                stop.cancel();
                return ok;
            }
        }
    });
    let stats = run(&consumer, &producer, &mut sink, &sink_cfg, &token)
        .await
        .unwrap();
    assert!(
        watcher.await.unwrap(),
        "the index did not reach the expected state in 60 s"
    );
    sink.into_inner().unwrap().close().unwrap();
    stats
}

fn hits(s: &Searcher, q: &str) -> Vec<String> {
    let mut ids: Vec<String> = s
        .search(&SearchRequest::new(q))
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_restart_index_each_record_exactly_once() {
    let kafka = KafkaConfig::new(brokers());
    let (topic, dlq) = (unique("annotations"), unique("dlq"));
    kafka.ensure_topics(&[&topic, &dlq], 2, 1).await.unwrap();
    let producer = kafka.producer().unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Three papers, three more made from them, and one record that is not annotations.
    let mut first: Vec<Annotations> = corpus();
    for (i, a) in corpus().into_iter().enumerate() {
        let mut b = a.clone();
        b.id = format!("pmid:{}", 10 + i);
        if let Some(d) = b.document.as_mut() {
            d.id = b.id.clone();
        }
        first.push(b);
    }
    let mut records: Vec<_> = first.iter().map(upsert).collect();
    records.insert(3, ("pmid:99".into(), Some(b"not json".to_vec())));
    send(&producer, &topic, records).await;

    let stats = run_until(&kafka, &unique("index"), &topic, &dlq, dir.path(), |s| {
        s.num_docs().unwrap() == 6
    })
    .await;
    assert_eq!(stats.documents, 6);
    assert_eq!(stats.dead_lettered, 1);
    let s = Searcher::open(dir.path()).unwrap();
    assert_eq!(
        hits(&s, "aspirin"),
        ["pmid:1", "pmid:10", "pmid:11", "pmid:2"]
    );

    // While it is stopped: paper 1 annotated again (no aspirin now), paper 2 deleted, paper 4 new.
    let again = paper(
        1,
        2015,
        "Aspirin use was associated with a lower risk of colorectal cancer in a large cohort.",
        "ner-a",
        &[("colorectal cancer", "Disease")],
    );
    let new = paper(
        4,
        2022,
        "Imatinib induced remission in chronic myeloid leukemia.",
        "ner-a",
        &[
            ("Imatinib", "Chemical"),
            ("chronic myeloid leukemia", "Disease"),
        ],
    );
    send(
        &producer,
        &topic,
        vec![upsert(&again), ("pmid:2".into(), None), upsert(&new)],
    )
    .await;

    // A fresh group: no group offsets, so only the index's payload can say where to resume.
    let stats = run_until(&kafka, &unique("index"), &topic, &dlq, dir.path(), |s| {
        hits(s, "imatinib") == ["pmid:4"] && hits(s, "headache") == ["pmid:11"]
    })
    .await;
    assert_eq!(
        (stats.documents, stats.deletions, stats.dead_lettered),
        (2, 1, 0),
        "only the records after the payload's offsets are read: {stats:?}"
    );

    let s = Searcher::open(dir.path()).unwrap();
    assert_eq!(s.num_docs().unwrap(), 6, "1, 3, 4, 10, 11, 12");
    let all = s
        .search(&SearchRequest {
            limit: 100,
            ..SearchRequest::new("*")
        })
        .unwrap();
    let mut ids: Vec<&str> = all.hits.iter().map(|h| h.id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "pmid:1", "pmid:10", "pmid:11", "pmid:12", "pmid:3", "pmid:4"
        ]
    );
    assert_eq!(hits(&s, "aspirin"), ["pmid:10", "pmid:11"]);
    assert_eq!(
        hits(&s, "colorectal cancer"),
        ["pmid:1", "pmid:10", "pmid:12", "pmid:3"]
    );
}
