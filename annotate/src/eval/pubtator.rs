//! Evaluation on PubTator corpora the way BioCreative V's CDR task measures systems
//! (`pubmine eval pubtator`): what the annotator finds in each abstract (NER, abbreviations,
//! normalization, relations) against the curators' annotations, per entity type:
//!
//! - **mentions**: exact character spans and type, each distinct (span, type) of a document
//!   once;
//! - **concepts** (BioCreative V's DNER measure): per document, the set of concept ids of the
//!   mentions of a type against the curators' set; composite ids (`D001|D002`) count each of
//!   their ids, mentions without an id (`-1`) none;
//! - **relations** (the CID measure): per document, the set of concept pairs a relation of the
//!   type joins against the curators' pairs.
//!
//! Every measure is micro-averaged: the (document, item) pairs of all documents pooled, as the
//! task's evaluation kit pools them. Types are compared case-insensitively (a model's `GENE` is
//! the corpus' `Gene`); only types the corpus annotates are scored. A relation pair is
//! unordered: a chemical-induced disease pair is the same pair whichever mention the model names
//! first.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Instant;

use pubmine_stream::record::{ConceptRef, Mention, Relation};

use super::Score;
use super::corpus::GoldDocument;
use crate::annotator::Annotator;
use crate::error::AnnotateError;

/// What [`evaluate`] measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// The annotator end to end: its own mentions, concepts and relations.
    pub scores: PubtatorScores,
    /// The relation models on the curators' mentions and ids (none without relation models).
    pub relations_on_curated_mentions: BTreeMap<String, Score>,
    /// Seconds spent annotating (end to end, then the relations on the curators' mentions).
    pub seconds: f64,
    pub curated_seconds: f64,
    /// The mentions found and not curated, and curated and not found.
    #[serde(skip)]
    pub mention_errors: Vec<MentionError>,
}

/// Annotates the documents of `gold` with `annotator`, `docs_per_batch` at a time, as annotate
/// does (NER, abbreviations, normalization, relations), and scores what it found; with relation
/// models, also their relations between the curators' mentions.
pub fn evaluate(
    annotator: &mut Annotator,
    gold: &[GoldDocument],
    relation_names: &RelationNames,
    docs_per_batch: usize,
) -> Result<Report, AnnotateError> {
    let docs: Vec<_> = gold.iter().map(GoldDocument::document).collect();
    let started = Instant::now();
    let mut found = Vec::with_capacity(docs.len());
    for chunk in docs.chunks(docs_per_batch.max(1)) {
        let refs: Vec<_> = chunk.iter().collect();
        found.extend(annotator.annotate_all(&refs)?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let predicted: Vec<Predicted<'_>> = found
        .iter()
        .map(|f| Predicted {
            mentions: &f.mentions,
            relations: &f.relations,
        })
        .collect();
    let scores = score_pubtator(gold, &predicted, relation_names);
    let mention_errors = mention_errors(gold, &predicted);

    let started = Instant::now();
    let mut relations_on_curated_mentions = BTreeMap::new();
    if !annotator.relation_models.is_empty() {
        let mentions: Vec<Vec<Mention>> = gold.iter().map(curated_mentions).collect();
        let mut relations = Vec::with_capacity(docs.len());
        for (chunk, ms) in docs
            .chunks(docs_per_batch.max(1))
            .zip(mentions.chunks(docs_per_batch.max(1)))
        {
            let refs: Vec<_> = chunk.iter().collect();
            relations.extend(annotator.relate(&refs, ms)?);
        }
        let predicted: Vec<Predicted<'_>> = mentions
            .iter()
            .zip(&relations)
            .map(|(m, r)| Predicted {
                mentions: m,
                relations: r,
            })
            .collect();
        relations_on_curated_mentions = score_pubtator(gold, &predicted, relation_names).relations;
    }
    Ok(Report {
        scores,
        relations_on_curated_mentions,
        seconds,
        curated_seconds: started.elapsed().as_secs_f64(),
        mention_errors,
    })
}

/// The scores of one entity type.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TypeScores {
    /// Exact spans and type.
    pub mentions: Score,
    /// Concept ids per document.
    pub concepts: Score,
}

/// The scores of a corpus.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PubtatorScores {
    pub documents: usize,
    /// Per entity type of the corpus, as the corpus spells it.
    pub types: BTreeMap<String, TypeScores>,
    /// Per relation type of the corpus: concept pairs per document.
    pub relations: BTreeMap<String, Score>,
    /// The types the models found that the corpus does not annotate (not scored).
    pub unscored_types: Vec<String>,
}

