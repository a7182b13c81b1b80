//! Named-entity recognition over documents: each passage is tokenized once per tokenizer (models
//! that share one share the tokens), cut into overlapping windows, windows from all documents
//! are batched by a token budget (longest first, so padding stays small), and each token takes
//! its scores from the window where it has the most context. Relation extraction, when RE models
//! are added, runs on the mentions found (see [`crate::re`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pubmine_stream::error::{Classify, ErrorClass};
use pubmine_stream::record::{Document, Mention, ModelRef, Relation};
use tokenizers::Tokenizer;

use crate::decode::{ScoredToken, Span, decode, softmax};
use crate::labels::LabelSet;
use crate::model::{ModelDir, ModelError, load};
use crate::re::{ReModel, ReStats};
use crate::session::{ModelSession, SessionError, SessionOptions};
use crate::tokenize::{TokenizeError, Tokens, tokenize};
use crate::windows::{Window, WindowError, assign, windows};

#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    #[error(transparent)]
    Window(#[from] WindowError),
    #[error("{path}: {reason}")]
    Settings {
        path: std::path::PathBuf,
        reason: String,
    },
    /// Tokens prepared for other documents or other models than the annotator's.
    #[error("the prepared tokens do not match these documents and models")]
    NotPrepared,
}

impl Classify for AnnotateError {
    /// A text the tokenizer refuses is the document's fault; everything else (the model, its
    /// session, the settings) is not, and retrying the document elsewhere would fail the same.
    fn class(&self) -> ErrorClass {
        match self {
            AnnotateError::Tokenize(_) => ErrorClass::Poison,
            AnnotateError::Model(_)
            | AnnotateError::Session(_)
            | AnnotateError::Window(_)
            | AnnotateError::Settings { .. }
            | AnnotateError::NotPrepared => ErrorClass::Fatal,
        }
    }
}

/// How windows are cut and batched.
#[derive(Debug, Clone, Copy)]
pub struct NerOptions {
    /// Tokens per window, [CLS] and [SEP] included; the model's `max_position_embeddings` when
    /// `None` (512 for BioBERT).
    pub max_len: Option<usize>,
    /// Tokens shared by consecutive windows.
    pub stride: usize,
    /// Padded tokens per inference batch (rows × longest row).
    pub batch_tokens: usize,
    /// Largest share of a window's slots that may be padding in its batch (see
    /// [`crate::batch::batches_within`]); 1.0 batches by the token budget alone.
    pub max_padding: f64,
}

impl Default for NerOptions {
    fn default() -> Self {
        NerOptions {
            max_len: None,
            stride: 128,
            batch_tokens: 8192,
            max_padding: 0.1,
        }
    }
}

/// A token-classification model ready to run.
#[derive(Debug)]
pub struct NerModel {
    pub dir: ModelDir,
    pub labels: LabelSet,
    session: ModelSession,
    /// Passage tokens per window.
    body: usize,
    stride: usize,
}

impl NerModel {
    /// Loads and checks the model directory, and opens its session.
    pub fn open(
        path: &Path,
        session: SessionOptions,
        opts: &NerOptions,
    ) -> Result<Self, AnnotateError> {
        Self::open_typed(path, None, session, opts)
    }

    /// As [`NerModel::open`]; `entity_type` is the type of a model whose labels are bare
    /// `B`/`I`/`O` (required for such a model, refused for others).
    pub fn open_typed(
        path: &Path,
        entity_type: Option<&str>,
        session: SessionOptions,
        opts: &NerOptions,
    ) -> Result<Self, AnnotateError> {
        let dir = load(path)?;
        let labels = dir.ner_labels(entity_type)?;
        let body = dir.window_body(opts.max_len);
        let stride = opts.stride.min(body.saturating_sub(1));
        windows(body + 1, body, stride)?; // reject a stride the windows cannot honour
        let session = ModelSession::open(&dir, session)?;
        Ok(NerModel {
            dir,
            labels,
            session,
            body,
            stride,
        })
    }

    pub fn model_ref(&self) -> ModelRef {
        ModelRef {
            name: self.dir.name.clone(),
            hash: self.dir.hash.clone(),
            task: "ner".into(),
            labels: self.labels.types.clone(),
        }
    }
}

