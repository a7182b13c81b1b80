//! PubMed MEDLINE and PMC JATS ingest: streaming parsers, sources, and the document producer.

pub mod chunk;
pub mod continuous;
pub mod error;
pub mod fuzz;
pub mod inflate;
pub mod jats;
pub mod medline;
pub mod metrics;
pub mod produce;
pub mod progress;
pub mod scan;
pub mod source;
pub mod text;
pub mod xml;
