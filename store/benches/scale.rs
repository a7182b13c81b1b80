//! PubMed scale: the store and index sinks, the dashboards and the reads, as the data grows.
//!
//! Generates annotation records shaped like real ones (see [`Shape`]) and writes them, in
//! steps, through the real sinks' own write paths (`PgSink::write_batch`, `Indexer::write`),
//! in batches that carry revisions and deletions. After each step it measures, over that step:
//! store and index documents/s; database and index bytes per stored document; the time the
//! store spends keeping the dashboards fresh, per batch (Postgres' own count of the time in
//! `dashboards_collect` and `dashboards_merge`); and the latency (p50, p99) of a fixed mix of
//! reads over entities drawn by popularity: each dashboard query an analyst runs, `search` with
//! and without facets and `with`, and the document read behind `/documents/{id}`. Prints a table
//! and writes a CSV (bench/scale.sh plots it).
//!
//!   cargo bench -p pubmine-store --bench scale -- STEPS [CSV]
//!   STEPS: comma-separated document totals, such as 10000,30000,100000

use std::collections::HashMap;
use std::time::{Duration, Instant};

use pubmine_index::{IndexConfig, Indexer, SearchRequest, Searcher};
use pubmine_store::sink::PgSink;
use pubmine_store::testing::TestDb;
use pubmine_stream::record::{
    Annotations, ConceptRef, Document, Mention, ModelRef, Passage, PassageKind, PubDate, Relation,
    SCHEMA_VERSION, SourceKind,
};
use pubmine_stream::sink::{SinkBatch, SinkItem};
use pubmine_stream::synthetic::Rng;
use pubmine_stream::transport::{Offsets, Origin};

/// What the generated records look like. Entity popularity follows a Zipf law with exponent
/// 0.75: the slope of log(documents per concept) against log(rank) over the 300 most frequent
/// chemical and disease concepts of the CDR corpus' 1,000 training and development abstracts
/// (0.705 chemicals, 0.740 diseases). Mentions per abstract: CDR's curators mark 18.6 chemicals
/// and diseases per abstract, of about 7 distinct concepts; with genes and species, 24 mentions
/// of 6 to 14 entities here. Relations: CDR has 2.05 chemical-induced disease pairs per
/// abstract. The full-text share is PMC's 6 million full
/// texts beside PubMed's 36 million abstracts; their size (30 passages, 12 times the mentions
/// of an abstract) is an assumption, not a fit.
struct Shape {
    zipf: f64,
    mentions_per_abstract: usize,
    relations_per_abstract: usize,
    full_text_share: f64,
    full_text_passages: usize,
    full_text_mention_factor: usize,
    /// Entities per type (chemicals, diseases, genes, species).
    vocabulary: [usize; 4],
    /// Share of the mentions that carry a concept id.
    with_concept: f64,
    /// Share of each batch's records that revise a stored document, and that delete one.
    revisions: f64,
    deletions: f64,
}

const SHAPE: Shape = Shape {
    zipf: 0.75,
    mentions_per_abstract: 24,
    relations_per_abstract: 2,
    full_text_share: 0.14,
    full_text_passages: 30,
    full_text_mention_factor: 12,
    vocabulary: [100_000, 20_000, 100_000, 10_000],
    with_concept: 0.7,
    revisions: 0.05,
    deletions: 0.002,
};

const TYPES: [(&str, &str); 4] = [
    ("Chemical", "MESH:C"),
    ("Disease", "MESH:D"),
    ("Gene", "NCBIGene:"),
    ("Species", "NCBITaxon:"),
];
const TOPIC: &str = "pubmed.annotations";
const BATCH: usize = 500;

/// Draws ranks 0.. with probability proportional to (rank + 1)^-s.
struct Zipf(Vec<f64>);

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for k in 1..=n {
            total += (k as f64).powf(-s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Zipf(cdf)
    }
    fn draw(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.0.partition_point(|&c| c < u).min(self.0.len() - 1)
    }
}

