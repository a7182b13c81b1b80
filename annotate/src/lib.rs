//! BioBERT-style annotation through ONNX Runtime: tokenization with offsets, sliding windows,
//! NER decoding (and, later, relation extraction), batching and the worker.

pub mod decode;
pub mod labels;
pub mod windows;
