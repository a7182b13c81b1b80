//! `pubmine serve`: the HTTP JSON API over the entity index and Postgres. The handlers only
//! translate HTTP to calls into `pubmine_index::search` and `pubmine_store::{read, export}`.
//!
//! - `GET /search?query=...&type=&year_from=&year_to=&with=&limit=&offset=&facets=`
//! - `GET /documents/{id}`: the document with every model's annotations
//! - `GET /documents/{id}/pubtator`, `GET /documents/{id}/bioc`
//! - `GET /entities/top?type=&limit=`
//! - `GET /health`
//!
//! A malformed request gets 400 with the reason, an unknown document 404; page sizes are capped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clap::Args;
use pubmine_index::search::{SearchError, SearchRequest, Searcher};
use serde::Deserialize;

/// The most entities `/entities/top` returns.
const MAX_TOP: i64 = 1000;

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
}

struct AppState {
    searcher: Option<Searcher>,
    pool: Option<pubmine_store::Pool>,
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
    let app = router(Arc::new(AppState { searcher, pool }));
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("failed to listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "serving");
    // The address on stdout, for scripts that bind port 0.
    println!("listening on http://{addr}");
    let token = pubmine_stream::shutdown::on_signal();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { token.cancelled().await })
        .await
        .context("server failed")?;
    Ok(ExitCode::SUCCESS)
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/search", get(search))
        .route("/documents/{id}", get(document))
        .route("/documents/{id}/pubtator", get(pubtator))
        .route("/documents/{id}/bioc", get(bioc))
        .route("/entities/top", get(top_entities))
        .with_state(state)
}

/// An error as JSON `{"error": "..."}` with its status.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.0.is_server_error() {
            tracing::error!(status = %self.0, error = %self.1, "request failed");
        }
        (self.0, Json(serde_json::json!({"error": self.1}))).into_response()
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError(StatusCode::BAD_REQUEST, r.body_text())
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn not_configured(what: &str) -> ApiError {
    ApiError(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("this server was started without {what}"),
    )
}

async fn search(
    State(state): State<Arc<AppState>>,
    query: Result<Query<SearchRequest>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(req) = query?;
    let searcher = state
        .searcher
        .clone()
        .ok_or_else(|| not_configured("--index"))?;
    let result = tokio::task::spawn_blocking(move || searcher.search(&req))
        .await
        .map_err(internal)?;
    match result {
        Ok(resp) => Ok(Json(resp).into_response()),
        Err(e @ SearchError::Index(_)) => Err(internal(e)),
        Err(e) => Err(ApiError(StatusCode::BAD_REQUEST, e.to_string())),
    }
}

fn pool(state: &AppState) -> Result<&pubmine_store::Pool, ApiError> {
    state
        .pool
        .as_ref()
        .ok_or_else(|| not_configured("--database-url"))
}

async fn load(state: &AppState, id: &str) -> Result<pubmine_stream::record::Annotations, ApiError> {
    pubmine_store::read::document(pool(state)?, id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no document {id:?}")))
}

async fn document(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(load(&state, &id).await?).into_response())
}

async fn pubtator(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let a = load(&state, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        pubmine_store::export::pubtator(&a),
    )
        .into_response())
}

async fn bioc(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let a = load(&state, &id).await?;
    Ok(Json(pubmine_store::export::bioc(&a)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopParams {
    #[serde(rename = "type")]
    ty: Option<String>,
    #[serde(default = "default_top")]
    limit: i64,
}

fn default_top() -> i64 {
    20
}

async fn top_entities(
    State(state): State<Arc<AppState>>,
    query: Result<Query<TopParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = query?;
    let limit = p.limit.clamp(1, MAX_TOP);
    let rows = pubmine_store::read::top_entities(pool(&state)?, p.ty.as_deref(), limit)
        .await
        .map_err(internal)?;
    Ok(Json(rows).into_response())
}
