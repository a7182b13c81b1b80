//! The Postgres sink against the real Postgres: a fresh database per test.

use pubmine_store::sink::PgSink;
use pubmine_store::testing::TestDb;
use pubmine_stream::record::{
    Annotations, Document, Mention, ModelRef, Passage, PassageKind, PubDate, Relation,
    SCHEMA_VERSION, SourceKind,
};
use pubmine_stream::sink::{SinkBatch, SinkItem};
use pubmine_stream::transport::{Offsets, Origin};

const TOPIC: &str = "pubmed.annotations";

fn model(name: &str, hash: &str, task: &str) -> ModelRef {
    ModelRef {
        name: name.into(),
        hash: hash.into(),
        task: task.into(),
        labels: vec!["Disease".into()],
    }
}

fn mention(passage: u32, text: &str, in_text: &str, ty: &str, model: &str) -> Mention {
    let byte = in_text.find(text).expect("mention in its passage");
    let start = in_text[..byte].chars().count() as u32;
    Mention {
        passage,
        start,
        end: start + text.chars().count() as u32,
        text: text.into(),
        ty: ty.into(),
        score: 0.9,
        model: model.into(),
        concept: None,
    }
}

const TITLE: &str = "Aspirin and BRCA1 in breast cancer";
const ABSTRACT: &str = "Naïve β-cells: aspirin lowered BRCA1 in Breast  Cancer patients.";

/// A document with a title and an abstract, annotated by a disease model, a gene model and a
/// relation model.
fn annotations(id: &str, year: i32) -> Annotations {
    let mut doc = Document::new(SourceKind::Pubmed, id.into());
    doc.pmid = id.strip_prefix("pmid:").map(str::to_string);
    doc.title = TITLE.into();
    doc.pub_date = Some(PubDate {
        year: Some(year),
        ..Default::default()
    });
    let mut abstract_ = Passage::new(PassageKind::Abstract, ABSTRACT.into());
    abstract_.section = Some("Results".into());
    abstract_.category = Some("RESULTS".into());
    abstract_.lang = Some("eng".into());
    doc.passages = vec![Passage::new(PassageKind::Title, TITLE.into()), abstract_];
    Annotations {
        schema_version: SCHEMA_VERSION,
        id: id.into(),
        models: vec![
            model("disease", "h1", "ner"),
            model("gene", "g1", "ner"),
            model("gd", "r1", "re"),
        ],
        mentions: vec![
            mention(0, "BRCA1", TITLE, "Gene", "gene"),
            mention(0, "breast cancer", TITLE, "Disease", "disease"),
            mention(1, "BRCA1", ABSTRACT, "Gene", "gene"),
            mention(1, "Breast  Cancer", ABSTRACT, "Disease", "disease"),
        ],
        relations: vec![Relation {
            subject: 2,
            object: 3,
            ty: "association".into(),
            score: 0.8,
            model: "gd".into(),
        }],
        abbreviations: Vec::new(),
        document: Some(Box::new(doc)),
    }
}

fn item(partition: i32, offset: i64, key: &str, a: Option<Annotations>) -> SinkItem {
    SinkItem {
        topic: TOPIC.into(),
        partition,
        offset,
        key: key.into(),
        annotations: a.map(Box::new),
        origin: None,
    }
}

fn batch(items: Vec<SinkItem>) -> SinkBatch {
    let mut next = Offsets::new();
    for i in &items {
        let e = next.entry((i.topic.clone(), i.partition)).or_insert(0);
        *e = (*e).max(i.offset + 1);
    }
    SinkBatch { items, next }
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
        .fetch_one(&db.pool)
        .await
        .expect(sql)
}

