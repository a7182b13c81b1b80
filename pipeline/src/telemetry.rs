//! Metrics and health for every long-running command: the Prometheus recorder (installed once
//! per process, with every crate's declared metrics described), and an HTTP endpoint with
//! `GET /metrics` (the Prometheus text format), `GET /healthz` (the process is alive) and
//! `GET /readyz` (what the process needs is reachable and loaded: each [`Readiness`] check).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use futures::future::BoxFuture;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use pubmine_stream::metrics::{Declared, Kind};
use tokio_util::sync::CancellationToken;

/// Every metric of pubmine, from each crate's `DECLARED`, and the HTTP metrics of `serve`.
pub fn declared() -> Vec<Declared> {
    [
        pubmine_stream::metrics::DECLARED,
        pubmine_ingest::metrics::DECLARED,
        pubmine_annotate::metrics::DECLARED,
        HTTP_DECLARED,
    ]
    .concat()
}

pub const HTTP_REQUESTS: &str = "pubmine_http_requests_total";
pub const HTTP_SECONDS: &str = "pubmine_http_request_seconds";

/// The metrics of an HTTP API (`pubmine serve`), recorded by [`http_request`].
pub const HTTP_DECLARED: &[Declared] = &[
    Declared {
        name: HTTP_REQUESTS,
        kind: Kind::Counter,
        labels: &["route", "status"],
        help: "HTTP requests answered, by route (its pattern, such as /documents/{id}) and status.",
    },
    Declared {
        name: HTTP_SECONDS,
        kind: Kind::Histogram,
        labels: &["route"],
        help: "Seconds to answer an HTTP request, by route.",
    },
];

/// One request to `route` answered with `status` after `took`.
pub fn http_request(route: &str, status: u16, took: Duration) {
    metrics::counter!(HTTP_REQUESTS, "route" => route.to_owned(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(HTTP_SECONDS, "route" => route.to_owned()).record(took.as_secs_f64());
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("failed to install the metrics recorder: {0}")]
    Install(String),
    #[error("failed to listen on {addr} for metrics and health")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder (once per process; later calls return the same handle) and
/// describes every declared metric. Histograms get buckets fit to what they measure: seconds
/// from a millisecond to a minute, token slots from 64 to 64k, padding shares in tenths.
pub fn install() -> Result<PrometheusHandle, TelemetryError> {
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let seconds = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    ];
    let slots = [
        64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0, 32768.0, 65536.0,
    ];
    let shares = [0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    let err = |e: metrics_exporter_prometheus::BuildError| TelemetryError::Install(e.to_string());
    let handle = PrometheusBuilder::new()
        .set_buckets(&seconds)
        .map_err(err)?
        .set_buckets_for_metric(
            Matcher::Full(pubmine_annotate::metrics::BATCH_TOKENS.into()),
            &slots,
        )
        .map_err(err)?
        .set_buckets_for_metric(
            Matcher::Full(pubmine_annotate::metrics::PADDING.into()),
            &shares,
        )
        .map_err(err)?
        .install_recorder()
        .map_err(|e| TelemetryError::Install(e.to_string()))?;
    for d in declared() {
        d.describe();
    }
    Ok(HANDLE.get_or_init(|| handle).clone())
}

type Check = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// A named check, what a client is told when it fails, and the check itself.
type Named = (&'static str, &'static str, Check);

/// What `/readyz` checks: named checks, each answering within [`CHECK_TIMEOUT`] or failing.
/// A client is told which check failed in the check's own words; the error behind it (which
/// can name hosts, users, databases) goes to the log only.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Arc<Mutex<Vec<Named>>>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.lock().iter().map(|(n, _, _)| *n).collect();
        f.debug_struct("Readiness").field("checks", &names).finish()
    }
}

/// How long one readiness check may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

impl Readiness {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Named>> {
        self.checks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a check, run on every `/readyz`. When it fails, a client is told `unready`; the
    /// check's own error is logged.
    pub fn check<F>(&self, name: &'static str, unready: &'static str, f: F)
    where
        F: Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync + 'static,
    {
        self.lock().push((name, unready, Arc::new(f)));
    }

    /// A check that passes once the returned flag is set (models loaded, an index opened);
    /// until then it fails with `waiting`.
    pub fn flag(&self, name: &'static str, waiting: &'static str) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        self.check(name, waiting, move || {
            let ready = f.load(Ordering::SeqCst);
            Box::pin(async move { if ready { Ok(()) } else { Err(waiting.into()) } })
        });
        flag
    }

