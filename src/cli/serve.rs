//! `pubmine serve`: the arguments of the HTTP API and search page (`pubmine_serve::api`, which
//! lists the routes), and the calls that open the index and the database and serve them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use pubmine_index::search::Searcher;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; only this machine unless told otherwise (`0.0.0.0:8080`).
    #[arg(long, env = "PUBMINE_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// The entity index directory (`pubmine index --index DIR`), for /search.
    #[arg(long, env = "PUBMINE_INDEX")]
    index: Option<PathBuf>,
    /// Postgres (`pubmine store`), for /documents and /entities.
    #[command(flatten)]
    db: super::DbOpts,
    /// Metrics and health on an address of their own too (they are always on --bind).
    #[command(flatten)]
    metrics: super::MetricsOpts,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Limits on clients, so that slow or idle ones cannot hold the server.
#[derive(Debug, Args)]
struct LimitArgs {
    /// Seconds a client may take to send a request head (from its connecting, or from the end
    /// of the previous response on a kept-alive connection); slower ones are closed.
    #[arg(long, env = "PUBMINE_HEADER_TIMEOUT", default_value = "15", value_parser = seconds)]
    header_timeout: std::time::Duration,
    /// Seconds a response may wait for the client to read any of it; then the connection is
    /// closed.
    #[arg(long, env = "PUBMINE_WRITE_TIMEOUT", default_value = "30", value_parser = seconds)]
    write_timeout: std::time::Duration,
    /// The most connections open at once; more are closed as soon as they are accepted.
    #[arg(long, env = "PUBMINE_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// The most connections open at once from one client address.
    #[arg(long, env = "PUBMINE_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections_per_address: u32,
}

impl LimitArgs {
    fn limits(&self) -> pubmine_serve::http::HttpLimits {
        pubmine_serve::http::HttpLimits {
            header_timeout: self.header_timeout,
            write_timeout: self.write_timeout,
            max_connections: self.max_connections as usize,
            max_per_address: self.max_connections_per_address as usize,
        }
    }
}

/// A duration above 0 and at most a day (`15`, `0.5`, `500ms`, `2m`: [`super::parse_duration`]).
fn seconds(s: &str) -> Result<std::time::Duration, String> {
    match super::parse_duration(s)? {
        d if !d.is_zero() && d <= std::time::Duration::from_secs(86_400) => Ok(d),
        _ => Err(format!("{s:?} is not a duration above 0 and at most a day")),
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.index.is_some() || args.db.database_url.is_some(),
        "serve needs --index DIR, --database-url URL, or both"
    );
    let searcher = match &args.index {
        Some(dir) => Some(
            Searcher::open(dir)
                .with_context(|| format!("failed to open the index {}", dir.display()))?,
        ),
        None => None,
    };
    let pool = match args.db.database_url {
        Some(_) => Some(args.db.connect("serve").await?),
        None => None,
    };
    let health = args.metrics.start().await?;
    if let Some(pool) = &pool {
        health.database(pool);
    }
    let telemetry = pubmine_serve::telemetry::routes(
        pubmine_serve::telemetry::install(&super::metrics())?,
        health.readiness.clone(),
    );
    let app =
        pubmine_serve::api::router(pubmine_serve::api::Api { searcher, pool }).merge(telemetry);
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("failed to listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "serving");
    // The address on stdout, for scripts that bind port 0.
    println!("listening on http://{addr}");
    let token = pubmine_stream::shutdown::on_signal();
    pubmine_serve::http::serve(listener, app, args.limits.limits(), token).await;
    Ok(ExitCode::SUCCESS)
}
