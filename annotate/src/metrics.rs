//! The metrics of annotation, declared here once: the models' work per batch (tokens, padding,
//! run time). What the worker takes and gives is counted under the shared stage metrics of
//! `pubmine_stream::metrics` (stage `annotate`).

use std::time::Duration;

use pubmine_stream::metrics::{Buckets, Declared, Kind};

pub const TOKENS: &str = "pubmine_annotate_tokens_total";
pub const BATCH_TOKENS: &str = "pubmine_annotate_batch_tokens";
pub const PADDING: &str = "pubmine_annotate_padding_ratio";
pub const MODEL_RUN_SECONDS: &str = "pubmine_model_run_seconds";

/// The metrics of this crate.
pub const DECLARED: &[Declared] = &[
    Declared {
        name: TOKENS,
        kind: Kind::Counter,
        labels: &["model"],
        help: "Text tokens run through a model, [CLS], [SEP] and padding not counted \
               (tokens/s: its rate).",
    },
    Declared {
        name: BATCH_TOKENS,
        kind: Kind::Histogram(Buckets::TokenSlots),
        labels: &["model"],
        help: "Token slots of one model run (rows times the longest row): how full batches are.",
    },
    Declared {
        name: PADDING,
        kind: Kind::Histogram(Buckets::Shares),
        labels: &["model"],
        help: "Share of a model run's token slots that are padding.",
    },
    Declared {
        name: MODEL_RUN_SECONDS,
        kind: Kind::Histogram(Buckets::Seconds),
        labels: &["model"],
        help: "Seconds of one model run (one batch through ONNX Runtime).",
    },
];

/// One run of `model` over `slots` token slots, `tokens` of them text (the rest `[CLS]`, `[SEP]`
/// and padding), which took `took`.
pub fn model_run(model: &str, tokens: usize, slots: usize, took: Duration) {
    let model = model.to_owned();
    metrics::counter!(TOKENS, "model" => model.clone()).increment(tokens as u64);
    metrics::histogram!(BATCH_TOKENS, "model" => model.clone()).record(slots as f64);
    let padding = 1.0 - tokens as f64 / slots.max(1) as f64;
    metrics::histogram!(PADDING, "model" => model.clone()).record(padding.max(0.0));
    metrics::histogram!(MODEL_RUN_SECONDS, "model" => model).record(took.as_secs_f64());
}
