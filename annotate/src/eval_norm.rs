//! Evaluation of normalization on PubTator-format corpora whose mentions carry concept ids (the
//! NCBI disease corpus and BC5CDR use MeSH ids):
//!
//! - **accuracy on the gold spans**: each gold mention with an id is normalized as annotate
//!   normalizes a mention (its text and type; a short form the document defines through its long
//!   form), and is right when the id given is one of the gold ids;
//! - **end to end**: the mentions the models find, normalized, against the gold mentions: a
//!   predicted mention with an id is right when a gold mention has the same span and that id
//!   among its ids; precision over the predicted mentions with an id, recall over the gold
//!   mentions with one.
//!
//! Gold ids are read as the corpora write them: a bare MeSH id (`D001241`, `C535319`) is
//! `MESH:D001241`, a prefixed one (`MESH:D001241`, `OMIM:114480`) stays as it is, a composite
//! mention lists several (`D001|D002` or `D001+D002`: the id given must be one of them), and
//! `-1` or `-` is no id. The NCBI disease corpus' types (`SpecificDisease`, `DiseaseClass`,
//! `Modifier`, `CompositeMention`) are read as `Disease`.

use std::collections::{BTreeMap, HashSet};

use pubmine_stream::record::{Document, Mention, Passage, PassageKind, SourceKind};

use crate::eval::Score;
use crate::normalize::Normalizer;

/// A gold mention of a PubTator document, in document offsets (characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldMention {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// The type, NCBI disease corpus types read as `Disease`.
    pub ty: String,
    /// The concept ids, prefixed; empty when the corpus gives none.
    pub ids: Vec<String>,
}

/// A PubTator document: its title and abstract, and its gold mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldDocument {
    pub id: String,
    pub title: String,
    pub abstract_: String,
    pub mentions: Vec<GoldMention>,
    /// The document's relations: `ID<TAB>TYPE<TAB>ID1<TAB>ID2` lines (`CID`, chemical id,
    /// disease id), ids read as mentions' ids are.
    pub relations: Vec<GoldRelation>,
}

/// A relation the curators assert for a document as a whole, between two concepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldRelation {
    pub ty: String,
    pub first: String,
    pub second: String,
}

impl GoldDocument {
    /// The document as pubmine reads one: a title passage and an abstract passage.
    pub fn document(&self) -> Document {
        let mut d = Document::new(SourceKind::Pubmed, format!("pmid:{}", self.id));
        d.title = self.title.clone();
        d.passages = vec![
            Passage::new(PassageKind::Title, self.title.clone()),
            Passage::new(PassageKind::Abstract, self.abstract_.clone()),
        ];
        d
    }

    /// Document offsets of a passage's character offset (the abstract follows the title and
    /// one space).
    pub fn document_offset(&self, passage: u32, offset: u32) -> usize {
        if passage == 0 {
            offset as usize
        } else {
            self.title.chars().count() + 1 + offset as usize
        }
    }

