//! Mentions per second into Postgres through the store sink's own write path (one transaction
//! per batch: offset locking, document upserts, passages, per-model replacement, mentions as
//! UNNEST arrays, the dashboards' counters, offsets), on generated annotations shaped like real
//! ones. Beside it, in the same process and database, the reference: `COPY` of the same mention
//! rows alone into a table shaped and indexed like `mentions`, the floor of what Postgres takes
//! for those rows. The same papers are written again as records naming their origins, and under
//! the co-mention counters' indexes of the schema before migration 20261207000003, each beside
//! the store as it is (a ratio).
//!
//!   cargo bench -p pubmine-store --bench store_throughput -- [PAPERS] [BATCH]

use std::time::{Duration, Instant};

use pubmine_store::sink::PgSink;
use pubmine_store::testing::TestDb;
use pubmine_stream::record::{Annotations, normalize_entity};
use pubmine_stream::synthetic;
use pubmine_stream::transport::Origin;

/// The co-mention counters' indexes: `Rank`, the schema's (each side's entity with `documents`,
/// migration 20261207000003); `Before`, those of the schema before it (the B side's entity
/// alone), under which a counter's update could stay a heap-only tuple update.
#[derive(Clone, Copy)]
enum CoMentionIndexes {
    Rank,
    Before,
}

/// The store sink over `papers`; with `origins`, each record names the documents record it was
/// made from, as annotate's do, so each batch also reads the origins held (and writes them).
async fn pubmine(
    db: &TestDb,
    papers: &[Annotations],
    batch: usize,
    run: usize,
    origins: bool,
    indexes: CoMentionIndexes,
) -> Duration {
    // a consumer group of its own per run and variant: a group's committed offsets would skip
    // the batches
    let variant = match indexes {
        CoMentionIndexes::Rank => "rank",
        CoMentionIndexes::Before => "before",
    };
    let sink = PgSink::new(db.pool.clone(), format!("bench-{run}-{origins}-{variant}"));
    sqlx::raw_sql(
        "TRUNCATE documents, passages, mentions, relations, mentions_by_type_year, entity_counts,
                  entity_forms, entity_years, co_mention_counts, relation_counts, deleted_documents",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    // On the empty table, so that switching costs nothing.
    sqlx::raw_sql(match indexes {
        CoMentionIndexes::Rank => {
            "DROP INDEX IF EXISTS co_mention_counts_b;
             CREATE INDEX IF NOT EXISTS co_mention_counts_a_rank
                 ON co_mention_counts (type_a, entity_a, documents DESC);
             CREATE INDEX IF NOT EXISTS co_mention_counts_b_rank
                 ON co_mention_counts (type_b, entity_b, documents DESC)"
        }
        CoMentionIndexes::Before => {
            "DROP INDEX IF EXISTS co_mention_counts_a_rank, co_mention_counts_b_rank;
             CREATE INDEX IF NOT EXISTS co_mention_counts_b ON co_mention_counts (type_b, entity_b)"
        }
    })
    .execute(&db.pool)
    .await
    .unwrap();
    let mut batches = synthetic::batches(papers, batch, "bench");
    if origins {
        for item in batches.iter_mut().flat_map(|b| b.items.iter_mut()) {
            item.origin = Some(Origin::new(
                "bench.documents",
                item.partition,
                item.offset,
                Some(1_765_000_000_000 + item.offset),
            ));
        }
    }
    let start = Instant::now();
    for b in &batches {
        sink.write_batch(b).await.unwrap();
    }
    let took = start.elapsed();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM documents")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        stored as usize,
        papers.len(),
        "a run wrote fewer papers than given"
    );
    took
}

async fn copy_reference(db: &TestDb, papers: &[Annotations], batch: usize) -> Duration {
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS mentions_copy;
         CREATE TABLE mentions_copy (LIKE mentions INCLUDING DEFAULTS INCLUDING INDEXES)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    // The rows as COPY text, built before the clock starts.
    let chunks: Vec<String> = papers
        .chunks(batch)
        .map(|chunk| {
            let mut s = String::new();
            for a in chunk {
                for (i, m) in a.mentions.iter().enumerate() {
                    s.push_str(&format!(
                        "{}\t1\t{i}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                        a.id,
                        m.passage,
                        m.start,
                        m.end,
                        m.text,
                        normalize_entity(&m.text),
                        m.ty,
                        m.score
                    ));
                }
            }
            s
        })
        .collect();
    let start = Instant::now();
    for c in &chunks {
        let mut tx = db.pool.begin().await.unwrap();
        let mut copy = tx
            .copy_in_raw(
                "COPY mentions_copy (document_id, model_id, idx, passage, start_offset,
                                     end_offset, text, normalized, type, score) FROM STDIN",
            )
            .await
            .unwrap();
        copy.send(c.as_bytes()).await.unwrap();
        copy.finish().await.unwrap();
        tx.commit().await.unwrap();
    }
    start.elapsed()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let batch: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    let papers = synthetic::papers(n, 0x9E37_79B9_7F4A_7C15);
    let mentions: usize = papers.iter().map(|a| a.mentions.len()).sum();
    println!(
        "{n} papers, {mentions} mentions ({:.1} per paper), batches of {batch} papers, one transaction each",
        mentions as f64 / n as f64
    );
    let db = TestDb::new().await;
    let mut ours = Duration::MAX;
    let mut with_origins = Duration::MAX;
    let mut before_rank = Duration::MAX;
    let mut reference = Duration::MAX;
    use CoMentionIndexes::{Before, Rank};
    for run in 0..3 {
        reference = reference.min(copy_reference(&db, &papers, batch).await);
        ours = ours.min(pubmine(&db, &papers, batch, run, false, Rank).await);
        with_origins = with_origins.min(pubmine(&db, &papers, batch, run, true, Rank).await);
        before_rank = before_rank.min(pubmine(&db, &papers, batch, run, false, Before).await);
    }
    println!(
        "{:<40} {:>12} {:>10} {:>8}",
        "run (best of 3)", "mentions/s", "papers/s", "ratio"
    );
    let row = |name: &str, d: Duration| {
        println!(
            "{name:<40} {:>12.0} {:>10.0} {:>8.2}",
            mentions as f64 / d.as_secs_f64(),
            n as f64 / d.as_secs_f64(),
            reference.as_secs_f64() / d.as_secs_f64()
        );
    };
    row("pubmine store (documents+mentions)", ours);
    row("pubmine store, records naming origins", with_origins);
    row("pubmine store, co-mentions unranked", before_rank);
    row("reference: COPY of the mention rows", reference);
    println!(
        "records naming origins / not: {:.2}x the papers/s",
        ours.as_secs_f64() / with_origins.as_secs_f64()
    );
    println!(
        "co-mention counters ranked by documents (20261207000003) / unranked (before): {:.2}x the papers/s",
        before_rank.as_secs_f64() / ours.as_secs_f64()
    );
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    println!("Postgres {version}");
    db.drop_db().await;
}
