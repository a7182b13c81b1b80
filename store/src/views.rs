//! The dashboards (migrations/20261207000001_incremental_dashboards.sql): counters that the
//! store sink keeps in the transaction of each batch (`collect`, `merge`), and their rebuild
//! from scratch ([`refresh`]).

use sqlx::{PgPool, Postgres, Transaction};

use crate::StoreError;

/// Adds `sign` (1 or -1) times what the documents `ids` contribute to the dashboards, as their
/// rows stand now, to the transaction's deltas: -1 before a batch changes the documents' rows,
/// 1 after.
pub(crate) async fn collect(
    tx: &mut Transaction<'_, Postgres>,
    ids: &[String],
    sign: i32,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT dashboards_collect($1, $2)")
        .bind(ids)
        .bind(sign)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Applies the transaction's deltas to the dashboards' counters (once per batch).
pub(crate) async fn merge(tx: &mut Transaction<'_, Postgres>) -> Result<(), StoreError> {
    sqlx::query("SELECT dashboards_merge()")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Rebuilds every dashboard from the stored rows, in one transaction (sinks wait, readers see
/// the old figures until it commits); returns how long it took. The sink keeps the dashboards
/// fresh on its own: this is for after [`renormalize`], or a repair.
pub async fn refresh(pool: &PgPool) -> Result<std::time::Duration, StoreError> {
    let start = std::time::Instant::now();
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT dashboards_rebuild()")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(start.elapsed())
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
/// in), then the relations' copies of their mentions' forms. Idempotent; rebuild the dashboards
/// ([`refresh`]) after it.
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
