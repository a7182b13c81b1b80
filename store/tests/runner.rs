//! The sink runner with the Postgres sink, on the real broker and Postgres: a record that
//! Postgres refuses (a NUL character, which its text cannot hold) is dead-lettered with the
//! reason, the records around it in the same batch are stored, and the store's offsets move past
//! it, so a restart does not fail on it again (before, the store failed its transaction on every
//! restart: a crash loop that stopped it for good).

use std::time::Duration;

use pubmine_store::sink::PgSink;
use pubmine_store::testing::TestDb;
use pubmine_stream::codec::{decode_dead_letter, encode_annotations};
use pubmine_stream::kafka::KafkaConfig;
use pubmine_stream::record::{
    Annotations, Document, Passage, PassageKind, SCHEMA_VERSION, SourceKind,
};
use pubmine_stream::sink::{SinkConfig, run};
use pubmine_stream::testing::{brokers, unique};
use pubmine_stream::transport::{OutRecord, Producer};
use tokio_util::sync::CancellationToken;

fn annotations(id: &str, text: &str) -> Annotations {
    let mut doc = Document::new(SourceKind::Pubmed, id.into());
    doc.title = format!("Title of {id}");
    doc.passages = vec![Passage::new(PassageKind::Abstract, text.into())];
    Annotations {
        schema_version: SCHEMA_VERSION,
        id: id.into(),
        models: Vec::new(),
        mentions: Vec::new(),
        abbreviations: Vec::new(),
        relations: Vec::new(),
        document: Some(Box::new(doc)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_postgres_refuses_is_dead_lettered_and_the_rest_is_stored() {
    let db = TestDb::new().await;
    let kafka = KafkaConfig::new(brokers());
    let (topic, dlq) = (unique("annotations"), unique("dlq"));
    kafka.ensure_topics(&[&topic, &dlq], 1, 1).await.unwrap();
    let producer = kafka.producer().unwrap();
    let records = [
        annotations("pmid:1", "A good abstract."),
        annotations("pmid:2", "An abstract with a NUL \u{0} in it."),
        annotations("pmid:3", "Another good abstract."),
    ];
    for a in &records {
        producer
            .enqueue(OutRecord::new(
                topic.clone(),
                a.id.clone(),
                Some(encode_annotations(a)),
            ))
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let cfg = SinkConfig {
        stage: "store".into(),
        dead_letter_topic: dlq.clone(),
        batch_records: 10,
        linger: Duration::from_millis(300),
        idle_flush: Duration::from_millis(500),
        crash: None,
    };
    let consumer = kafka.consumer(&unique("store"), &[&topic]).unwrap();
    let mut sink = PgSink::new(db.pool.clone(), "store");
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let pool = db.pool.clone();
    tokio::spawn(async move {
        // Stop once the offsets are past all three records, or after 30 s.
        for _ in 0..300 {
            let next: Option<i64> = sqlx::query_scalar(
                "SELECT max(next_offset) FROM sink_offsets WHERE sink = 'store'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if next == Some(3) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop.cancel();
    });
    let stats = run(&consumer, &producer, &mut sink, &cfg, &shutdown)
        .await
        .expect("a poison record does not stop the store");
    assert_eq!((stats.documents, stats.dead_lettered), (2, 1));
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM documents ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(ids, ["pmid:1", "pmid:3"]);
    let next: i64 = sqlx::query_scalar("SELECT next_offset FROM sink_offsets WHERE sink = 'store'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(next, 3, "the store's offsets are past the refused record");

    let reader = kafka.consumer(&unique("reader"), &[&dlq]).unwrap();
    let never = CancellationToken::new();
    let dead = tokio::time::timeout(
        Duration::from_secs(20),
        reader.recv_batch(1, Duration::from_millis(10), &never),
    )
    .await
    .expect("a dead letter within 20 s")
    .unwrap();
    assert_eq!(dead[0].key, "pmid:2");
    let dl = decode_dead_letter(dead[0].value.as_deref().unwrap()).unwrap();
    assert_eq!(dl.stage, "store");
    assert!(
        dl.source.starts_with(&format!("{topic}/0@1")),
        "{}",
        dl.source
    );
    assert!(
        dl.reason.contains("refused by the store sink"),
        "{}",
        dl.reason
    );
    assert!(
        dl.reason.contains("0x00"),
        "the database's reason is kept: {}",
        dl.reason
    );
    db.drop_db().await;
}