const SYLLABLES: &[&str] = &[
    "am", "ox", "ci", "lin", "met", "for", "min", "tra", "zo", "lol", "pre", "ni", "so", "lo",
    "ne", "cap", "to", "pril", "dex", "ame", "tha", "sone", "vir", "mab", "tin", "ib", "ra",
];

/// An entity's name: syllables spelling its rank, so that names are distinct and stable.
fn entity_name(ty: usize, rank: usize) -> String {
    let mut n = rank * 4 + ty;
    let mut s = String::new();
    loop {
        s.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
        if n == 0 {
            break;
        }
    }
    match ty {
        1 => format!("{s} syndrome"),
        2 => s.to_uppercase(),
        _ => s,
    }
}

struct Generator {
    rng: Rng,
    zipf: Vec<Zipf>,
    models: Vec<ModelRef>,
}

impl Generator {
    fn new(seed: u64) -> Generator {
        let zipf = SHAPE
            .vocabulary
            .iter()
            .map(|&n| Zipf::new(n, SHAPE.zipf))
            .collect();
        let model = |name: &str, task: &str| ModelRef {
            name: name.into(),
            hash: "scale".into(),
            task: task.into(),
            labels: Vec::new(),
        };
        Generator {
            rng: Rng(seed),
            zipf,
            models: vec![model("ner-multi", "ner"), model("re-cdr", "re")],
        }
    }

    /// The record of document `n`, `version` times annotated.
    fn record(&mut self, n: usize, version: u64) -> Annotations {
        let rng = &mut self.rng;
        let id = format!("pmid:{}", 20_000_000 + n);
        let full = rng.unit() < SHAPE.full_text_share;
        let (passages, mentions) = if full {
            (
                SHAPE.full_text_passages,
                SHAPE.mentions_per_abstract * SHAPE.full_text_mention_factor,
            )
        } else {
            (1, SHAPE.mentions_per_abstract)
        };
        let mentions = mentions / 2 + rng.below(mentions + 1);
        let mut doc = Document::new(
            if full {
                SourceKind::Pmc
            } else {
                SourceKind::Pubmed
            },
            id.clone(),
        );
        doc.pmid = Some((20_000_000 + n).to_string());
        doc.pub_date = Some(PubDate {
            year: Some(1975 + rng.below(51) as i32),
            ..Default::default()
        });
        let mut texts = vec![String::new(); passages + 1];
        let mut out = Vec::with_capacity(mentions);
        // A paper names a few entities several times each.
        let distinct = if full {
            60 + rng.below(61)
        } else {
            6 + rng.below(9)
        };
        let entities: Vec<(usize, usize)> = (0..distinct)
            .map(|_| {
                let ty = rng.below(4);
                (ty, self.zipf[ty].draw(rng))
            })
            .collect();
        for i in 0..mentions {
            let (ty, rank) = if i < distinct {
                entities[i]
            } else {
                entities[rng.below(distinct)]
            };
            let base = entity_name(ty, rank);
            // An entity is written a few ways: as named, capitalized, or (rarely) abbreviated.
            let text = match rng.below(10) {
                0..=6 => base.clone(),
                7 | 8 => {
                    let mut c = base.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                }
                _ => base.chars().take(3).collect::<String>().to_uppercase(),
            };
            // The title, then the abstract (a full text's first body passage), then the body.
            let passage = match i {
                0 => 0,
                _ if !full || i < SHAPE.mentions_per_abstract => 1,
                _ => 2 + rng.below(passages - 1),
            };
            let t = &mut texts[passage];
            t.push_str("we observed that ");
            let start = t.chars().count() as u32;
            t.push_str(&text);
            t.push_str(" was associated with the response. ");
            let concept = (rng.unit() < SHAPE.with_concept).then(|| ConceptRef {
                id: format!("{}{}", TYPES[ty].1, rank),
                name: base.clone(),
                matched: text.clone(),
                via_abbreviation: false,
            });
            out.push(Mention {
                passage: passage as u32,
                start,
                end: start + text.chars().count() as u32,
                text,
                ty: TYPES[ty].0.into(),
                score: 0.5 + rng.below(500) as f32 / 1000.0,
                model: "ner-multi".into(),
                concept,
            });
        }
        doc.title = texts[0].clone();
        doc.passages = texts
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let kind = match i {
                    0 => PassageKind::Title,
                    1 => PassageKind::Abstract,
                    _ => PassageKind::Paragraph,
                };
                Passage::new(kind, t)
            })
            .collect();
        let chemicals: Vec<u32> = (0..out.len() as u32)
            .filter(|&i| out[i as usize].ty == "Chemical")
            .collect();
        let diseases: Vec<u32> = (0..out.len() as u32)
            .filter(|&i| out[i as usize].ty == "Disease")
            .collect();
        let mut relations = Vec::new();
        if !chemicals.is_empty() && !diseases.is_empty() {
            let n = SHAPE.relations_per_abstract * if full { 4 } else { 1 };
            for _ in 0..rng.below(2 * n + 1) {
                relations.push(Relation {
                    subject: chemicals[rng.below(chemicals.len())],
                    object: diseases[rng.below(diseases.len())],
                    ty: "induces".into(),
                    score: 0.5 + rng.below(500) as f32 / 1000.0,
                    model: "re-cdr".into(),
                });
            }
        }
        let mut models = self.models.clone();
        for m in &mut models {
            m.hash = format!("v{version}");
        }
        Annotations {
            schema_version: SCHEMA_VERSION,
            id,
            models,
            mentions: out,
            relations,
            abbreviations: Vec::new(),
            document: Some(Box::new(doc)),
        }
    }
}

