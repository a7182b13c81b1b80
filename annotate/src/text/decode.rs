//! From per-token label scores to entity spans, as the Hugging Face token-classification pipeline
//! does with `aggregation_strategy="first"`:
//!
//! 1. a word is a token and the continuation sub-tokens (`##...`) after it;
//! 2. a word's label is the best label of its first sub-token, with that label's score;
//! 3. consecutive words of the same type are one entity unless a word is tagged `B-`; an `I-`
//!    that starts an entity (after `O` or another type) begins one: BIO is repaired;
//! 4. an entity's score is the mean of its words' scores; `O` words are dropped.
//!
//! Offsets are Unicode-character offsets into the passage (docs/architecture.md, "Records and
//! topics").

use crate::text::labels::{LabelSet, Tag};

/// One token of a passage, after inference: its best label only, so that a passage's tokens
/// cost a few bytes each however many labels the model has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredToken {
    /// Character offsets of the token in the passage.
    pub start: usize,
    pub end: usize,
    /// A continuation sub-token (WordPiece `##`).
    pub subword: bool,
    /// The best label (index into the label set) and its probability.
    pub label: usize,
    pub score: f32,
}

/// The best label of probabilities `probs` (the first of equals) and its probability; label 0
/// with no probability at all when there are none.
pub fn best(probs: &[f32]) -> (usize, f32) {
    argmax(probs)
}

/// An entity found in a passage.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    /// Index into [`LabelSet::types`].
    pub ty: usize,
    pub score: f32,
}

/// Softmax of `logits`, in place, as numpy computes it (shifted by the maximum).
pub fn softmax(logits: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for x in logits.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in logits.iter_mut() {
        *x /= sum;
    }
}

fn argmax(p: &[f32]) -> (usize, f32) {
    p.iter()
        .copied()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, v)| {
            if v > best.1 { (i, v) } else { best }
        })
}

struct Word {
    start: usize,
    end: usize,
    tag: Tag,
    score: f32,
}

/// The entities of a passage's tokens, in order.
pub fn decode(tokens: impl IntoIterator<Item = ScoredToken>, labels: &LabelSet) -> Vec<Span> {
    // 1-2. Words, labelled by their first sub-token.
    let mut words: Vec<Word> = Vec::new();
    for t in tokens {
        match words.last_mut() {
            Some(w) if t.subword => w.end = t.end,
            _ => {
                words.push(Word {
                    start: t.start,
                    end: t.end,
                    tag: labels.tags[t.label],
                    score: t.score,
                });
            }
        }
    }
    // 3-4. Entities.
    let mut spans = Vec::new();
    let mut open: Option<(usize, usize, usize, f32, usize)> = None; // (start, end, type, sum, n)
    let close = |open: &mut Option<(usize, usize, usize, f32, usize)>, spans: &mut Vec<Span>| {
        if let Some((start, end, ty, sum, n)) = open.take() {
            spans.push(Span {
                start,
                end,
                ty,
                score: sum / n as f32,
            });
        }
    };
    for w in &words {
        match w.tag {
            Tag::O => close(&mut open, &mut spans),
            Tag::I(ty) if open.is_some_and(|o| o.2 == ty) => {
                if let Some(o) = open.as_mut() {
                    o.1 = w.end;
                    o.3 += w.score;
                    o.4 += 1;
                }
            }
            Tag::B(ty) | Tag::I(ty) => {
                close(&mut open, &mut spans);
                open = Some((w.start, w.end, ty, w.score, 1));
            }
        }
    }
    close(&mut open, &mut spans);
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn labels() -> LabelSet {
        let m: BTreeMap<usize, String> = ["O", "B-Chem", "I-Chem", "B-Dis", "I-Dis"]
            .iter()
            .enumerate()
            .map(|(i, l)| (i, l.to_string()))
            .collect();
        LabelSet::from_id2label(&m).unwrap()
    }

    /// A token at `start..end` whose best label is `label` with probability `p`.
    fn tok(start: usize, end: usize, subword: bool, label: usize, p: f32) -> ScoredToken {
        let mut probs = vec![(1.0 - p) / 4.0; 5];
        probs[label] = p;
        let (label, score) = best(&probs);
        ScoredToken {
            start,
            end,
            subword,
            label,
            score,
        }
    }

    #[test]
    fn first_subtoken_labels_the_word_and_bio_is_repaired() {
        // "Cisplatin causes renal failure ."
        let t = vec![
            tok(0, 3, false, 1, 0.9),    // Cis  B-Chem
            tok(3, 9, true, 0, 0.8),     // ##platin (label ignored)
            tok(10, 16, false, 0, 0.99), // causes O
            tok(17, 22, false, 4, 0.7),  // renal I-Dis starting an entity: a B
            tok(23, 30, false, 4, 0.9),  // failure I-Dis
            tok(31, 32, false, 0, 0.99),
        ];
        let spans = decode(t, &labels());
        assert_eq!(spans.len(), 2);
        assert_eq!((spans[0].start, spans[0].end, spans[0].ty), (0, 9, 0));
        assert!((spans[0].score - 0.9).abs() < 1e-6);
        assert_eq!((spans[1].start, spans[1].end, spans[1].ty), (17, 30, 1));
        assert!((spans[1].score - 0.8).abs() < 1e-6);
    }

    #[test]
    fn a_b_tag_splits_adjacent_entities_and_types_do_not_mix() {
        let t = vec![
            tok(0, 1, false, 1, 0.9), // B-Chem
            tok(2, 3, false, 1, 0.9), // B-Chem: a second entity
            tok(4, 5, false, 2, 0.9), // I-Chem continues it
            tok(6, 7, false, 4, 0.9), // I-Dis: another type, a new entity
        ];
        let spans: Vec<_> = decode(t, &labels())
            .into_iter()
            .map(|s| (s.start, s.end, s.ty))
            .collect();
        assert_eq!(spans, [(0, 1, 0), (2, 5, 0), (6, 7, 1)]);
    }

    #[test]
    fn softmax_sums_to_one() {
        let mut l = [1.0f32, 2.0, 3.0, 1000.0];
        softmax(&mut l);
        assert!((l.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(l[3] > 0.999);
    }
}
