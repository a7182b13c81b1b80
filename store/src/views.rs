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
