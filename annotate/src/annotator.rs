//! The annotator: several NER models over documents, then abbreviations, concepts and relations.
//! Each passage is tokenized once per tokenizer (models that share one share the tokens) and split
//! into sentences once ([`Prepared`]); each model runs over them (`ner::run_model`); the
//! mentions of all models are merged (one mention per span and type, the higher score kept),
//! short forms take their long forms' types ([`crate::abbrev`]), mentions take the vocabularies'
//! concepts ([`crate::normalize`]), and relation models run on the mentions found
//! ([`crate::re`]). See docs/architecture.md.

use std::collections::HashMap;

use pubmine_stream::record::{
    ABBREVIATION_MODEL, Abbreviation, Document, Mention, ModelRef, Relation,
};
use tokenizers::Tokenizer;

use crate::error::AnnotateError;
use crate::model::heads::NerHead;
use crate::ner::{NerModel, NerOptions, run_model};
use crate::normalize::Normalizer;
use crate::re::ReModel;
pub use crate::stats::AnnotatorStats;
use crate::text::decode::Span;
use crate::text::sentences::{Sentence, split};
use crate::text::tokenize::{Tokens, tokenize};

/// What was found in one document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub mentions: Vec<Mention>,
    /// Relations between `mentions` (by index).
    pub relations: Vec<Relation>,
    /// The abbreviations the document defines (with [`Annotator::with_abbreviations`]).
    pub abbreviations: Vec<Abbreviation>,
}

/// Runs several NER models over documents, and RE models over the mentions they find.
#[derive(Debug)]
pub struct Annotator {
    pub models: Vec<NerModel>,
    pub relation_models: Vec<ReModel>,
    /// Find abbreviations and type their short forms as their long forms ([`crate::abbrev`]).
    abbreviations: bool,
    /// Give mentions the concepts of the vocabularies ([`crate::normalize`]).
    normalizer: Option<Normalizer>,
    batch_tokens: usize,
    max_padding: f64,
    max_document_chars: usize,
    pub stats: AnnotatorStats,
}

impl Annotator {
    pub fn new(models: Vec<NerModel>, opts: &NerOptions) -> Self {
        Annotator {
            models,
            relation_models: Vec::new(),
            abbreviations: false,
            normalizer: None,
            batch_tokens: opts.batch_tokens.max(1),
            max_padding: opts.max_padding,
            max_document_chars: opts.max_document_chars,
            stats: AnnotatorStats::default(),
        }
    }

    /// The most characters of a document the worker gives this annotator
    /// ([`NerOptions::max_document_chars`]).
    pub fn max_document_chars(&self) -> usize {
        self.max_document_chars
    }

    /// Adds relation extraction by `models` (batched by the same token budget).
    pub fn with_relations(mut self, models: Vec<ReModel>) -> Self {
        self.relation_models = models;
        self
    }

    /// Finds the abbreviations each document defines, before relation extraction: a short
    /// form's occurrences take the type of its long form, and those the models missed become
    /// mentions (model [`ABBREVIATION_MODEL`]); see [`crate::abbrev::resolve`].
    pub fn with_abbreviations(mut self, on: bool) -> Self {
        self.abbreviations = on;
        self
    }

    /// Normalizes each mention to a concept of `normalizer`'s vocabularies, after the
    /// abbreviations are resolved; `None` leaves mentions without concepts.
    pub fn with_normalizer(mut self, normalizer: Option<Normalizer>) -> Self {
        self.normalizer = normalizer;
        self
    }

    pub fn normalizer(&self) -> Option<&Normalizer> {
        self.normalizer.as_ref()
    }

