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
//! The corpus is read by [`super::corpus::read_pubtator`].

use std::collections::{BTreeMap, HashSet};

use pubmine_stream::record::Mention;

use super::Score;
use super::corpus::GoldDocument;
use crate::normalize::Normalizer;

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
    let on_gold: Vec<super::pubtator::Predicted<'_>> = normalized
        .iter()
        .map(|m| super::pubtator::Predicted {
            mentions: m,
            relations: &no_relations,
        })
        .collect();
    let concepts_on_gold_spans = super::pubtator::score_pubtator(gold, &on_gold, &[])
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
    use crate::eval::corpus::read_pubtator;
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