/// A `--model` argument: `DIR`, or `DIR=TYPE` naming the entity type of a model whose labels
/// are bare `B`/`I`/`O` (single-type BioBERT checkpoints). A path that exists as given is a
/// directory, even with a `=` in its name.
pub fn split_entity_type(arg: &Path) -> (PathBuf, Option<String>) {
    let s = arg.to_string_lossy();
    match s.rsplit_once('=') {
        Some((dir, ty)) if !dir.is_empty() && !ty.contains('/') && !arg.exists() => {
            (PathBuf::from(dir), Some(ty.to_string()))
        }
        _ => (arg.to_path_buf(), None),
    }
}

/// One window of one passage, as a batch row.
struct Row {
    passage: usize,
    window: Window,
}

/// What an annotator has done, for metrics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct AnnotatorStats {
    pub documents: u64,
    pub passages: u64,
    /// Passage tokens (per model run).
    pub tokens: u64,
    pub windows: u64,
    /// Token slots sent to the model, padding and [CLS]/[SEP] included.
    pub padded_tokens: u64,
    pub batches: u64,
    pub inference_seconds: f64,
    /// Relation extraction.
    pub re: ReStats,
}

/// What was found in one document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub mentions: Vec<Mention>,
    /// Relations between `mentions` (by index).
    pub relations: Vec<Relation>,
}

/// Runs several NER models over documents, and RE models over the mentions they find.
#[derive(Debug)]
pub struct Annotator {
    pub models: Vec<NerModel>,
    pub relation_models: Vec<ReModel>,
    batch_tokens: usize,
    max_padding: f64,
    pub stats: AnnotatorStats,
}

impl Annotator {
    pub fn new(models: Vec<NerModel>, opts: &NerOptions) -> Self {
        Annotator {
            models,
            relation_models: Vec::new(),
            batch_tokens: opts.batch_tokens.max(1),
            max_padding: opts.max_padding,
            stats: AnnotatorStats::default(),
        }
    }

    /// Adds relation extraction by `models` (batched by the same token budget).
    pub fn with_relations(mut self, models: Vec<ReModel>) -> Self {
        self.relation_models = models;
        self
    }