#[tokio::test]
async fn documents_mentions_and_relations_are_stored_with_char_offsets() {
    let db = TestDb::new().await;
    let sink = PgSink::new(db.pool.clone(), "store-test");
    let (done, w) = sink
        .write_batch(&batch(vec![item(
            0,
            0,
            "pmid:1",
            Some(annotations("pmid:1", 2020)),
        )]))
        .await
        .unwrap();
    assert_eq!(done[&(TOPIC.to_string(), 0)], 1);
    assert_eq!((w.documents, w.mentions, w.relations), (1, 4, 1));

    // Offsets count characters: substr() gives the mention back, non-ASCII text before it.
    let bad: i64 = count(
        &db,
        "SELECT count(*) FROM mentions m JOIN passages p
           ON p.document_id = m.document_id AND p.idx = m.passage
         WHERE substr(p.text, m.start_offset + 1, m.end_offset - m.start_offset) <> m.text",
    )
    .await;
    assert_eq!(bad, 0);
    let norm: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT normalized FROM mentions WHERE type = 'Disease' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(norm, ["breast cancer"]);
    let (rtype, subj, obj): (String, String, String) =
        sqlx::query_as("SELECT type, subject_normalized, object_normalized FROM relations")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        (rtype.as_str(), subj.as_str(), obj.as_str()),
        ("association", "brca1", "breast cancer")
    );
    let (year, pmid): (Option<i32>, Option<String>) =
        sqlx::query_as("SELECT pub_year, pmid FROM documents WHERE id = 'pmid:1'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((year, pmid.as_deref()), (Some(2020), Some("1")));
    assert_eq!(count(&db, "SELECT count(*) FROM models").await, 3);
    db.drop_db().await;
}

#[tokio::test]
async fn rewriting_replaces_per_model_and_tombstones_delete_everything() {
    let db = TestDb::new().await;
    let sink = PgSink::new(db.pool.clone(), "store-test");
    sink.write_batch(&batch(vec![
        item(0, 0, "pmid:1", Some(annotations("pmid:1", 2020))),
        item(1, 0, "pmid:2", Some(annotations("pmid:2", 2021))),
    ]))
    .await
    .unwrap();
    // pmid:1 again, annotated by a new version of the disease model only: its disease
    // mentions are replaced, the gene mentions stay, the relation over a replaced mention goes.
    let mut again = annotations("pmid:1", 2020);
    again.models = vec![model("disease", "h2", "ner")];
    again.mentions = vec![mention(0, "cancer", TITLE, "Disease", "disease")];
    again.relations.clear();
    again.abbreviations = vec![pubmine_stream::record::Abbreviation {
        passage: 0,
        short: "BRCA1".into(),
        short_start: 12,
        short_end: 17,
        long: "Aspirin".into(),
        long_start: 0,
        long_end: 7,
    }];
    sink.write_batch(&batch(vec![item(0, 1, "pmid:1", Some(again))]))
        .await
        .unwrap();
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM abbreviations WHERE document_id = 'pmid:1'"
        )
        .await,
        1
    );
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.normalized, mo.hash FROM mentions m JOIN models mo ON mo.id = m.model_id
         WHERE m.document_id = 'pmid:1' ORDER BY 1, 2",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let rows: Vec<(&str, &str)> = rows.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(rows, [("brca1", "g1"), ("brca1", "g1"), ("cancer", "h2")]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM relations WHERE document_id = 'pmid:1'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM mentions WHERE document_id = 'pmid:2'"
        )
        .await,
        4
    );

    // A tombstone removes the document from every table; pmid:2 is untouched.
    sink.write_batch(&batch(vec![item(0, 2, "pmid:1", None)]))
        .await
        .unwrap();
    for table in [
        "documents WHERE id",
        "passages WHERE document_id",
        "mentions WHERE document_id",
        "relations WHERE document_id",
        "abbreviations WHERE document_id",
    ] {
        assert_eq!(
            count(&db, &format!("SELECT count(*) FROM {table} = 'pmid:1'")).await,
            0,
            "{table}"
        );
    }
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM relations WHERE document_id = 'pmid:2'"
        )
        .await,
        1
    );
    db.drop_db().await;
}

