//! Errors at the edge of the ingest crate, classified as docs/architecture.md says: a poison record
//! goes to the dead-letter topic and the file goes on; a file that cannot be read at all is
//! reported and the next file goes on; a transport error is transient (retried) or fatal.

use pubmine_stream::error::{Classify, ErrorClass};
use pubmine_stream::record::DeadLetter;

/// One record of a file that could not be turned into a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at byte {position}{}", id.as_ref().map(|i| format!(" ({i})")).unwrap_or_default())]
pub struct RecordError {
    /// Byte offset into the (decompressed) XML where the problem was seen.
    pub position: u64,
    /// The document id, when it was read before the problem.
    pub id: Option<String>,
    pub reason: String,
    /// The input cannot be read past this point (a read error, a truncated file): not a bad
    /// record but an incomplete or unreadable file, which fails, so that it is read again.
    pub fatal: bool,
}

impl RecordError {
    pub fn new(position: u64, reason: impl Into<String>) -> Self {
        RecordError {
            position,
            id: None,
            reason: reason.into(),
            fatal: false,
        }
    }

    /// An error that ends the input (see [`RecordError::fatal`]).
    pub fn fatal(position: u64, reason: impl Into<String>) -> Self {
        RecordError {
            fatal: true,
            ..RecordError::new(position, reason)
        }
    }

    pub fn with_id(mut self, id: Option<String>) -> Self {
        self.id = id;
        self
    }

    /// The dead letter for this error, naming the file (or archive member) it came from.
    pub fn dead_letter(&self, source: &str) -> DeadLetter {
        DeadLetter::new("ingest", source, self.reason.clone())
            .at(format!("byte {}", self.position))
            .with_id(self.id.clone())
    }
}

impl Classify for RecordError {
    /// A bad record is poison; so is one that ends its input, whose file then fails alone
    /// (the next file goes on, and a later run reads it again).
    fn class(&self) -> ErrorClass {
        ErrorClass::Poison
    }
}

impl Classify for SourceError {
    /// The input is at fault, not the process: the file fails alone and the next goes on.
    fn class(&self) -> ErrorClass {
        ErrorClass::Poison
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
    #[error("{path}: {}", if root.is_empty() { "not XML (no root element in its first bytes)".to_string() } else { format!("not PubMed or PMC XML (root element {root:?})") })]
    UnknownFormat { path: String, root: String },
    /// The file stops early or cannot be read past a point; the records before it were read.
    #[error("failed to read {path} at byte {position}: {reason}")]
    Incomplete {
        path: String,
        position: u64,
        reason: String,
    },
    #[error(
        "{path}: encoding {encoding:?} is not supported (UTF-8, ISO-8859-1 and windows-1252 are read)"
    )]
    Encoding { path: String, encoding: String },
    #[error("{path}: archive entry {entry:?} is a link; refused")]
    LinkEntry { path: String, entry: String },
    #[error("{path}: archive entry {entry:?} escapes the archive root; refused")]
    UnsafeEntry { path: String, entry: String },
}
