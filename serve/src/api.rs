//! The HTTP JSON API over the entity index and Postgres, and the search page over it. The
//! handlers only translate HTTP to calls into `pubmine_index::search` and
//! `pubmine_store::{read, export}`.
//!
//! - `GET /`: the search page (`page/`, built into the binary: nothing is fetched from elsewhere)
//! - `GET /search?query=...&type=&year_from=&year_to=&with=&limit=&offset=&facets=`
//! - `GET /documents/{id}`: the document with every model's annotations
//! - `GET /documents/{id}/pubtator`, `GET /documents/{id}/bioc`
//! - `GET /entities/top?type=&limit=`
//! - `GET /health`; `pubmine serve` merges in [`crate::telemetry::routes`] too: `GET /healthz`
//!   (alive), `GET /readyz` (the database answers), `GET /metrics`
//!
//! A malformed request gets 400 with the reason, an unknown document 404; page sizes are capped.
//! A failure of the server's own gets 500 with a generic message; the details go to the log,
//! never to the client (a database error can name tables, values and settings).

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pubmine_index::search::{SearchError, SearchRequest, Searcher};
use serde::Deserialize;

/// The most entities `/entities/top` returns.
const MAX_TOP: usize = 1000;
/// The longest document id, in bytes (`pmid:<n>` and `pmc:PMC<n>` are far shorter).
const MAX_ID_BYTES: usize = 256;

/// What the API answers from: the entity index for `/search`, Postgres for `/documents` and
/// `/entities`. Either may be absent; its routes then answer 503.
#[derive(Debug, Default)]
pub struct Api {
    pub searcher: Option<Searcher>,
    pub pool: Option<pubmine_store::Pool>,
}

/// The API's routes and the page, every request counted and timed
/// ([`crate::telemetry::http_request`]).
pub fn router(api: Api) -> Router {
    routes(Arc::new(api))
}

fn routes(state: Arc<Api>) -> Router {
    Router::new()
        .route("/", get(|| page("text/html; charset=utf-8", PAGE_HTML)))
        .route(
            "/page/app.js",
            get(|| page("text/javascript; charset=utf-8", PAGE_JS)),
        )
        .route(
            "/page/style.css",
            get(|| page("text/css; charset=utf-8", PAGE_CSS)),
        )
        .route("/health", get(|| async { "ok" }))
        .route("/search", get(search))
        .route("/documents/{id}", get(document))
        .route("/documents/{id}/pubtator", get(pubtator))
        .route("/documents/{id}/bioc", get(bioc))
        .route("/entities/top", get(top_entities))
        .fallback(|| async { ApiError(StatusCode::NOT_FOUND, "no such route".into()) })
        .with_state(state)
        .layer(axum::middleware::from_fn(count_request))
}

const PAGE_HTML: &str = include_str!("page/index.html");
const PAGE_JS: &str = include_str!("page/app.js");
const PAGE_CSS: &str = include_str!("page/style.css");

async fn page(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // The page and its script come from this origin only.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
            ),
        ],
        body,
    )
        .into_response()
}

/// Counts every request by its route's pattern (not its path: ids would make a series each)
/// and status, and times it.
async fn count_request(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    crate::telemetry::http_request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// An error as JSON `{"error": "..."}` with its status.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({"error": self.1}))).into_response()
    }
}

fn bad_request(reason: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, reason.into())
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        if !r.status().is_client_error() {
            return internal(&r);
        }
        let text = r.body_text();
        let detail = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        bad_request(format!("bad query string: {detail}"))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        if !r.status().is_client_error() {
            return internal(&r);
        }
        // The one way a path of a `String` parameter fails to decode.
        bad_request("the path is not valid utf-8 after percent-decoding")
    }
}

/// A failure of the server: logged with its causes; the client learns only that it happened.
fn internal(e: &(dyn std::error::Error + 'static)) -> ApiError {
    let detail = pubmine_stream::error::chain(e);
    tracing::error!(error = %detail, "request failed");
    ApiError(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error (the details are in the server's log)".into(),
    )
}

/// The query string decodes to UTF-8. The query extractor would replace what does not with
/// U+FFFD and search for that; the client is told instead.
fn check_query_string(raw: Option<&str>) -> Result<(), ApiError> {
    let Some(raw) = raw else {
        return Ok(());
    };
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                decoded.push(hi << 4 | lo);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    match std::str::from_utf8(&decoded) {
        Ok(_) => Ok(()),
        Err(_) => Err(bad_request(
            "the query string is not valid utf-8 after percent-decoding",
        )),
    }
}

fn check_id(id: &str) -> Result<(), ApiError> {
    if id.trim().is_empty() {
        return Err(bad_request("the document id is empty"));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(bad_request(format!(
            "the document id is longer than {MAX_ID_BYTES} bytes"
        )));
    }
    if let Some(c) = id.chars().find(|c| c.is_control()) {
        return Err(bad_request(format!(
            "the document id holds a control character (U+{:04X})",
            u32::from(c)
        )));
    }
    Ok(())
}

fn not_configured(what: &str) -> ApiError {
    ApiError(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("this server was started without {what}"),
    )
}

async fn search(
    State(state): State<Arc<Api>>,
    RawQuery(raw): RawQuery,
    query: Result<Query<SearchRequest>, QueryRejection>,
) -> Result<Response, ApiError> {
    check_query_string(raw.as_deref())?;
    let Query(req) = query?;
    let searcher = state
        .searcher
        .clone()
        .ok_or_else(|| not_configured("--index"))?;
    let result = tokio::task::spawn_blocking(move || searcher.search(&req))
        .await
        .map_err(|e| internal(&e))?;
    match result {
        Ok(resp) => Ok(Json(resp).into_response()),
        Err(e @ SearchError::Index(_)) => Err(internal(&e)),
        Err(e) => Err(bad_request(e.to_string())),
    }
}

fn pool(state: &Api) -> Result<&pubmine_store::Pool, ApiError> {
    state
        .pool
        .as_ref()
        .ok_or_else(|| not_configured("--database-url"))
}

async fn load(
    state: &Api,
    id: Result<Path<String>, PathRejection>,
) -> Result<pubmine_stream::record::Annotations, ApiError> {
    let Path(id) = id?;
    check_id(&id)?;
    pubmine_store::read::document(pool(state)?, &id)
        .await
        .map_err(|e| internal(&e))?
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no document {id:?}")))
}

async fn document(
    State(state): State<Arc<Api>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    Ok(Json(load(&state, id).await?).into_response())
}

async fn pubtator(
    State(state): State<Arc<Api>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let a = load(&state, id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        pubmine_store::export::pubtator(&a),
    )
        .into_response())
}

async fn bioc(
    State(state): State<Arc<Api>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let a = load(&state, id).await?;
    Ok(Json(pubmine_store::export::bioc(&a)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopParams {
    #[serde(rename = "type")]
    ty: Option<String>,
    #[serde(default = "default_top")]
    limit: usize,
}

fn default_top() -> usize {
    20
}

async fn top_entities(
    State(state): State<Arc<Api>>,
    RawQuery(raw): RawQuery,
    query: Result<Query<TopParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    check_query_string(raw.as_deref())?;
    let Query(p) = query?;
    if let Some(ty) = &p.ty {
        pubmine_index::search::check_type(ty).map_err(bad_request)?;
    }
    // An empty type is no filter, as in /search.
    let ty = p.ty.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let limit = p.limit.clamp(1, MAX_TOP) as i64;
    let rows = pubmine_store::read::top_entities(pool(&state)?, ty, limit)
        .await
        .map_err(|e| internal(&e))?;
    Ok(Json(rows).into_response())
}