#[tokio::test]
async fn records_below_the_stored_offsets_are_skipped() {
    let db = TestDb::new().await;
    let sink = PgSink::new(db.pool.clone(), "store-test");
    let first = batch(vec![
        item(0, 0, "pmid:1", Some(annotations("pmid:1", 2020))),
        item(0, 1, "pmid:2", Some(annotations("pmid:2", 2020))),
    ]);
    sink.write_batch(&first).await.unwrap();
    // The same batch again, as after a crash before the group commit: nothing is written.
    let (done, w) = sink.write_batch(&first).await.unwrap();
    assert_eq!((w.skipped, w.documents), (2, 0));
    assert_eq!(done[&(TOPIC.to_string(), 0)], 2);
    // A batch overlapping the stored offset writes only what is new.
    let (_, w) = sink
        .write_batch(&batch(vec![
            item(0, 1, "pmid:2", None),
            item(0, 2, "pmid:3", Some(annotations("pmid:3", 2020))),
        ]))
        .await
        .unwrap();
    assert_eq!((w.skipped, w.documents, w.deletions), (1, 1, 0));
    assert_eq!(count(&db, "SELECT count(*) FROM documents").await, 3);
    // Another sink name keeps offsets of its own.
    let other = PgSink::new(db.pool.clone(), "other-store");
    let parts = [(TOPIC.to_string(), 0), (TOPIC.to_string(), 5)];
    assert!(other.offsets(&parts).await.unwrap().is_empty());
    let stored = sink.offsets(&parts).await.unwrap();
    assert_eq!(
        stored.into_iter().collect::<Vec<_>>(),
        [((TOPIC.to_string(), 0), 3)]
    );
    db.drop_db().await;
}

#[tokio::test]
async fn a_document_twice_in_one_batch_ends_as_its_last_record() {
    let db = TestDb::new().await;
    let sink = PgSink::new(db.pool.clone(), "store-test");
    let mut later = annotations("pmid:1", 2020);
    later.models = vec![model("disease", "h1", "ner")];
    later.mentions = vec![mention(1, "Breast  Cancer", ABSTRACT, "Disease", "disease")];
    later.relations.clear();
    sink.write_batch(&batch(vec![
        item(0, 0, "pmid:1", Some(annotations("pmid:1", 2020))),
        item(0, 1, "pmid:1", None),
        item(0, 2, "pmid:1", Some(later)),
    ]))
    .await
    .unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM mentions").await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM documents").await, 1);
    db.drop_db().await;
}

/// `item` made from the documents record at `docs_partition@docs_offset`, written at
/// `docs_offset` seconds (an offset, later, of a topic made again under the same name).
fn made_from(mut i: SinkItem, docs_partition: i32, docs_offset: i64) -> SinkItem {
    i.origin = Some(Origin::new(
        "pubmed.documents",
        docs_partition,
        docs_offset,
        Some(docs_offset * 1000),
    ));
    i
}

/// A version of pmid:1 whose title says which.
fn version(title: &str) -> Option<Annotations> {
    let mut a = annotations("pmid:1", 2020);
    if let Some(d) = a.document.as_mut() {
        d.title = title.into();
    }
    Some(a)
}

async fn title(db: &TestDb) -> Option<String> {
    sqlx::query_scalar("SELECT title FROM documents WHERE id = 'pmid:1'")
        .fetch_optional(&db.pool)
        .await
        .unwrap()
}

