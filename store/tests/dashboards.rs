//! The dashboards the store sink keeps in each batch's transaction, against the real Postgres:
//! after a stream of new documents, revisions (whole, and of one model only), documents named
//! twice in a batch and deletions, the counters equal a rebuild from scratch and the aggregates
//! computed directly from the stored rows, and a key whose count reached zero is gone.
//! Co-mentions count the title and abstract only; the records have a body paragraph too.

use pubmine_store::sink::PgSink;
use pubmine_store::testing::TestDb;
use pubmine_stream::record::{
    Annotations, ConceptRef, Document, Mention, ModelRef, Passage, PassageKind, PubDate, Relation,
    SCHEMA_VERSION, SourceKind,
};
use pubmine_stream::sink::{SinkBatch, SinkItem};
use pubmine_stream::synthetic::Rng;
use pubmine_stream::transport::Offsets;

const TOPIC: &str = "pubmed.annotations";

/// An entity's type, the model that finds it, its surface forms, and its concept (id, name).
type Entity = (
    &'static str,
    &'static str,
    &'static [&'static str],
    Option<(&'static str, &'static str)>,
);

const ENTITIES: [Entity; 8] = [
    (
        "Chemical",
        "chemical",
        &["Aspirin", "aspirin", "ASA"],
        Some(("MESH:D001241", "Aspirin")),
    ),
    ("Chemical", "chemical", &["ibuprofen", "Ibuprofen"], None),
    (
        "Gene",
        "gene",
        &["BRCA1", "brca1"],
        Some(("NCBIGene:672", "BRCA1")),
    ),
    (
        "Gene",
        "gene",
        &["TP53", "p53"],
        Some(("NCBIGene:7157", "TP53")),
    ),
    (
        "Disease",
        "disease",
        &["breast cancer", "Breast  Cancer"],
        None,
    ),
    (
        "Disease",
        "disease",
        &["asthma", "Asthma"],
        Some(("MESH:D001249", "Asthma")),
    ),
    ("Disease", "disease", &["headache"], None),
    (
        "Species",
        "gene",
        &["humans", "human"],
        Some(("NCBITaxon:9606", "Homo sapiens")),
    ),
];

fn model(name: &str, task: &str, version: u64) -> ModelRef {
    ModelRef {
        name: name.into(),
        hash: format!("{name}-v{version}"),
        task: task.into(),
        labels: Vec::new(),
    }
}

/// A record for `id`: a few random mentions, and relations between its chemicals and diseases.
/// With `only`, the record names that one model and carries its mentions alone (a revision by
/// one model), as the annotator writes after a model is replaced.
fn record(rng: &mut Rng, id: &str, only: Option<&str>) -> Annotations {
    let mut doc = Document::new(SourceKind::Pubmed, id.into());
    doc.title = format!("Title of {id}");
    doc.pub_date = [Some(2019), Some(2020), None][rng.below(3)].map(|year| PubDate {
        year: Some(year),
        ..Default::default()
    });
    // An abstract and a body paragraph (whose entities count everywhere but in co-mentions).
    let mut texts = [String::new(), String::new()];
    let mut mentions = Vec::new();
    for _ in 0..1 + rng.below(9) {
        let (ty, model, forms, concept) = ENTITIES[rng.below(ENTITIES.len())];
        if only.is_some_and(|o| o != model) {
            continue;
        }
        let form = forms[rng.below(forms.len())];
        let passage = usize::from(rng.below(4) == 0);
        let text = &mut texts[passage];
        let start = text.chars().count() as u32;
        text.push_str(form);
        text.push_str(" and ");
        mentions.push(Mention {
            passage: passage as u32,
            start,
            end: start + form.chars().count() as u32,
            text: form.into(),
            ty: ty.into(),
            score: (rng.below(1000) as f32) / 1000.0,
            model: model.into(),
            concept: concept.map(|(cid, name)| ConceptRef {
                id: cid.into(),
                name: name.into(),
                matched: form.into(),
                via_abbreviation: false,
            }),
        });
    }
    let [abstract_, body] = texts;
    doc.passages = vec![
        Passage::new(PassageKind::Abstract, abstract_),
        Passage::new(PassageKind::Paragraph, body),
    ];
    let mut relations = Vec::new();
    for (s, sm) in mentions.iter().enumerate() {
        for (o, om) in mentions.iter().enumerate() {
            if sm.ty == "Chemical" && om.ty == "Disease" && rng.below(2) == 0 {
                relations.push(Relation {
                    subject: s as u32,
                    object: o as u32,
                    ty: "induces".into(),
                    score: (rng.below(1000) as f32) / 1000.0,
                    model: "cid".into(),
                });
            }
        }
    }
    let version = 1 + rng.below(2) as u64;
    let models = match only {
        Some(name) => vec![model(name, "ner", version)],
        None => vec![
            model("chemical", "ner", version),
            model("gene", "ner", version),
            model("disease", "ner", version),
            model("cid", "re", version),
        ],
    };
    if only.is_some() {
        relations.clear();
    }
    Annotations {
        schema_version: SCHEMA_VERSION,
        id: id.into(),
        models,
        mentions,
        relations,
        abbreviations: Vec::new(),
        document: Some(Box::new(doc)),
    }
}