    /// The gold mentions as pubmine's mentions (passage offsets), in passage and offset order;
    /// a mention across the title's end is left out.
    pub fn as_mentions(&self) -> Vec<Mention> {
        let t = self.title.chars().count();
        let mut out: Vec<Mention> = self
            .mentions
            .iter()
            .filter_map(|g| {
                let (passage, start, end) = if g.end <= t {
                    (0, g.start, g.end)
                } else if g.start > t {
                    (1, g.start - t - 1, g.end - t - 1)
                } else {
                    return None;
                };
                Some(Mention {
                    passage,
                    start: start as u32,
                    end: end as u32,
                    text: g.text.clone(),
                    ty: g.ty.clone(),
                    score: 1.0,
                    model: "gold".into(),
                    concept: None,
                })
            })
            .collect();
        out.sort_by_key(|m| (m.passage, m.start, m.end));
        out
    }
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct PubtatorError {
    pub line: usize,
    pub reason: String,
}

fn gold_type(ty: &str) -> String {
    match ty {
        "SpecificDisease" | "DiseaseClass" | "Modifier" | "CompositeMention" => "Disease".into(),
        other => other.into(),
    }
}

/// The ids of a PubTator id field, prefixed: composite ids split, `-1` and `-` left out.
pub fn gold_ids(field: &str) -> Vec<String> {
    field
        .split(['|', '+', ','])
        .map(str::trim)
        .filter(|id| !id.is_empty() && *id != "-1" && *id != "-")
        .map(pubmine_vocab::import::prefixed_id)
        .collect()
}

/// Reads a PubTator file: `ID|t|title`, `ID|a|abstract`, then `ID<TAB>start<TAB>end<TAB>text
/// <TAB>type<TAB>ids` lines and `ID<TAB>TYPE<TAB>ID1<TAB>ID2` relation lines, a blank line between
/// documents. Each mention's text must be the document's text at its offsets.
pub fn read_pubtator(text: &str) -> Result<Vec<GoldDocument>, PubtatorError> {
    let mut docs: Vec<GoldDocument> = Vec::new();
    let mut cur: Option<GoldDocument> = None;
    let err = |line: usize, reason: String| PubtatorError { line, reason };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            docs.extend(cur.take());
            continue;
        }
        if let Some((id, rest)) = line.split_once("|t|") {
            docs.extend(cur.take());
            cur = Some(GoldDocument {
                id: id.to_owned(),
                title: rest.to_owned(),
                abstract_: String::new(),
                mentions: Vec::new(),
                relations: Vec::new(),
            });
            continue;
        }
        if let Some((id, rest)) = line.split_once("|a|") {
            match cur.as_mut() {
                Some(d) if d.id == id => d.abstract_ = rest.to_owned(),
                _ => return Err(err(n, format!("abstract of {id} without its title line"))),
            }
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let Some(d) = cur.as_mut() else {
            return Err(err(n, "an annotation before any title line".into()));
        };
        if cols.len() == 4 {
            if cols[0] != d.id {
                return Err(err(
                    n,
                    format!("a relation of {} among those of {}", cols[0], d.id),
                ));
            }
            let (first, second) = (gold_ids(cols[2]), gold_ids(cols[3]));
            if let ([first], [second]) = (first.as_slice(), second.as_slice()) {
                d.relations.push(GoldRelation {
                    ty: cols[1].to_owned(),
                    first: first.clone(),
                    second: second.clone(),
                });
            }
            continue;
        }
        if cols.len() < 5 || cols[0] != d.id {
            return Err(err(
                n,
                format!(
                    "expected ID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>id of document {}",
                    d.id
                ),
            ));
        }
        let pos = |s: &str| {
            s.parse::<usize>()
                .map_err(|_| err(n, format!("offset {s:?} is not a number")))
        };
        let (start, end) = (pos(cols[1])?, pos(cols[2])?);
        let full: String = format!("{} {}", d.title, d.abstract_);
        let at: String = full
            .chars()
            .skip(start)
            .take(end.saturating_sub(start))
            .collect();
        if end <= start || at != cols[3] {
            return Err(err(
                n,
                format!("the text at {start}..{end} is {at:?}, not {:?}", cols[3]),
            ));
        }
        d.mentions.push(GoldMention {
            start,
            end,
            text: cols[3].to_owned(),
            ty: gold_type(cols[4]),
            ids: cols.get(5).map(|f| gold_ids(f)).unwrap_or_default(),
        });
    }
    docs.extend(cur);
    Ok(docs)
}

/// Normalization scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NormScores {
    /// Gold mentions with an id.
    pub gold: usize,
    /// Of those, normalized to one of their ids from their gold span and type.
    pub correct_on_gold_spans: usize,
    /// correct_on_gold_spans / gold.
    pub accuracy: f64,
    /// Gold mentions given no id at all from their span (the vocabulary knows no such name).
    pub no_id_on_gold_spans: usize,
    /// The ids given on the gold spans, per document, against the curators' ids per document
    /// (BioCreative V's DNER measure, by type): what normalization alone gives, with perfect
    /// mentions.
    pub concepts_on_gold_spans: BTreeMap<String, Score>,
    /// Span and id, end to end, when predicted mentions were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_to_end: Option<Score>,
    /// Accuracy per gold type.
    pub per_type: BTreeMap<String, f64>,
}

