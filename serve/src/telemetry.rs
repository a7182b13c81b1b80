//! Metrics and health for every long-running command: the Prometheus recorder (installed once
//! per process, with every crate's declared metrics described), and an HTTP endpoint with
//! `GET /metrics` (the Prometheus text format), `GET /healthz` (the process is alive) and
//! `GET /readyz` (what the process needs is reachable and loaded: each [`Readiness`] check).
//! [`Health`] is what a command holds: it starts the endpoint when asked and adds the checks of
//! what the command comes to use (broker, database, models) and the consumer's lag.

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
#[cfg(feature = "kafka")]
use pubmine_stream::kafka::{KafkaConfig, KafkaConsumer};
use pubmine_stream::metrics::{Buckets, Declared, Kind};
#[cfg(feature = "kafka")]
use pubmine_stream::transport::TransportError;
use tokio_util::sync::CancellationToken;

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
        kind: Kind::Histogram(Buckets::Seconds),
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

impl pubmine_stream::error::Classify for TelemetryError {
    /// A recorder already installed or an address taken: the command's configuration.
    fn class(&self) -> pubmine_stream::error::ErrorClass {
        pubmine_stream::error::ErrorClass::Fatal
    }
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
/// describes the metrics `declared`: every crate's `DECLARED` that the process records, which
/// the caller gathers. Each histogram gets the buckets its declaration names; a histogram not
/// declared gets buckets of seconds.
pub fn install(declared: &[Declared]) -> Result<PrometheusHandle, TelemetryError> {
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let err = |e: metrics_exporter_prometheus::BuildError| TelemetryError::Install(e.to_string());
    let mut builder = PrometheusBuilder::new()
        .set_buckets(Buckets::Seconds.bounds())
        .map_err(err)?;
    for d in declared {
        if let Kind::Histogram(buckets) = d.kind {
            builder = builder
                .set_buckets_for_metric(Matcher::Full(d.name.into()), buckets.bounds())
                .map_err(err)?;
        }
    }
    let handle = builder.install_recorder().map_err(err)?;
    for d in declared {
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

/// A command's metrics and health: its readiness checks, and whether metrics are served at all
/// (checks that cost something, such as a broker probe, are added only then).
#[derive(Debug, Clone)]
pub struct Health {
    pub readiness: Readiness,
    on: bool,
}

impl Health {
    /// Serves metrics and health on `addr` when given ([`serve`], with the metrics `declared`);
    /// the checks are added as the command comes to what they check.
    pub async fn start(
        addr: Option<SocketAddr>,
        declared: &[Declared],
    ) -> Result<Health, TelemetryError> {
        let readiness = Readiness::default();
        if let Some(addr) = addr {
            serve(addr, declared, readiness.clone(), CancellationToken::new()).await?;
        }
        Ok(Health {
            readiness,
            on: addr.is_some(),
        })
    }

    /// Whether metrics and health are served (the checks that cost something are added only
    /// then).
    pub fn serving(&self) -> bool {
        self.on
    }

    /// Ready only while a broker of `kafka` answers.
    #[cfg(feature = "kafka")]
    pub fn broker(&self, kafka: &KafkaConfig) -> Result<(), TransportError> {
        if self.on {
            let probe = kafka.probe()?;
            self.readiness
                .check("broker", "no broker answers", move || {
                    let probe = probe.clone();
                    Box::pin(async move { probe.check(CHECK_TIMEOUT).await })
                });
        }
        Ok(())
    }

    /// Ready only while the database answers.
    pub fn database(&self, pool: &pubmine_store::Pool) {
        let pool = pool.clone();
        self.readiness
            .check("database", "the database does not answer", move || {
                let pool = pool.clone();
                Box::pin(async move { pubmine_store::ping(&pool).await.map_err(|e| e.to_string()) })
            });
    }

    /// Ready once the models are loaded: call the returned function then.
    pub fn models(&self) -> impl FnOnce() + use<> {
        let flag = self.readiness.flag("models", "the models are loading");
        move || flag.store(true, Ordering::SeqCst)
    }

    /// Reports the consumer's lag per partition, when metrics are served.
    #[cfg(feature = "kafka")]
    pub fn lag(&self, consumer: &KafkaConsumer) -> std::io::Result<()> {
        if self.on {
            consumer.report_lag(Duration::from_secs(5))?;
        }
        Ok(())
    }
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

/// Installs the recorder with the metrics `declared` ([`install`]) and serves `/metrics`,
/// `/healthz` and `/readyz` on `addr` until `shutdown`, on a task of its own; returns the
/// address bound (port 0 picks one).
pub async fn serve(
    addr: SocketAddr,
    declared: &[Declared],
    readiness: Readiness,
    shutdown: CancellationToken,
) -> Result<SocketAddr, TelemetryError> {
    let handle = install(declared)?;
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
}
