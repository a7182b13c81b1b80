//! What runs a model's graph: the one seam between the annotator and an inference engine.
//! [`Backend`] takes a batch of token ids and gives logits; ONNX Runtime's session
//! ([`crate::model::session::ModelSession`]) is the backend of every command, and [`Lexicon`] a
//! deterministic one that tags the terms it is given, so that the decoding, the annotator and the
//! worker are tested without the runtime library (the same split as text-embeddings-inference's
//! backends).

use std::collections::BTreeMap;

use crate::model::ModelDir;
use crate::model::session::SessionError;

/// Runs a model's graph over batches of token ids.
pub trait Backend: Send + std::fmt::Debug {
    /// Runs a batch of `rows` sequences of `cols` token ids each (padded; `mask` is 1 over each
    /// row's tokens, `[CLS]` and `[SEP]` included). Returns the logits, row-major: `[rows][cols][..]`
    /// for token classification, `[rows][..]` for sequence classification, the last dimension
    /// being the model's labels (`id2label`).
    fn run(
        &mut self,
        ids: Vec<i64>,
        mask: Vec<i64>,
        rows: usize,
        cols: usize,
    ) -> Result<Vec<f32>, SessionError>;
}

/// The logit of the label a [`Lexicon`] gives; every other label has 0, so a softmax over a
/// handful of labels gives the chosen one a score above 0.99.
const CHOSEN: f32 = 8.0;

/// A deterministic backend for tests: it finds the token-id sequences of the terms it was given
/// in each input and gives them their labels, as a model that knows exactly those terms would.
///
/// - For token classification ([`Lexicon::tokens`]), a term of type `T` gives its first token
///   every `B-T` label of `id2label` and its other tokens every `I-T` label (so each head of a
///   multi-head model that knows `T` finds it), and every other token every `O` label.
/// - For sequence classification ([`Lexicon::sequences`]), an input that holds a term's tokens
///   takes that term's label, and any other input the given negative label.
#[derive(Debug, Clone)]
pub struct Lexicon {
    n_labels: usize,
    per_token: bool,
    /// Each term's token ids, with the labels of its first token and of the tokens after.
    terms: Vec<(Vec<i64>, Vec<usize>, Vec<usize>)>,
    /// The labels of a token or an input that no term covers.
    otherwise: Vec<usize>,
}

impl Lexicon {
    /// A token-classification lexicon over `dir`'s tokenizer and labels: `terms` are
    /// `(text, entity type)`.
    pub fn tokens(dir: &ModelDir, terms: &[(&str, &str)]) -> Result<Self, String> {
        let labels_named = |name: &str| -> Vec<usize> {
            dir.id2label
                .iter()
                .filter(|(_, l)| l.as_str() == name)
                .map(|(&i, _)| i)
                .collect()
        };
        let outside = labels_named("O");
        if outside.is_empty() {
            return Err(format!("{}: no O label", dir.name));
        }
        let mut out = Vec::new();
        for (text, ty) in terms {
            let (b, i) = (
                labels_named(&format!("B-{ty}")),
                labels_named(&format!("I-{ty}")),
            );
            if b.is_empty() || i.is_empty() {
                return Err(format!("{}: no B-{ty} and I-{ty} labels", dir.name));
            }
            out.push((term_ids(dir, text)?, b, i));
        }
        Ok(Lexicon {
            n_labels: dir.id2label.len(),
            per_token: true,
            terms: out,
            otherwise: outside,
        })
    }

    /// A sequence-classification lexicon: an input holding a term's tokens takes its label;
    /// `terms` are `(text, label)`, and `negative` is the label of every other input.
    pub fn sequences(
        dir: &ModelDir,
        negative: &str,
        terms: &[(&str, &str)],
    ) -> Result<Self, String> {
        let index: BTreeMap<&str, usize> =
            dir.id2label.iter().map(|(&i, l)| (l.as_str(), i)).collect();
        let label = |name: &str| {
            index
                .get(name)
                .copied()
                .ok_or_else(|| format!("{}: no label {name:?}", dir.name))
        };
        let mut out = Vec::new();
        for (text, l) in terms {
            out.push((term_ids(dir, text)?, vec![label(l)?], Vec::new()));
        }
        Ok(Lexicon {
            n_labels: dir.id2label.len(),
            per_token: false,
            terms: out,
            otherwise: vec![label(negative)?],
        })
    }

    fn give(&self, logits: &mut [f32], labels: &[usize]) {
        for &l in labels {
            logits[l] = CHOSEN;
        }
    }
}

/// A term's token ids, as the tokenizer cuts it alone (no special tokens).
fn term_ids(dir: &ModelDir, text: &str) -> Result<Vec<i64>, String> {
    let enc = dir
        .tokenizer
        .encode(text, false)
        .map_err(|e| format!("{text:?}: {e}"))?;
    let ids: Vec<i64> = enc.get_ids().iter().map(|&i| i64::from(i)).collect();
    if ids.is_empty() {
        return Err(format!("{text:?} has no tokens"));
    }
    Ok(ids)
}

impl Backend for Lexicon {
    fn run(
        &mut self,
        ids: Vec<i64>,
        mask: Vec<i64>,
        rows: usize,
        cols: usize,
    ) -> Result<Vec<f32>, SessionError> {
        if ids.len() != rows * cols || mask.len() != ids.len() {
            return Err(SessionError::Run(format!(
                "{} ids and {} mask values for {rows} rows of {cols}",
                ids.len(),
                mask.len()
            )));
        }
        let n = self.n_labels;
        if !self.per_token {
            let mut out = vec![0f32; rows * n];
            for r in 0..rows {
                let row = &ids[r * cols..(r + 1) * cols];
                let hit = self
                    .terms
                    .iter()
                    .find(|(t, _, _)| row.windows(t.len()).any(|w| w == t.as_slice()));
                let labels = hit.map_or(&self.otherwise, |(_, l, _)| l);
                self.give(&mut out[r * n..(r + 1) * n], labels);
            }
            return Ok(out);
        }
        let mut out = vec![0f32; rows * cols * n];
        for r in 0..rows {
            let row = &ids[r * cols..(r + 1) * cols];
            let mut labels: Vec<&[usize]> = vec![self.otherwise.as_slice(); cols];
            for (t, b, i) in &self.terms {
                for start in 0..cols.saturating_sub(t.len() - 1) {
                    if row[start..start + t.len()] == t[..] {
                        labels[start] = b.as_slice();
                        for l in &mut labels[start + 1..start + t.len()] {
                            *l = i.as_slice();
                        }
                    }
                }
            }
            for (c, l) in labels.into_iter().enumerate() {
                let at = (r * cols + c) * n;
                self.give(&mut out[at..at + n], l);
            }
        }
        Ok(out)
    }
}
