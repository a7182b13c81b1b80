//! The contract between pubmine stages: record types, topic names, the codec, the Kafka,
//! in-process and JSON-lines transports, and shutdown.

pub mod codec;
pub mod embedded;
pub mod error;
pub mod fuzz;
pub mod jsonl;
pub mod kafka;
pub mod metrics;
pub mod record;
pub mod shutdown;
pub mod sink;
pub mod synthetic;
pub mod testing;
pub mod topics;
pub mod transport;
