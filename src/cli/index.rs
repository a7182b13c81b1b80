//! `pubmine index`: a consumer group on the annotations topic feeding the tantivy entity index,
//! which commits every N documents or T seconds with the Kafka offsets in its commit payload and
//! resumes from them (exactly once into the index).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use pubmine_index::{IndexConfig, IndexSink, Indexer};
use pubmine_pipeline::consume::{KafkaSinkStage, close_index};
use pubmine_stream::sink::{CrashPoint, SinkConfig};
use pubmine_stream::{shutdown, topics};

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The index directory (created when missing). One `pubmine index` per directory: the
    /// directory is locked while it runs.
    #[arg(long, env = "PUBMINE_INDEX_DIR")]
    index: PathBuf,
    #[command(flatten)]
    broker: super::BrokerOpts,
    /// Consumer group of the indexer. Every index directory needs its own group (a second
    /// replica of the index: a second directory and a second group).
    #[arg(long, env = "PUBMINE_INDEX_GROUP", default_value = "pubmine-index")]
    group: String,
    /// Topic annotations are read from.
    #[arg(long, env = "PUBMINE_ANNOTATIONS_TOPIC", default_value = topics::ANNOTATIONS)]
    input_topic: String,
    /// Topic records that cannot be decoded go to.
    #[arg(long, env = "PUBMINE_DEAD_LETTER_TOPIC", default_value = topics::DEAD_LETTER)]
    dead_letter_topic: String,
    /// Commit once this many documents (and deletions) are buffered.
    #[arg(long, env = "PUBMINE_INDEX_COMMIT_DOCS", default_value_t = 10_000)]
    commit_docs: usize,
    /// Commit once the oldest buffered change is this old; a quiet stream commits after it too.
    #[arg(long, env = "PUBMINE_INDEX_COMMIT_INTERVAL", default_value = "10s", value_parser = super::parse_duration)]
    commit_interval: Duration,
    /// Indexing threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Memory of the index writer in MB, over all its threads.
    #[arg(long, default_value_t = 256)]
    memory_mb: usize,
    /// Records read per batch.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// How long a batch waits to fill after its first record.
    #[arg(long, default_value = "200ms", value_parser = super::parse_duration)]
    linger: Duration,
    /// For tests of crash recovery only: exit after the N-th commit, before the group offset
    /// commit (`after-write:N`).
    #[arg(long, env = "PUBMINE_CRASH", hide = true)]
    crash: Option<CrashPoint>,
    #[command(flatten)]
    metrics: super::MetricsOpts,
}

pub async fn run(args: IndexArgs) -> anyhow::Result<ExitCode> {
    let health = args.metrics.start().await?;
    let kafka = args.broker.config("index reads the annotations topic")?;
    health.broker(&kafka)?;
    let cfg = IndexConfig {
        commit_docs: args.commit_docs,
        commit_interval: args.commit_interval,
        threads: args.threads,
        memory_bytes: args.memory_mb << 20,
    };
    let dir = args.index.clone();
    let indexer = tokio::task::spawn_blocking(move || Indexer::open(&dir, cfg))
        .await?
        .with_context(|| format!("failed to open the index in {}", args.index.display()))?;
    let cfg = SinkConfig {
        stage: "index".into(),
        dead_letter_topic: args.dead_letter_topic.clone(),
        batch_records: args.batch,
        linger: args.linger,
        idle_flush: args.commit_interval,
        crash: args.crash,
    };
    tracing::info!(index = %args.index.display(), "index opened");
    let stage = KafkaSinkStage::connect(&kafka, &args.group, &args.input_topic, cfg)
        .await
        .context("failed to connect the index to the broker")?;
    health.lag(stage.consumer())?;
    let mut sink = IndexSink::new(indexer);
    let stats = stage.run(&mut sink, &shutdown::on_signal()).await?;
    let indexed = close_index(sink)
        .await
        .context("failed to close the index")?;
    println!("{}", serde_json::json!({"stream": stats, "index": indexed}));
    Ok(ExitCode::SUCCESS)
}