/// The batches that take the store from `from` to `to` documents written: new documents, with
/// revisions and deletions of earlier ones mixed in at the rates of [`SHAPE`].
fn batches(g: &mut Generator, from: usize, to: usize, offset: &mut i64) -> Vec<SinkBatch> {
    let mut out = Vec::new();
    let mut items: Vec<SinkItem> = Vec::new();
    let push =
        |items: &mut Vec<SinkItem>, offset: &mut i64, key: String, a: Option<Annotations>| {
            items.push(SinkItem {
                topic: TOPIC.into(),
                partition: 0,
                offset: *offset,
                key,
                annotations: a.map(Box::new),
                // As annotate names it: the documents record the annotations were made from.
                origin: Some(Origin::new("documents", 0, *offset, None)),
            });
            *offset += 1;
        };
    for n in from..to {
        let a = g.record(n, 1);
        push(&mut items, offset, a.id.clone(), Some(a));
        if n > 0 && g.rng.unit() < SHAPE.revisions {
            let old = g.rng.below(n);
            let a = g.record(old, 2);
            push(&mut items, offset, a.id.clone(), Some(a));
        }
        if n > 0 && g.rng.unit() < SHAPE.deletions {
            let old = g.rng.below(n);
            push(
                &mut items,
                offset,
                format!("pmid:{}", 20_000_000 + old),
                None,
            );
        }
        if items.len() >= BATCH || n + 1 == to {
            let mut next = Offsets::new();
            next.insert((TOPIC.into(), 0), *offset);
            out.push(SinkBatch {
                items: std::mem::take(&mut items),
                next,
            });
        }
    }
    out
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Milliseconds Postgres counted in the dashboard functions so far.
async fn dashboard_ms(pool: &sqlx::PgPool) -> f64 {
    // The counts reach the shared statistics within a second of a transaction's end.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let _ = sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(pool)
        .await;
    sqlx::query_scalar::<_, Option<f64>>(
        "SELECT sum(total_time) FROM pg_stat_user_functions
         WHERE funcname IN ('dashboards_collect', 'dashboards_merge')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
    .unwrap_or(0.0)
}

/// Entities drawn by popularity: the entities of mentions picked at random.
async fn popular_entities(pool: &sqlx::PgPool, n: i64) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT type, coalesce(concept_id, normalized) FROM mentions TABLESAMPLE SYSTEM (1)
         ORDER BY random() LIMIT $1",
    )
    .bind(n)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// How long `sql` with `binds` takes on `db` (the pool, or a transaction's connection).
async fn time_query<'c>(db: impl sqlx::PgExecutor<'c>, sql: &str, binds: &[&str]) -> Duration {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = q.bind(*b);
    }
    let start = Instant::now();
    q.fetch_all(db).await.unwrap();
    start.elapsed()
}

