//! The Postgres sink: each batch of annotation records is written in one transaction together with
//! the Kafka offsets it covers (exactly-once, docs/architecture.md). The transaction first locks
//! the sink's offset rows and drops the records below them, so a consumer that lost its partitions
//! without knowing it (a zombie) cannot write anything twice. Then it drops the records made from
//! an earlier documents record than the version of their document it holds, or its deletion
//! (`origin` columns, `deleted_documents`): an older version delivered late by an annotate worker
//! that had lost its partitions never replaces a newer one. Writing a document again replaces
//! its passages and, for each model its record names, that model's mentions and relations (and the
//! relations that pointed at them); a tombstone deletes the document and everything about it. Rows
//! go in as arrays (`UNNEST`), one statement per table per batch, never a statement per row. The
//! dashboards' counters change in the same transaction ([`crate::views`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use futures::future::BoxFuture;
use pubmine_stream::record::{Annotations, Document, ModelRef, normalize_entity};
use pubmine_stream::sink::{Sink, SinkBatch, SinkError, SinkItem};
use pubmine_stream::transport::{Offsets, Origin};
use sqlx::{PgPool, Postgres, Transaction};

use crate::StoreError;

/// Writes annotation records to Postgres; `name` (the consumer group) keys its offsets.
#[derive(Debug, Clone)]
pub struct PgSink {
    pool: PgPool,
    name: String,
}

/// What one batch wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub documents: u64,
    pub deletions: u64,
    pub mentions: u64,
    pub relations: u64,
    pub abbreviations: u64,
    /// Records below the stored offsets: written before, skipped.
    pub skipped: u64,
    /// Records made from an earlier documents record than the version held: left unwritten.
    pub superseded: u64,
}

impl PgSink {
    pub fn new(pool: PgPool, name: impl Into<String>) -> Self {
        PgSink {
            pool,
            name: name.into(),
        }
    }

    /// The next offsets recorded for `partitions`.
    pub async fn offsets(&self, partitions: &[(String, i32)]) -> Result<Offsets, StoreError> {
        let (topics, parts): (Vec<String>, Vec<i32>) = partitions.iter().cloned().unzip();
        let rows = sqlx::query!(
            "SELECT s.topic, s.partition, s.next_offset
             FROM sink_offsets s
             JOIN UNNEST($2::text[], $3::int[]) AS x(topic, partition)
               ON s.topic = x.topic AND s.partition = x.partition
             WHERE s.sink = $1",
            self.name,
            &topics,
            &parts
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ((r.topic, r.partition), r.next_offset))
            .collect())
    }

    /// Writes the batch and its offsets in one transaction; returns the offsets now stored.
    pub async fn write_batch(&self, batch: &SinkBatch) -> Result<(Offsets, Written), StoreError> {
        let mut tx = self.pool.begin().await?;
        let stored = lock_offsets(&mut tx, &self.name, &batch.next).await?;
        let mut written = Written::default();
        let fresh: Vec<&SinkItem> = batch
            .items
            .iter()
            .filter(|i| {
                let below = stored
                    .get(&(i.topic.clone(), i.partition))
                    .is_some_and(|&next| i.offset < next);
                written.skipped += u64::from(below);
                !below
            })
            .collect();
        let fresh = drop_superseded(&mut tx, fresh, &mut written).await?;
        // A document named twice in one batch: its records apply in order, one round each.
        let mut round: Vec<&SinkItem> = Vec::new();
        let mut keys: HashSet<&str> = HashSet::new();
        for item in fresh {
            if !keys.insert(item.key.as_str()) {
                apply(&mut tx, &round, &mut written).await?;
                round.clear();
                keys.clear();
                keys.insert(item.key.as_str());
            }
            round.push(item);
        }
        apply(&mut tx, &round, &mut written).await?;
        crate::views::merge(&mut tx).await?;
        let mut done = Offsets::new();
        for (tp, &next) in &batch.next {
            let at = stored.get(tp).copied().unwrap_or(0).max(next);
            done.insert(tp.clone(), at);
        }
        store_offsets(&mut tx, &self.name, &done).await?;
        tx.commit().await?;
        Ok((done, written))
    }
}

