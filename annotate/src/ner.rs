//! A named-entity recognition model and how it runs: its settings ([`NerSettings`], `ner.json`;
//! [`NerOptions`]), the model ([`NerModel`]: one session, one head or several), and one model's
//! pass over tokenized passages (`run_model`): each model is shown inputs shaped like its
//! training data (by default each sentence an input of at most 128 tokens; a longer text is cut
//! into overlapping windows: [`NerInputs`]), inputs from all documents are batched by a token
//! budget (longest first, so padding stays small), and each token takes its scores from the
//! window where it has the most context. [`crate::annotator`] puts the models together over
//! documents.

use std::path::{Path, PathBuf};

use pubmine_stream::record::ModelRef;

use crate::error::AnnotateError;
use crate::model::backend::Backend;
use crate::model::heads::{HeadSetting, NerHead};
use crate::model::session::{ModelSession, SessionOptions};
use crate::model::{ModelDir, ModelError, load};
use crate::stats::AnnotatorStats;
use crate::text::decode::{ScoredToken, Span, decode, softmax};
use crate::text::sentences::Sentence;
use crate::text::tokenize::Tokens;
use crate::text::windows::{Window, assign, sentence_windows, windows};

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
/// them there (`"heads"`, [`crate::model::heads`]); the heads are the model's own, not a setting a user
/// overrides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NerSettings {
    /// Tokens per input, `[CLS]` and `[SEP]` included: the length the model was fine-tuned on.
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
    /// [`crate::text::batch::batches_within`]); 1.0 batches by the token budget alone.
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
    /// One for a single-type model; one per label set for a multi-head one ([`crate::model::heads`]).
    pub heads: Vec<NerHead>,
    backend: Box<dyn Backend>,
    /// Text tokens per input (`[CLS]` and `[SEP]` aside).
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
        Self::open_with(path, entity_type, opts, |dir| {
            Ok(Box::new(ModelSession::open(dir, session)?))
        })
    }

    /// As [`NerModel::open_typed`], with the backend `backend` makes for the checked directory
    /// (ONNX Runtime's session for the commands; a [`crate::model::backend::Lexicon`] in tests).
    pub fn open_with(
        path: &Path,
        entity_type: Option<&str>,
        opts: &NerOptions,
        backend: impl FnOnce(&ModelDir) -> Result<Box<dyn Backend>, AnnotateError>,
    ) -> Result<Self, AnnotateError> {
        let (path, only) = split_head(path);
        let path = path.as_path();
        let dir = load(path)?;
        let (own, head_settings) = NerSettings::read(path)?;
        let heads = crate::model::heads::heads(
            &dir.name,
            &dir.id2label,
            head_settings.as_deref(),
            entity_type,
            only.as_deref(),
        )
        .map_err(|error| match error {
            crate::model::heads::HeadError::Labels { error, .. } if head_settings.is_none() => {
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
        let backend = backend(&dir)?;
        Ok(NerModel {
            dir,
            heads,
            backend,
            body,
            stride,
            inputs: settings.inputs.unwrap_or(NerInputs::Sentences),
        })
    }

    /// Tokens per input, `[CLS]` and `[SEP]` included.
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

/// Spans of one model over every passage, per head.
pub(crate) fn run_model(
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
    for batch in crate::text::batch::batches_within(&lens, batch_tokens, max_padding) {
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
        let logits = span.in_scope(|| m.backend.run(ids, mask, batch.len(), cols))?;
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
                    let (label, score) = crate::text::decode::best(p);
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
    use crate::text::sentences::split;

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