/// The reads, each timed `QUERIES` times.
const QUERIES: usize = 200;
const READS: [&str; 9] = [
    "top entities of a type",
    "entity documents by year",
    "co-mentions of an entity",
    "relation pairs of a type",
    "search",
    "search and facets",
    "search and facets with=",
    "document by id",
    // the reference of the co-mentions read: the same queries under the indexes before migration
    // 20261207000003 (dropped and made again in a transaction rolled back after)
    "co-mentions unranked",
];

/// The co-mentions of an entity, most documents first, as an analyst reads them.
const CO_MENTIONS: &str = "SELECT name_b, entity_b, documents FROM co_mentions
                           WHERE type_a = $1 AND entity_a = $2 ORDER BY documents DESC LIMIT 20";

/// The co-mentions read of each of `entities` under the co-mention counters' indexes as they were
/// before migration 20261207000003 (the B side's entity alone: every partner fetched and sorted),
/// in a transaction rolled back after, so that the schema's indexes are back untouched.
async fn co_mentions_unranked(pool: &sqlx::PgPool, entities: &[(String, String)]) -> Vec<Duration> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql(
        "DROP INDEX co_mention_counts_a_rank, co_mention_counts_b_rank;
         CREATE INDEX co_mention_counts_b ON co_mention_counts (type_b, entity_b)",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    let mut out = Vec::new();
    for (ty, entity) in entities {
        out.push(time_query(&mut *tx, CO_MENTIONS, &[ty, entity]).await);
    }
    tx.rollback().await.unwrap();
    out
}

async fn reads(db: &TestDb, searcher: &Searcher, stored: usize) -> Vec<Vec<Duration>> {
    let pool = &db.pool;
    let entities = popular_entities(pool, QUERIES as i64).await;
    let names: HashMap<(String, String), String> = {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT type, entity, entity_form(type, entity, 'n') FROM entity_counts
             WHERE (type, entity) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        )
        .bind(entities.iter().map(|e| e.0.clone()).collect::<Vec<_>>())
        .bind(entities.iter().map(|e| e.1.clone()).collect::<Vec<_>>())
        .fetch_all(pool)
        .await
        .unwrap();
        rows.into_iter().map(|(t, e, n)| ((t, e), n)).collect()
    };
    let mut rng = Rng(0x5eed);
    let mut out = vec![Vec::new(); READS.len()];
    for (i, (ty, entity)) in entities.iter().enumerate() {
        let other = &entities[(i + 1) % entities.len()];
        out[0].push(
            time_query(
                pool,
                "SELECT name, entity, documents FROM top_entities WHERE type = $1
                 ORDER BY documents DESC LIMIT 20",
                &[ty],
            )
            .await,
        );
        out[1].push(
            time_query(
                pool,
                "SELECT pub_year, documents FROM entity_years WHERE type = $1 AND entity = $2
                 ORDER BY pub_year",
                &[ty, entity],
            )
            .await,
        );
        out[2].push(time_query(pool, CO_MENTIONS, &[ty, entity]).await);
        out[3].push(
            time_query(
                pool,
                "SELECT subject_normalized, object_normalized, relations, documents, mean_score
                 FROM relation_pairs WHERE type = 'induces' ORDER BY relations DESC LIMIT 20",
                &[],
            )
            .await,
        );
        let name = names
            .get(&(ty.clone(), entity.clone()))
            .cloned()
            .unwrap_or_else(|| entity.clone());
        let other_name = names.get(other).cloned().unwrap_or_else(|| other.1.clone());
        for (k, facets, with) in [
            (4, false, None),
            (5, true, None),
            (6, true, Some(other_name)),
        ] {
            out[k].push(timed_search(searcher, &name, ty, facets, with));
        }
        let id = format!("pmid:{}", 20_000_000 + rng.below(stored));
        let start = Instant::now();
        pubmine_store::read::document(pool, &id).await.unwrap();
        out[7].push(start.elapsed());
    }
    out[8] = co_mentions_unranked(pool, &entities).await;
    for v in &mut out {
        v.sort();
    }
    out
}

