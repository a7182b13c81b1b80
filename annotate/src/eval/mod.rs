//! Entity-level evaluation in the manner of conlleval and seqeval (default, non-strict mode), on
//! CoNLL-style files (`token<TAB>tag`, a blank line between sentences): the format of the BioBERT
//! NER datasets, so users can reproduce published F1 with their checkpoint. And relation
//! classification on BioBERT's RE TSV files, scored as its `re_eval.py` does.
//!
//! On real abstracts with concept ids (PubTator-format corpora, [`corpus`]): normalization alone
//! and end to end ([`norm`]), and the whole annotator as BioCreative V's CDR task scores systems
//! ([`pubtator`]).

pub mod corpus;
pub mod norm;
pub mod pubtator;

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
    pub fn from_counts(correct: usize, predicted: usize, true_entities: usize) -> Score {
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

/// Runs the annotator over the sentences and scores the predicted entities against the gold
/// tags. Each sentence is one passage, its tokens joined by spaces; with `join_words` > 0,
/// consecutive sentences are joined (by a space) into passages of at least that many tokens, to
/// measure the models on texts as long as abstracts or longer. When the gold tags carry no type
/// (BioBERT's single-type datasets: `B`, `I`, `O`), predicted types are ignored too.
pub fn evaluate(
    annotator: &mut crate::annotator::Annotator,
    sentences: &[Sentence],
    join_words: usize,
) -> Result<(Score, BTreeMap<String, Score>), crate::error::AnnotateError> {
    use pubmine_stream::record::{Document, Passage, PassageKind, SourceKind};
    let untyped = sentences
        .iter()
        .flat_map(|s| &s.tags)
        .all(|t| matches!(t.as_str(), "B" | "I" | "O"));
    let gold: Vec<Vec<String>> = sentences.iter().map(|s| s.tags.clone()).collect();
    // sentences of each passage
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut begin = 0;
    let mut words = 0;
    for (i, s) in sentences.iter().enumerate() {
        words += s.tokens.len();
        if words >= join_words || i + 1 == sentences.len() {
            groups.push(begin..i + 1);
            begin = i + 1;
            words = 0;
        }
    }
    let mut pred: Vec<Vec<String>> = Vec::with_capacity(sentences.len());
    // documents of about 64 sentences, as the worker batches documents
    let per_doc = (64 / (join_words / 20).max(1)).max(1);
    for chunk in groups.chunks(per_doc) {
        let mut doc = Document::new(SourceKind::Pubmed, "eval".into());
        // per passage: per sentence, the character span of each of its tokens
        let mut spans: Vec<Vec<Vec<(usize, usize)>>> = Vec::new();
        for range in chunk {
            let mut text = String::new();
            let mut chars = 0;
            let mut passage_spans = Vec::with_capacity(range.len());
            for s in &sentences[range.clone()] {
                let mut offs = Vec::with_capacity(s.tokens.len());
                for t in &s.tokens {
                    if !text.is_empty() {
                        text.push(' ');
                        chars += 1;
                    }
                    let n = t.chars().count();
                    text.push_str(t);
                    offs.push((chars, chars + n));
                    chars += n;
                }
                passage_spans.push(offs);
            }
            doc.passages
                .push(Passage::new(PassageKind::Paragraph, text));
            spans.push(passage_spans);
        }
        let mentions = annotator.annotate(&[&doc])?.remove(0);
        for (p, passage_spans) in spans.iter().enumerate() {
            let here: Vec<_> = mentions
                .iter()
                .filter(|m| m.passage as usize == p)
                .collect();
            for offs in passage_spans {
                let mut tags = vec!["O".to_string(); offs.len()];
                for m in &here {
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
    }
    Ok(score(&gold, &pred))
}

/// A labelled sentence of BioBERT's RE data sets: the two candidates already replaced by their
/// tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReExample {
    pub sentence: String,
    pub label: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReEvalError {
    #[error("line {line}: {reason}")]
    Format { line: usize, reason: String },
    #[error("labels {unknown:?} of the data are not among the model's labels {model:?}")]
    Labels {
        unknown: Vec<String>,
        model: Vec<String>,
    },
    #[error(transparent)]
    Annotate(#[from] crate::error::AnnotateError),
}

/// Reads an RE TSV file: `sentence<TAB>label` lines (BioBERT's train/dev files), or, after an
/// `index<TAB>sentence<TAB>label` header, `index<TAB>sentence<TAB>label` lines (its test files).
pub fn read_re_tsv(text: &str) -> Result<Vec<ReExample>, ReEvalError> {
    let mut out = Vec::new();
    let mut indexed = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if i == 0 && cols.first().map(|c| c.trim()) == Some("index") {
            indexed = true;
            continue;
        }
        let want = if indexed { 3 } else { 2 };
        if cols.len() != want {
            return Err(ReEvalError::Format {
                line: i + 1,
                reason: format!(
                    "expected {}, got {} columns",
                    if indexed {
                        "index<TAB>sentence<TAB>label"
                    } else {
                        "sentence<TAB>label"
                    },
                    cols.len()
                ),
            });
        }
        out.push(ReExample {
            sentence: cols[want - 2].to_string(),
            label: cols[want - 1].trim().to_string(),
        });
    }
    Ok(out)
}

/// Relation-classification scores, as BioBERT's `re_eval.py` computes them: for a binary task,
/// precision, recall and F1 of the positive class (and specificity, the recall of the negative
/// one); for more classes (ChemProt), micro-averaged precision, recall and F1 over every class
/// but the negative one.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReScore {
    /// `binary` or `multiclass`.
    pub task: &'static str,
    pub examples: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold relations (examples whose label is not the negative one), predicted relations, and
    /// predictions of the right relation class.
    pub true_relations: usize,
    pub predicted: usize,
    pub correct: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specificity: Option<f64>,
    pub accuracy: f64,
    /// Per relation class (not the negative one).
    pub per_label: BTreeMap<String, Score>,
}

/// Scores predicted against gold label indices; `labels` are the class names by index and
/// `negative` the index of "no relation".
pub fn score_re(gold: &[usize], pred: &[usize], labels: &[String], negative: usize) -> ReScore {
    let positive = |k: usize| k != negative;
    let counts = |class: &dyn Fn(usize) -> bool| {
        let correct = gold
            .iter()
            .zip(pred)
            .filter(|&(g, p)| g == p && class(*g))
            .count();
        let predicted = pred.iter().filter(|&&p| class(p)).count();
        let true_n = gold.iter().filter(|&&g| class(g)).count();
        Score::from_counts(correct, predicted, true_n)
    };
    let total = counts(&positive);
    let per_label = (0..labels.len())
        .filter(|&k| positive(k))
        .map(|k| (labels[k].clone(), counts(&|x| x == k)))
        .collect();
    let binary = labels.len() == 2;
    let specificity = binary.then(|| counts(&|x| x == negative).recall);
    let right = gold.iter().zip(pred).filter(|(g, p)| g == p).count();
    ReScore {
        task: if binary { "binary" } else { "multiclass" },
        examples: gold.len(),
        precision: total.precision,
        recall: total.recall,
        f1: total.f1,
        true_relations: total.true_entities,
        predicted: total.predicted,
        correct: total.correct,
        specificity,
        accuracy: if gold.is_empty() {
            0.0
        } else {
            right as f64 / gold.len() as f64
        },
        per_label,
    }
}

/// Classifies the examples' sentences with `model` (the label of highest probability, as
/// `re_eval.py` takes it: the threshold does not apply) and scores them; also returns each
/// example's label probabilities.
pub fn evaluate_re(
    model: &mut crate::re::ReModel,
    examples: &[ReExample],
    batch_tokens: usize,
    stats: &mut crate::re::ReStats,
) -> Result<(ReScore, Vec<Vec<f32>>), ReEvalError> {
    let index = |label: &str| {
        model.labels.iter().position(|l| l == label).or_else(|| {
            model
                .labels
                .iter()
                .position(|l| l.eq_ignore_ascii_case(label))
        })
    };
    let mut gold = Vec::with_capacity(examples.len());
    let mut unknown: Vec<String> = Vec::new();
    for e in examples {
        match index(&e.label) {
            Some(k) => gold.push(k),
            None if !unknown.contains(&e.label) => unknown.push(e.label.clone()),
            None => {}
        }
    }
    if !unknown.is_empty() {
        return Err(ReEvalError::Labels {
            unknown,
            model: model.labels.clone(),
        });
    }
    let texts: Vec<&str> = examples.iter().map(|e| e.sentence.as_str()).collect();
    let probs = model.classify_texts(&texts, batch_tokens, stats)?;
    let pred: Vec<usize> = probs
        .iter()
        .map(|p| {
            p.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                .map_or(0, |(k, _)| k)
        })
        .collect();
    Ok((score_re(&gold, &pred, &model.labels, model.negative), probs))
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

    fn names(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn re_binary_scores_the_positive_class() {
        // sklearn precision_recall_fscore_support(y_true, y_pred): class 1 P 2/3, R 2/4,
        // F1 4/7; class 0 recall (specificity) 2/3.
        let gold = [1, 1, 1, 1, 0, 0, 0];
        let pred = [1, 1, 0, 0, 1, 0, 0];
        let s = score_re(&gold, &pred, &names(&["0", "1"]), 0);
        assert_eq!(s.task, "binary");
        assert_eq!((s.correct, s.predicted, s.true_relations), (2, 3, 4));
        assert!((s.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.recall - 0.5).abs() < 1e-12);
        assert!((s.f1 - 4.0 / 7.0).abs() < 1e-12);
        assert!((s.specificity.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.accuracy - 4.0 / 7.0).abs() < 1e-12);
        // The negative label need not be index 0.
        let flipped: Vec<usize> = gold.iter().map(|g| 1 - g).collect();
        let fp: Vec<usize> = pred.iter().map(|p| 1 - p).collect();
        assert_eq!(score_re(&flipped, &fp, &names(&["1", "0"]), 1).f1, s.f1);
    }

    #[test]
    fn re_multiclass_is_micro_over_relation_classes() {
        // ChemProt's label order in BioBERT: CPR:3..CPR:9, then false (index 5). sklearn with
        // labels=[0,1,2,3,4], average="micro": TP 3, predicted 5, true 5.
        let labels = names(&["CPR:3", "CPR:4", "CPR:5", "CPR:6", "CPR:9", "false"]);
        let gold = [0, 1, 1, 2, 5, 5, 4, 3];
        let pred = [0, 1, 2, 5, 5, 3, 4, 5];
        let s = score_re(&gold, &pred, &labels, 5);
        assert_eq!(s.task, "multiclass");
        assert_eq!((s.correct, s.predicted, s.true_relations), (3, 5, 6));
        assert!((s.precision - 0.6).abs() < 1e-12);
        assert!((s.recall - 0.5).abs() < 1e-12);
        assert!((s.f1 - 6.0 / 11.0).abs() < 1e-12);
        assert_eq!(s.specificity, None);
        assert_eq!(s.per_label["CPR:4"].correct, 1);
        assert!(!s.per_label.contains_key("false"));
    }

    #[test]
    fn reads_re_tsv() {
        let train =
            read_re_tsv("@GENE$ causes @DISEASE$.\t1\nno @GENE$ in @DISEASE$.\t0\r\n").unwrap();
        assert_eq!(train.len(), 2);
        assert_eq!(train[1].label, "0");
        let test = read_re_tsv("index\tsentence\tlabel\n0\t@GENE$ and @DISEASE$.\t1\n").unwrap();
        assert_eq!(test[0].sentence, "@GENE$ and @DISEASE$.");
        assert!(read_re_tsv("index\tsentence\tlabel\n@GENE$ only two\t1\n").is_err());
        assert!(read_re_tsv("one column\n").is_err());
    }
}
