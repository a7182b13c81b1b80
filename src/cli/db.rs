//! `pubmine db`: migrations.

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
}

pub async fn run(args: DbArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DbCommand::Migrate { db } => {
            db.connect("db migrate").await?;
            tracing::info!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
    }
}