/// How long a search for `query` as an entity of type `ty` takes (the first page of 20; the
/// top 10 entities per type when `facets`; only papers that also mention `with`).
fn timed_search(
    searcher: &Searcher,
    query: &str,
    ty: &str,
    facets: bool,
    with: Option<String>,
) -> Duration {
    let req = SearchRequest {
        query: query.to_owned(),
        concept: None,
        entity_type: Some(ty.to_owned()),
        year_from: None,
        year_to: None,
        with,
        limit: 20,
        offset: 0,
        facets,
        facet_limit: 10,
    };
    let start = Instant::now();
    searcher.search(&req).unwrap();
    start.elapsed()
}

/// Seconds to write `batches` through the index sink's writer and commit them.
fn index_all(indexer: &mut Indexer, batches: &[SinkBatch]) -> f64 {
    let start = Instant::now();
    for b in batches {
        indexer.write(b).unwrap();
    }
    indexer.commit().unwrap();
    start.elapsed().as_secs_f64()
}

/// The documents stored, and the database's size once vacuumed.
async fn stored_and_bytes(pool: &sqlx::PgPool) -> (i64, i64) {
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM documents")
        .fetch_one(pool)
        .await
        .unwrap();
    sqlx::raw_sql("VACUUM ANALYZE").execute(pool).await.unwrap();
    let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(pool)
        .await
        .unwrap();
    (stored, bytes)
}

