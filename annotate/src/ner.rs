//! Named-entity recognition over documents: each passage is tokenized once per tokenizer (models
//! that share one share the tokens) and split into sentences once; each model is shown inputs
//! shaped like its training data (by default each sentence an input of at most 128 tokens; a
//! longer text is cut into overlapping windows: [`NerInputs`]), inputs from all documents
//! are batched by a token budget (longest first, so padding stays small), and each token takes
//! its scores from the window where it has the most context. Relation extraction, when RE models
//! are added, runs on the mentions found (see [`crate::re`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pubmine_stream::error::{Classify, ErrorClass};
use pubmine_stream::record::{
    ABBREVIATION_MODEL, Abbreviation, Document, Mention, ModelRef, Relation,
};
use tokenizers::Tokenizer;

use crate::decode::{ScoredToken, Span, decode, softmax};
use crate::heads::{HeadSetting, NerHead};
use crate::model::{ModelDir, ModelError, load};
use crate::normalize::Normalizer;
use crate::re::{ReModel, ReStats};
use crate::sentences::{Sentence, split};
use crate::session::{ModelSession, SessionError, SessionOptions};
use crate::tokenize::{TokenizeError, Tokens, tokenize};
use crate::windows::{Window, WindowError, assign, sentence_windows, windows};

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
    #[error("{path}: {error}")]
    Heads {
        path: std::path::PathBuf,
        error: crate::heads::HeadError,
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
            | AnnotateError::Heads { .. }
            | AnnotateError::NotPrepared => ErrorClass::Fatal,
        }
    }
}

/// What a token-classification model is shown: whole sentences, as BioBERT's NER checkpoints are
/// fine-tuned (`run_ner.py`: sentence-split data, at most 128 tokens), or windows over the whole
/// passage, for a checkpoint trained on whole documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NerInputs {
    /// Each sentence an input of its own (a sentence longer than the input: overlapping windows).
    Sentences,
    /// Consecutive whole sentences packed into an input while they fit.
    PackedSentences,
    /// Windows over the passage, cut wherever the input is full.
    Passages,
}

impl std::str::FromStr for NerInputs {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sentences" => Ok(NerInputs::Sentences),
            "packed-sentences" => Ok(NerInputs::PackedSentences),
            "passages" => Ok(NerInputs::Passages),
            _ => Err(format!(
                "{s:?} is not one of sentences, packed-sentences, passages"
            )),
        }
    }
}

/// Input length given to a model that says nothing of its own: BioBERT's NER fine-tuning length.
pub const DEFAULT_NER_MAX_LEN: usize = 128;

/// A model's own input settings, `ner.json` in its directory (written by `models/export.py` and
/// `models/train_ner.py`): `{"max_len": 128, "inputs": "sentences"}`. Missing fields (or a missing
/// file) take BioBERT's recipe: 128 tokens, sentences. A model with several heads also names
/// them there (`"heads"`, [`crate::heads`]); the heads are the model's own, not a setting a user
/// overrides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NerSettings {
    /// Tokens per input, [CLS] and [SEP] included: the length the model was fine-tuned on.
    pub max_len: Option<usize>,
    pub inputs: Option<NerInputs>,
}

/// The file of a model directory that holds its [`NerSettings`].
pub const NER_SETTINGS_FILE: &str = "ner.json";

/// `ner.json` as a file: the settings and the heads.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NerFile {
    max_len: Option<usize>,
    inputs: Option<NerInputs>,
    heads: Option<Vec<HeadSetting>>,
}

impl NerSettings {
    /// `DIR/ner.json`'s settings and its heads (`None`: one head, the whole label set), or the
    /// defaults when there is none.
    pub fn read(dir: &Path) -> Result<(Self, Option<Vec<HeadSetting>>), AnnotateError> {
        let path = dir.join(NER_SETTINGS_FILE);
        let bad = |reason: String| AnnotateError::Settings {
            path: path.clone(),
            reason,
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Self::default(), None));
            }
            Err(e) => return Err(bad(format!("failed to read: {e}"))),
        };
        let f: NerFile = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        if f.max_len.is_some_and(|n| n < 3) {
            return Err(bad("\"max_len\" must be at least 3".into()));
        }
        let s = NerSettings {
            max_len: f.max_len,
            inputs: f.inputs,
        };
        Ok((s, f.heads))
    }

    /// These settings, each field given here taking the place of `base`'s.
    pub fn or(self, base: NerSettings) -> NerSettings {
        NerSettings {
            max_len: self.max_len.or(base.max_len),
            inputs: self.inputs.or(base.inputs),
        }
    }
}

