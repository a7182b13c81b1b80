//! Tokenization of a passage once, with Unicode-character offsets (converted from the tokenizer's
//! byte offsets here, at the boundary, per docs/architecture.md), without special tokens or
//! truncation.

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

/// The most bytes of text the tokenizer is given at once. The tokenizer keeps about a hundred
/// bytes of bookkeeping per byte it is given (alignments, normalized copies, token strings), so
/// a long passage is tokenized in pieces of about this size, cut at whitespace: what the
/// passage needs then grows by its tokens alone (about 21 bytes each).
pub const PIECE_BYTES: usize = 64 * 1024;

/// Tokenizes `text`; `unk` is the unknown token's id, never a sub-token. A text longer than
/// [`PIECE_BYTES`] is tokenized piece by piece, each cut at whitespace, which BERT-family
/// tokenizers split at anyway, so the tokens are those of the whole (a run of more than
/// [`PIECE_BYTES`] bytes without whitespace, far past any word WordPiece reads whole, is cut
/// where it must be).
pub fn tokenize(tok: &Tokenizer, text: &str, unk: Option<u32>) -> Result<Tokens, TokenizeError> {
    let mut out = Tokens::default();
    let mut chars_before = 0;
    for piece in pieces(text, PIECE_BYTES) {
        let enc = tok
            .encode_char_offsets(piece, false)
            .map_err(|e| TokenizeError(e.to_string()))?;
        for ((t, &(s, e)), &id) in enc
            .get_tokens()
            .iter()
            .zip(enc.get_offsets())
            .zip(enc.get_ids())
        {
            out.ids.push(id);
            out.offsets.push((chars_before + s, chars_before + e));
            out.subword
                .push(Some(id) != unk && t.chars().count() != e - s);
        }
        if piece.len() < text.len() {
            chars_before += piece.chars().count();
        }
    }
    Ok(out)
}

/// `text` in consecutive pieces of at most `max` bytes (or one character, if longer), each
/// ending after a whitespace character where there is one to cut at.
fn pieces(text: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if rest.len() <= max {
            return Some(std::mem::take(&mut rest));
        }
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        // After the last whitespace within the limit, if any.
        if let Some((i, c)) = rest[..cut]
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
        {
            cut = i + c.len_utf8();
        }
        if cut == 0 {
            cut = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (piece, after) = rest.split_at(cut);
        rest = after;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cut_after_whitespace_and_cover_the_text() {
        let text = "alpha beta gamma\tdelta épsilon";
        for max in 1..=text.len() + 1 {
            let got: Vec<&str> = pieces(text, max).collect();
            assert_eq!(got.concat(), text, "{max}");
            for p in &got {
                assert!(p.len() <= max || p.chars().count() == 1, "{max}: {p:?}");
            }
            if max >= 8 {
                // Every piece but the last ends with whitespace: no word is cut.
                for p in &got[..got.len() - 1] {
                    assert!(p.ends_with(char::is_whitespace), "{max}: {got:?}");
                }
            }
        }
        assert_eq!(pieces("", 4).count(), 0);
        assert_eq!(pieces("ab", 1).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            pieces("abcdefgh", 3).collect::<Vec<_>>(),
            ["abc", "def", "gh"]
        );
    }

    /// A passage of 200 KB tokenized in pieces gives the tokens and offsets of the whole, with
    /// a real tokenizer (a committed model's).
    #[test]
    fn a_long_passage_in_pieces_is_tokenized_as_a_whole() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../models/ner-disease/tokenizer.json"
        );
        let tok = Tokenizer::from_file(path).unwrap();
        let sentence = "Famotidine-associated delirium in 12 patients (n=3) with\tnaïve β-blocker \
                        use; see Fig. 2. ";
        let text: String = (0..2500).map(|i| format!("{sentence}{i}  ")).collect();
        assert!(text.len() > 2 * PIECE_BYTES);
        let unk = tok.token_to_id("[UNK]");
        let got = tokenize(&tok, &text, unk).unwrap();
        let whole = tok.encode_char_offsets(text.as_str(), false).unwrap();
        assert_eq!(got.ids, whole.get_ids());
        assert_eq!(got.offsets, whole.get_offsets());
        assert_eq!(got.len(), got.subword.len());
    }
}
