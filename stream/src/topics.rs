//! Topic names. Every name can be overridden in configuration; these are the defaults.

/// Documents from ingest: key = document id, value = JSON [`crate::record::Document`], null value
/// = deletion.
pub const DOCUMENTS: &str = "pubmed.documents";
/// Annotations from annotate: key = document id.
pub const ANNOTATIONS: &str = "pubmed.annotations";
/// Records any stage gave up on, as JSON [`crate::record::DeadLetter`].
pub const DEAD_LETTER: &str = "pubmine.dead-letter";
