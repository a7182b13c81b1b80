//! The tantivy entity index of pubmine: its schema, the exactly-once index sink that the
//! `pubmine index` consumer feeds, and the search that `pubmine search` and `pubmine serve` run.
//! Every tantivy call of the project is in this crate.
//!
//! # One tantivy document per paper
//!
//! Each annotated paper is one tantivy document, with multi-valued fields: every mention's text
//! (analyzed), the mention texts again under their entity type (a JSON field, so that a query
//! restricted to a type matches words of a mention of that type, not words of one type and a
//! type of another mention), the exact normal forms (`aspirin`, `chemical:aspirin`), the types,
//! one facet per distinct entity (`/Chemical/aspirin`), the ids, year, journal and passage kinds,
//! and, stored, the mentions as JSON with a snippet of about 60 characters each side.
//!
//! Why per paper rather than per (paper, entity): what users ask for is papers. "Papers that
//! mention A and B" (`--with`) is then a plain boolean AND over one document; the co-mentioned
//! entities among the matching papers are a facet count over those documents, counting each
//! paper once; ranking by BM25 over a paper's mentions favours papers that mention the entity
//! often; the year filter is one fast-field range; a tombstone or a re-annotation is one
//! `delete_term` on the id. Per (paper, entity) documents would need a join for `--with`,
//! would count facets per entity document instead of per paper, and would turn a replacement
//! into a delete of many documents. The price is that a re-annotation rewrites the paper's
//! whole document, which is what happens anyway when a paper is annotated again.
//!
//! # Re-annotation
//!
//! A record replaces the paper's document. The mentions of models that the new record does not
//! list in its `models` are kept (read from the stored mentions of the current entry), so that
//! annotating a paper again with one model leaves the other models' mentions in place, as the
//! Postgres sink does per model. The metadata (title, year, passages) is the new record's.

pub mod doc;
pub mod schema;
pub mod search;
pub mod sink;
pub mod writer;

use std::path::PathBuf;

use pubmine_stream::error::{Classify, ErrorClass};

pub use search::{SearchError, SearchRequest, SearchResponse, Searcher};
pub use sink::IndexSink;
pub use writer::{IndexConfig, IndexStats, Indexer};

/// Failures of opening, writing or reading an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("failed to create the index directory {dir}")]
    Dir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no index in {0} (build one with `pubmine index --index DIR`)")]
    Missing(PathBuf),
    #[error(
        "the index in {0} was built with another schema; rebuild it (a new directory and a new consumer group replay the annotations topic)"
    )]
    SchemaMismatch(PathBuf),
    #[error("the index in {0} is locked by another writer (one `pubmine index` per directory)")]
    Locked(PathBuf),
    #[error("unreadable JSON in the index (commit payload or stored mentions)")]
    Payload(#[source] serde_json::Error),
    #[error("the index's commit payload has version {0}, which this build does not know")]
    PayloadVersion(u32),
    #[error("tantivy failed")]
    Tantivy(#[from] tantivy::TantivyError),
}

impl Classify for IndexError {
    /// Every index failure stops the sink: a restart resumes from the last commit, which is
    /// safer than retrying a writer in an unknown state.
    fn class(&self) -> ErrorClass {
        ErrorClass::Fatal
    }
}