    pub fn model_refs(&self) -> Vec<ModelRef> {
        self.models
            .iter()
            .map(NerModel::model_ref)
            .chain(self.relation_models.iter().map(ReModel::model_ref))
            .collect()
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
        let mentions = self.ner(docs, &prepared)?;
        let relations = if self.relation_models.is_empty() {
            vec![Vec::new(); docs.len()]
        } else {
            crate::re::extract(
                &mut self.relation_models,
                docs,
                &mentions,
                self.batch_tokens,
                &mut self.stats.re,
            )?
        };
        Ok(mentions
            .into_iter()
            .zip(relations)
            .map(|(mentions, relations)| Found {
                mentions,
                relations,
            })
            .collect())
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
        Ok(Prepared {
            tokens: tokenize_passages(
                self.models
                    .iter()
                    .map(|m| (&m.dir.tokenizer_hash, &m.dir.tokenizer, m.dir.unk_id)),
                &passages(docs),
            )?,
        })
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
            let spans = run_model(
                m,
                tokens,
                self.batch_tokens,
                self.max_padding,
                &mut self.stats,
            )?;
            for (i, passage_spans) in spans.into_iter().enumerate() {
                let (d, p, text) = passages[i];
                let mut chars = CharCursor::new(text);
                for s in passage_spans {
                    let mention = to_mention(&mut chars, p, &s, m);
                    merge(&mut out[d], &mut seen[d], mention);
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
        Ok(Prepared {
            tokens: tokenize_passages(
                self.0.iter().map(|(h, t, unk)| (h, t, *unk)),
                &passages(docs),
            )?,
        })
    }
}

/// Documents tokenized for each distinct tokenizer (by its hash), passages in document order.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    tokens: HashMap<String, Vec<Tokens>>,
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

fn to_mention(chars: &mut CharCursor<'_>, passage: usize, s: &Span, m: &NerModel) -> Mention {
    Mention {
        passage: passage as u32,
        start: s.start as u32,
        end: s.end as u32,
        text: chars.slice(s.start, s.end).to_string(),
        ty: m.labels.types[s.ty].clone(),
        score: s.score,
        model: m.dir.name.clone(),
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

/// Spans of one model over every passage.
fn run_model(
    m: &mut NerModel,
    tokens: &[Tokens],
    batch_tokens: usize,
    max_padding: f64,
    stats: &mut AnnotatorStats,
) -> Result<Vec<Vec<Span>>, AnnotateError> {
    let n_labels = m.labels.len();
    let mut rows: Vec<Row> = Vec::new();
    let mut assigned: Vec<Vec<usize>> = Vec::with_capacity(tokens.len());
    let mut first_row: Vec<usize> = Vec::with_capacity(tokens.len());
    for (p, t) in tokens.iter().enumerate() {
        let w = windows(t.len(), m.body, m.stride)?;
        assigned.push(assign(&w, t.len()));
        first_row.push(rows.len());
        rows.extend(w.into_iter().map(|window| Row { passage: p, window }));
    }
    stats.tokens += tokens.iter().map(|t| t.len() as u64).sum::<u64>();
    stats.windows += rows.len() as u64;
    // Scores of every token, from its assigned window.
    let mut probs: Vec<Vec<Vec<f32>>> = tokens.iter().map(|t| vec![Vec::new(); t.len()]).collect();
    let lens: Vec<usize> = rows.iter().map(|r| r.window.len() + 2).collect();
    for batch in crate::batch::batches_within(&lens, batch_tokens, max_padding) {
        let cols = lens[batch[0]];
        let mut ids = vec![i64::from(m.dir.pad_id); batch.len() * cols];
        let mut mask = vec![0i64; batch.len() * cols];
        for (b, &r) in batch.iter().enumerate() {
            let row = &rows[r];
            let t = &tokens[row.passage];
            let base = b * cols;
            ids[base] = i64::from(m.dir.cls_id);
            for (j, &id) in t.ids[row.window.start..row.window.end].iter().enumerate() {
                ids[base + 1 + j] = i64::from(id);
            }
            ids[base + 1 + row.window.len()] = i64::from(m.dir.sep_id);
            mask[base..base + row.window.len() + 2].fill(1);
        }
        stats.batches += 1;
        stats.padded_tokens += (batch.len() * cols) as u64;
        let started = std::time::Instant::now();
        let logits = m.session.run(ids, mask, batch.len(), cols)?;
        stats.inference_seconds += started.elapsed().as_secs_f64();
        for (b, &r) in batch.iter().enumerate() {
            let row = &rows[r];
            let window_index = r - first_row[row.passage];
            for tok in row.window.start..row.window.end {
                if assigned[row.passage][tok] != window_index {
                    continue;
                }
                let pos = b * cols + 1 + (tok - row.window.start);
                let mut p = logits[pos * n_labels..(pos + 1) * n_labels].to_vec();
                softmax(&mut p);
                probs[row.passage][tok] = p;
            }
        }
    }
    Ok(tokens
        .iter()
        .zip(probs)
        .map(|(t, probs)| {
            let scored: Vec<ScoredToken> = probs
                .into_iter()
                .enumerate()
                .map(|(k, probs)| ScoredToken {
                    start: t.offsets[k].0,
                    end: t.offsets[k].1,
                    subword: t.subword[k],
                    probs,
                })
                .collect();
            decode(&scored, &m.labels)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_cursor_slices_by_characters_forwards_and_back() {
        let text = "αβ TNF-α and 𝛼-synuclein";
        let mut c = CharCursor::new(text);
        let by_chars = |a: usize, b: usize| text.chars().skip(a).take(b - a).collect::<String>();
        for (a, b) in [(0, 2), (3, 8), (13, 24), (3, 8), (24, 24), (0, 24)] {
            assert_eq!(c.slice(a, b), by_chars(a, b), "{a}..{b}");
        }
    }

    #[test]
    fn model_args_name_a_directory_and_maybe_a_type() {
        assert_eq!(
            split_entity_type(Path::new("/models/biobert-disease=Disease")),
            (
                PathBuf::from("/models/biobert-disease"),
                Some("Disease".into())
            )
        );
        assert_eq!(
            split_entity_type(Path::new("/models/biobert-disease")),
            (PathBuf::from("/models/biobert-disease"), None)
        );
        // an empty type is kept, and refused when the labels are read
        assert_eq!(
            split_entity_type(Path::new("m=")),
            (PathBuf::from("m"), Some(String::new()))
        );
        // a `=` inside the path, not after the last slash: a directory
        assert_eq!(
            split_entity_type(Path::new("a=b/m")),
            (PathBuf::from("a=b/m"), None)
        );
        // a directory that exists with a `=` in its name is that directory
        let tmp = std::env::temp_dir().join(format!("pubmine-model=x-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        assert_eq!(split_entity_type(&tmp), (tmp.clone(), None));
        std::fs::remove_dir(&tmp).unwrap();
    }
}