    pub fn model_refs(&self) -> Vec<ModelRef> {
        let mut refs: Vec<ModelRef> = self
            .models
            .iter()
            .flat_map(NerModel::model_refs)
            .chain(self.relation_models.iter().map(ReModel::model_ref))
            .collect();
        if self.abbreviations {
            let mut types: Vec<String> = Vec::new();
            for t in self.models.iter().flat_map(NerModel::types) {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
            refs.push(ModelRef {
                name: ABBREVIATION_MODEL.into(),
                hash: crate::abbrev::RULES_VERSION.into(),
                task: "abbreviation".into(),
                labels: types,
            });
        }
        if let Some(n) = &self.normalizer {
            refs.extend(n.model_refs());
        }
        refs
    }

    /// The distinct tokenizers of the NER models, to tokenize the next documents on another
    /// thread while the models run ([`Tokenizers::prepare`]).
    pub fn tokenizers(&self) -> Tokenizers {
        let mut seen: Vec<(String, Tokenizer, Option<u32>)> = Vec::new();
        for m in &self.models {
            if !seen.iter().any(|(h, _, _)| *h == m.dir.tokenizer_hash) {
                seen.push((
                    m.dir.tokenizer_hash.clone(),
                    m.dir.tokenizer.clone(),
                    m.dir.unk_id,
                ));
            }
        }
        Tokenizers(seen)
    }

    /// The mentions of each document, as [`Annotator::annotate`] finds them, and the relations
    /// the RE models find between them.
    pub fn annotate_all(&mut self, docs: &[&Document]) -> Result<Vec<Found>, AnnotateError> {
        let prepared = self.prepare(docs)?;
        self.annotate_prepared(docs, prepared)
    }

    /// As [`Annotator::annotate_all`], with the documents already tokenized by
    /// [`Tokenizers::prepare`].
    pub fn annotate_prepared(
        &mut self,
        docs: &[&Document],
        prepared: Prepared,
    ) -> Result<Vec<Found>, AnnotateError> {
        let mut mentions = self.ner(docs, &prepared)?;
        let abbreviations: Vec<Vec<Abbreviation>> = if self.abbreviations {
            let _span = tracing::debug_span!("abbreviations").entered();
            docs.iter()
                .zip(mentions.iter_mut())
                .map(|(d, m)| {
                    let found = crate::abbrev::resolve(d, m);
                    // Two models' mentions of a short form may now be of one type.
                    dedup(m);
                    found
                })
                .collect()
        } else {
            vec![Vec::new(); docs.len()]
        };
        if let Some(n) = &self.normalizer {
            let _span = tracing::debug_span!("normalize").entered();
            for (m, a) in mentions.iter_mut().zip(&abbreviations) {
                n.normalize(m, a);
            }
        }
        let relations = if self.relation_models.is_empty() {
            vec![Vec::new(); docs.len()]
        } else {
            crate::re::extract(
                &mut self.relation_models,
                docs,
                &prepared.sentences,
                &mentions,
                self.batch_tokens,
                &mut self.stats.re,
            )?
        };
        Ok(mentions
            .into_iter()
            .zip(relations)
            .zip(abbreviations)
            .map(|((mentions, relations), abbreviations)| Found {
                mentions,
                relations,
                abbreviations,
            })
            .collect())
    }

    /// The relations the RE models find between given mentions of each document (the curators',
    /// to measure relation extraction apart from NER), sentences split as annotate splits them.
    pub fn relate(
        &mut self,
        docs: &[&Document],
        mentions: &[Vec<Mention>],
    ) -> Result<Vec<Vec<Relation>>, AnnotateError> {
        let sentences = split_passages(&passages(docs));
        crate::re::extract(
            &mut self.relation_models,
            docs,
            &sentences,
            mentions,
            self.batch_tokens,
            &mut self.stats.re,
        )
    }

    /// The mentions of each document, in order: every model's, the same mention of the same type
    /// from two models kept once (with the higher score), overlapping ones of different types
    /// all kept.
    pub fn annotate(&mut self, docs: &[&Document]) -> Result<Vec<Vec<Mention>>, AnnotateError> {
        let prepared = self.prepare(docs)?;
        self.ner(docs, &prepared)
    }

    /// Tokenizes the documents with the models' own tokenizers, on this thread.
    fn prepare(&self, docs: &[&Document]) -> Result<Prepared, AnnotateError> {
        prepare(
            self.models
                .iter()
                .map(|m| (&m.dir.tokenizer_hash, &m.dir.tokenizer, m.dir.unk_id)),
            docs,
        )
    }

    fn ner(
        &mut self,
        docs: &[&Document],
        prepared: &Prepared,
    ) -> Result<Vec<Vec<Mention>>, AnnotateError> {
        let passages = passages(docs);
        let mut out: Vec<Vec<Mention>> = vec![Vec::new(); docs.len()];
        // Per document: where each (passage, start, end, type) is in `out`.
        let mut seen: Vec<HashMap<(usize, usize, usize, String), usize>> =
            vec![HashMap::new(); docs.len()];
        self.stats.documents += docs.len() as u64;
        self.stats.passages += passages.len() as u64;
        for m in &mut self.models {
            let tokens = prepared
                .tokens
                .get(&m.dir.tokenizer_hash)
                .filter(|t| t.len() == passages.len())
                .ok_or(AnnotateError::NotPrepared)?;
            if prepared.sentences.len() != passages.len() {
                return Err(AnnotateError::NotPrepared);
            }
            let spans = run_model(
                m,
                tokens,
                &prepared.sentences,
                self.batch_tokens,
                self.max_padding,
                &mut self.stats,
            )?;
            for (head, spans) in m.heads.iter().zip(spans) {
                for (i, passage_spans) in spans.into_iter().enumerate() {
                    let (d, p, text) = passages[i];
                    let mut chars = CharCursor::new(text);
                    for s in passage_spans {
                        let mention = to_mention(&mut chars, p, &s, head);
                        merge(&mut out[d], &mut seen[d], mention);
                    }
                }
            }
        }
        for mentions in &mut out {
            mentions.sort_by(|a, b| {
                (a.passage, a.start, a.end, &a.ty).cmp(&(b.passage, b.start, b.end, &b.ty))
            });
        }
        Ok(out)
    }
}

/// The distinct tokenizers of an annotator's NER models (see [`Annotator::tokenizers`]).
#[derive(Debug, Clone)]
pub struct Tokenizers(Vec<(String, Tokenizer, Option<u32>)>);

impl Tokenizers {
    /// Tokenizes every passage of `docs` once per distinct tokenizer.
    pub fn prepare(&self, docs: &[&Document]) -> Result<Prepared, AnnotateError> {
        prepare(self.0.iter().map(|(h, t, unk)| (h, t, *unk)), docs)
    }
}

/// Every passage of `docs` tokenized once per distinct tokenizer (by hash), and split into
/// sentences.
fn prepare<'a>(
    tokenizers: impl Iterator<Item = (&'a String, &'a Tokenizer, Option<u32>)>,
    docs: &[&Document],
) -> Result<Prepared, AnnotateError> {
    let passages = passages(docs);
    Ok(Prepared {
        tokens: tokenize_passages(tokenizers, &passages)?,
        sentences: split_passages(&passages),
    })
}

