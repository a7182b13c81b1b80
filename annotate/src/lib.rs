//! BioBERT-style annotation through ONNX Runtime. The crate's rooms:
//!
//! - [`text`]: what is done to text before and after a model (sentences, tokenization with
//!   offsets, windows, batches, label sets, BIO decoding), pure and tested without a model;
//! - [`model`]: a model directory checked at start-up, the [`model::backend::Backend`] that runs
//!   its graph (ONNX Runtime's session, or a deterministic test backend), multi-head settings,
//!   and opening every model a command names;
//! - the tasks: [`ner`] and [`re`] (one model's pass), [`abbrev`] and [`normalize`] (concepts),
//!   put together over documents by [`annotator`];
//! - the stage: [`worker`] (records in, annotations out, offsets committed), its [`metrics`] and
//!   [`faults`];
//! - [`eval`]: the evaluations (CoNLL, relations, normalization, the CDR task).

pub mod abbrev;
pub mod annotator;
pub mod error;
pub mod eval;
pub mod faults;
pub mod metrics;
pub mod model;
pub mod ner;
pub mod normalize;
pub mod re;
pub mod stats;
pub mod text;
pub mod worker;
