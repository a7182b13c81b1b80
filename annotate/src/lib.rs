//! BioBERT-style annotation through ONNX Runtime: tokenization with offsets, sliding windows,
//! NER decoding, sentence splitting and relation extraction, batching and the worker.

pub mod abbrev;
pub mod annotator;
pub mod batch;
pub mod decode;
pub mod error;
pub mod eval;
pub mod faults;
pub mod heads;
pub mod labels;
pub mod metrics;
pub mod model;
pub mod ner;
pub mod normalize;
pub mod open;
pub mod re;
pub mod sentences;
pub mod session;
pub mod stats;
pub mod tokenize;
pub mod windows;
pub mod worker;