/// Documents tokenized for each distinct tokenizer (by its hash), passages in document order,
/// and the sentences of each passage: the one split that both the NER inputs and relation
/// extraction's candidates come from.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    tokens: HashMap<String, Vec<Tokens>>,
    sentences: Vec<Vec<Sentence>>,
}

fn split_passages(passages: &[(usize, usize, &str)]) -> Vec<Vec<Sentence>> {
    passages.iter().map(|(_, _, text)| split(text)).collect()
}

/// All passages of `docs`, flattened: (document, passage index, text).
fn passages<'a>(docs: &[&'a Document]) -> Vec<(usize, usize, &'a str)> {
    docs.iter()
        .enumerate()
        .flat_map(|(d, doc)| {
            doc.passages
                .iter()
                .enumerate()
                .map(move |(p, passage)| (d, p, passage.text.as_str()))
        })
        .collect()
}

/// Tokenizes the passages once per distinct tokenizer.
fn tokenize_passages<'a>(
    tokenizers: impl Iterator<Item = (&'a String, &'a Tokenizer, Option<u32>)>,
    passages: &[(usize, usize, &str)],
) -> Result<HashMap<String, Vec<Tokens>>, AnnotateError> {
    let mut tokenized: HashMap<String, Vec<Tokens>> = HashMap::new();
    for (hash, tokenizer, unk) in tokenizers {
        if !tokenized.contains_key(hash) {
            let toks = passages
                .iter()
                .map(|(_, _, text)| tokenize(tokenizer, text, unk))
                .collect::<Result<Vec<_>, _>>()?;
            tokenized.insert(hash.clone(), toks);
        }
    }
    Ok(tokenized)
}

/// Character offsets of a text to byte offsets, for spans that come in increasing order: each
/// look-up walks on from the last one (back to the start only when a span goes backwards), so a
/// passage's spans cost one walk of its text in all, whatever its length.
#[derive(Debug)]
struct CharCursor<'a> {
    text: &'a str,
    /// The character offset reached, and its byte offset.
    at: (usize, usize),
}