/// What was found in one document: mentions in passage offsets (title passage 0, abstract
/// passage 1, as [`GoldDocument::document`] makes them) and relations between them by index.
#[derive(Debug, Clone, Copy)]
pub struct Predicted<'a> {
    pub mentions: &'a [Mention],
    pub relations: &'a [Relation],
}

/// How a predicted relation type is named in the corpus: `(corpus type, model's type)`, for
/// models that emit another name than the corpus' (`CID` for `induces`). A type not listed is
/// the corpus type it equals case-insensitively.
pub type RelationNames = [(String, String)];

/// Scores `predicted` (one per document of `gold`, in order) against `gold`.
pub fn score_pubtator(
    gold: &[GoldDocument],
    predicted: &[Predicted<'_>],
    relation_names: &RelationNames,
) -> PubtatorScores {
    // The corpus' spelling of each type, by its lowercase form.
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    for g in gold {
        for m in &g.mentions {
            types
                .entry(m.ty.to_lowercase())
                .or_insert_with(|| m.ty.clone());
        }
    }
    let mut relation_types: BTreeMap<String, String> = BTreeMap::new();
    for g in gold {
        for r in &g.relations {
            relation_types
                .entry(r.ty.to_lowercase())
                .or_insert_with(|| r.ty.clone());
        }
    }
    let relation_type = |predicted_ty: &str| -> Option<&String> {
        relation_names
            .iter()
            .find(|(_, p)| p.eq_ignore_ascii_case(predicted_ty))
            .and_then(|(g, _)| relation_types.get(&g.to_lowercase()))
            .or_else(|| relation_types.get(&predicted_ty.to_lowercase()))
    };

    type Spans = HashSet<(usize, usize, usize, String)>;
    type Ids = HashSet<(usize, String, String)>;
    let (mut gold_spans, mut pred_spans): (Spans, Spans) = Default::default();
    let (mut gold_ids, mut pred_ids): (Ids, Ids) = Default::default();
    let (mut gold_pairs, mut pred_pairs): (Ids, Ids) = Default::default();
    let mut unscored: BTreeSet<String> = BTreeSet::new();

    for (d, g) in gold.iter().enumerate() {
        for m in &g.mentions {
            let ty = m.ty.to_lowercase();
            gold_spans.insert((d, m.start, m.end, ty.clone()));
            for id in &m.ids {
                gold_ids.insert((d, ty.clone(), id.clone()));
            }
        }
        for r in &g.relations {
            gold_pairs.insert((d, r.ty.to_lowercase(), pair(&r.first, &r.second)));
        }
        let Some(p) = predicted.get(d) else { continue };
        for m in p.mentions {
            let ty = m.ty.to_lowercase();
            if !types.contains_key(&ty) {
                unscored.insert(m.ty.clone());
                continue;
            }
            let start = g.document_offset(m.passage, m.start);
            let end = g.document_offset(m.passage, m.end);
            pred_spans.insert((d, start, end, ty.clone()));
            if let Some(c) = &m.concept {
                pred_ids.insert((d, ty, c.id.clone()));
            }
        }
        for r in p.relations {
            let Some(ty) = relation_type(&r.ty) else {
                continue;
            };
            let concept = |i: u32| p.mentions.get(i as usize).and_then(|m| m.concept.as_ref());
            if let (Some(a), Some(b)) = (concept(r.subject), concept(r.object)) {
                pred_pairs.insert((d, ty.to_lowercase(), pair(&a.id, &b.id)));
            }
        }
    }

    let types_out = types
        .iter()
        .map(|(lower, name)| {
            let mentions = score_where(&gold_spans, &pred_spans, |k| &k.3 == lower);
            let concepts = score_where(&gold_ids, &pred_ids, |k| &k.1 == lower);
            (name.clone(), TypeScores { mentions, concepts })
        })
        .collect();
    let relations = relation_types
        .iter()
        .map(|(lower, name)| {
            let pairs = score_where(&gold_pairs, &pred_pairs, |k| &k.1 == lower);
            (name.clone(), pairs)
        })
        .collect();
    PubtatorScores {
        documents: gold.len(),
        types: types_out,
        relations,
        unscored_types: unscored.into_iter().collect(),
    }
}

/// A mention the annotator got wrong: found but not curated (`"found"`), or curated but not found
/// (`"missed"`), with its text and, for a found one, its concept; for error analysis.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MentionError {
    pub document: String,
    pub error: &'static str,
    pub start: usize,
    pub end: usize,
    #[serde(rename = "type")]
    pub ty: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concept: Option<String>,
    /// The model that found it (`gold` for a missed one).
    pub model: String,
}