/// Every dashboard table, each as one JSON text in a fixed order.
async fn snapshot(db: &TestDb) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for table in [
        "mentions_by_type_year",
        "entity_counts",
        "entity_forms",
        "entity_years",
        "co_mention_counts",
        "relation_counts",
    ] {
        let sql =
            format!("SELECT coalesce(json_agg(t ORDER BY t::text), '[]')::text FROM {table} t");
        let json: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&db.pool)
            .await
            .unwrap();
        out.push((table.to_string(), json));
    }
    out
}

/// The same JSON text of a query's rows.
async fn rows(db: &TestDb, sql: &str) -> String {
    let sql = format!("SELECT coalesce(json_agg(t ORDER BY t::text), '[]')::text FROM ({sql}) t");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn counters_kept_by_the_sink_equal_a_rebuild_after_revisions_and_deletions() {
    let db = TestDb::new().await;
    let sink = PgSink::new(db.pool.clone(), "store-test");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut offset = 0i64;
    let (mut revisions, mut partial, mut deletions, mut twice) = (0, 0, 0, 0);
    let mut stored = std::collections::HashSet::new();
    for _ in 0..40 {
        let mut items = Vec::new();
        for _ in 0..1 + rng.below(8) {
            let id = format!("pmid:{}", rng.below(30));
            let roll = rng.below(20);
            let annotations = if roll < 3 {
                deletions += u32::from(stored.remove(&id));
                None
            } else if roll < 6 {
                partial += u32::from(stored.contains(&id));
                let only = ["chemical", "gene", "disease"][rng.below(3)];
                stored.insert(id.clone());
                Some(record(&mut rng, &id, Some(only)))
            } else {
                revisions += u32::from(!stored.insert(id.clone()));
                Some(record(&mut rng, &id, None))
            };
            twice += u32::from(items.iter().any(|i: &SinkItem| i.key == id));
            items.push(SinkItem {
                topic: TOPIC.into(),
                partition: 0,
                offset,
                key: id,
                annotations: annotations.map(Box::new),
                origin: None,
            });
            offset += 1;
        }
        let mut next = Offsets::new();
        next.insert((TOPIC.into(), 0), offset);
        sink.write_batch(&SinkBatch { items, next }).await.unwrap();
    }
    // The stream did what the test is about.
    assert!(
        revisions >= 10 && partial >= 5 && deletions >= 5 && twice >= 3,
        "revisions {revisions}, partial {partial}, deletions {deletions}, twice {twice}"
    );

    let kept = snapshot(&db).await;
    for (table, json) in &kept {
        assert!(json.len() > 100, "{table} is nearly empty: {json}");
    }
    // No key lingers at zero.
    for sql in [
        "SELECT count(*) FROM mentions_by_type_year WHERE mentions = 0",
        "SELECT count(*) FROM entity_counts WHERE mentions = 0",
        "SELECT count(*) FROM entity_forms WHERE mentions = 0",
        "SELECT count(*) FROM entity_years WHERE mentions = 0",
        "SELECT count(*) FROM co_mention_counts WHERE documents = 0",
        "SELECT count(*) FROM relation_counts WHERE relations = 0",
    ] {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap();
        assert_eq!(n, 0, "{sql}");
    }

    // The counters equal the aggregates of the stored rows, computed here independently.
    assert_eq!(
        rows(&db, "SELECT type, pub_year, mentions, documents FROM mentions_by_type_year").await,
        rows(
            &db,
            "SELECT m.type, d.pub_year, count(*) AS mentions, count(DISTINCT m.document_id) AS documents
             FROM mentions m JOIN documents d ON d.id = m.document_id GROUP BY 1, 2"
        )
        .await
    );
    assert_eq!(
        rows(&db, "SELECT type, entity, concept_id, mentions, documents FROM entity_counts").await,
        rows(
            &db,
            "SELECT type, coalesce(concept_id, normalized) AS entity, max(concept_id) AS concept_id,
                    count(*) AS mentions, count(DISTINCT document_id) AS documents
             FROM mentions GROUP BY 1, 2"
        )
        .await
    );
    assert_eq!(
        rows(
            &db,
            "SELECT type, entity, normalized, text, spellings FROM top_entities"
        )
        .await,
        rows(
            &db,
            "SELECT type, coalesce(concept_id, normalized) AS entity,
                    mode() WITHIN GROUP (ORDER BY normalized) AS normalized,
                    mode() WITHIN GROUP (ORDER BY text) AS text,
                    count(DISTINCT normalized) AS spellings
             FROM mentions GROUP BY 1, 2"
        )
        .await
    );
    assert_eq!(
        rows(
            &db,
            "SELECT type_a, entity_a, type_b, entity_b, documents FROM co_mention_counts"
        )
        .await,
        rows(
            &db,
            "WITH e AS (SELECT DISTINCT m.document_id, m.type,
                               coalesce(m.concept_id, m.normalized) AS entity
                        FROM mentions m
                        JOIN passages p ON p.document_id = m.document_id AND p.idx = m.passage
                        WHERE p.kind IN ('title', 'abstract'))
             SELECT a.type AS type_a, a.entity AS entity_a, b.type AS type_b, b.entity AS entity_b,
                    count(*) AS documents
             FROM e a JOIN e b ON b.document_id = a.document_id
                              AND (a.type, a.entity) < (b.type, b.entity)
             GROUP BY 1, 2, 3, 4"
        )
        .await
    );
    assert_eq!(
        rows(
            &db,
            "SELECT type, model, subject, object, relations, documents,
                    round(mean_score::numeric, 5) AS mean FROM relation_pairs"
        )
        .await,
        rows(
            &db,
            "SELECT r.type, mo.name AS model,
                    coalesce(r.subject_concept, r.subject_normalized) AS subject,
                    coalesce(r.object_concept, r.object_normalized) AS object,
                    count(*) AS relations, count(DISTINCT r.document_id) AS documents,
                    round(avg(r.score)::numeric, 5) AS mean
             FROM relations r JOIN models mo ON mo.id = r.model_id GROUP BY 1, 2, 3, 4"
        )
        .await
    );

    // And a rebuild from scratch changes nothing.
    pubmine_store::views::refresh(&db.pool).await.unwrap();
    assert_eq!(snapshot(&db).await, kept);

    // Deleting every document leaves every dashboard empty.
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM documents")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    let items: Vec<SinkItem> = ids
        .into_iter()
        .map(|id| {
            offset += 1;
            SinkItem {
                topic: TOPIC.into(),
                partition: 0,
                offset: offset - 1,
                key: id,
                annotations: None,
                origin: None,
            }
        })
        .collect();
    let mut next = Offsets::new();
    next.insert((TOPIC.into(), 0), offset);
    sink.write_batch(&SinkBatch { items, next }).await.unwrap();
    for (table, json) in snapshot(&db).await {
        assert_eq!(json, "[]", "{table}");
    }
    db.drop_db().await;
}

