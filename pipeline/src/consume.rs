//! A sink stage as a Kafka consumer group (`pubmine store`, `pubmine index`): its topics made
//! where missing, its consumer in the group on the annotations topic, its dead-letter producer,
//! and the sink runner (`pubmine_stream::sink::run`) until shutdown. Written once for both
//! sinks; what differs is the sink handed in (docs/architecture.md, "The flow").

use pubmine_index::{IndexSink, IndexStats, Indexer};
use pubmine_stream::kafka::{KafkaConfig, KafkaConsumer, KafkaProducer};
use pubmine_stream::sink::{RunError, Sink, SinkConfig, SinkStats};
use pubmine_stream::transport::TransportError;
use tokio_util::sync::CancellationToken;

/// Partitions of a topic a sink stage creates when it is missing (a deployment that made its
/// topics keeps them as they are).
const PARTITIONS: i32 = 6;

/// A sink stage connected to its broker, ready to run.
pub struct KafkaSinkStage {
    consumer: KafkaConsumer,
    producer: KafkaProducer,
    group: String,
    input: String,
    cfg: SinkConfig,
}

impl std::fmt::Debug for KafkaSinkStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSinkStage")
            .field("stage", &self.cfg.stage)
            .field("group", &self.group)
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

impl KafkaSinkStage {
    /// Creates the input and dead-letter topics where missing, joins `group` on `input`, and
    /// opens the producer of dead letters (`cfg.dead_letter_topic`).
    pub async fn connect(
        kafka: &KafkaConfig,
        group: &str,
        input: &str,
        cfg: SinkConfig,
    ) -> Result<Self, TransportError> {
        kafka
            .ensure_topics(&[input, &cfg.dead_letter_topic], PARTITIONS, 1)
            .await?;
        Ok(KafkaSinkStage {
            consumer: kafka.consumer(group, &[input])?,
            producer: kafka.producer()?,
            group: group.into(),
            input: input.into(),
            cfg,
        })
    }

    /// The group's consumer, for the lag that health reports.
    pub fn consumer(&self) -> &KafkaConsumer {
        &self.consumer
    }

    /// Runs `sink` until shutdown (the batch in hand finished and flushed), logging the start
    /// and what was done.
    pub async fn run(
        &self,
        sink: &mut dyn Sink,
        shutdown: &CancellationToken,
    ) -> Result<SinkStats, RunError> {
        let stage = &self.cfg.stage;
        tracing::info!(%stage, group = %self.group, input = %self.input, "sink started");
        let stats =
            pubmine_stream::sink::run(&self.consumer, &self.producer, sink, &self.cfg, shutdown)
                .await?;
        tracing::info!(
            %stage,
            documents = stats.documents,
            deletions = stats.deletions,
            dead_lettered = stats.dead_lettered,
            skipped = stats.skipped,
            batches = stats.batches,
            "sink stopped"
        );
        Ok(stats)
    }
}

/// What the index sink did, and the index writer closed (its last commit waited for).
pub async fn close_index(sink: IndexSink) -> Result<IndexStats, pubmine_index::IndexError> {
    let indexed = sink.stats().unwrap_or_default();
    if let Some(indexer) = sink.into_inner() {
        // A blocking task is never cancelled: a join error is the writer's panic, passed on.
        match tokio::task::spawn_blocking(move || Indexer::close(indexer)).await {
            Ok(closed) => closed?,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    tracing::info!(
        mentions = indexed.mentions,
        commits = indexed.commits,
        skipped = indexed.skipped,
        "index closed"
    );
    Ok(indexed)
}