/// How inputs are cut and batched.
#[derive(Debug, Clone)]
pub struct NerOptions {
    /// Settings for every model, over each model's own `ner.json`.
    pub all: NerSettings,
    /// Settings for one model (by directory name), over `all`.
    pub per_model: Vec<(String, NerSettings)>,
    /// Tokens shared by consecutive windows of a text longer than an input; a quarter of the
    /// input when `None` (127 for 512-token inputs, 31 for 128).
    pub stride: Option<usize>,
    /// Padded tokens per inference batch (rows × longest row).
    pub batch_tokens: usize,
    /// Largest share of a window's slots that may be padding in its batch (see
    /// [`crate::batch::batches_within`]); 1.0 batches by the token budget alone.
    pub max_padding: f64,
    /// The most characters (all passages together) of a document the worker annotates; a
    /// larger one is a dead letter with that reason, so that one document cannot take more
    /// memory than the process has (about 36 bytes a character past the models' own working
    /// memory, `bench/huge_passage.sh`).
    pub max_document_chars: usize,
}

/// The default of [`NerOptions::max_document_chars`]: 16 Mi characters, hundreds of times a
/// full-text article's (the longest of the PMC samples holds 43,000): one such passage peaked
/// at 1.5 GB with two models (against 0.9 GB for 1 MB).
pub const DEFAULT_MAX_DOCUMENT_CHARS: usize = 16 << 20;

/// The default largest share of padding in a batch. On CPU (`bench/annotate.sh`, BERT-base size,
/// 300 abstracts in sentence inputs) 0.05 ran at 785 tokens/s against 751 for 0.1 (2.6% fewer
/// token slots: padding 2.3% of the text's tokens in place of 5.1%, in 259 batches in place of
/// 151) and 0.02 at 793 (0.7%, 492 batches): smaller batches cost a CPU nothing here.
pub const DEFAULT_MAX_PADDING: f64 = 0.05;

impl Default for NerOptions {
    /// Each model's own settings; batching as the stage commands do by default: 8,192 padded
    /// tokens a batch, at most [`DEFAULT_MAX_PADDING`] of padding.
    fn default() -> Self {
        NerOptions {
            all: NerSettings::default(),
            per_model: Vec::new(),
            stride: None,
            batch_tokens: 8192,
            max_padding: DEFAULT_MAX_PADDING,
            max_document_chars: DEFAULT_MAX_DOCUMENT_CHARS,
        }
    }
}

impl NerOptions {
    /// The settings `model` runs with: its own, under `all`, under its `per_model` entry.
    pub fn settings_for(&self, model: &str, own: NerSettings) -> NerSettings {
        let mut s = self.all.or(own);
        for (name, o) in &self.per_model {
            if name == model {
                s = o.or(s);
            }
        }
        s
    }
}

/// A token-classification model ready to run.
#[derive(Debug)]
pub struct NerModel {
    pub dir: ModelDir,
    /// One for a single-type model; one per label set for a multi-head one ([`crate::heads`]).
    pub heads: Vec<NerHead>,
    session: ModelSession,
    /// Text tokens per input ([CLS] and [SEP] aside).
    body: usize,
    stride: usize,
    pub inputs: NerInputs,
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
    /// `B`/`I`/`O` (required for such a model, refused for others). A `path` that is not a
    /// directory but `MODEL/HEAD`, a head of a multi-head model, opens that model with that
    /// head alone (the graph still computes all of them).
    pub fn open_typed(
        path: &Path,
        entity_type: Option<&str>,
        session: SessionOptions,
        opts: &NerOptions,
    ) -> Result<Self, AnnotateError> {
        let (path, only) = split_head(path);
        let path = path.as_path();
        let dir = load(path)?;
        let (own, head_settings) = NerSettings::read(path)?;
        let heads = crate::heads::heads(
            &dir.name,
            &dir.id2label,
            head_settings.as_deref(),
            entity_type,
            only.as_deref(),
        )
        .map_err(|error| match error {
            crate::heads::HeadError::Labels { error, .. } if head_settings.is_none() => {
                AnnotateError::Model(ModelError::Labels {
                    path: path.join("config.json"),
                    error,
                })
            }
            error => AnnotateError::Heads {
                path: path.join(NER_SETTINGS_FILE),
                error,
            },
        })?;
        let settings = opts.settings_for(&dir.name, own);
        let body = dir.window_body(settings.max_len.unwrap_or(DEFAULT_NER_MAX_LEN));
        let stride = opts.stride.unwrap_or(body / 4).min(body.saturating_sub(1));
        windows(body + 1, body, stride)?; // reject a stride the windows cannot honour
        let session = ModelSession::open(&dir, session)?;
        Ok(NerModel {
            dir,
            heads,
            session,
            body,
            stride,
            inputs: settings.inputs.unwrap_or(NerInputs::Sentences),
        })
    }