/// Scores `normalizer` on `gold`; with `predicted` (each document's mentions as annotate gives
/// them, concepts set), also end to end.
pub fn score_norm(
    normalizer: &Normalizer,
    gold: &[GoldDocument],
    predicted: Option<&[Vec<Mention>]>,
) -> NormScores {
    let (mut total, mut correct, mut none) = (0usize, 0usize, 0usize);
    let mut per_type: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut normalized: Vec<Vec<Mention>> = Vec::with_capacity(gold.len());
    for g in gold {
        let doc = g.document();
        let mut mentions = g.as_mentions();
        let abbrevs = crate::abbrev::defined(&doc);
        normalizer.normalize(&mut mentions, &abbrevs);
        normalized.push(mentions);
        let mentions = normalized.last().expect("pushed");
        for m in mentions {
            let start = g.document_offset(m.passage, m.start);
            let Some(gm) = g.mentions.iter().find(|x| x.start == start && x.ty == m.ty) else {
                continue;
            };
            if gm.ids.is_empty() {
                continue;
            }
            total += 1;
            let e = per_type.entry(m.ty.clone()).or_default();
            e.0 += 1;
            match &m.concept {
                Some(c) if gm.ids.contains(&c.id) => {
                    correct += 1;
                    e.1 += 1;
                }
                Some(_) => {}
                None => none += 1,
            }
        }
    }
    let end_to_end = predicted.map(|predicted| {
        let mut gold_set: HashSet<(usize, usize, usize, &str)> = HashSet::new();
        let mut gold_n = 0;
        for (d, g) in gold.iter().enumerate() {
            for m in g.mentions.iter().filter(|m| !m.ids.is_empty()) {
                gold_n += 1;
                for id in &m.ids {
                    gold_set.insert((d, m.start, m.end, id));
                }
            }
        }
        let (mut pred_n, mut right) = (0, 0);
        for (d, mentions) in predicted.iter().enumerate().take(gold.len()) {
            // One prediction per span and id, however many models found it.
            let mut seen: HashSet<(usize, usize, &str)> = HashSet::new();
            for m in mentions {
                let Some(c) = &m.concept else { continue };
                let start = gold[d].document_offset(m.passage, m.start);
                let end = gold[d].document_offset(m.passage, m.end);
                if !seen.insert((start, end, c.id.as_str())) {
                    continue;
                }
                pred_n += 1;
                if gold_set.contains(&(d, start, end, c.id.as_str())) {
                    right += 1;
                }
            }
        }
        Score::from_counts(right, pred_n, gold_n)
    });
    let no_relations = Vec::new();
    let on_gold: Vec<crate::eval_pubtator::Predicted<'_>> = normalized
        .iter()
        .map(|m| crate::eval_pubtator::Predicted {
            mentions: m,
            relations: &no_relations,
        })
        .collect();
    let concepts_on_gold_spans = crate::eval_pubtator::score_pubtator(gold, &on_gold, &[])
        .types
        .into_iter()
        .map(|(t, s)| (t, s.concepts))
        .collect();
    NormScores {
        gold: total,
        concepts_on_gold_spans,
        correct_on_gold_spans: correct,
        accuracy: if total == 0 {
            0.0
        } else {
            correct as f64 / total as f64
        },
        no_id_on_gold_spans: none,
        end_to_end,
        per_type: per_type
            .into_iter()
            .map(|(t, (n, c))| (t, if n == 0 { 0.0 } else { c as f64 / n as f64 }))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::default_vocabulary;

    /// A small corpus in PubTator format, written here, with MeSH ids as the NCBI disease corpus
    /// and BC5CDR give them.
    const CORPUS: &str = "\
100|t|Aspirin and type 2 diabetes mellitus.
100|a|Patients with type 2 diabetes mellitus (T2DM) took aspirin; T2DM and breast neoplasms were followed.
100\t0\t7\tAspirin\tChemical\tD001241
100\t12\t36\ttype 2 diabetes mellitus\tDisease\tD003924
100\t52\t76\ttype 2 diabetes mellitus\tSpecificDisease\tD003924
100\t78\t82\tT2DM\tSpecificDisease\tD003924
100\t89\t96\taspirin\tChemical\tD001241
100\t98\t102\tT2DM\tDisease\tD003924
100\t107\t123\tbreast neoplasms\tDiseaseClass\tD001943|D009369
100\tCID\tD001241\tD003924

200|t|Frobnicatosis after ibuprofen.
200|a|A rare frobnicatosis.
200\t0\t13\tFrobnicatosis\tDisease\tD999999
200\t20\t29\tibuprofen\tChemical\t-1
";

    #[test]
    fn pubtator_files_are_read_with_their_ids() {
        let docs = read_pubtator(CORPUS).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].mentions.len(), 7);
        assert_eq!(docs[0].mentions[3].ty, "Disease");
        assert_eq!(docs[0].mentions[6].ids, ["MESH:D001943", "MESH:D009369"]);
        assert!(docs[1].mentions[1].ids.is_empty());
        let bad = CORPUS.replace("100\t0\t7\tAspirin", "100\t0\t8\tAspirin");
        let e = read_pubtator(&bad).unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn accuracy_on_gold_spans_and_end_to_end() {
        let docs = read_pubtator(CORPUS).unwrap();
        let n = Normalizer::new(vec![default_vocabulary()]);
        // Predicted: the gold spans, normalized; plus one wrong span with an id.
        let mut predicted: Vec<Vec<Mention>> = docs
            .iter()
            .map(|g| {
                let mut m = g.as_mentions();
                let a = crate::abbrev::defined(&g.document());
                n.normalize(&mut m, &a);
                m
            })
            .collect();
        let mut wrong = predicted[0][0].clone();
        wrong.end += 1;
        predicted[0].push(wrong);
        let s = score_norm(&n, &docs, Some(&predicted));
        // 8 gold mentions with ids; right: 2 aspirin, 2 type 2 diabetes mellitus, 2 T2DM
        // through the long form, breast neoplasms (one of its two ids); Frobnicatosis has no
        // descriptor.
        assert_eq!(s.gold, 8);
        assert_eq!(s.correct_on_gold_spans, 7);
        assert_eq!(s.no_id_on_gold_spans, 1);
        // Predicted with an id: the 7 right ones, the wrong span, and ibuprofen (a descriptor,
        // where the corpus says no id: wrong too).
        let e = s.end_to_end.unwrap();
        assert_eq!((e.correct, e.predicted, e.true_entities), (7, 9, 8));
        assert_eq!(s.per_type["Chemical"], 1.0);
    }
}
