//! `pubmine db`: migrations, and rebuilding the dashboards.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::DbOpts;

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Apply the migrations that are not applied yet.
    Migrate {
        #[command(flatten)]
        db: DbOpts,
    },
    /// Rebuild the dashboards from the stored rows. The store keeps them fresh as it writes
    /// each batch; this is a repair (readers are not blocked, the store waits while it runs).
    Refresh {
        #[command(flatten)]
        db: DbOpts,
    },
    /// Bring the normal forms (`normalized` columns) of rows written by an earlier version to
    /// this version's, then rebuild the dashboards. Idempotent.
    Renormalize {
        #[command(flatten)]
        db: DbOpts,
    },
}

pub async fn run(args: DbArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DbCommand::Migrate { db } => {
            db.connect("db migrate").await?;
            tracing::info!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Refresh { db } => {
            let pool = db.connect("db refresh").await?;
            refresh(&pool).await
        }
        DbCommand::Renormalize { db } => {
            let pool = db.connect("db renormalize").await?;
            let done = pubmine_store::views::renormalize(&pool).await?;
            tracing::info!(
                mentions = done.mentions,
                relations = done.relations,
                "normal forms brought up to date"
            );
            refresh(&pool).await
        }
    }
}

async fn refresh(pool: &pubmine_store::Pool) -> anyhow::Result<ExitCode> {
    let took = pubmine_store::views::refresh(pool).await?;
    tracing::info!(ms = took.as_millis() as u64, "dashboards rebuilt");
    Ok(ExitCode::SUCCESS)
}