/// The reference: the first step's batches through the same sink into a database of its own
/// whose dashboard functions do nothing, the store as it was before it kept the dashboards.
async fn reference(batches: &[SinkBatch], docs: usize) {
    let db = TestDb::new().await;
    sqlx::raw_sql(
        "CREATE OR REPLACE FUNCTION dashboards_collect(docs TEXT[], sign INTEGER) RETURNS void
         LANGUAGE sql AS 'SELECT';
         CREATE OR REPLACE FUNCTION dashboards_merge() RETURNS void LANGUAGE sql AS 'SELECT';",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let sink = PgSink::new(db.pool.clone(), "scale-reference");
    let start = Instant::now();
    for b in batches {
        sink.write_batch(b).await.unwrap();
    }
    let took = start.elapsed().as_secs_f64();
    let (stored, bytes) = stored_and_bytes(&db.pool).await;
    println!(
        "reference, the same {docs} records through the sink with the dashboards off: {:.0} documents/s, {:.1} ms a batch, {:.0} database bytes per document",
        docs as f64 / took,
        took * 1000.0 / batches.len() as f64,
        bytes as f64 / stored as f64
    );
    db.drop_db().await;
}

/// `SCALE_ONLY=search`: the index alone (no database), and the searches, their entities drawn
/// as often as papers mention them; for working on search without the store's hours.
fn search_only(steps: &[usize], csv_path: &str) {
    let index_dir = tempfile::tempdir().unwrap();
    let mut indexer = Indexer::open(index_dir.path(), IndexConfig::default()).unwrap();
    let mut generator = Generator::new(0x9E37_79B9_7F4A_7C15);
    let (mut offset, mut written) = (0i64, 0usize);
    // The facets counted by the dictionaries alone, as before the entity ids: the reference.
    const REFERENCE: &str = "search and facets by dictionaries";
    let searches: Vec<&str> = READS[4..7].iter().copied().chain([REFERENCE]).collect();
    let mut csv = String::from("documents,index_docs_per_s,index_bytes_per_doc");
    for r in &searches {
        csv.push_str(&format!(",{r} p50_ms,{r} p99_ms"));
    }
    csv.push('\n');
    println!(
        "{:>9} {:>8} {:>9}  p50/p99 ms: {}",
        "documents",
        "index/s",
        "ix B/doc",
        searches.join(" | ")
    );
    for &to in steps {
        if to <= written {
            continue;
        }
        let batches = batches(&mut generator, written, to, &mut offset);
        let docs: usize = batches.iter().map(|b| b.items.len()).sum();
        let index_s = index_all(&mut indexer, &batches);
        written = to;
        let searcher = Searcher::open(index_dir.path()).unwrap();
        let reference = Searcher::open(index_dir.path())
            .unwrap()
            .with_facets_by_dictionary();
        let mut rng = Rng(0x5eed);
        let mut out = vec![Vec::new(); searches.len()];
        let pick = |rng: &mut Rng| {
            let ty = rng.below(TYPES.len());
            (ty, generator.zipf[ty].draw(rng))
        };
        for _ in 0..QUERIES {
            let (ty, rank) = pick(&mut rng);
            let (oty, orank) = pick(&mut rng);
            for (k, facets, with) in [
                (0, false, None),
                (1, true, None),
                (2, true, Some(entity_name(oty, orank))),
            ] {
                let query = entity_name(ty, rank);
                out[k].push(timed_search(&searcher, &query, TYPES[ty].0, facets, with));
            }
            let query = entity_name(ty, rank);
            out[3].push(timed_search(&reference, &query, TYPES[ty].0, true, None));
        }
        let ix_bytes = dir_bytes(index_dir.path()) as f64 / to as f64;
        let mut cells = Vec::new();
        let mut line = vec![
            to.to_string(),
            format!("{:.3}", docs as f64 / index_s),
            format!("{ix_bytes:.3}"),
        ];
        for v in &mut out {
            v.sort();
            let (p50, p99) = (percentile(v, 0.5), percentile(v, 0.99));
            cells.push(format!("{p50:.1}/{p99:.1}"));
            line.push(format!("{p50:.3},{p99:.3}"));
        }
        println!(
            "{to:>9} {:>8.0} {ix_bytes:>9.0}  {}",
            docs as f64 / index_s,
            cells.join(" | ")
        );
        let p99 = |v: &[Duration]| percentile(v, 0.99);
        println!(
            "{:>9} facets by entity ids / by dictionaries, p99: {:.2}x",
            "",
            p99(&out[1]) / p99(&out[3])
        );
        csv.push_str(&line.join(","));
        csv.push('\n');
        std::fs::write(csv_path, &csv).unwrap();
    }
    indexer.close().unwrap();
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let steps: Vec<usize> = args
        .first()
        .map(|s| {
            s.split(',')
                .map(|x| x.parse().expect("STEPS: numbers"))
                .collect()
        })
        .unwrap_or_else(|| vec![10_000, 30_000, 100_000]);
    let csv_path = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "target/scale.csv".into());
    if std::env::var("SCALE_ONLY").is_ok_and(|v| v == "search") {
        search_only(&steps, &csv_path);
        return;
    }
    let db = TestDb::new().await;
    // Postgres counts the time spent in the dashboards' functions (a superuser setting; the
    // sink's connections, opened after, take it from the database).
    pubmine_store::admin_execute(
        &db.pool,
        &format!("ALTER DATABASE {} SET track_functions = 'pl'", db.name),
    )
    .await
    .unwrap();
    // The settings that decide how the counters' pages are cached and logged.
    let server: String = sqlx::query_scalar(
        "SELECT 'Postgres ' || current_setting('server_version') || ': '
                || string_agg(name || '=' || current_setting(name), ' ' ORDER BY name)
         FROM unnest(ARRAY['shared_buffers', 'max_wal_size', 'checkpoint_timeout',
                           'wal_compression']) AS name",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    println!("{server}");
    let sink_pool = pubmine_store::connect(&db.url).await.unwrap();
    let sink = PgSink::new(sink_pool.clone(), "scale");
    let index_dir = tempfile::tempdir().unwrap();
    let mut indexer = Indexer::open(index_dir.path(), IndexConfig::default()).unwrap();
    let mut generator = Generator::new(0x9E37_79B9_7F4A_7C15);
    let mut offset = 0i64;
    let mut written = 0usize;
    let mut csv = String::from(
        "documents,stored,store_docs_per_s,index_docs_per_s,db_bytes_per_doc,index_bytes_per_doc,\
         dashboard_ms_per_batch,batch_ms",
    );
    for r in READS {
        csv.push_str(&format!(",{r} p50_ms,{r} p99_ms"));
    }
    csv.push('\n');
    println!(
        "{:>9} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}  reads p50/p99 ms: {}",
        "documents",
        "stored",
        "store/s",
        "index/s",
        "db B/doc",
        "ix B/doc",
        "dash ms/b",
        "batch ms",
        READS.join(" | ")
    );
    let mut dash_before = dashboard_ms(&sink_pool).await;
    for &to in &steps {
        if to <= written {
            continue;
        }
        let batches = batches(&mut generator, written, to, &mut offset);
        let docs: usize = batches.iter().map(|b| b.items.len()).sum();
        if written == 0 {
            reference(&batches, docs).await;
        }
        let start = Instant::now();
        for b in &batches {
            sink.write_batch(b).await.unwrap();
        }
        let store_s = start.elapsed().as_secs_f64();
        let index_s = index_all(&mut indexer, &batches);
        written = to;
        let dash_now = dashboard_ms(&sink_pool).await;
        let dash_per_batch = (dash_now - dash_before) / batches.len() as f64;
        dash_before = dash_now;
        let (stored, db_bytes) = stored_and_bytes(&db.pool).await;
        let ix_bytes = dir_bytes(index_dir.path());
        let searcher = Searcher::open(index_dir.path()).unwrap();
        let lat = reads(&db, &searcher, to).await;
        let row = [
            to as f64,
            stored as f64,
            docs as f64 / store_s,
            docs as f64 / index_s,
            db_bytes as f64 / stored as f64,
            ix_bytes as f64 / stored as f64,
            dash_per_batch,
            store_s * 1000.0 / batches.len() as f64,
        ];
        let cells: Vec<String> = lat
            .iter()
            .map(|v| format!("{:.1}/{:.1}", percentile(v, 0.5), percentile(v, 0.99)))
            .collect();
        println!(
            "{:>9} {:>9} {:>8.0} {:>8.0} {:>9.0} {:>9.0} {:>9.1} {:>9.1}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            cells.join(" | ")
        );
        let mut line: Vec<String> = row.iter().map(|x| format!("{x:.3}")).collect();
        for v in &lat {
            line.push(format!("{:.3}", percentile(v, 0.5)));
            line.push(format!("{:.3}", percentile(v, 0.99)));
        }
        csv.push_str(&line.join(","));
        csv.push('\n');
        std::fs::write(&csv_path, &csv).unwrap();
    }
    println!("CSV in {csv_path}");
    indexer.close().unwrap();
    sink_pool.close().await;
    db.drop_db().await;
}
