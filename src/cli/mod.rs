//! Commands and their options. Every option can also be set from the environment (`--help` names
//! the variable); secrets are never logged.

mod annotate;
mod db;
mod eval;
mod index;
mod ingest;
mod run;
mod search;
mod serve;
mod store;
mod vocab;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Mine the biomedical literature as it is published: PubMed and PMC XML into Kafka, BioBERT
/// annotation, Postgres and tantivy.
#[derive(Debug, Parser)]
#[command(name = "pubmine", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse PubMed/PMC XML and produce documents to the documents topic.
    Ingest(Box<ingest::IngestArgs>),
    /// Find entity mentions with BioBERT-style NER models (ONNX Runtime).
    Annotate(Box<annotate::AnnotateArgs>),
    /// Write annotations to Postgres (exactly once), for SQL and dashboards.
    Store(Box<store::StoreArgs>),
    /// Build the tantivy entity index from the annotations topic (exactly once).
    Index(Box<index::IndexArgs>),
    /// Search the entity index: papers mentioning an entity, with snippets and facets.
    Search(Box<search::SearchArgs>),
    /// The HTTP JSON API: entity search, a document's annotations (JSON, PubTator, BioC), top
    /// entities.
    Serve(Box<serve::ServeArgs>),
    /// The whole pipeline in one process, no broker: mine files into Postgres and the index.
    Run(Box<run::RunArgs>),
    /// Database administration.
    Db(db::DbArgs),
    /// Evaluate models on labelled data.
    Eval(eval::EvalArgs),
    /// Vocabularies for normalizing mentions to concepts: import MeSH, NCBI Gene and Taxonomy
    /// files, look names up.
    Vocab(vocab::VocabArgs),
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log format: text for people, json for log collectors.
    #[arg(long, env = "PUBMINE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Log filter, in tracing's EnvFilter syntax (`info`, `pubmine_ingest=debug`, ...).
    #[arg(long, env = "PUBMINE_LOG", default_value = "info", global = true)]
    pub log: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn init_tracing(args: &LogArgs) {
    // librdkafka's and sqlx's chatter stays at warn unless asked for.
    let filter = tracing_subscriber::EnvFilter::try_new(format!("sqlx=warn,ort=warn,{}", args.log))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A span enabled by the filter (the worker's batch spans are at debug) is logged when
        // it closes, with its busy and idle time: a slow stage shows.
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(|| pubmine_pipeline::display::LogWriter);
    match args.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Ingest(args) => ingest::run(*args).await,
        Command::Vocab(args) => vocab::run(args).await,
        Command::Annotate(args) => annotate::run(*args).await,
        Command::Store(args) => store::run(*args).await,
        Command::Index(args) => index::run(*args).await,
        Command::Search(args) => search::run(*args).await,
        Command::Serve(args) => serve::run(*args).await,
        Command::Run(args) => run::run(*args).await,
        Command::Db(args) => db::run(args).await,
        Command::Eval(args) => eval::run(args).await,
    }
}

/// How to reach the Kafka cluster.
#[derive(Debug, Args, Clone)]
pub struct BrokerOpts {
    /// Kafka bootstrap servers, host:port[,host:port].
    #[arg(long, env = "PUBMINE_BROKERS")]
    brokers: Option<String>,
    /// Extra librdkafka property, key=value (repeatable): security.protocol, sasl.*, ...
    #[arg(
        long = "kafka-option",
        env = "PUBMINE_KAFKA_OPTIONS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    kafka_options: Vec<String>,
}

impl BrokerOpts {
    /// The cluster's configuration; `without` says how to do without a broker.
    pub fn config(&self, without: &str) -> anyhow::Result<pubmine_stream::kafka::KafkaConfig> {
        use anyhow::Context as _;
        let brokers = self.brokers.as_deref().with_context(|| {
            format!("no broker configured: set --brokers or PUBMINE_BROKERS (or {without})")
        })?;
        let cfg =
            pubmine_stream::kafka::KafkaConfig::new(brokers).with_options(&self.kafka_options)?;
        tracing::info!(brokers, options = ?cfg.redacted_options(), "kafka configured");
        Ok(cfg)
    }
}

pub use pubmine_serve::telemetry::Health;

/// Every metric pubmine records: each crate's declared list, handed to the recorder.
pub fn metrics() -> Vec<pubmine_stream::metrics::Declared> {
    [
        pubmine_stream::metrics::DECLARED,
        pubmine_ingest::metrics::DECLARED,
        pubmine_annotate::metrics::DECLARED,
        pubmine_serve::telemetry::HTTP_DECLARED,
    ]
    .concat()
}

/// Where to serve metrics and health.
#[derive(Debug, Args, Clone)]
pub struct MetricsOpts {
    /// Serve Prometheus metrics on /metrics, and health on /healthz (alive) and /readyz (broker,
    /// database and models reachable and loaded), at this address: host:port, or a bare port for
    /// 127.0.0.1. Off unless given.
    #[arg(long, env = "PUBMINE_METRICS_ADDR", value_parser = pubmine_serve::telemetry::parse_addr)]
    metrics_addr: Option<std::net::SocketAddr>,
}

impl MetricsOpts {
    /// Starts serving metrics and health when asked to; the checks are added as the command
    /// comes to what they check.
    pub async fn start(&self) -> anyhow::Result<Health> {
        Ok(Health::start(self.metrics_addr, &metrics()).await?)
    }
}

/// Postgres connection options.
#[derive(Debug, Args, Clone)]
pub struct DbOpts {
    /// Postgres URL, such as postgres://user@127.0.0.1:5432/pubmine.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl DbOpts {
    /// Connects and applies pending migrations.
    pub async fn connect(&self, why: &str) -> anyhow::Result<pubmine_store::Pool> {
        use anyhow::Context as _;
        let url = self
            .database_url
            .as_deref()
            .with_context(|| format!("{why} needs Postgres: set --database-url or DATABASE_URL"))?;
        let pool = pubmine_store::connect(url)
            .await
            .context("failed to connect to Postgres")?;
        pubmine_store::migrate(&pool)
            .await
            .context("failed to migrate the database")?;
        Ok(pool)
    }
}

/// Parses `90`, `90s`, `15m`, `2h`, `500ms`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 30s, 15m or 2h"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{s:?} is not a duration that fits"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pubmine_stream::metrics::Kind;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("99999999999999999999999").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn names_are_declared_once_with_the_prefix() {
        let all = metrics();
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
        let declared: Vec<(String, Kind)> = metrics()
            .into_iter()
            .map(|d| (d.name.to_owned(), d.kind))
            .collect();
        let mut queried = 0;
        for e in &exprs {
            for name in metric_names(e) {
                queried += 1;
                let found = declared.iter().any(|(d, kind)| match kind {
                    Kind::Histogram(_) => ["_bucket", "_sum", "_count"]
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
