//! What an annotator has done: counts for metrics, `eval`'s output and the benchmarks.

use crate::re::ReStats;

/// What an annotator has done, for metrics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct AnnotatorStats {
    pub documents: u64,
    pub passages: u64,
    /// Passage tokens (per model run).
    pub tokens: u64,
    pub windows: u64,
    /// Token slots sent to the model, padding and `[CLS]`/`[SEP]` included.
    pub padded_tokens: u64,
    pub batches: u64,
    pub inference_seconds: f64,
    /// Relation extraction.
    pub re: ReStats,
}
