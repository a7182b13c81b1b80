//! Tokenization of a passage once, with Unicode-character offsets (converted from the tokenizer's
//! byte offsets here, at the boundary, per DESIGN.md), without special tokens or truncation.

use tokenizers::Tokenizer;

/// A passage's tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    pub ids: Vec<u32>,
    /// Character offsets into the passage.
    pub offsets: Vec<(usize, usize)>,
    /// Continuation sub-tokens, as the Hugging Face pipeline decides them: the token's text is
    /// not the passage text it covers (`##ing` over `ing`), unless it is the unknown token.
    pub subword: Vec<bool>,
}

impl Tokens {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("tokenization failed: {0}")]
pub struct TokenizeError(String);

/// Tokenizes `text`; `unk` is the unknown token's id, never a sub-token.
pub fn tokenize(tok: &Tokenizer, text: &str, unk: Option<u32>) -> Result<Tokens, TokenizeError> {
    let enc = tok
        .encode_char_offsets(text, false)
        .map_err(|e| TokenizeError(e.to_string()))?;
    let offsets: Vec<(usize, usize)> = enc.get_offsets().to_vec();
    let subword = enc
        .get_tokens()
        .iter()
        .zip(&offsets)
        .zip(enc.get_ids())
        .map(|((t, (s, e)), id)| Some(*id) != unk && t.chars().count() != e - s)
        .collect();
    Ok(Tokens {
        ids: enc.get_ids().to_vec(),
        offsets,
        subword,
    })
}