impl<'a> CharCursor<'a> {
    fn new(text: &'a str) -> Self {
        CharCursor { text, at: (0, 0) }
    }

    /// The byte offset of character `c` (the text's length past its end).
    fn byte(&mut self, c: usize) -> usize {
        if c < self.at.0 {
            self.at = (0, 0);
        }
        let (mut ch, mut byte) = self.at;
        for x in self.text[byte..].chars() {
            if ch == c {
                break;
            }
            ch += 1;
            byte += x.len_utf8();
        }
        self.at = (ch, byte);
        byte
    }

    /// The characters `start..end`.
    fn slice(&mut self, start: usize, end: usize) -> &'a str {
        let a = self.byte(start);
        let b = self.byte(end.max(start));
        &self.text[a..b]
    }
}

fn to_mention(chars: &mut CharCursor<'_>, passage: usize, s: &Span, head: &NerHead) -> Mention {
    Mention {
        passage: passage as u32,
        start: s.start as u32,
        end: s.end as u32,
        text: chars.slice(s.start, s.end).to_string(),
        ty: head.labels.types[s.ty].clone(),
        score: s.score,
        model: head.name.clone(),
        concept: None,
    }
}

/// Adds `m`, or keeps the better of it and an identical mention of the same type (`seen` says
/// where each mention of `mentions` is).
fn merge(
    mentions: &mut Vec<Mention>,
    seen: &mut HashMap<(usize, usize, usize, String), usize>,
    m: Mention,
) {
    let key = (
        m.passage as usize,
        m.start as usize,
        m.end as usize,
        m.ty.clone(),
    );
    match seen.get(&key) {
        Some(&i) if m.score > mentions[i].score => mentions[i] = m,
        Some(_) => {}
        None => {
            seen.insert(key, mentions.len());
            mentions.push(m);
        }
    }
}

/// The same span of the same type kept once (the higher score), as [`Annotator::annotate`]
/// keeps it; for after [`crate::abbrev::resolve`] has retyped short forms.
fn dedup(mentions: &mut Vec<Mention>) {
    let mut seen = HashMap::new();
    let mut out = Vec::with_capacity(mentions.len());
    for m in mentions.drain(..) {
        merge(&mut out, &mut seen, m);
    }
    *mentions = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_form_two_models_marked_is_one_mention_once_retyped() {
        use pubmine_stream::record::{Passage, PassageKind, SourceKind};
        let text = "Non-small cell lung cancer (NSCLC) is common.";
        let mut doc = Document::new(SourceKind::Pubmed, "pmid:1".into());
        doc.passages
            .push(Passage::new(PassageKind::Abstract, text.into()));
        let m = |start: u32, end: u32, ty: &str, score: f32, model: &str| Mention {
            passage: 0,
            start,
            end,
            text: text
                .chars()
                .skip(start as usize)
                .take((end - start) as usize)
                .collect(),
            ty: ty.into(),
            score,
            model: model.into(),
            concept: None,
        };
        let mut mentions = vec![
            m(0, 26, "Disease", 0.9, "disease"),
            m(28, 33, "Chemical", 0.6, "chemical"),
            m(28, 33, "Disease", 0.8, "disease"),
        ];
        crate::abbrev::resolve(&doc, &mut mentions);
        // The chemical model's NSCLC is retyped as the long form: two Disease mentions of one
        // span, which the models' rule keeps once, with the higher score.
        dedup(&mut mentions);
        let kept: Vec<(u32, &str, f32)> = mentions
            .iter()
            .map(|m| (m.start, m.ty.as_str(), m.score))
            .collect();
        assert_eq!(kept, [(0, "Disease", 0.9), (28, "Disease", 0.8)]);
    }

    #[test]
    fn char_cursor_slices_by_characters_forwards_and_back() {
        let text = "αβ TNF-α and 𝛼-synuclein";
        let mut c = CharCursor::new(text);
        let by_chars = |a: usize, b: usize| text.chars().skip(a).take(b - a).collect::<String>();
        for (a, b) in [(0, 2), (3, 8), (13, 24), (3, 8), (24, 24), (0, 24)] {
            assert_eq!(c.slice(a, b), by_chars(a, b), "{a}..{b}");
        }
    }
}