impl Sink for PgSink {
    fn stored_offsets<'a>(
        &'a mut self,
        partitions: &'a [(String, i32)],
    ) -> BoxFuture<'a, Result<Offsets, SinkError>> {
        Box::pin(async move {
            self.offsets(partitions)
                .await
                .map_err(SinkError::classified)
        })
    }

    fn write(&mut self, batch: SinkBatch) -> BoxFuture<'_, Result<Option<Offsets>, SinkError>> {
        Box::pin(async move {
            let (done, w) = self
                .write_batch(&batch)
                .await
                .map_err(SinkError::classified)?;
            for (table, n) in [
                ("documents", w.documents),
                ("deletions", w.deletions),
                ("mentions", w.mentions),
                ("relations", w.relations),
                ("abbreviations", w.abbreviations),
            ] {
                pubmine_stream::metrics::sink_rows("store", table, n);
            }
            if w.superseded > 0 {
                pubmine_stream::metrics::superseded("store", w.superseded);
                tracing::warn!(
                    records = w.superseded,
                    "older versions delivered late left unwritten: the store holds newer versions \
                     of their documents, or their deletions"
                );
            }
            tracing::debug!(
                documents = w.documents,
                deletions = w.deletions,
                mentions = w.mentions,
                relations = w.relations,
                skipped = w.skipped,
                superseded = w.superseded,
                "batch stored"
            );
            Ok(Some(done))
        })
    }

    fn flush(&mut self) -> BoxFuture<'_, Result<Option<Offsets>, SinkError>> {
        // Every write is already committed.
        Box::pin(async { Ok(None) })
    }
}

/// Makes sure the offset rows exist, locks them, and returns their values.
async fn lock_offsets(
    tx: &mut Transaction<'_, Postgres>,
    sink: &str,
    next: &Offsets,
) -> Result<Offsets, StoreError> {
    let (topics, parts): (Vec<String>, Vec<i32>) = next.keys().cloned().unzip();
    sqlx::query!(
        "INSERT INTO sink_offsets (sink, topic, partition, next_offset)
         SELECT $1, topic, partition, 0 FROM UNNEST($2::text[], $3::int[]) AS x(topic, partition)
         ON CONFLICT DO NOTHING",
        sink,
        &topics,
        &parts
    )
    .execute(&mut **tx)
    .await?;
    let rows = sqlx::query!(
        "SELECT s.topic, s.partition, s.next_offset
         FROM sink_offsets s
         JOIN UNNEST($2::text[], $3::int[]) AS x(topic, partition)
           ON s.topic = x.topic AND s.partition = x.partition
         WHERE s.sink = $1
         ORDER BY s.topic, s.partition
         FOR UPDATE OF s",
        sink,
        &topics,
        &parts
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.topic, r.partition), r.next_offset))
        .collect())
}