/// An entity's co-mentions, most documents first, come from indexes in that order: the plan
/// merges an ordered scan of each side of `co_mention_counts` and sorts nothing, so the read
/// stops at its LIMIT however many partners a popular entity has (migration
/// 20261207000003; before it, every partner was fetched and sorted). Sorting is disabled for
/// the plan so that, on a table this small, a sort would show only where no ordered path exists.
#[tokio::test]
async fn co_mentions_of_an_entity_are_read_in_order_from_indexes() {
    let db = TestDb::new().await;
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::raw_sql("SET LOCAL enable_sort = off; SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan: String = sqlx::query_scalar(
        "EXPLAIN (FORMAT JSON) SELECT name_b, entity_b, documents FROM co_mentions
         WHERE type_a = 'Chemical' AND entity_a = 'MESH:D001241'
         ORDER BY documents DESC LIMIT 20",
    )
    .fetch_one(&mut *tx)
    .await
    .map(|v: serde_json::Value| v.to_string())
    .unwrap();
    assert!(
        !plan.contains("\"Sort\"") && !plan.contains("Incremental Sort"),
        "the co-mentions read sorts: {plan}"
    );
    assert!(
        plan.contains("co_mention_counts_a_rank") && plan.contains("co_mention_counts_b_rank"),
        "the co-mentions read does not use both ordered indexes: {plan}"
    );
    tx.rollback().await.unwrap();
    db.drop_db().await;
}
