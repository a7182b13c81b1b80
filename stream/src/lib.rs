//! The contract between pubmine stages: record types, topic names, the codec, error classes
//! and the retry policy, the transport traits with their in-process and JSON-lines
//! implementations, the sink runner, metrics names, and shutdown.
//!
//! The Kafka client (`kafka`) is compiled only with the `kafka` feature, which the binary and
//! the tests that talk to the broker turn on: the stages are written against the transport
//! traits and build without librdkafka.
//!
//! The kits of other crates' tests and benchmarks (`testing`: the test broker and unique
//! names; `synthetic`: generated annotations; `fuzz`: the fuzz targets' entry points) are
//! compiled only with the `testsuite` feature, which those crates turn on in their
//! dev-dependencies: release builds of the binary carry none of them.

pub mod codec;
pub mod error;
#[cfg(feature = "testsuite")]
pub mod fuzz;
pub mod jsonl;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod metrics;
pub mod record;
pub mod retry;
pub mod shutdown;
pub mod sink;
#[cfg(feature = "testsuite")]
pub mod synthetic;
#[cfg(feature = "testsuite")]
pub mod testing;
pub mod topics;
pub mod transport;