    /// Runs every check; each result is `ok` or, in the check's own words, why not (the
    /// error behind a failure is logged, never returned).
    pub async fn run(&self) -> Vec<(&'static str, Result<(), String>)> {
        let checks: Vec<Named> = self.lock().clone();
        let runs = checks.into_iter().map(|(name, unready, f)| async move {
            let r = match tokio::time::timeout(CHECK_TIMEOUT, f()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => {
                    // A flag not yet set says no more than its words; an error says more.
                    if error != unready {
                        tracing::warn!(check = name, %error, "not ready");
                    }
                    Err(unready.to_owned())
                }
                Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
            };
            (name, r)
        });
        futures::future::join_all(runs).await
    }
}

/// `/metrics`, `/healthz` and `/readyz`, to serve on their own or merged into an API's routes.
pub fn routes(handle: PrometheusHandle, readiness: Readiness) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let handle = handle.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        handle.render(),
                    )
                }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let readiness = readiness.clone();
                async move { ready(readiness).await }
            }),
        )
}

async fn ready(readiness: Readiness) -> axum::response::Response {
    let results = readiness.run().await;
    let all = results.iter().all(|(_, r)| r.is_ok());
    let checks: serde_json::Map<String, serde_json::Value> = results
        .into_iter()
        .map(|(name, r)| {
            (
                name.to_owned(),
                r.err().unwrap_or_else(|| "ok".into()).into(),
            )
        })
        .collect();
    let status = if all {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(serde_json::json!({"ready": all, "checks": checks})),
    )
        .into_response()
}

/// Where to serve metrics and health: `host:port`, or a bare port on 127.0.0.1.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| {
        format!("{s:?} is not an address such as 9464, 127.0.0.1:9464 or 0.0.0.0:9464")
    })
}

/// Installs the recorder and serves `/metrics`, `/healthz` and `/readyz` on `addr` until
/// `shutdown`, on a task of its own; returns the address bound (port 0 picks one).
pub async fn serve(
    addr: SocketAddr,
    readiness: Readiness,
    shutdown: CancellationToken,
) -> Result<SocketAddr, TelemetryError> {
    let handle = install()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| TelemetryError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| TelemetryError::Bind { addr, source })?;
    let app = routes(handle.clone(), readiness);
    tokio::spawn(async move {
        let upkeep = handle.clone();
        let keep = tokio::spawn(async move {
            // The recorder's histograms drain their samples into buckets here, not only on a
            // scrape, so memory stays bounded when nobody scrapes for a while.
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });
        crate::http::serve(listener, app, crate::http::HttpLimits::default(), shutdown).await;
        keep.abort();
    });
    tracing::info!(addr = %bound, "serving metrics on /metrics, health on /healthz and /readyz");
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(parse_addr("9464"), Ok("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(
            parse_addr("0.0.0.0:9464"),
            Ok("0.0.0.0:9464".parse().unwrap())
        );
        assert!(parse_addr("metrics").is_err());
    }

    #[test]
    fn names_are_declared_once_with_the_prefix() {
        let all = declared();
        let mut names: Vec<&str> = all.iter().map(|d| d.name).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a metric is declared twice");
        for d in &all {
            assert!(d.name.starts_with("pubmine_"), "{}", d.name);
            assert_eq!(
                d.name.ends_with("_total"),
                d.kind == Kind::Counter,
                "counters and only counters end in _total: {}",
                d.name
            );
        }
    }

    /// Every metric the committed Grafana dashboard queries is one pubmine declares.
    #[test]
    fn the_dashboard_queries_only_declared_metrics() {
        let dashboard: serde_json::Value =
            serde_json::from_str(include_str!("../../deploy/grafana/pubmine.json"))
                .expect("the dashboard is JSON");
        let mut exprs = Vec::new();
        collect_exprs(&dashboard, &mut exprs);
        assert!(
            exprs.len() >= 8,
            "the dashboard has {} queries",
            exprs.len()
        );
        let declared: Vec<(String, Kind)> = declared()
            .into_iter()
            .map(|d| (d.name.to_owned(), d.kind))
            .collect();
        let mut queried = 0;
        for e in &exprs {
            for name in metric_names(e) {
                queried += 1;
                let found = declared.iter().any(|(d, kind)| match kind {
                    Kind::Histogram => ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|s| name == format!("{d}{s}")),
                    _ => &name == d,
                });
                assert!(
                    found,
                    "the dashboard queries {name}, which is not declared ({e})"
                );
            }
        }
        assert!(queried >= exprs.len());
    }

    fn collect_exprs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, v) in o {
                    match (k.as_str(), v) {
                        ("expr", serde_json::Value::String(s)) => out.push(s.clone()),
                        _ => collect_exprs(v, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| collect_exprs(v, out)),
            _ => {}
        }
    }

    /// The `pubmine_...` words of a PromQL expression.
    fn metric_names(expr: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = expr;
        while let Some(at) = rest.find("pubmine_") {
            let word: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            rest = &rest[at + word.len()..];
            out.push(word);
        }
        out
    }
}
