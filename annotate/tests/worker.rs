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
use pubmine_stream::record::{
    Annotations, Document, Passage, PassageKind, SCHEMA_VERSION, SourceKind,
};
use pubmine_stream::testing::{brokers, unique};
use pubmine_stream::transport::{OutRecord, Producer};
use rdkafka::Message;
use tokio_util::sync::CancellationToken;

async fn read(topic: &str, n: usize) -> Vec<(String, Option<Vec<u8>>)> {
    let c = common::reader(topic);
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
    // Records annotate cannot decode, each a dead letter with its reason: not JSON, JSON that is
    // not a document, a document of a newer schema than this reader's.
    inputs.push(("pmid:300".into(), Some(b"{not json".to_vec())));
    inputs.push((
        "pmid:301".into(),
        Some(br#"{"title": "a record with no id or passages"}"#.to_vec()),
    ));
    let mut newer = Document::new(SourceKind::Pubmed, "pmid:302".into());
    newer.schema_version = SCHEMA_VERSION + 1;
    inputs.push(("pmid:302".into(), Some(encode_document(&newer))));
    for (key, value) in &inputs {
        let ack = producer
            .enqueue(OutRecord::new(
                docs_topic.clone(),
                key.clone(),
                value.clone(),
            ))
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
    let dead = read(&dlq, 3).await;
    shutdown.cancel();
    let stats = worker.await.unwrap().unwrap();
    assert_eq!(
        (stats.documents, stats.tombstones, stats.dead_lettered),
        (3, 1, 3)
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
    let reasons: Vec<(String, String)> = dead
        .iter()
        .map(|(key, value)| {
            let dl = decode_dead_letter(value.as_deref().unwrap()).unwrap();
            assert_eq!(dl.stage, "annotate");
            assert!(dl.source.starts_with(&docs_topic), "{}", dl.source);
            (key.clone(), dl.reason)
        })
        .collect();
    let reason_of = |key: &str| {
        reasons
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("no dead letter for {key}: {reasons:?}"))
    };
    assert!(
        reason_of("pmid:300").contains("invalid JSON"),
        "{reasons:?}"
    );
    assert!(
        reason_of("pmid:301").contains("missing field"),
        "{reasons:?}"
    );
    assert!(
        reason_of("pmid:302").contains("newer than this reader"),
        "{reasons:?}"
    );

    // A worker of the same group starting again finds nothing left to do: given one new
    // document after the others (the positive control: the consumer joined and reads), the new
    // document is all it receives.
    let fresh = Document::new(SourceKind::Pubmed, "pmid:400".into());
    producer
        .enqueue(OutRecord::new(
            docs_topic.clone(),
            fresh.id.clone(),
            Some(encode_document(&fresh)),
        ))
        .await
        .unwrap()
        .await
        .unwrap();
    let again = kafka.consumer(&group, &[&docs_topic]).unwrap();
    let never = CancellationToken::new();
    let mut keys = Vec::new();
    while !keys.iter().any(|k| k == "pmid:400") {
        let batch = tokio::time::timeout(
            Duration::from_secs(30),
            again.recv_batch(10, Duration::from_secs(2), &never),
        )
        .await
        .expect("the new document within 30 s")
        .unwrap();
        keys.extend(batch.into_iter().map(|r| r.key));
    }
    // what the other partition would still hand out arrives meanwhile
    let late = again
        .recv_batch_within(
            10,
            Duration::from_millis(100),
            Some(Duration::from_secs(2)),
            &never,
        )
        .await
        .unwrap();
    keys.extend(late.into_iter().map(|r| r.key));
    assert_eq!(
        keys,
        ["pmid:400"],
        "committed offsets are honoured: only the new document is read again"
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
    // nothing to do but a new document sent after them (before the fix it re-read the batch
    // and exited again, for ever); annotating that one shows it joined and read.
    common::send(
        &kafka,
        &input,
        &[common::doc(
            4,
            "Aspirin reduced the risk of colorectal cancer.",
        )],
    )
    .await;
    let again = common::worker(&kafka, &group, &input, &cfg, Duration::from_secs(12))
        .await
        .unwrap();
    assert_eq!((again.documents, again.dead_lettered), (1, 0));
}

/// A text the model's tokenizer refuses is the document's fault: a dead letter with the reason,
/// and the stream goes on. The tokenizer here is demo-ner's with its unknown token renamed to
/// one its vocabulary lacks, so a word it cannot spell is an error instead of `[UNK]`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_the_tokenizer_refuses_is_dead_lettered_and_the_stream_goes_on() {
    use pubmine_annotate::annotator::Annotator;
    use pubmine_annotate::model::session::SessionOptions;
    use pubmine_annotate::ner::{NerModel, NerOptions};

    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let dir = std::env::temp_dir().join(unique("refusing-tokenizer"));
    std::fs::create_dir_all(&dir).unwrap();
    for f in std::fs::read_dir(models.join("demo-ner")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
    }
    let mut tokenizer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("tokenizer.json")).unwrap()).unwrap();
    tokenizer["model"]["unk_token"] = "[NOT IN THE VOCABULARY]".into();
    std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();
    let opts = NerOptions::default();
    let model = NerModel::open(&dir, SessionOptions::default(), &opts).unwrap();
    let annotator = Annotator::new(vec![model], &opts);

    let (kafka, input, out, dlq) = topics(1).await;
    let docs = vec![
        common::doc(1, "Metformin reduced IL-6 in type 2 diabetes."),
        common::doc(2, "The snowman \u{2603} was seen in cohort 2."),
        common::doc(
            3,
            "TP53 variants were frequent in hepatocellular carcinoma.",
        ),
    ];
    common::send(&kafka, &input, &docs).await;
    let cfg = common::cfg(&out, &dlq);
    let consumer = kafka.consumer(&unique("annotate"), &[&input]).unwrap();
    let producer = kafka.producer().unwrap();
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        stop.cancel();
    });
    let stats = run(&consumer, &producer, annotator, &cfg, &shutdown)
        .await
        .expect("a refused text is no reason to stop");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!((stats.documents, stats.dead_lettered), (2, 1));
    let keys: BTreeSet<String> = common::read_to_marker(&kafka, &out)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, BTreeSet::from(["pmid:1".into(), "pmid:3".into()]));
    let dead = common::read_to_marker(&kafka, &dlq).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].0, "pmid:2");
    let dl = decode_dead_letter(&dead[0].1).unwrap();
    assert!(dl.reason.contains("tokenization failed"), "{}", dl.reason);
}
