//! A scratch database per test or benchmark, on the Postgres the test script uses
//! (`PUBMINE_PG_ADMIN_URL`, default `postgres://postgres@127.0.0.1:5432`).

use sqlx::PgPool;

use crate::{admin_execute, connect, migrate};

/// Postgres admin URL without a database (trust auth on the test machine).
pub fn pg_admin_url() -> String {
    std::env::var("PUBMINE_PG_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A migrated database of its own, dropped by [`TestDb::drop_db`].
#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    /// Creates and migrates `pubmine_test_<random>`. Panics when Postgres is not there: this
    /// is for tests.
    pub async fn new() -> TestDb {
        let name = format!("pubmine_test_{}", uuid::Uuid::new_v4().simple());
        let admin = admin().await;
        // CREATE DATABASE copies template1 and fails while another session is connected to
        // it (another test creating its database at the same moment): try again.
        let mut tries = 0;
        while let Err(e) = admin_execute(&admin, &format!("CREATE DATABASE {name}")).await {
            tries += 1;
            assert!(tries < 20, "create the test database: {e}");
            tokio::time::sleep(std::time::Duration::from_millis(50 * tries)).await;
        }
        admin.close().await;
        let url = format!("{}/{name}", pg_admin_url());
        let pool = connect(&url).await.expect("connect to the test database");
        migrate(&pool).await.expect("migrate the test database");
        TestDb { name, url, pool }
    }

    pub async fn drop_db(self) {
        self.pool.close().await;
        let admin = admin().await;
        admin_execute(
            &admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await
        .expect("drop the test database");
    }
}

async fn admin() -> PgPool {
    connect(&format!("{}/postgres", pg_admin_url()))
        .await
        .expect("connect to Postgres (is it running on 127.0.0.1:5432?)")
}