async fn store_offsets(
    tx: &mut Transaction<'_, Postgres>,
    sink: &str,
    done: &Offsets,
) -> Result<(), StoreError> {
    let mut topics = Vec::new();
    let mut parts = Vec::new();
    let mut offsets = Vec::new();
    for ((t, p), &o) in done {
        topics.push(t.clone());
        parts.push(*p);
        offsets.push(o);
    }
    sqlx::query!(
        "UPDATE sink_offsets s SET next_offset = x.next_offset, updated_at = now()
         FROM UNNEST($2::text[], $3::int[], $4::bigint[]) AS x(topic, partition, next_offset)
         WHERE s.sink = $1 AND s.topic = x.topic AND s.partition = x.partition",
        sink,
        &topics,
        &parts,
        &offsets
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The items that are not older versions of what the store holds: an item whose origin comes
/// before the origin of the document's stored version, or of its deletion, or of an earlier item
/// of the batch about the same document, is counted in `written.superseded` and left out.
async fn drop_superseded<'a>(
    tx: &mut Transaction<'_, Postgres>,
    items: Vec<&'a SinkItem>,
    written: &mut Written,
) -> Result<Vec<&'a SinkItem>, StoreError> {
    let ids: Vec<String> = items
        .iter()
        .filter(|i| i.origin.is_some())
        .map(|i| i.key.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        return Ok(items);
    }
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", origin_topic AS "topic!", origin_partition AS "partition!",
                  origin_offset AS "offset!", origin_timestamp
           FROM documents WHERE id = ANY($1) AND origin_offset IS NOT NULL
           UNION ALL
           SELECT id, origin_topic, origin_partition, origin_offset, origin_timestamp
           FROM deleted_documents WHERE id = ANY($1)"#,
        &ids
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut held: HashMap<String, Origin> = HashMap::new();
    for r in rows {
        let at = Origin::new(r.topic, r.partition, r.offset, r.origin_timestamp);
        match held.get(&r.id) {
            Some(h) if !h.is_before(&at) => {}
            _ => {
                held.insert(r.id, at);
            }
        }
    }
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        if let (Some(o), Some(h)) = (&item.origin, held.get(&item.key))
            && o.is_before(h)
        {
            tracing::debug!(document = %item.key, origin = %o, held = %h, "older version left unwritten");
            written.superseded += 1;
            continue;
        }
        match &item.origin {
            Some(o) => held.insert(item.key.clone(), o.clone()),
            None => held.remove(&item.key),
        };
        kept.push(item);
    }
    Ok(kept)
}

/// Applies records about distinct documents.
async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    items: &[&SinkItem],
    written: &mut Written,
) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let mut deleted: Vec<String> = Vec::new();
    let mut tombstones = Origins::default();
    let mut upserts: Vec<&Annotations> = Vec::new();
    let mut origins = Origins::default();
    for item in items {
        match &item.annotations {
            Some(a) => {
                upserts.push(a);
                origins.push(item.origin.as_ref());
            }
            None => {
                deleted.push(item.key.clone());
                if item.origin.is_some() {
                    tombstones.id.push(item.key.clone());
                    tombstones.push(item.origin.as_ref());
                }
            }
        }
    }
    // The dashboards lose what these documents contribute now and gain what they will.
    let ids: Vec<String> = upserts.iter().map(|a| a.id.clone()).collect();
    let touched: Vec<String> = deleted.iter().chain(&ids).cloned().collect();
    crate::views::collect(tx, &touched, -1).await?;
    if !deleted.is_empty() {
        delete_documents(tx, &deleted).await?;
        remember_deletions(tx, &tombstones).await?;
        written.deletions += deleted.len() as u64;
    }
    if upserts.is_empty() {
        return Ok(());
    }
    let model_ids = register_models(tx, &upserts).await?;
    write_documents(tx, &upserts, &origins).await?;
    written.abbreviations += replace_abbreviations(tx, &upserts).await?;
    replace_model_rows(tx, &upserts).await?;
    let rows = Rows::build(&upserts, &model_ids);
    insert_mentions(tx, &rows.mentions).await?;
    insert_relations(tx, &rows.relations).await?;
    crate::views::collect(tx, &ids, 1).await?;
    written.documents += upserts.len() as u64;
    written.mentions += rows.mentions.document_id.len() as u64;
    written.relations += rows.relations.document_id.len() as u64;
    Ok(())
}

