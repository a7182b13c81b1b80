//! Entity-level evaluation in the manner of conlleval and seqeval (default, non-strict mode), on
//! CoNLL-style files (`token<TAB>tag`, a blank line between sentences): the format of the BioBERT
//! NER datasets, so users can reproduce published F1 with their checkpoint.

use std::collections::{BTreeMap, HashSet};

/// A sentence: tokens and their gold tags.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sentence {
    pub tokens: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ConllError {
    pub line: usize,
    pub reason: String,
}

/// Reads a CoNLL file: the first column is the token, the last the tag; `-DOCSTART-` lines are
/// skipped.
pub fn read_conll(text: &str) -> Result<Vec<Sentence>, ConllError> {
    let mut out = Vec::new();
    let mut cur = Sentence::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !cur.tokens.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with("-DOCSTART-") {
            continue;
        }
        let cols: Vec<&str> = line.split(['\t', ' ']).filter(|c| !c.is_empty()).collect();
        if cols.len() < 2 {
            return Err(ConllError {
                line: i + 1,
                reason: format!("expected token<TAB>tag, got {line:?}"),
            });
        }
        cur.tokens.push(cols[0].to_string());
        cur.tags.push(cols[cols.len() - 1].to_string());
    }
    if !cur.tokens.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

fn split_tag(tag: &str) -> (char, &str) {
    if tag == "O" || tag.is_empty() {
        return ('O', "");
    }
    match tag.split_once('-') {
        Some((p, t)) if p.len() == 1 => (p.chars().next().unwrap_or('O'), t),
        // A bare `B`/`I` (BioBERT's single-type datasets).
        _ if tag.len() == 1 => (tag.chars().next().unwrap_or('O'), ""),
        _ => ('I', tag),
    }
}

fn end_of_chunk(prev: char, tag: char, prev_ty: &str, ty: &str) -> bool {
    matches!(prev, 'E' | 'S')
        || (prev == 'B' && matches!(tag, 'B' | 'S' | 'O'))
        || (prev == 'I' && matches!(tag, 'B' | 'S' | 'O'))
        || (prev != 'O' && prev != '.' && prev_ty != ty)
}

fn start_of_chunk(prev: char, tag: char, prev_ty: &str, ty: &str) -> bool {
    matches!(tag, 'B' | 'S')
        || (matches!(prev, 'E' | 'S' | 'O') && matches!(tag, 'E' | 'I'))
        || (tag != 'O' && tag != '.' && prev_ty != ty)
}

/// Entities `(type, first token, last token)` of a tag sequence, as seqeval's `get_entities`.
pub fn entities(tags: &[String]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let (mut prev, mut prev_ty) = ('O', String::new());
    let mut begin = 0;
    for (i, t) in tags.iter().map(String::as_str).chain(["O"]).enumerate() {
        let (tag, ty) = split_tag(t);
        if end_of_chunk(prev, tag, &prev_ty, ty) {
            out.push((prev_ty.clone(), begin, i - 1));
        }
        if start_of_chunk(prev, tag, &prev_ty, ty) {
            begin = i;
        }
        prev = tag;
        prev_ty = ty.to_string();
    }
    out
}

/// Precision, recall and F1 with the counts behind them.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Score {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub true_entities: usize,
    pub predicted: usize,
    pub correct: usize,
}

impl Score {
    fn from_counts(correct: usize, predicted: usize, true_entities: usize) -> Score {
        let precision = if predicted == 0 {
            0.0
        } else {
            correct as f64 / predicted as f64
        };
        let recall = if true_entities == 0 {
            0.0
        } else {
            correct as f64 / true_entities as f64
        };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Score {
            precision,
            recall,
            f1,
            true_entities,
            predicted,
            correct,
        }
    }
}

/// Micro-averaged entity scores over all sentences, and per type.
pub fn score(gold: &[Vec<String>], pred: &[Vec<String>]) -> (Score, BTreeMap<String, Score>) {
    let mut g: HashSet<(usize, String, usize, usize)> = HashSet::new();
    let mut p: HashSet<(usize, String, usize, usize)> = HashSet::new();
    for (s, tags) in gold.iter().enumerate() {
        g.extend(entities(tags).into_iter().map(|(t, a, b)| (s, t, a, b)));
    }
    for (s, tags) in pred.iter().enumerate() {
        p.extend(entities(tags).into_iter().map(|(t, a, b)| (s, t, a, b)));
    }
    let correct = g.intersection(&p).count();
    let mut types: BTreeMap<String, Score> = BTreeMap::new();
    let all_types: HashSet<&String> = g.iter().chain(p.iter()).map(|e| &e.1).collect();
    for t in all_types {
        let gt = g.iter().filter(|e| &e.1 == t).count();
        let pt = p.iter().filter(|e| &e.1 == t).count();
        let ct = g.intersection(&p).filter(|e| &e.1 == t).count();
        types.insert(t.clone(), Score::from_counts(ct, pt, gt));
    }
    (Score::from_counts(correct, p.len(), g.len()), types)
}

