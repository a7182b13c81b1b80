//! The metrics of ingest, declared here once: files and bytes. The documents a file gives are
//! counted under the shared stage metrics of `pubmine_stream::metrics` (stage `ingest`), once
//! the broker has acknowledged them.

use pubmine_stream::metrics::{Declared, Kind};

pub const FILES: &str = "pubmine_ingest_files_total";
pub const BYTES: &str = "pubmine_ingest_bytes_total";

/// The stage name in metrics.
pub const STAGE: &str = "ingest";

/// The metrics of this crate.
pub const DECLARED: &[Declared] = &[
    Declared {
        name: FILES,
        kind: Kind::Counter,
        labels: &["outcome"],
        help: "Input files ingested to their end (outcome ok) or given up (failed).",
    },
    Declared {
        name: BYTES,
        kind: Kind::Counter,
        labels: &[],
        help: "Bytes of input files read, as stored (compressed where they are).",
    },
];

/// One file ended: ingested (`ok`) or not, after reading `bytes` of it.
pub fn file(ok: bool, bytes: u64) {
    metrics::counter!(FILES, "outcome" => if ok { "ok" } else { "failed" }).increment(1);
    metrics::counter!(BYTES).increment(bytes);
}