async fn delete_documents(
    tx: &mut Transaction<'_, Postgres>,
    ids: &[String],
) -> Result<(), StoreError> {
    sqlx::query!("DELETE FROM relations WHERE document_id = ANY($1)", ids)
        .execute(&mut **tx)
        .await?;
    sqlx::query!("DELETE FROM mentions WHERE document_id = ANY($1)", ids)
        .execute(&mut **tx)
        .await?;
    sqlx::query!("DELETE FROM passages WHERE document_id = ANY($1)", ids)
        .execute(&mut **tx)
        .await?;
    sqlx::query!("DELETE FROM abbreviations WHERE document_id = ANY($1)", ids)
        .execute(&mut **tx)
        .await?;
    sqlx::query!("DELETE FROM documents WHERE id = ANY($1)", ids)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Origins as columns: the id of each (for deletions), and each one's topic, partition, offset
/// and timestamp, all `None` for a record that names no origin.
#[derive(Default)]
struct Origins {
    id: Vec<String>,
    topic: Vec<Option<String>>,
    partition: Vec<Option<i32>>,
    offset: Vec<Option<i64>>,
    timestamp: Vec<Option<i64>>,
}

impl Origins {
    fn push(&mut self, origin: Option<&Origin>) {
        let at = origin.map(|o| &o.position);
        self.topic.push(at.map(|p| p.topic.clone()));
        self.partition.push(at.map(|p| p.partition));
        self.offset.push(at.map(|p| p.offset));
        self.timestamp.push(origin.and_then(|o| o.timestamp));
    }
}

/// Remembers each deletion with the origin of its tombstone.
async fn remember_deletions(
    tx: &mut Transaction<'_, Postgres>,
    t: &Origins,
) -> Result<(), StoreError> {
    if t.id.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO deleted_documents (id, origin_topic, origin_partition, origin_offset,
                                        origin_timestamp)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bigint[])
         ON CONFLICT (id) DO UPDATE SET origin_topic = EXCLUDED.origin_topic,
             origin_partition = EXCLUDED.origin_partition, origin_offset = EXCLUDED.origin_offset,
             origin_timestamp = EXCLUDED.origin_timestamp, deleted_at = now()",
        &t.id,
        &t.topic as &[Option<String>],
        &t.partition as &[Option<i32>],
        &t.offset as &[Option<i64>],
        &t.timestamp as &[Option<i64>]
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The id of every model version the records name, registered on first sight.
async fn register_models(
    tx: &mut Transaction<'_, Postgres>,
    upserts: &[&Annotations],
) -> Result<HashMap<String, i32>, StoreError> {
    let mut seen: BTreeMap<(&str, &str), &ModelRef> = BTreeMap::new();
    for a in upserts {
        for m in &a.models {
            seen.entry((m.name.as_str(), m.hash.as_str())).or_insert(m);
        }
    }
    let mut ids = HashMap::new();
    for m in seen.values() {
        let id = sqlx::query_scalar!(
            "WITH ins AS (
                 INSERT INTO models (name, hash, task, labels) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name, hash) DO NOTHING RETURNING id)
             SELECT id AS \"id!\" FROM ins
             UNION ALL SELECT id FROM models WHERE name = $1 AND hash = $2
             LIMIT 1",
            m.name,
            m.hash,
            m.task,
            &m.labels
        )
        .fetch_one(&mut **tx)
        .await?;
        ids.insert(model_key(&m.name, &m.hash), id);
    }
    Ok(ids)
}

fn model_key(name: &str, hash: &str) -> String {
    format!("{name}\u{0}{hash}")
}