/// An annotate worker that lost its partitions may deliver what it made from older documents
/// records after their new owner delivered what it made from newer ones: the store keeps the
/// version made from the latest record, and a deletion stays a deletion.
#[tokio::test]
async fn an_older_version_delivered_late_never_replaces_a_newer_one() {
    let db = TestDb::new().await;
    let sink = PgSink::new(db.pool.clone(), "store-test");
    let write = |items: Vec<SinkItem>| {
        let sink = sink.clone();
        async move { sink.write_batch(&batch(items)).await.unwrap().1 }
    };
    // Version 2 (documents offset 20) lands, then version 1 (offset 10): refused.
    write(vec![made_from(item(0, 0, "pmid:1", version("v2")), 3, 20)]).await;
    let w = write(vec![made_from(item(0, 1, "pmid:1", version("v1")), 3, 10)]).await;
    assert_eq!((w.documents, w.superseded), (0, 1));
    assert_eq!(title(&db).await.as_deref(), Some("v2"));
    // The same record again (another model's pass over it, a replay) is written.
    let w = write(vec![made_from(
        item(0, 2, "pmid:1", version("v2 again")),
        3,
        20,
    )])
    .await;
    assert_eq!((w.documents, w.superseded), (1, 0));
    assert_eq!(title(&db).await.as_deref(), Some("v2 again"));
    // Within one batch, the order of origins decides, not the order of arrival.
    let w = write(vec![
        made_from(item(0, 3, "pmid:1", version("v4")), 3, 40),
        made_from(item(0, 4, "pmid:1", version("v3")), 3, 30),
    ])
    .await;
    assert_eq!((w.documents, w.superseded), (1, 1));
    assert_eq!(title(&db).await.as_deref(), Some("v4"));
    // A deletion (offset 50), then a version made before it: the document stays deleted, with
    // nothing of it in the dashboards.
    write(vec![made_from(item(0, 5, "pmid:1", None), 3, 50)]).await;
    let w = write(vec![made_from(
        item(0, 6, "pmid:1", version("v4 late")),
        3,
        40,
    )])
    .await;
    assert_eq!((w.documents, w.superseded), (0, 1));
    assert_eq!(title(&db).await, None);
    for table in ["passages", "mentions", "relations", "entity_counts"] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert_eq!(count(&db, &sql).await, 0, "{table}");
    }
    // A later version brings it back and ends its record of deletion.
    write(vec![made_from(item(0, 7, "pmid:1", version("v6")), 3, 60)]).await;
    assert_eq!(title(&db).await.as_deref(), Some("v6"));
    assert_eq!(
        count(&db, "SELECT count(*) FROM deleted_documents").await,
        0
    );
    // A documents topic made again under its name: offset 1, written after the record held.
    let mut again = made_from(item(0, 8, "pmid:1", version("topic made again")), 3, 1);
    if let Some(o) = again.origin.as_mut() {
        o.timestamp = Some(70_000);
    }
    let w = write(vec![again]).await;
    assert_eq!((w.documents, w.superseded), (1, 0));
    assert_eq!(title(&db).await.as_deref(), Some("topic made again"));
    // Origins of another partition or topic are not ordered against it, and a record that
    // names no origin is ordered by its arrival alone: both are written.
    let w = write(vec![made_from(item(0, 9, "pmid:1", version("p4")), 4, 1)]).await;
    assert_eq!((w.documents, w.superseded), (1, 0));
    let w = write(vec![item(0, 10, "pmid:1", version("none"))]).await;
    assert_eq!((w.documents, w.superseded), (1, 0));
    assert_eq!(title(&db).await.as_deref(), Some("none"));
    db.drop_db().await;
}