/// The mentions of the corpus' types that `predicted` gets wrong, in document order.
pub fn mention_errors(gold: &[GoldDocument], predicted: &[Predicted<'_>]) -> Vec<MentionError> {
    let types: HashSet<String> = gold
        .iter()
        .flat_map(|g| g.mentions.iter().map(|m| m.ty.to_lowercase()))
        .collect();
    let mut out = Vec::new();
    for (g, p) in gold.iter().zip(predicted) {
        let found: Vec<(usize, usize, String, &Mention)> = p
            .mentions
            .iter()
            .filter(|m| types.contains(&m.ty.to_lowercase()))
            .map(|m| {
                (
                    g.document_offset(m.passage, m.start),
                    g.document_offset(m.passage, m.end),
                    m.ty.to_lowercase(),
                    m,
                )
            })
            .collect();
        for (start, end, ty, m) in &found {
            let curated = g
                .mentions
                .iter()
                .any(|x| x.start == *start && x.end == *end && x.ty.to_lowercase() == *ty);
            if !curated {
                out.push(MentionError {
                    document: g.id.clone(),
                    error: "found",
                    start: *start,
                    end: *end,
                    ty: m.ty.clone(),
                    text: m.text.clone(),
                    concept: m.concept.as_ref().map(|c| c.id.clone()),
                    model: m.model.clone(),
                });
            }
        }
        for x in &g.mentions {
            let ty = x.ty.to_lowercase();
            if !found
                .iter()
                .any(|(s, e, t, _)| *s == x.start && *e == x.end && *t == ty)
            {
                out.push(MentionError {
                    document: g.id.clone(),
                    error: "missed",
                    start: x.start,
                    end: x.end,
                    ty: x.ty.clone(),
                    text: x.text.clone(),
                    concept: x.ids.first().cloned(),
                    model: "gold".into(),
                });
            }
        }
    }
    out
}

/// The score of the items of `predicted` that `keep` keeps against those of `gold`.
fn score_where<K: Eq + std::hash::Hash>(
    gold: &HashSet<K>,
    predicted: &HashSet<K>,
    keep: impl Fn(&K) -> bool,
) -> Score {
    let count = |set: &HashSet<K>| set.iter().filter(|k| keep(k)).count();
    let correct = gold.intersection(predicted).filter(|k| keep(k)).count();
    Score::from_counts(correct, count(predicted), count(gold))
}

/// An unordered pair of concept ids, as one string.
fn pair(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a} {b}")
    } else {
        format!("{b} {a}")
    }
}

