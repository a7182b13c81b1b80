//! Entry point for the record-decoder fuzz target (`fuzz/` at the repository root) and for the
//! test that replays its saved corpus (`tests/fuzz_corpus.rs`).

use crate::codec::{
    decode_annotations, decode_dead_letter, decode_document, encode_annotations,
    encode_dead_letter, encode_document,
};

/// The bytes as a record value of each topic: a document, annotations, a dead letter. Must
/// never panic, whatever the bytes. A value that decodes must come back unchanged through
/// encode and decode (what a stage re-sends is what it read); a difference panics, as a bug.
pub fn decode(data: &[u8]) -> usize {
    let mut n = 0;
    if let Ok(doc) = decode_document(data) {
        let again = decode_document(&encode_document(&doc));
        assert!(
            again.as_ref().is_ok_and(|d| *d == doc),
            "a document changed through encode and decode: {doc:?} -> {again:?}"
        );
        n += 1 + doc.passages.len();
    }
    if let Ok(a) = decode_annotations(data) {
        let again = decode_annotations(&encode_annotations(&a));
        assert!(
            again.as_ref().is_ok_and(|b| *b == a),
            "annotations changed through encode and decode: {a:?} -> {again:?}"
        );
        n += 1 + a.mentions.len();
    }
    if let Ok(dl) = decode_dead_letter(data) {
        let again = decode_dead_letter(&encode_dead_letter(&dl));
        assert!(
            again.as_ref().is_ok_and(|d| *d == dl),
            "a dead letter changed through encode and decode: {dl:?} -> {again:?}"
        );
        n += 1 + dl.reason.len();
    }
    n
}
