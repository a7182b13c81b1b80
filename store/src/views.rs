//! The dashboard views (migrations/20261124000003_dashboard_views.sql): refreshing the
//! materialized ones.

use sqlx::PgPool;

use crate::StoreError;

/// The materialized views, in the order they are refreshed.
pub const MATERIALIZED: [&str; 4] = [
    "mentions_by_type_year",
    "top_entities",
    "co_mention_pairs",
    "relation_pairs",
];

/// Brings every materialized view up to date, concurrently with readers (each has a unique
/// index); returns how long each took.
pub async fn refresh(
    pool: &PgPool,
) -> Result<Vec<(&'static str, std::time::Duration)>, StoreError> {
    let mut took = Vec::new();
    for view in MATERIALIZED {
        let start = std::time::Instant::now();
        // The names are the constants above, never input.
        let sql = format!("REFRESH MATERIALIZED VIEW CONCURRENTLY {view}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(pool)
            .await?;
        took.push((view, start.elapsed()));
    }
    Ok(took)
}

/// What [`renormalize`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Renormalized {
    pub mentions: u64,
    pub relations: u64,
}

/// Brings the `normalized` columns of rows written by an earlier version up to the normal form
/// of this one ([`pubmine_stream::record::normalize_entity`], which the index uses too): the
/// mentions whose text is not ASCII (the only ones whose normal form changed, when NFKC came
/// in), then the relations' copies of their mentions' forms. Idempotent; run the view refresh
/// after it.
pub async fn renormalize(pool: &PgPool) -> Result<Renormalized, StoreError> {
    use futures::TryStreamExt as _;
    use pubmine_stream::record::normalize_entity;
    let mut stale: Vec<(String, String)> = Vec::new();
    {
        let mut rows = sqlx::query_as::<_, (String, String)>(
            "SELECT DISTINCT text, normalized FROM mentions WHERE text !~ '^[[:ascii:]]*$'",
        )
        .fetch(pool);
        while let Some((text, normalized)) = rows.try_next().await? {
            let now = normalize_entity(&text);
            if now != normalized {
                stale.push((text, now));
            }
        }
    }
    let mut done = Renormalized::default();
    let mut tx = pool.begin().await?;
    for (text, now) in &stale {
        done.mentions +=
            sqlx::query("UPDATE mentions SET normalized = $2 WHERE text = $1 AND normalized <> $2")
                .bind(text)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
    }
    for side in ["subject", "object"] {
        // The column names are these two constants, never input.
        let sql = format!(
            "UPDATE relations r SET {side}_normalized = m.normalized FROM mentions m \
             WHERE m.document_id = r.document_id AND m.model_id = r.{side}_model_id \
             AND m.idx = r.{side}_idx AND r.{side}_normalized <> m.normalized"
        );
        done.relations += sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(done)
}