/// Upserts the documents' rows (with their `origins`, one per upsert) and replaces their
/// passages; a document written again is no longer a deleted one.
async fn write_documents(
    tx: &mut Transaction<'_, Postgres>,
    upserts: &[&Annotations],
    origins: &Origins,
) -> Result<(), StoreError> {
    let mut d = DocumentRows::default();
    for a in upserts {
        d.push(a)?;
    }
    sqlx::query!(
        "INSERT INTO documents (id, source, pmid, pmcid, doi, title, journal, pub_year, pub_month,
                                retracted, publication_types, mesh, languages, metadata,
                                origin_topic, origin_partition, origin_offset, origin_timestamp)
         SELECT x.id, x.source, x.pmid, x.pmcid, x.doi, x.title, x.journal, x.pub_year,
                x.pub_month, x.retracted,
                ARRAY(SELECT jsonb_array_elements(x.metadata::jsonb -> 'publication_types') ->> 'name'),
                ARRAY(SELECT jsonb_array_elements(x.metadata::jsonb -> 'mesh') -> 'descriptor' ->> 'name'),
                ARRAY(SELECT jsonb_array_elements_text(x.metadata::jsonb -> 'languages')),
                x.metadata::jsonb, x.origin_topic, x.origin_partition, x.origin_offset,
                x.origin_timestamp
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::int[], $9::smallint[], $10::bool[], $11::text[],
                     $12::text[], $13::int[], $14::bigint[], $15::bigint[])
              AS x(id, source, pmid, pmcid, doi, title, journal, pub_year, pub_month, retracted,
                   metadata, origin_topic, origin_partition, origin_offset, origin_timestamp)
         ON CONFLICT (id) DO UPDATE SET
             source = EXCLUDED.source, pmid = EXCLUDED.pmid, pmcid = EXCLUDED.pmcid,
             doi = EXCLUDED.doi, title = EXCLUDED.title, journal = EXCLUDED.journal,
             pub_year = EXCLUDED.pub_year, pub_month = EXCLUDED.pub_month,
             retracted = EXCLUDED.retracted, publication_types = EXCLUDED.publication_types,
             mesh = EXCLUDED.mesh, languages = EXCLUDED.languages,
             metadata = EXCLUDED.metadata, origin_topic = EXCLUDED.origin_topic,
             origin_partition = EXCLUDED.origin_partition,
             origin_offset = EXCLUDED.origin_offset,
             origin_timestamp = EXCLUDED.origin_timestamp, updated_at = now()",
        &d.id,
        &d.source,
        &d.pmid as &[Option<String>],
        &d.pmcid as &[Option<String>],
        &d.doi as &[Option<String>],
        &d.title,
        &d.journal as &[Option<String>],
        &d.pub_year as &[Option<i32>],
        &d.pub_month as &[Option<i16>],
        &d.retracted,
        &d.metadata,
        &origins.topic as &[Option<String>],
        &origins.partition as &[Option<i32>],
        &origins.offset as &[Option<i64>],
        &origins.timestamp as &[Option<i64>]
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!("DELETE FROM deleted_documents WHERE id = ANY($1)", &d.id)
        .execute(&mut **tx)
        .await?;
    sqlx::query!("DELETE FROM passages WHERE document_id = ANY($1)", &d.id)
        .execute(&mut **tx)
        .await?;
    sqlx::query!(
        "INSERT INTO passages (document_id, idx, kind, section, category, lang, text)
         SELECT * FROM UNNEST($1::text[], $2::int[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[])",
        &d.p_document,
        &d.p_idx,
        &d.p_kind,
        &d.p_section as &[Option<String>],
        &d.p_category as &[Option<String>],
        &d.p_lang as &[Option<String>],
        &d.p_text
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces the documents' abbreviations with those their records carry.
async fn replace_abbreviations(
    tx: &mut Transaction<'_, Postgres>,
    upserts: &[&Annotations],
) -> Result<u64, StoreError> {
    let ids: Vec<String> = upserts.iter().map(|a| a.id.clone()).collect();
    sqlx::query!(
        "DELETE FROM abbreviations WHERE document_id = ANY($1)",
        &ids
    )
    .execute(&mut **tx)
    .await?;
    let mut r = AbbreviationRows::default();
    for a in upserts {
        for (i, x) in a.abbreviations.iter().enumerate() {
            r.document_id.push(a.id.clone());
            r.idx.push(i as i32);
            r.passage.push(x.passage as i32);
            r.short_start.push(x.short_start as i32);
            r.short_end.push(x.short_end as i32);
            r.short_form.push(x.short.clone());
            r.long_start.push(x.long_start as i32);
            r.long_end.push(x.long_end as i32);
            r.long_form.push(x.long.clone());
        }
    }
    if r.document_id.is_empty() {
        return Ok(0);
    }
    sqlx::query!(
        "INSERT INTO abbreviations (document_id, idx, passage, short_start, short_end, short_form,
                                    long_start, long_end, long_form)
         SELECT * FROM UNNEST($1::text[], $2::int[], $3::int[], $4::int[], $5::int[], $6::text[],
                              $7::int[], $8::int[], $9::text[])",
        &r.document_id,
        &r.idx,
        &r.passage,
        &r.short_start,
        &r.short_end,
        &r.short_form,
        &r.long_start,
        &r.long_end,
        &r.long_form
    )
    .execute(&mut **tx)
    .await?;
    Ok(r.document_id.len() as u64)
}

/// The abbreviation rows of a batch, as columns for `UNNEST`.
#[derive(Default)]
struct AbbreviationRows {
    document_id: Vec<String>,
    idx: Vec<i32>,
    passage: Vec<i32>,
    short_start: Vec<i32>,
    short_end: Vec<i32>,
    short_form: Vec<String>,
    long_start: Vec<i32>,
    long_end: Vec<i32>,
    long_form: Vec<String>,
}

/// Deletes, for each document, the mentions and relations of the models its record names
/// (any version of them), and the relations that pointed at those mentions.
async fn replace_model_rows(
    tx: &mut Transaction<'_, Postgres>,
    upserts: &[&Annotations],
) -> Result<(), StoreError> {
    let mut docs = Vec::new();
    let mut names = Vec::new();
    for a in upserts {
        for m in &a.models {
            docs.push(a.id.clone());
            names.push(m.name.clone());
        }
    }
    sqlx::query!(
        "WITH gone AS (
             SELECT x.document_id, mo.id AS model_id
             FROM UNNEST($1::text[], $2::text[]) AS x(document_id, name)
             JOIN models mo ON mo.name = x.name)
         DELETE FROM relations r USING gone g
         WHERE r.document_id = g.document_id
           AND g.model_id IN (r.model_id, r.subject_model_id, r.object_model_id)",
        &docs,
        &names
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "DELETE FROM mentions m
         USING UNNEST($1::text[], $2::text[]) AS x(document_id, name)
         JOIN models mo ON mo.name = x.name
         WHERE m.document_id = x.document_id AND m.model_id = mo.id",
        &docs,
        &names
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Mentions are the bulk of the rows: they go in by `COPY` (text format), the fastest way
/// into Postgres, inside the batch's transaction.
async fn insert_mentions(
    tx: &mut Transaction<'_, Postgres>,
    m: &MentionRows,
) -> Result<(), StoreError> {
    if m.document_id.is_empty() {
        return Ok(());
    }
    let mut buf = String::with_capacity(m.document_id.len() * 96);
    for i in 0..m.document_id.len() {
        use std::fmt::Write as _;
        copy_text(&mut buf, &m.document_id[i]);
        let _ = write!(
            buf,
            "\t{}\t{}\t{}\t{}\t{}\t",
            m.model_id[i], m.idx[i], m.passage[i], m.start[i], m.end[i]
        );
        copy_text(&mut buf, &m.text[i]);
        buf.push('\t');
        copy_text(&mut buf, &m.normalized[i]);
        buf.push('\t');
        copy_text(&mut buf, &m.ty[i]);
        let _ = write!(buf, "\t{}", m.score[i]);
        for col in [&m.concept_id[i], &m.concept_name[i], &m.concept_matched[i]] {
            buf.push('\t');
            match col {
                Some(s) => copy_text(&mut buf, s),
                None => buf.push_str("\\N"),
            }
        }
        let _ = writeln!(buf, "\t{}", m.via_abbreviation[i]);
    }
    let mut copy = tx
        .copy_in_raw(
            "COPY mentions (document_id, model_id, idx, passage, start_offset, end_offset,
                            text, normalized, type, score, concept_id, concept_name,
                            concept_matched, via_abbreviation) FROM STDIN",
        )
        .await?;
    copy.send(buf.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// Appends `s` escaped for COPY's text format.
fn copy_text(buf: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

async fn insert_relations(
    tx: &mut Transaction<'_, Postgres>,
    r: &RelationRows,
) -> Result<(), StoreError> {
    if r.document_id.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO relations (document_id, model_id, idx, type, score,
                                subject_model_id, subject_idx, subject_type, subject_normalized,
                                object_model_id, object_idx, object_type, object_normalized,
                                subject_concept, object_concept)
         SELECT * FROM UNNEST($1::text[], $2::int[], $3::int[], $4::text[], $5::real[],
                              $6::int[], $7::int[], $8::text[], $9::text[],
                              $10::int[], $11::int[], $12::text[], $13::text[],
                              $14::text[], $15::text[])",
        &r.document_id,
        &r.model_id,
        &r.idx,
        &r.ty,
        &r.score,
        &r.subject_model_id,
        &r.subject_idx,
        &r.subject_type,
        &r.subject_normalized,
        &r.object_model_id,
        &r.object_idx,
        &r.object_type,
        &r.object_normalized,
        &r.subject_concept as &[Option<String>],
        &r.object_concept as &[Option<String>]
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Column arrays of the documents and passages tables.
#[derive(Default)]
struct DocumentRows {
    id: Vec<String>,
    source: Vec<String>,
    pmid: Vec<Option<String>>,
    pmcid: Vec<Option<String>>,
    doi: Vec<Option<String>>,
    title: Vec<String>,
    journal: Vec<Option<String>>,
    pub_year: Vec<Option<i32>>,
    pub_month: Vec<Option<i16>>,
    retracted: Vec<bool>,
    metadata: Vec<String>,
    p_document: Vec<String>,
    p_idx: Vec<i32>,
    p_kind: Vec<String>,
    p_section: Vec<Option<String>>,
    p_category: Vec<Option<String>>,
    p_lang: Vec<Option<String>>,
    p_text: Vec<String>,
}

impl DocumentRows {
    fn push(&mut self, a: &Annotations) -> Result<(), StoreError> {
        // A record without its document still stores its mentions, under a bare document row.
        let fallback;
        let doc: &Document = match &a.document {
            Some(d) => d,
            None => {
                fallback = Document {
                    id: a.id.clone(),
                    ..Default::default()
                };
                &fallback
            }
        };
        let mut meta = serde_json::to_value(doc).map_err(|e| StoreError::Encode(e.to_string()))?;
        if let Some(o) = meta.as_object_mut() {
            o.remove("passages");
        }
        self.id.push(a.id.clone());
        self.source.push(doc.source.as_str().to_string());
        self.pmid.push(doc.pmid.clone());
        self.pmcid.push(doc.pmcid.clone());
        self.doi.push(doc.doi.clone());
        self.title.push(doc.title.clone());
        self.journal.push(
            doc.journal
                .as_ref()
                .and_then(|j| j.title.clone().or_else(|| j.iso_abbreviation.clone())),
        );
        self.pub_year
            .push(doc.pub_date.as_ref().and_then(|d| d.year));
        self.pub_month
            .push(doc.pub_date.as_ref().and_then(|d| d.month).map(i16::from));
        self.retracted.push(doc.retracted);
        self.metadata.push(meta.to_string());
        for (i, p) in doc.passages.iter().enumerate() {
            self.p_document.push(a.id.clone());
            self.p_idx.push(i as i32);
            self.p_kind.push(p.kind.as_str().to_string());
            self.p_section.push(p.section.clone());
            self.p_category.push(p.category.clone());
            self.p_lang.push(p.lang.clone());
            self.p_text.push(p.text.clone());
        }
        Ok(())
    }
}

#[derive(Default)]
struct MentionRows {
    document_id: Vec<String>,
    model_id: Vec<i32>,
    idx: Vec<i32>,
    passage: Vec<i32>,
    start: Vec<i32>,
    end: Vec<i32>,
    text: Vec<String>,
    normalized: Vec<String>,
    ty: Vec<String>,
    score: Vec<f32>,
    concept_id: Vec<Option<String>>,
    concept_name: Vec<Option<String>>,
    concept_matched: Vec<Option<String>>,
    via_abbreviation: Vec<bool>,
}

#[derive(Default)]
struct RelationRows {
    document_id: Vec<String>,
    model_id: Vec<i32>,
    idx: Vec<i32>,
    ty: Vec<String>,
    score: Vec<f32>,
    subject_model_id: Vec<i32>,
    subject_idx: Vec<i32>,
    subject_type: Vec<String>,
    subject_normalized: Vec<String>,
    object_model_id: Vec<i32>,
    object_idx: Vec<i32>,
    object_type: Vec<String>,
    object_normalized: Vec<String>,
    subject_concept: Vec<Option<String>>,
    object_concept: Vec<Option<String>>,
}

struct Rows {
    mentions: MentionRows,
    relations: RelationRows,
}

impl Rows {
    /// Mentions are numbered per model within their document; relations name them by
    /// (model, number). A mention or relation of a model the record does not list is dropped
    /// with a warning, as is a relation pointing past the mentions.
    fn build(upserts: &[&Annotations], model_ids: &HashMap<String, i32>) -> Rows {
        let mut m = MentionRows::default();
        let mut r = RelationRows::default();
        for a in upserts {
            let by_name: HashMap<&str, i32> = a
                .models
                .iter()
                .filter_map(|mr| {
                    model_ids
                        .get(&model_key(&mr.name, &mr.hash))
                        .map(|&id| (mr.name.as_str(), id))
                })
                .collect();
            let mut next: HashMap<i32, i32> = HashMap::new();
            // (model id, idx, normalized) of each mention, by its index in the record.
            let mut keys: Vec<Option<(i32, i32, String)>> = Vec::with_capacity(a.mentions.len());
            for mention in &a.mentions {
                let Some(&model) = by_name.get(mention.model.as_str()) else {
                    tracing::warn!(document = %a.id, model = %mention.model, "mention of a model the record does not list, dropped");
                    keys.push(None);
                    continue;
                };
                let n = next.entry(model).or_insert(0);
                let idx = *n;
                *n += 1;
                let normalized = normalize_entity(&mention.text);
                m.document_id.push(a.id.clone());
                m.model_id.push(model);
                m.idx.push(idx);
                m.passage.push(mention.passage as i32);
                m.start.push(mention.start as i32);
                m.end.push(mention.end as i32);
                m.text.push(mention.text.clone());
                m.normalized.push(normalized.clone());
                m.ty.push(mention.ty.clone());
                m.score.push(mention.score);
                let c = mention.concept.as_ref();
                m.concept_id.push(c.map(|c| c.id.clone()));
                m.concept_name.push(c.map(|c| c.name.clone()));
                m.concept_matched.push(c.map(|c| c.matched.clone()));
                m.via_abbreviation
                    .push(c.is_some_and(|c| c.via_abbreviation));
                keys.push(Some((model, idx, normalized)));
            }
            let mut next_rel: HashMap<i32, i32> = HashMap::new();
            for rel in &a.relations {
                let Some(&model) = by_name.get(rel.model.as_str()) else {
                    tracing::warn!(document = %a.id, model = %rel.model, "relation of a model the record does not list, dropped");
                    continue;
                };
                let key = |i: u32| keys.get(i as usize).and_then(Option::as_ref);
                let (Some(s), Some(o)) = (key(rel.subject), key(rel.object)) else {
                    tracing::warn!(document = %a.id, subject = rel.subject, object = rel.object, "relation names a mention that is not there, dropped");
                    continue;
                };
                let n = next_rel.entry(model).or_insert(0);
                r.document_id.push(a.id.clone());
                r.model_id.push(model);
                r.idx.push(*n);
                *n += 1;
                r.ty.push(rel.ty.clone());
                r.score.push(rel.score);
                r.subject_model_id.push(s.0);
                r.subject_idx.push(s.1);
                r.subject_type
                    .push(a.mentions[rel.subject as usize].ty.clone());
                r.subject_normalized.push(s.2.clone());
                r.object_model_id.push(o.0);
                r.object_idx.push(o.1);
                r.object_type
                    .push(a.mentions[rel.object as usize].ty.clone());
                r.object_normalized.push(o.2.clone());
                let concept = |i: u32| {
                    a.mentions[i as usize]
                        .concept
                        .as_ref()
                        .map(|c| c.id.clone())
                };
                r.subject_concept.push(concept(rel.subject));
                r.object_concept.push(concept(rel.object));
            }
        }
        Rows {
            mentions: m,
            relations: r,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_text_escapes_what_the_text_format_reads_specially() {
        let mut buf = String::new();
        super::copy_text(&mut buf, "a\tb\\c\nd\re β");
        assert_eq!(buf, "a\\tb\\\\c\\nd\\re β");
    }
}