/// The curators' mentions of a document with their concepts (the first id of a composite
/// mention), for relation extraction on the curators' mentions rather than the models'.
pub fn curated_mentions(g: &GoldDocument) -> Vec<Mention> {
    let mut mentions = g.as_mentions();
    for m in &mut mentions {
        let start = g.document_offset(m.passage, m.start);
        let id = g
            .mentions
            .iter()
            .find(|x| x.start == start && x.ty == m.ty)
            .and_then(|x| x.ids.first());
        m.concept = id.map(|id| ConceptRef {
            id: id.clone(),
            name: m.text.clone(),
            matched: m.text.clone(),
            via_abbreviation: false,
        });
    }
    mentions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::corpus::read_pubtator;

    /// Two abstracts in PubTator format, with a composite mention, a mention with no id and CID
    /// relations.
    const CORPUS: &str = "\
1|t|Lithium and tremor.
1|a|Lithium caused tremor and breast or ovarian cancer, and xylitol caused frobnitis.
1\t0\t7\tLithium\tChemical\tD008094
1\t12\t18\ttremor\tDisease\tD014202
1\t20\t27\tLithium\tChemical\tD008094
1\t35\t41\ttremor\tDisease\tD014202
1\t46\t70\tbreast or ovarian cancer\tDisease\tD001943|D010051
1\t76\t83\txylitol\tChemical\tD014993
1\t91\t100\tfrobnitis\tDisease\t-1
1\tCID\tD008094\tD014202
1\tCID\tD008094\tD001943

2|t|Aspirin.
2|a|Aspirin and ulcer.
2\t0\t7\tAspirin\tChemical\tD001241
2\t9\t16\tAspirin\tChemical\tD001241
2\t21\t26\tulcer\tDisease\tD014456
2\tCID\tD001241\tD014456
";

    fn mention(passage: u32, start: u32, end: u32, ty: &str, id: Option<&str>) -> Mention {
        Mention {
            passage,
            start,
            end,
            text: String::new(),
            ty: ty.into(),
            score: 0.9,
            model: "m".into(),
            concept: id.map(|id| ConceptRef {
                id: id.into(),
                name: id.into(),
                matched: id.into(),
                via_abbreviation: false,
            }),
        }
    }

    #[test]
    fn relations_are_read_with_their_documents() {
        let docs = read_pubtator(CORPUS).unwrap();
        assert_eq!(docs[0].relations.len(), 2);
        assert_eq!(docs[0].relations[1].first, "MESH:D008094");
        assert_eq!(docs[0].relations[1].second, "MESH:D001943");
        assert_eq!(docs[1].relations[0].ty, "CID");
        let bad = CORPUS.replace("2\tCID\tD001241", "3\tCID\tD001241");
        assert!(read_pubtator(&bad).is_err());
    }

    /// Every figure here is counted by hand from the corpus above and the predictions below.
    #[test]
    fn mentions_concepts_and_pairs_as_biocreative_counts_them() {
        let docs = read_pubtator(CORPUS).unwrap();
        // Document 1 (title "Lithium and tremor." is 19 characters; the abstract starts at 20):
        let d1 = vec![
            // right span and id, in the title
            mention(0, 0, 7, "Chemical", Some("MESH:D008094")),
            // right span, wrong id: the span counts, the id does not
            mention(0, 12, 18, "DISEASE", Some("MESH:D000001")),
            // the abstract's "Lithium" (20..27 in the document): right span, right id again
            mention(1, 0, 7, "Chemical", Some("MESH:D008094")),
            // the abstract's "tremor" (35..41), right id: the document's tremor id is found
            mention(1, 15, 21, "Disease", Some("MESH:D014202")),
            // "ovarian cancer" alone: a wrong span, and one of the composite's two ids
            mention(1, 36, 50, "Disease", Some("MESH:D010051")),
            // a gene: not annotated in this corpus, not scored
            mention(1, 56, 63, "Gene", None),
        ];
        let r1 = vec![
            // lithium -> tremor, named in the abstract: one right pair
            Relation {
                subject: 2,
                object: 3,
                ty: "CID".into(),
                score: 0.9,
                model: "re".into(),
            },
            // lithium -> the title's tremor, which has a wrong id: a wrong pair
            Relation {
                subject: 0,
                object: 1,
                ty: "cid".into(),
                score: 0.9,
                model: "re".into(),
            },
            // lithium -> ovarian cancer: not among the curators' pairs
            Relation {
                subject: 2,
                object: 4,
                ty: "CID".into(),
                score: 0.9,
                model: "re".into(),
            },
        ];
        // Document 2: aspirin found once in the abstract, with a relation of another name.
        let d2 = vec![
            mention(1, 0, 7, "Chemical", Some("MESH:D001241")),
            mention(1, 12, 17, "Disease", Some("MESH:D014456")),
        ];
        let r2 = vec![Relation {
            subject: 0,
            object: 1,
            ty: "induces".into(),
            score: 0.9,
            model: "re".into(),
        }];
        let predicted = [
            Predicted {
                mentions: &d1,
                relations: &r1,
            },
            Predicted {
                mentions: &d2,
                relations: &r2,
            },
        ];
        let names = [("CID".to_string(), "induces".to_string())];
        let s = score_pubtator(&docs, &predicted, &names);
        assert_eq!(s.documents, 2);
        assert_eq!(s.unscored_types, ["Gene"]);
        let chem = &s.types["Chemical"];
        // Gold spans: doc 1 0..7, 20..27, 76..83; doc 2 0..7, 9..16: 5. Predicted: 0..7, 20..27,
        // and doc 2's abstract 0..7, which is the document's 9..16 ("Aspirin." and a space
        // before it): 3, all right.
        assert_eq!(
            (
                chem.mentions.true_entities,
                chem.mentions.predicted,
                chem.mentions.correct
            ),
            (5, 3, 3)
        );
        // gold ids: doc 1 {D008094, D014993}, doc 2 {D001241}: 3. Predicted: doc 1 {D008094},
        // doc 2 {D001241}: 2, both right.
        assert_eq!(
            (
                chem.concepts.true_entities,
                chem.concepts.predicted,
                chem.concepts.correct
            ),
            (3, 2, 2)
        );
        let dis = &s.types["Disease"];
        // Gold spans: doc 1 12..18, 35..41, 46..70, 91..100; doc 2 21..26: 5. Predicted:
        // 12..18 (right), 35..41 (right), 56..70 (wrong), doc 2's abstract 12..17 = 21..26
        // (right): 4, of which 3 right.
        assert_eq!(
            (
                dis.mentions.true_entities,
                dis.mentions.predicted,
                dis.mentions.correct
            ),
            (5, 4, 3)
        );
        assert!((dis.mentions.precision - 0.75).abs() < 1e-12);
        assert!((dis.mentions.recall - 0.6).abs() < 1e-12);
        // gold ids: doc 1 {D014202, D001943, D010051}, doc 2 {D014456}: 4. Predicted: doc 1
        // {D000001, D014202, D010051}, doc 2 {D014456}: 4, of which 3 right.
        assert_eq!(
            (
                dis.concepts.true_entities,
                dis.concepts.predicted,
                dis.concepts.correct
            ),
            (4, 4, 3)
        );
        // Gold pairs: 3. Predicted: doc 1 {lithium-tremor, lithium-D000001, lithium-D010051},
        // doc 2 {aspirin-ulcer} through the name map: 4, of which 2 right.
        let cid = &s.relations["CID"];
        assert_eq!((cid.true_entities, cid.predicted, cid.correct), (3, 4, 2));
        // Without the name map, doc 2's relation is of no corpus type.
        let s = score_pubtator(&docs, &predicted, &[]);
        let cid = &s.relations["CID"];
        assert_eq!((cid.true_entities, cid.predicted, cid.correct), (3, 3, 1));
    }

    #[test]
    fn curated_mentions_carry_their_first_id() {
        let docs = read_pubtator(CORPUS).unwrap();
        let m = curated_mentions(&docs[0]);
        assert_eq!(m.len(), 7);
        let composite = m.iter().find(|m| m.text.contains("ovarian")).unwrap();
        assert_eq!(composite.concept.as_ref().unwrap().id, "MESH:D001943");
        assert!(
            m.iter()
                .find(|m| m.text == "frobnitis")
                .unwrap()
                .concept
                .is_none()
        );
        // Scoring the curators' own mentions and relations gives 1.0 everywhere.
        let rels: Vec<Relation> = Vec::new();
        let all: Vec<Vec<Mention>> = docs.iter().map(curated_mentions).collect();
        let predicted: Vec<Predicted<'_>> = all
            .iter()
            .map(|m| Predicted {
                mentions: m,
                relations: &rels,
            })
            .collect();
        let s = score_pubtator(&docs, &predicted, &[]);
        assert_eq!(s.types["Chemical"].mentions.f1, 1.0);
        assert_eq!(s.types["Disease"].mentions.f1, 1.0);
        // The composite's second id is not given: 3 of doc 1's and doc 2's 4 disease ids.
        assert_eq!(s.types["Disease"].concepts.correct, 3);
        assert_eq!(s.types["Disease"].concepts.precision, 1.0);
    }
}