    /// Tokens per input, [CLS] and [SEP] included.
    pub fn max_len(&self) -> usize {
        self.body + 2
    }

    /// One per head: a head's mentions name it as their model.
    pub fn model_refs(&self) -> impl Iterator<Item = ModelRef> + '_ {
        self.heads.iter().map(|h| ModelRef {
            name: h.name.clone(),
            hash: self.dir.hash.clone(),
            task: "ner".into(),
            labels: h.labels.types.clone(),
        })
    }

    /// The entity types of every head, in order, each once.
    pub fn types(&self) -> Vec<String> {
        let mut types: Vec<String> = Vec::new();
        for t in self.heads.iter().flat_map(|h| &h.labels.types) {
            if !types.contains(t) {
                types.push(t.clone());
            }
        }
        types
    }
}

/// A model path that does not exist but whose parent holds a model: `(parent, Some(head))`.
fn split_head(path: &Path) -> (PathBuf, Option<String>) {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name))
            if !path.exists() && parent.join(NER_SETTINGS_FILE).is_file() =>
        {
            (
                parent.to_path_buf(),
                Some(name.to_string_lossy().into_owned()),
            )
        }
        _ => (path.to_path_buf(), None),
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

/// The first token of each sentence (the first sentence's is 0), for tokens with character
/// offsets `offsets` in increasing order. A token belongs to the sentence in which it starts.
pub fn sentence_starts(sentences: &[Sentence], offsets: &[(usize, usize)]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(sentences.len().max(1));
    starts.push(0);
    let mut t = 0;
    for s in sentences.iter().skip(1) {
        while t < offsets.len() && offsets[t].0 < s.start {
            t += 1;
        }
        starts.push(t);
    }
    starts
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

/// Spans of one model over every passage, per head.
fn run_model(
    m: &mut NerModel,
    tokens: &[Tokens],
    sentences: &[Vec<Sentence>],
    batch_tokens: usize,
    max_padding: f64,
    stats: &mut AnnotatorStats,
) -> Result<Vec<Vec<Vec<Span>>>, AnnotateError> {
    let n_labels = m.dir.id2label.len();
    let mut rows: Vec<Row> = Vec::new();
    let mut assigned: Vec<Vec<usize>> = Vec::with_capacity(tokens.len());
    let mut first_row: Vec<usize> = Vec::with_capacity(tokens.len());
    for (p, t) in tokens.iter().enumerate() {
        let w = match m.inputs {
            NerInputs::Passages => windows(t.len(), m.body, m.stride)?,
            NerInputs::Sentences | NerInputs::PackedSentences => sentence_windows(
                &sentence_starts(&sentences[p], &t.offsets),
                t.len(),
                m.body,
                m.stride,
                m.inputs == NerInputs::PackedSentences,
            )?,
        };
        assigned.push(assign(&w, t.len()));
        first_row.push(rows.len());
        rows.extend(w.into_iter().map(|window| Row { passage: p, window }));
    }
    stats.tokens += tokens.iter().map(|t| t.len() as u64).sum::<u64>();
    stats.windows += rows.len() as u64;
    // Per head, the best label of every token and its probability, from its assigned window
    // (a few bytes a token: a long passage's tokens are many).
    let mut best: Vec<Vec<Vec<(u32, f32)>>> = m
        .heads
        .iter()
        .map(|_| {
            tokens
                .iter()
                .map(|t| vec![(0, f32::NEG_INFINITY); t.len()])
                .collect()
        })
        .collect();
    let mut p = vec![0f32; n_labels];
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
        let text: usize = batch.iter().map(|&r| rows[r].window.len()).sum();
        let span = tracing::debug_span!("model", model = %m.dir.name, rows = batch.len(), cols);
        let started = std::time::Instant::now();
        let logits = span.in_scope(|| m.session.run(ids, mask, batch.len(), cols))?;
        let took = started.elapsed();
        stats.inference_seconds += took.as_secs_f64();
        crate::metrics::model_run(&m.dir.name, text, batch.len() * cols, took);
        for (b, &r) in batch.iter().enumerate() {
            let row = &rows[r];
            let window_index = r - first_row[row.passage];
            for tok in row.window.start..row.window.end {
                if assigned[row.passage][tok] != window_index {
                    continue;
                }
                let pos = b * cols + 1 + (tok - row.window.start);
                let all = &logits[pos * n_labels..(pos + 1) * n_labels];
                for (h, head) in m.heads.iter().enumerate() {
                    let p = &mut p[..head.range.len()];
                    p.copy_from_slice(&all[head.range.clone()]);
                    softmax(p);
                    let (label, score) = crate::decode::best(p);
                    best[h][row.passage][tok] = (label as u32, score);
                }
            }
        }
    }
    let _decoding = tracing::debug_span!("decode_spans", model = %m.dir.name).entered();
    Ok(m.heads
        .iter()
        .zip(best)
        .map(|(head, best)| {
            tokens
                .iter()
                .zip(best)
                .map(|(t, best)| {
                    let scored =
                        best.into_iter()
                            .enumerate()
                            .map(|(k, (label, score))| ScoredToken {
                                start: t.offsets[k].0,
                                end: t.offsets[k].1,
                                subword: t.subword[k],
                                label: label as usize,
                                score,
                            });
                    decode(scored, &head.labels)
                })
                .collect()
        })
        .collect())
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
    fn sentences_start_at_their_first_token() {
        let text = "Aspirin helps. It (p < 0.05) works!  Yes.";
        let sentences = split(text);
        assert_eq!(sentences.len(), 3);
        // word offsets as a tokenizer gives them (punctuation split off)
        let mut offsets = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_whitespace() {
                i += 1;
            } else if chars[i].is_alphanumeric() {
                let s = i;
                while i < chars.len() && chars[i].is_alphanumeric() {
                    i += 1;
                }
                offsets.push((s, i));
            } else {
                offsets.push((i, i + 1));
                i += 1;
            }
        }
        let starts = sentence_starts(&sentences, &offsets);
        let first_words: Vec<(usize, usize)> = starts.iter().map(|&t| offsets[t]).collect();
        assert_eq!(first_words, vec![(0, 7), (15, 17), (37, 40)]);
        // no tokens at all, or sentences past the last token
        assert_eq!(sentence_starts(&sentences, &[]), vec![0, 0, 0]);
        assert_eq!(sentence_starts(&[], &offsets), vec![0]);
    }

    #[test]
    fn settings_come_from_the_model_then_all_then_one_model() {
        let own = NerSettings {
            max_len: Some(256),
            inputs: Some(NerInputs::Passages),
        };
        let mut o = NerOptions::default();
        assert_eq!(o.settings_for("m", own), own);
        assert_eq!(
            o.settings_for("m", NerSettings::default()),
            NerSettings::default()
        );
        o.all.max_len = Some(128);
        o.per_model.push((
            "m".into(),
            NerSettings {
                max_len: None,
                inputs: Some(NerInputs::PackedSentences),
            },
        ));
        assert_eq!(
            o.settings_for("m", own),
            NerSettings {
                max_len: Some(128),
                inputs: Some(NerInputs::PackedSentences)
            }
        );
        assert_eq!(
            o.settings_for("other", own),
            NerSettings {
                max_len: Some(128),
                inputs: Some(NerInputs::Passages)
            }
        );
        assert_eq!("packed-sentences".parse(), Ok(NerInputs::PackedSentences));
        assert!("sentence".parse::<NerInputs>().is_err());
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
