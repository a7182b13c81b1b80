//! `pubmine store`: a consumer group on the annotations topic writing documents, mentions and
//! relations to Postgres, each batch in one transaction with the offsets it covers.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use pubmine_pipeline::consume::KafkaSinkStage;
use pubmine_store::sink::PgSink;
use pubmine_stream::sink::{CrashPoint, SinkConfig};
use pubmine_stream::{shutdown, topics};

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(flatten)]
    db: super::DbOpts,
    #[command(flatten)]
    broker: super::BrokerOpts,
    /// Consumer group of the store.
    #[arg(long, env = "PUBMINE_STORE_GROUP", default_value = "pubmine-store")]
    group: String,
    /// The name the store's offsets are kept under in Postgres (default: the group). The
    /// store resumes from these, whatever the group's committed offsets say.
    #[arg(long, env = "PUBMINE_STORE_NAME")]
    sink_name: Option<String>,
    /// Topic annotations are read from.
    #[arg(long, env = "PUBMINE_ANNOTATIONS_TOPIC", default_value = topics::ANNOTATIONS)]
    input_topic: String,
    /// Topic records that cannot be decoded go to.
    #[arg(long, env = "PUBMINE_DEAD_LETTER_TOPIC", default_value = topics::DEAD_LETTER)]
    dead_letter_topic: String,
    /// Records per transaction.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// How long a batch waits to fill after its first record.
    #[arg(long, default_value = "200ms", value_parser = super::parse_duration)]
    linger: std::time::Duration,
    /// For tests of crash recovery only: exit after the N-th committed batch, before the group
    /// offset commit (`after-write:N`).
    #[arg(long, env = "PUBMINE_CRASH", hide = true)]
    crash: Option<CrashPoint>,
    #[command(flatten)]
    metrics: super::MetricsOpts,
}

pub async fn run(args: StoreArgs) -> anyhow::Result<ExitCode> {
    let health = args.metrics.start().await?;
    let kafka = args.broker.config("store reads the annotations topic")?;
    health.broker(&kafka)?;
    let pool = args.db.connect("store").await?;
    health.database(&pool);
    let cfg = SinkConfig {
        stage: "store".into(),
        dead_letter_topic: args.dead_letter_topic.clone(),
        batch_records: args.batch,
        linger: args.linger,
        idle_flush: std::time::Duration::from_secs(1),
        crash: args.crash,
    };
    let stage = KafkaSinkStage::connect(&kafka, &args.group, &args.input_topic, cfg)
        .await
        .context("failed to connect the store to the broker")?;
    health.lag(stage.consumer())?;
    let mut sink = PgSink::new(pool, args.sink_name.as_deref().unwrap_or(&args.group));
    let stats = stage.run(&mut sink, &shutdown::on_signal()).await?;
    println!("{}", serde_json::to_string(&stats)?);
    Ok(ExitCode::SUCCESS)
}