/// Runs the annotator over the sentences (each one passage, tokens joined by spaces) and scores
/// the predicted entities against the gold tags. When the gold tags carry no type (BioBERT's
/// single-type datasets: `B`, `I`, `O`), predicted types are ignored too.
pub fn evaluate(
    annotator: &mut crate::ner::Annotator,
    sentences: &[Sentence],
) -> Result<(Score, BTreeMap<String, Score>), crate::ner::AnnotateError> {
    use pubmine_stream::record::{Document, Passage, PassageKind, SourceKind};
    let untyped = sentences
        .iter()
        .flat_map(|s| &s.tags)
        .all(|t| matches!(t.as_str(), "B" | "I" | "O"));
    let gold: Vec<Vec<String>> = sentences.iter().map(|s| s.tags.clone()).collect();
    let mut pred: Vec<Vec<String>> = Vec::with_capacity(sentences.len());
    for chunk in sentences.chunks(64) {
        let mut doc = Document::new(SourceKind::Pubmed, "eval".into());
        let mut spans: Vec<Vec<(usize, usize)>> = Vec::new();
        for s in chunk {
            let mut text = String::new();
            let mut offs = Vec::with_capacity(s.tokens.len());
            for (i, t) in s.tokens.iter().enumerate() {
                if i > 0 {
                    text.push(' ');
                }
                let start = text.chars().count();
                text.push_str(t);
                offs.push((start, start + t.chars().count()));
            }
            doc.passages
                .push(Passage::new(PassageKind::Paragraph, text));
            spans.push(offs);
        }
        let mentions = annotator.annotate(&[&doc])?.remove(0);
        for (p, offs) in spans.iter().enumerate() {
            let mut tags = vec!["O".to_string(); offs.len()];
            for m in mentions.iter().filter(|m| m.passage as usize == p) {
                let (ms, me) = (m.start as usize, m.end as usize);
                let mut first = true;
                for (k, &(a, b)) in offs.iter().enumerate() {
                    if a < me && ms < b {
                        let prefix = if first { "B" } else { "I" };
                        tags[k] = if untyped {
                            prefix.to_string()
                        } else {
                            format!("{prefix}-{}", m.ty)
                        };
                        first = false;
                    }
                }
            }
            pred.push(tags);
        }
    }
    Ok(score(&gold, &pred))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn entities_follow_conlleval() {
        // seqeval's documented example.
        let t = tags("B-MISC I-MISC O B-PER I-PER");
        assert_eq!(entities(&t), [("MISC".into(), 0, 1), ("PER".into(), 3, 4)]);
        // An I- after O starts an entity; a type change ends one.
        let t = tags("O I-PER I-PER I-LOC B-LOC B-LOC");
        assert_eq!(
            entities(&t),
            [
                ("PER".into(), 1, 2),
                ("LOC".into(), 3, 3),
                ("LOC".into(), 4, 4),
                ("LOC".into(), 5, 5)
            ]
        );
        // BioBERT's untyped tags.
        assert_eq!(
            entities(&tags("B I O B")),
            [(String::new(), 0, 1), (String::new(), 3, 3)]
        );
    }

    #[test]
    fn scores_match_seqeval() {
        // seqeval README: y_true / y_pred give P 0.5, R 0.5, F1 0.5.
        let gold = vec![tags("O O O B-MISC I-MISC I-MISC O"), tags("B-PER I-PER O")];
        let pred = vec![
            tags("O O B-MISC I-MISC I-MISC I-MISC O"),
            tags("B-PER I-PER O"),
        ];
        let (s, per_type) = score(&gold, &pred);
        assert_eq!((s.correct, s.predicted, s.true_entities), (1, 2, 2));
        assert!((s.f1 - 0.5).abs() < 1e-12);
        assert_eq!(per_type["PER"].f1, 1.0);
        assert_eq!(per_type["MISC"].f1, 0.0);
    }

    #[test]
    fn reads_conll() {
        let s =
            read_conll("-DOCSTART-\tO\n\nAspirin\tB-Chemical\nworks\tO\n\n\nTP53\tB\n").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].tokens, ["Aspirin", "works"]);
        assert_eq!(s[1].tags, ["B"]);
        assert!(read_conll("lonely\n").is_err());
    }
}
