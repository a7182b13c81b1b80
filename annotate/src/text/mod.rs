//! What is done to text before and after a model runs, with no model in sight: sentence
//! splitting, tokenization with character offsets, overlapping windows, batches by a token
//! budget, label sets, and BIO decoding of scored tokens into spans.

pub mod batch;
pub mod decode;
pub mod labels;
pub mod sentences;
pub mod tokenize;
pub mod windows;
