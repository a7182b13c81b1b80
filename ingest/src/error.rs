//! Errors at the edge of the ingest crate, classified as DESIGN.md asks: a poison record goes to
//! the dead-letter topic and the file goes on; a file that cannot be read at all is reported and
//! the next file goes on; a transport error is transient (retried) or fatal.

use pubmine_stream::record::DeadLetter;
use pubmine_stream::record::SCHEMA_VERSION;

/// One record of a file that could not be turned into a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at byte {position}{}", id.as_ref().map(|i| format!(" ({i})")).unwrap_or_default())]
pub struct RecordError {
    /// Byte offset into the (decompressed) XML where the problem was seen.
    pub position: u64,
    /// The document id, when it was read before the problem.
    pub id: Option<String>,
    pub reason: String,
}

impl RecordError {
    pub fn new(position: u64, reason: impl Into<String>) -> Self {
        RecordError {
            position,
            id: None,
            reason: reason.into(),
        }
    }

    pub fn with_id(mut self, id: Option<String>) -> Self {
        self.id = id;
        self
    }

    /// The dead letter for this error, naming the file (or archive member) it came from.
    pub fn dead_letter(&self, source: &str) -> DeadLetter {
        DeadLetter {
            schema_version: SCHEMA_VERSION,
            stage: "ingest".into(),
            source: source.into(),
            position: Some(format!("byte {}", self.position)),
            id: self.id.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// A whole input that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("failed to read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not PubMed or PMC XML (root element {root:?})")]
    UnknownFormat { path: String, root: String },
    #[error("{path}: archive entry {entry:?} escapes the archive root; refused")]
    UnsafeEntry { path: String, entry: String },
}