#[tokio::test]
async fn views_refresh_and_answer_dashboard_queries() {
    let db = TestDb::new().await;
    let sink = PgSink::new(db.pool.clone(), "store-test");
    sink.write_batch(&batch(vec![
        item(0, 0, "pmid:1", Some(annotations("pmid:1", 2020))),
        item(0, 1, "pmid:2", Some(annotations("pmid:2", 2020))),
        item(0, 2, "pmid:3", Some(annotations("pmid:3", 2021))),
    ]))
    .await
    .unwrap();
    pubmine_store::views::refresh(&db.pool).await.unwrap();
    let by_year: Vec<(String, Option<i32>, i64, i64)> = sqlx::query_as(
        "SELECT type, pub_year, mentions, documents FROM mentions_by_type_year ORDER BY 1, 2",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        by_year,
        [
            ("Disease".into(), Some(2020), 4, 2),
            ("Disease".into(), Some(2021), 2, 1),
            ("Gene".into(), Some(2020), 4, 2),
            ("Gene".into(), Some(2021), 2, 1)
        ]
    );
    let top: (String, i64) = sqlx::query_as(
        "SELECT normalized, documents FROM top_entities WHERE type = 'Gene' ORDER BY documents DESC LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(top, ("brca1".into(), 3));
    assert_eq!(count(&db, "SELECT count(*) FROM entity_documents WHERE type = 'Disease' AND normalized = 'breast cancer'").await, 3);
    assert_eq!(count(&db, "SELECT documents FROM co_mention_pairs WHERE entity_a = 'breast cancer' AND entity_b = 'brca1'").await, 3);
    assert_eq!(count(&db, "SELECT documents FROM co_mentions WHERE entity_a = 'brca1' AND entity_b = 'breast cancer'").await, 3);
    assert_eq!(
        count(
            &db,
            "SELECT relations FROM relation_pairs WHERE subject_normalized = 'brca1'"
        )
        .await,
        3
    );
    // The read-only role can read and cannot write.
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL ROLE pubmine_reader")
        .execute(&mut *tx)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM top_entities")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(n > 0);
    let err = sqlx::query("DELETE FROM documents")
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    drop(tx);
    db.drop_db().await;
}

#[tokio::test]
async fn a_stored_document_reads_back_as_it_was_annotated() {
    let db = TestDb::new().await;
    let sink = PgSink::new(db.pool.clone(), "store-test");
    let mut original = annotations("pmid:1", 2020);
    // "β-cells" as if defined: offsets in characters, after the "ï".
    original.abbreviations = vec![pubmine_stream::record::Abbreviation {
        passage: 1,
        short_start: 6,
        short_end: 7,
        short: "β".into(),
        long_start: 6,
        long_end: 13,
        long: "β-cells".into(),
    }];
    sink.write_batch(&batch(vec![item(0, 0, "pmid:1", Some(original.clone()))]))
        .await
        .unwrap();
    let back = pubmine_store::read::document(&db.pool, "pmid:1")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(back.document, original.document);
    assert_eq!(back.abbreviations, original.abbreviations);
    let (short,): (String,) = sqlx::query_as(
        "SELECT substr(p.text, a.short_start + 1, a.short_end - a.short_start)
         FROM abbreviations a JOIN passages p ON p.document_id = a.document_id AND p.idx = a.passage",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(short, "β");
    // Mentions come back ordered by passage and offset; the relation still joins the same two.
    let mut want = original.mentions.clone();
    want.sort_by_key(|m| (m.passage, m.start, m.end));
    assert_eq!(back.mentions, want);
    let r = &back.relations[0];
    let names = |i: u32| back.mentions[i as usize].text.clone();
    assert_eq!(
        (names(r.subject), names(r.object)),
        ("BRCA1".into(), "Breast  Cancer".into())
    );
    assert_eq!(back.models.len(), 3);
    assert!(
        pubmine_store::read::document(&db.pool, "pmid:404")
            .await
            .unwrap()
            .is_none()
    );
    // And as PubTator, whose offsets index the title and the abstract joined by a space.
    let text = format!("{TITLE} {ABSTRACT}");
    for line in pubmine_store::export::pubtator(&back)
        .lines()
        .skip(2)
        .take(4)
    {
        let f: Vec<&str> = line.split('\t').collect();
        let (s, e): (usize, usize) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        let got: String = text.chars().skip(s).take(e - s).collect();
        assert_eq!(got, f[3], "{line}");
    }
    db.drop_db().await;
}

#[tokio::test]
async fn a_record_postgres_cannot_hold_is_poison_not_a_failure_of_the_sink() {
    use pubmine_stream::sink::{Sink, SinkError};
    let db = TestDb::new().await;
    let mut sink = PgSink::new(db.pool.clone(), "store-test");
    // Postgres text holds no NUL character: such a record can never be written.
    let mut bad = annotations("pmid:2", 2021);
    bad.document.as_mut().unwrap().passages[1].text = "a NUL \u{0} in the abstract".into();
    let mixed = batch(vec![
        item(0, 0, "pmid:1", Some(annotations("pmid:1", 2020))),
        item(0, 1, "pmid:2", Some(bad.clone())),
    ]);
    let err = sink.write(mixed).await.expect_err("refused");
    assert!(matches!(err, SinkError::Poison(_)), "{err:?}");
    assert_eq!(count(&db, "SELECT count(*) FROM documents").await, 0);
    // The same in a mention's text or in the title.
    let mut in_mention = annotations("pmid:3", 2021);
    in_mention.mentions[0].text = "BR\u{0}CA1".into();
    let mut in_title = annotations("pmid:4", 2021);
    in_title.document.as_mut().unwrap().title = "x\u{0}".into();
    for (offset, a) in [(2, in_mention), (3, in_title)] {
        let err = sink
            .write(batch(vec![item(0, offset, &a.id.clone(), Some(a))]))
            .await
            .expect_err("refused");
        assert!(matches!(err, SinkError::Poison(_)), "{err:?}");
    }
    // The good record alone is written.
    sink.write(batch(vec![item(
        0,
        0,
        "pmid:1",
        Some(annotations("pmid:1", 2020)),
    )]))
    .await
    .unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM documents").await, 1);
    db.drop_db().await;
}

/// Rows written with an earlier normal form (before NFKC: `ﬁbrosis` kept its ligature) are
/// brought to today's, mentions and the relations' copies alike, and a second pass changes
/// nothing.
#[tokio::test]
async fn renormalize_brings_old_rows_to_the_one_normal_form() {
    let db = TestDb::new().await;
    let sink = PgSink::new(db.pool.clone(), "store-test");
    let mut a = annotations("pmid:1", 2020);
    let text = "ﬁbrosis and BRCA1";
    a.document.as_mut().unwrap().passages[1].text = text.into();
    a.mentions = vec![
        mention(1, "ﬁbrosis", text, "Disease", "disease"),
        mention(1, "BRCA1", text, "Gene", "gene"),
    ];
    a.relations = vec![Relation {
        subject: 1,
        object: 0,
        ty: "association".into(),
        score: 0.9,
        model: "gd".into(),
    }];
    sink.write_batch(&batch(vec![item(0, 0, "pmid:1", Some(a))]))
        .await
        .unwrap();
    let forms = async || -> (String, String) {
        sqlx::query_as(
            "SELECT m.normalized, r.object_normalized FROM mentions m, relations r \
             WHERE m.text = 'ﬁbrosis'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
    };
    assert_eq!(forms().await, ("fibrosis".into(), "fibrosis".into()));
    // As an earlier version wrote them.
    sqlx::query("UPDATE mentions SET normalized = 'ﬁbrosis' WHERE text = 'ﬁbrosis'")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE relations SET object_normalized = 'ﬁbrosis'")
        .execute(&db.pool)
        .await
        .unwrap();
    let done = pubmine_store::views::renormalize(&db.pool).await.unwrap();
    assert_eq!((done.mentions, done.relations), (1, 1));
    assert_eq!(forms().await, ("fibrosis".into(), "fibrosis".into()));
    let again = pubmine_store::views::renormalize(&db.pool).await.unwrap();
    assert_eq!((again.mentions, again.relations), (0, 0));
    db.drop_db().await;
}

/// Mentions carry their concepts into Postgres and back, and the views count concepts: two
/// spellings of one concept are one entity, a mention without a concept is its normal form,
/// and relations pair concepts.
#[tokio::test]
async fn concepts_are_stored_read_back_and_counted_by_the_views() {
    use pubmine_stream::record::ConceptRef;
    let db = TestDb::new().await;
    let sink = PgSink::new(db.pool.clone(), "store-test");
    let concept = |id: &str, name: &str, matched: &str, via: bool| ConceptRef {
        id: id.into(),
        name: name.into(),
        matched: matched.into(),
        via_abbreviation: via,
    };
    let text = "ASA, acetylsalicylic acid and aspirin; BRCA1 in Breast  Cancer.";
    let with = |ty: &str, t: &str, c: Option<ConceptRef>, model: &str| Mention {
        concept: c,
        ..mention(1, t, text, ty, model)
    };
    let mut a = annotations("pmid:1", 2020);
    a.models.push(model("chemical", "c1", "ner"));
    a.document.as_mut().unwrap().passages[1].text = text.into();
    a.mentions = vec![
        with(
            "Gene",
            "BRCA1",
            Some(concept("NCBIGene:672", "BRCA1", "BRCA1", false)),
            "gene",
        ),
        with("Disease", "Breast  Cancer", None, "disease"),
        with(
            "Chemical",
            "ASA",
            Some(concept("MESH:D001241", "Aspirin", "Aspirin", true)),
            "chemical",
        ),
        with(
            "Chemical",
            "acetylsalicylic acid",
            Some(concept(
                "MESH:D001241",
                "Aspirin",
                "Acetylsalicylic Acid",
                false,
            )),
            "chemical",
        ),
        with(
            "Chemical",
            "aspirin",
            Some(concept("MESH:D001241", "Aspirin", "Aspirin", false)),
            "chemical",
        ),
    ];
    a.mentions.sort_by_key(|m| (m.passage, m.start));
    let gene = a.mentions.iter().position(|m| m.text == "BRCA1").unwrap() as u32;
    let disease = a.mentions.iter().position(|m| m.ty == "Disease").unwrap() as u32;
    a.relations[0].subject = gene;
    a.relations[0].object = disease;
    let mut b = a.clone();
    b.id = "pmid:2".into();
    b.document.as_mut().unwrap().id = "pmid:2".into();
    sink.write_batch(&batch(vec![
        item(0, 0, "pmid:1", Some(a.clone())),
        item(0, 1, "pmid:2", Some(b)),
    ]))
    .await
    .unwrap();
    // Read back as written.
    let back = pubmine_store::read::document(&db.pool, "pmid:1")
        .await
        .unwrap()
        .unwrap();
    let concepts = |x: &Annotations| -> Vec<(String, Option<ConceptRef>)> {
        let mut v: Vec<_> = x
            .mentions
            .iter()
            .map(|m| (m.text.clone(), m.concept.clone()))
            .collect();
        v.sort_by(|p, q| p.0.cmp(&q.0));
        v
    };
    assert_eq!(concepts(&back), concepts(&a));
    pubmine_store::views::refresh(&db.pool).await.unwrap();
    let top: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT type, entity, name, mentions, documents, spellings FROM top_entities ORDER BY type, entity",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        top,
        [
            (
                "Chemical".into(),
                "MESH:D001241".into(),
                "Aspirin".into(),
                6,
                2,
                3
            ),
            (
                "Disease".into(),
                "breast cancer".into(),
                "breast cancer".into(),
                2,
                2,
                1
            ),
            (
                "Gene".into(),
                "NCBIGene:672".into(),
                "BRCA1".into(),
                2,
                2,
                1
            ),
        ]
    );
    let top = pubmine_store::read::top_entities(&db.pool, Some("Chemical"), 5)
        .await
        .unwrap();
    assert_eq!(top[0].concept_id.as_deref(), Some("MESH:D001241"));
    assert_eq!(top[0].spellings, 3);
    assert_eq!(count(&db, "SELECT count(*) FROM entity_documents WHERE type = 'Chemical' AND entity = 'MESH:D001241'").await, 2);
    assert_eq!(count(&db, "SELECT documents FROM co_mention_pairs WHERE entity_a = 'MESH:D001241' AND entity_b = 'breast cancer'").await, 2);
    let pair: (String, String, i64) =
        sqlx::query_as("SELECT subject, object, relations FROM relation_pairs")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(pair, ("NCBIGene:672".into(), "breast cancer".into(), 2));
    assert_eq!(
        count(&db, "SELECT count(*) FROM mentions WHERE via_abbreviation").await,
        2
    );
    db.drop_db().await;
}
