//! The metrics every stage shares, declared here once: records in and out, dead letters,
//! retries, consumer lag, and the sinks' commits and rows. Recorded through the `metrics` facade:
//! without an installed recorder (`--metrics-addr` not given) every call is a no-op. Each crate
//! that records metrics of its own declares them in its `metrics` module the same way, and the
//! binary hands every crate's list to `pubmine_serve::telemetry::install`, which describes them
//! to the exporter and gives each histogram the buckets its declaration names.

use std::time::Duration;

/// What kind of metric a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    /// A histogram, with the bucket bounds fit to what it measures.
    Histogram(Buckets),
}

/// The bucket bounds of a histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buckets {
    /// Seconds, from a millisecond to a minute.
    Seconds,
    /// Token slots of a model run, from 64 to 64k.
    TokenSlots,
    /// A share from 0 to 1, in tenths (and 0.05).
    Shares,
}

impl Buckets {
    /// The upper bounds of the buckets, ascending.
    pub fn bounds(self) -> &'static [f64] {
        match self {
            Buckets::Seconds => &[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                60.0,
            ],
            Buckets::TokenSlots => &[
                64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0, 32768.0,
                65536.0,
            ],
            Buckets::Shares => &[0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        }
    }
}

/// One metric: its name (with the `pubmine_` prefix), kind, labels and meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    pub name: &'static str,
    pub kind: Kind,
    pub labels: &'static [&'static str],
    pub help: &'static str,
}

impl Declared {
    /// Tells the installed recorder what the metric means (`# HELP` in the exposition).
    pub fn describe(&self) {
        match self.kind {
            Kind::Counter => metrics::describe_counter!(self.name, self.help),
            Kind::Gauge => metrics::describe_gauge!(self.name, self.help),
            Kind::Histogram(_) => metrics::describe_histogram!(self.name, self.help),
        }
    }
}

pub const RECORDS_IN: &str = "pubmine_records_in_total";
pub const RECORDS_OUT: &str = "pubmine_records_out_total";
pub const DEAD_LETTERS: &str = "pubmine_dead_letters_total";
pub const RETRIES: &str = "pubmine_retries_total";
pub const CONSUMER_LAG: &str = "pubmine_consumer_lag";
pub const SINK_COMMIT_SECONDS: &str = "pubmine_sink_commit_seconds";
pub const SINK_ROWS: &str = "pubmine_sink_rows_total";
pub const SUPERSEDED: &str = "pubmine_superseded_total";

/// The metrics of this crate.
pub const DECLARED: &[Declared] = &[
    Declared {
        name: RECORDS_IN,
        kind: Kind::Counter,
        labels: &["stage"],
        help: "Records a stage has taken from its input (documents, annotations, tombstones).",
    },
    Declared {
        name: RECORDS_OUT,
        kind: Kind::Counter,
        labels: &["stage"],
        help: "Records a stage has finished: produced downstream (ingest, annotate) or written \
               (store, index); dead letters not included.",
    },
    Declared {
        name: DEAD_LETTERS,
        kind: Kind::Counter,
        labels: &["stage", "reason"],
        help: "Records set aside on the dead-letter topic, by stage and reason class \
               (parse, decode, annotate, too_large, refused).",
    },
    Declared {
        name: RETRIES,
        kind: Kind::Counter,
        labels: &["stage", "class"],
        help: "Calls retried after a transient fault, by stage and what failed \
               (sink: a sink's write; delivery: producing a batch; commit: a group commit).",
    },
    Declared {
        name: CONSUMER_LAG,
        kind: Kind::Gauge,
        labels: &["topic", "partition"],
        help: "Records in the partition past the consumer's position (Kafka: the high \
               watermark minus the position; in one process: records waiting in the channel).",
    },
    Declared {
        name: SINK_COMMIT_SECONDS,
        kind: Kind::Histogram(Buckets::Seconds),
        labels: &["stage"],
        help: "Seconds of a sink write that made records durable (a Postgres transaction, a \
               tantivy commit).",
    },
    Declared {
        name: SINK_ROWS,
        kind: Kind::Counter,
        labels: &["stage", "table"],
        help: "Rows written by a sink, per table (Postgres) or documents (index).",
    },
    Declared {
        name: SUPERSEDED,
        kind: Kind::Counter,
        labels: &["stage"],
        help: "Records a sink left unwritten because it holds a newer version of their \
               document (made from a later record of the same documents partition): an older \
               version delivered late, by a worker that had lost its partitions.",
    },
];

/// `n` records taken from the input of `stage`.
pub fn records_in(stage: &str, n: usize) {
    metrics::counter!(RECORDS_IN, "stage" => stage.to_owned()).increment(n as u64);
}

/// `n` records finished by `stage`.
pub fn records_out(stage: &str, n: usize) {
    metrics::counter!(RECORDS_OUT, "stage" => stage.to_owned()).increment(n as u64);
}

/// One record of `stage` dead-lettered for a reason of this class.
pub fn dead_letter(stage: &str, reason: &'static str) {
    metrics::counter!(DEAD_LETTERS, "stage" => stage.to_owned(), "reason" => reason).increment(1);
}

/// One call of `stage` retried after a transient fault of this class.
pub fn retry(stage: &str, class: &'static str) {
    metrics::counter!(RETRIES, "stage" => stage.to_owned(), "class" => class).increment(1);
}

/// The lag of one partition now.
pub fn lag(topic: &str, partition: i32, records: i64) {
    metrics::gauge!(CONSUMER_LAG, "topic" => topic.to_owned(), "partition" => partition.to_string())
        .set(records.max(0) as f64);
}

/// A durable write of `stage` that took `took`.
pub fn sink_commit(stage: &str, took: Duration) {
    metrics::histogram!(SINK_COMMIT_SECONDS, "stage" => stage.to_owned())
        .record(took.as_secs_f64());
}

/// `n` rows written by `stage` to `table`.
pub fn sink_rows(stage: &str, table: &'static str, n: u64) {
    metrics::counter!(SINK_ROWS, "stage" => stage.to_owned(), "table" => table).increment(n);
}

/// `n` records `stage` left unwritten: it holds a newer version of their documents.
pub fn superseded(stage: &str, n: u64) {
    metrics::counter!(SUPERSEDED, "stage" => stage.to_owned()).increment(n);
}
