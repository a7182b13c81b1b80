//! Read queries for `pubmine serve` and exports: a document with its annotations, as the store
//! holds them, and the top entities.

use std::collections::HashMap;

use pubmine_stream::record::{
    Abbreviation, Annotations, ConceptRef, Document, Mention, ModelRef, Passage, PassageKind,
    Relation, SCHEMA_VERSION,
};
use serde::Serialize;
use sqlx::PgPool;

use crate::StoreError;

/// A stored document and every model's annotations of it, in one record (mentions ordered by
/// passage and offset; relations refer to them by index, as on the annotations topic).
pub async fn document(pool: &PgPool, id: &str) -> Result<Option<Annotations>, StoreError> {
    // Postgres text cannot hold NUL, so no stored id does; asking would be an error.
    if id.contains('\0') {
        return Ok(None);
    }
    let Some(meta) = sqlx::query_scalar!(
        "SELECT metadata AS \"metadata: sqlx::types::JsonValue\" FROM documents WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let mut meta = meta;
    if let Some(o) = meta.as_object_mut() {
        o.insert("passages".into(), serde_json::Value::Array(Vec::new()));
    }
    let mut doc: Document =
        serde_json::from_value(meta).map_err(|e| StoreError::Encode(e.to_string()))?;
    let passages = sqlx::query!(
        "SELECT kind, section, category, lang, text FROM passages
         WHERE document_id = $1 ORDER BY idx",
        id
    )
    .fetch_all(pool)
    .await?;
    doc.passages = passages
        .into_iter()
        .map(|p| {
            let mut passage = Passage::new(passage_kind(&p.kind), p.text);
            passage.section = p.section;
            passage.category = p.category;
            passage.lang = p.lang;
            passage
        })
        .collect();
    let rows = sqlx::query!(
        "SELECT m.model_id, m.idx, m.passage, m.start_offset, m.end_offset, m.text, m.type,
                m.score, mo.name, m.concept_id, m.concept_name, m.concept_matched,
                m.via_abbreviation
         FROM mentions m JOIN models mo ON mo.id = m.model_id
         WHERE m.document_id = $1
         ORDER BY m.passage, m.start_offset, m.end_offset, mo.name",
        id
    )
    .fetch_all(pool)
    .await?;
    let mut position: HashMap<(i32, i32), u32> = HashMap::new();
    let mut mentions = Vec::with_capacity(rows.len());
    for (i, r) in rows.into_iter().enumerate() {
        position.insert((r.model_id, r.idx), i as u32);
        mentions.push(Mention {
            passage: r.passage as u32,
            start: r.start_offset as u32,
            end: r.end_offset as u32,
            text: r.text,
            ty: r.r#type,
            score: r.score,
            model: r.name,
            concept: r.concept_id.map(|id| ConceptRef {
                id,
                name: r.concept_name.unwrap_or_default(),
                matched: r.concept_matched.unwrap_or_default(),
                via_abbreviation: r.via_abbreviation,
            }),
        });
    }
    let rows = sqlx::query!(
        "SELECT r.type, r.score, r.subject_model_id, r.subject_idx, r.object_model_id,
                r.object_idx, mo.name
         FROM relations r JOIN models mo ON mo.id = r.model_id
         WHERE r.document_id = $1
         ORDER BY mo.name, r.idx",
        id
    )
    .fetch_all(pool)
    .await?;
    let relations = rows
        .into_iter()
        .filter_map(|r| {
            Some(Relation {
                subject: *position.get(&(r.subject_model_id, r.subject_idx))?,
                object: *position.get(&(r.object_model_id, r.object_idx))?,
                ty: r.r#type,
                score: r.score,
                model: r.name,
            })
        })
        .collect();
    let models = sqlx::query!(
        "SELECT DISTINCT mo.name, mo.hash, mo.task, mo.labels
         FROM models mo
         WHERE mo.id IN (SELECT model_id FROM mentions WHERE document_id = $1
                         UNION SELECT model_id FROM relations WHERE document_id = $1)
         ORDER BY mo.name",
        id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|m| ModelRef {
        name: m.name,
        hash: m.hash,
        task: m.task,
        labels: m.labels,
    })
    .collect();
    let abbreviations = sqlx::query!(
        "SELECT passage, short_start, short_end, short_form, long_start, long_end, long_form
         FROM abbreviations WHERE document_id = $1 ORDER BY idx",
        id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| Abbreviation {
        passage: r.passage as u32,
        short_start: r.short_start as u32,
        short_end: r.short_end as u32,
        short: r.short_form,
        long_start: r.long_start as u32,
        long_end: r.long_end as u32,
        long: r.long_form,
    })
    .collect();
    Ok(Some(Annotations {
        schema_version: SCHEMA_VERSION,
        id: id.to_string(),
        models,
        mentions,
        relations,
        abbreviations,
        document: Some(Box::new(doc)),
    }))
}

fn passage_kind(kind: &str) -> PassageKind {
    serde_json::from_value(serde_json::Value::String(kind.to_string()))
        .unwrap_or(PassageKind::Paragraph)
}

/// An entity with how often it is mentioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopEntity {
    #[serde(rename = "type")]
    pub ty: String,
    /// The concept id where the mentions have one, else the normal form.
    pub entity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concept_id: Option<String>,
    /// The concept's preferred name, or the most frequent normal form.
    pub name: String,
    /// The most frequent normal form.
    pub normalized: String,
    /// The most frequent surface form.
    pub text: String,
    pub mentions: i64,
    pub documents: i64,
    /// Distinct normal forms that name the entity.
    pub spellings: i64,
}

/// The entities mentioned in the most documents, of one type or all, as of the last batch the
/// store committed.
pub async fn top_entities(
    pool: &PgPool,
    ty: Option<&str>,
    limit: i64,
) -> Result<Vec<TopEntity>, StoreError> {
    // No stored type holds NUL (Postgres text cannot), and asking would be an error.
    if ty.is_some_and(|t| t.contains('\0')) {
        return Ok(Vec::new());
    }
    let rows = sqlx::query_as!(
        TopEntity,
        "SELECT type AS \"ty!\", entity AS \"entity!\", concept_id, name AS \"name!\",
                normalized AS \"normalized!\", text AS \"text!\",
                mentions AS \"mentions!\", documents AS \"documents!\",
                spellings AS \"spellings!\"
         FROM top_entities
         WHERE $1::text IS NULL OR type = $1
         ORDER BY documents DESC, mentions DESC, entity
         LIMIT $2",
        ty,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use crate::testing::TestDb;

    /// A NUL was sent on to Postgres, which refused the statement: a caller's bad input
    /// became a database error.
    #[tokio::test]
    async fn a_nul_in_an_id_or_type_matches_nothing() {
        let db = TestDb::new().await;
        assert_eq!(super::document(&db.pool, "pmid:1\0x").await.unwrap(), None);
        let top = super::top_entities(&db.pool, Some("Gene\0"), 5)
            .await
            .unwrap();
        assert!(top.is_empty());
        db.drop_db().await;
    }
}
