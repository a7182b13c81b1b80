//! Ingest into the real broker and read back: what a consumer of the documents topic sees must be
//! what the parser made, deletions as tombstones, poison records in the dead-letter topic.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use pubmine_ingest::produce::{IngestConfig, ingest_file};
use pubmine_ingest::source::visit_file;
use pubmine_stream::codec::{decode_dead_letter, decode_document, encode_document};
use pubmine_stream::kafka::KafkaConfig;
use pubmine_stream::record::DocumentRecord;

use common::fixture;

/// What the parser alone gives for a file: key to encoded value (None = tombstone).
fn expected(path: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut visit = |_: &str, records: pubmine_ingest::source::Records<'_>| {
        for r in records.flatten() {
            out.push(match r {
                DocumentRecord::Upsert(d) => (d.id.clone(), Some(encode_document(&d))),
                DocumentRecord::Delete(id) => (id, None),
            });
        }
        true
    };
    visit_file(path, Arc::new(AtomicU64::new(0)), &mut visit, &mut |_| {}).unwrap();
    out
}

async fn setup() -> (pubmine_stream::kafka::KafkaProducer, IngestConfig) {
    common::producer(&KafkaConfig::new(common::brokers()), 3).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixtures_round_trip_through_the_broker() {
    let (producer, cfg) = setup().await;
    let files = [
        "medline_structured.xml.gz",
        "medline_update.xml",
        "medline_book.xml",
        "jats_bare.nxml",
        "jats_oai.xml",
        "jats_articleset.xml",
        "oa_package.tar.gz",
    ];
    let mut want: HashMap<String, Vec<Option<Vec<u8>>>> = HashMap::new();
    let mut total = 0;
    for f in files {
        let path = fixture(f);
        let report = ingest_file(&producer, &cfg, &path).await.expect(f);
        let exp = expected(&path);
        assert_eq!(
            (report.documents + report.deletions) as usize,
            exp.len(),
            "{f}"
        );
        assert_eq!(report.dead_lettered, 0, "{f}");
        total += exp.len();
        for (k, v) in exp {
            want.entry(k).or_default().push(v);
        }
    }
    let got = common::consume(&cfg.topic, total).await;
    assert_eq!(got.len(), total, "every acknowledged record is readable");
    let mut got_by_key: HashMap<String, Vec<Option<Vec<u8>>>> = HashMap::new();
    for (k, v) in got {
        if let Some(bytes) = &v {
            let doc = decode_document(bytes).expect("a document decodes");
            assert_eq!(doc.id, k, "key = document id");
        }
        got_by_key.entry(k).or_default().push(v);
    }
    // Per key, order is kept (one key, one partition).
    assert_eq!(got_by_key, want);
    assert_eq!(
        got_by_key["pmid:31000011"],
        vec![None],
        "deletion is a tombstone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_records_go_to_the_dead_letter_topic_and_the_file_goes_on() {
    let (producer, cfg) = setup().await;
    let report = ingest_file(&producer, &cfg, &fixture("medline_bad.xml"))
        .await
        .unwrap();
    assert_eq!((report.documents, report.dead_lettered), (2, 1));
    let report = ingest_file(&producer, &cfg, &fixture("evil.tar.gz"))
        .await
        .unwrap();
    assert_eq!((report.documents, report.dead_lettered), (0, 1));

    let docs = common::consume(&cfg.topic, 2).await;
    let keys: Vec<_> = docs.iter().map(|(k, _)| k.as_str()).collect();
    assert!(keys.contains(&"pmid:31000020") && keys.contains(&"pmid:31000022"));

    let dead = common::consume(&cfg.dead_letter_topic, 2).await;
    assert_eq!(dead.len(), 2);
    let letters: Vec<_> = dead
        .iter()
        .map(|(_, v)| decode_dead_letter(v.as_deref().unwrap()).unwrap())
        .collect();
    let bad = letters
        .iter()
        .find(|d| d.source.ends_with("medline_bad.xml"))
        .expect("dead letter names the file");
    assert!(bad.reason.contains("without PMID"));
    assert!(bad.position.as_deref().unwrap().starts_with("byte "));
    assert_eq!(bad.stage, "ingest");
    assert!(
        letters
            .iter()
            .any(|d| d.reason.contains("escapes the archive root"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_too_large_for_the_topic_is_dead_lettered_and_the_rest_sent() {
    // Sizes of the two documents of the file, as JSON.
    let path = fixture("medline_structured.xml");
    let sizes: Vec<usize> = expected(&path)
        .iter()
        .map(|(_, v)| v.as_ref().unwrap().len())
        .collect();
    let (small, large) = (sizes[0].min(sizes[1]), sizes[0].max(sizes[1]));
    assert!(large > small + 1500, "fixture sizes {sizes:?} too close");
    // A producer whose limit lies between them (plus room for the record overhead).
    let limit = (small + 700).max(1000).to_string();
    let kafka = KafkaConfig::new(common::brokers())
        .with_options(&[format!("message.max.bytes={limit}")])
        .unwrap();
    let (producer, cfg) = common::producer(&kafka, 1).await;
    let report = ingest_file(&producer, &cfg, &path).await.unwrap();
    assert_eq!((report.documents, report.dead_lettered), (1, 1));
    assert_eq!(common::consume(&cfg.topic, 1).await.len(), 1);
    let dead = common::consume(&cfg.dead_letter_topic, 1).await;
    let dl = decode_dead_letter(dead[0].1.as_deref().unwrap()).unwrap();
    assert!(dl.reason.contains("refused"), "{}", dl.reason);
    assert!(dl.id.as_deref().unwrap().starts_with("pmid:"));
}
