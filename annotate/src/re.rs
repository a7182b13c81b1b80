//! Relation extraction in the BioBERT manner: for each pair of NER mentions of configured types
//! within one sentence, the sentence with the two mentions replaced by type tags (`@GENE$`,
//! `@DISEASE$`, ...; other mentions stay as text) is classified by a sequence-classification
//! model; a relation is the best label other than the negative one, kept when its probability
//! reaches the model's threshold. A model whose settings allow a window of several sentences
//! (`sentences`) also classifies pairs of neighbouring sentences of one passage, its input then
//! running from the first mention's sentence to the second's.
//!
//! Each model's settings come from `re.json` in its directory (or a file named on the command
//! line): see [`ReSettings`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pubmine_stream::record::{Document, Mention, ModelRef, Relation, normalize_entity};
use serde::Deserialize;

use crate::error::AnnotateError;
use crate::model::backend::Backend;
use crate::model::session::{ModelSession, SessionOptions};
use crate::model::{ModelDir, load};
use crate::text::decode::softmax;
use crate::text::sentences::{Sentence, merge_around, sentence_of};
use crate::text::tokenize::tokenize;

/// The file of an RE model's settings, in its directory.
pub const SETTINGS_FILE: &str = "re.json";

/// Labels taken for "no relation" when `negative` is not set (compared case-insensitively):
/// BioBERT's GAD/EU-ADR data use `0`, its ChemProt and DDI data `false`.
pub const NEGATIVE_LABELS: &[&str] = &[
    "false",
    "0",
    "negative",
    "no",
    "none",
    "no_relation",
    "no-relation",
    "norel",
    "other",
    "na",
];

/// What an RE model is for and how it is run (`re.json`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReSettings {
    /// Entity type pairs `[subject, object]`, as the NER models name the types (compared
    /// case-insensitively): `[["Chemical", "Gene"]]` for ChemProt, `[["Gene", "Disease"]]` for
    /// GAD.
    pub pairs: Vec<[String; 2]>,
    /// Directed: the subject is the mention of the pair's first type. Undirected: each two
    /// mentions are classified once even when both orders of their types are configured, and
    /// the relation names them in [`canonical_order`] (the configured types' order, then concept
    /// id or normal form), so a pair is one pair whatever order the text gives. Pairs of one type (drug-drug) are
    /// always classified once, since their inputs would be the same.
    #[serde(default = "yes")]
    pub directed: bool,
    /// The tag that replaces a mention of each type; `@` + the type in capitals + `$` for the
    /// types not listed (`Gene` → `@GENE$`).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The label that means "no relation", never emitted; by default the first of `config.json`'s
    /// labels found in [`NEGATIVE_LABELS`].
    #[serde(default)]
    pub negative: Option<String>,
    /// Relation types to emit in place of label names (`{"1": "association"}`); labels not
    /// listed are emitted as they are.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Least probability of the relation's label for it to be emitted.
    #[serde(default = "half")]
    pub threshold: f32,
    /// Tokens per input, `[CLS]` and `[SEP]` included (BioBERT's RE default, 128); longer
    /// sentences are cut around the pair.
    #[serde(default = "max_len")]
    pub max_len: usize,
    /// Most pairs classified per sentence and model, the nearest mentions first; the others
    /// are counted as capped. With a window of several sentences, a pair counts for the
    /// sentence of its first mention.
    #[serde(default = "max_pairs")]
    pub max_pairs: usize,
    /// The sentences a pair may span, [`MAX_WINDOW`] at most: 1 (BioBERT's recipe) pairs the
    /// mentions of one sentence, 2 those of one sentence or of two adjacent ones, and so on,
    /// within one passage.
    #[serde(default = "one")]
    pub sentences: usize,
}

/// The widest window of sentences a model may ask for.
pub const MAX_WINDOW: usize = 8;

fn yes() -> bool {
    true
}
fn half() -> f32 {
    0.5
}
fn max_len() -> usize {
    128
}
fn max_pairs() -> usize {
    64
}
fn one() -> usize {
    1
}

impl ReSettings {
    /// Settings for `pairs`, every other field at its default.
    pub fn new(pairs: &[[&str; 2]]) -> Self {
        ReSettings {
            pairs: pairs
                .iter()
                .map(|[a, b]| [a.to_string(), b.to_string()])
                .collect(),
            directed: true,
            tags: BTreeMap::new(),
            negative: None,
            labels: BTreeMap::new(),
            threshold: half(),
            max_len: max_len(),
            max_pairs: max_pairs(),
            sentences: one(),
        }
    }

    /// Reads a settings file.
    pub fn read(path: &Path) -> Result<Self, AnnotateError> {
        let bad = |reason: String| AnnotateError::Settings {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(format!("failed to read: {e}")))?;
        let s: ReSettings = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        if s.pairs.is_empty() {
            return Err(bad(
                "\"pairs\" is empty: name at least one pair of entity types".into(),
            ));
        }
        if !(0.0..=1.0).contains(&s.threshold) {
            return Err(bad(format!(
                "\"threshold\" {} is not a probability",
                s.threshold
            )));
        }
        if s.max_len < 8 || s.max_pairs == 0 {
            return Err(bad(
                "\"max_len\" must be at least 8 and \"max_pairs\" at least 1".into(),
            ));
        }
        if !(1..=MAX_WINDOW).contains(&s.sentences) {
            return Err(bad(format!(
                "\"sentences\" {} is not a window of 1 to {MAX_WINDOW} sentences",
                s.sentences
            )));
        }
        Ok(s)
    }

    /// The tag of entity type `ty`.
    pub fn tag(&self, ty: &str) -> String {
        self.tags
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(ty))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| format!("@{}$", ty.to_uppercase()))
    }
}

/// What relation extraction has done, for metrics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct ReStats {
    /// Sentences holding two mentions or more.
    pub sentences: u64,
    /// Pairs classified.
    pub pairs: u64,
    /// Pairs left out by the per-sentence cap.
    pub pairs_capped: u64,
    /// Pairs whose two mentions lie further apart than the model's length.
    pub pairs_too_long: u64,
    pub relations: u64,
    /// Tokens of the inputs, `[CLS]` and `[SEP]` included, and token slots with padding.
    pub tokens: u64,
    pub padded_tokens: u64,
    pub batches: u64,
    pub inference_seconds: f64,
}

/// A sequence-classification model ready to run.
#[derive(Debug)]
pub struct ReModel {
    pub dir: ModelDir,
    pub settings: ReSettings,
    /// Label names by output index.
    pub labels: Vec<String>,
    /// The index of the negative label.
    pub negative: usize,
    backend: Box<dyn Backend>,
    /// Input tokens without `[CLS]` and `[SEP]`.
    body: usize,
}

impl ReModel {
    /// Loads and checks the model directory and opens its session; `settings` default to the
    /// directory's `re.json`.
    pub fn open(
        path: &Path,
        settings: Option<ReSettings>,
        session: SessionOptions,
    ) -> Result<Self, AnnotateError> {
        Self::open_with(path, settings, |dir| {
            Ok(Box::new(ModelSession::open(dir, session)?))
        })
    }

    /// As [`ReModel::open`], with the backend `backend` makes for the checked directory.
    pub fn open_with(
        path: &Path,
        settings: Option<ReSettings>,
        backend: impl FnOnce(&ModelDir) -> Result<Box<dyn Backend>, AnnotateError>,
    ) -> Result<Self, AnnotateError> {
        let settings = match settings {
            Some(s) => s,
            None => {
                let file = path.join(SETTINGS_FILE);
                if !file.exists() {
                    return Err(AnnotateError::Settings {
                        path: file,
                        reason: "missing: an RE model needs its settings, at least the entity type pairs it classifies, such as {\"pairs\": [[\"Gene\", \"Disease\"]]}".into(),
                    });
                }
                ReSettings::read(&file)?
            }
        };
        let dir = load(path)?;
        let config = path.join("config.json");
        let n = dir.id2label.len();
        let labels: Vec<String> = (0..n)
            .map(|i| {
                dir.id2label
                    .get(&i)
                    .cloned()
                    .ok_or_else(|| AnnotateError::Settings {
                        path: config.clone(),
                        reason: format!("id2label has no label {i}"),
                    })
            })
            .collect::<Result<_, _>>()?;
        if n < 2 {
            return Err(AnnotateError::Settings {
                path: config,
                reason: "an RE model needs two labels or more".into(),
            });
        }
        let negative = match &settings.negative {
            Some(neg) => labels.iter().position(|l| l == neg).ok_or_else(|| {
                AnnotateError::Settings {
                    path: path.join(SETTINGS_FILE),
                    reason: format!("\"negative\" label {neg:?} is not among the model's labels {labels:?}"),
                }
            })?,
            None => NEGATIVE_LABELS
                .iter()
                .find_map(|neg| labels.iter().position(|l| l.eq_ignore_ascii_case(neg)))
                .ok_or_else(|| AnnotateError::Settings {
                    path: path.join(SETTINGS_FILE),
                    reason: format!(
                        "none of the model's labels {labels:?} is a known negative label ({}): set \"negative\"",
                        NEGATIVE_LABELS.join(", ")
                    ),
                })?,
        };
        let body = settings
            .max_len
            .min(dir.config.max_position_embeddings)
            .saturating_sub(2);
        let backend = backend(&dir)?;
        Ok(ReModel {
            dir,
            settings,
            labels,
            negative,
            backend,
            body,
        })
    }

    pub fn model_ref(&self) -> ModelRef {
        ModelRef {
            name: self.dir.name.clone(),
            hash: self.dir.hash.clone(),
            task: "re".into(),
            labels: (0..self.labels.len())
                .filter(|&k| k != self.negative)
                .map(|k| self.relation_type(k))
                .collect(),
        }
    }

    /// The relation type label `k` is emitted as.
    pub fn relation_type(&self, k: usize) -> String {
        let l = &self.labels[k];
        self.settings
            .labels
            .get(l)
            .cloned()
            .unwrap_or_else(|| l.clone())
    }

    /// The token ids of a tagged text (no `[CLS]`/`[SEP]`), cut to the model's length around the
    /// characters `first..last` (the two tags); `None` when those alone do not fit.
    pub fn input_ids(
        &self,
        text: &str,
        around: Option<(usize, usize)>,
    ) -> Result<Option<Vec<u32>>, AnnotateError> {
        let t = tokenize(&self.dir.tokenizer, text, self.dir.unk_id)?;
        let (first, last) = match around {
            Some((a, b)) => {
                let first = t.offsets.iter().position(|&(_, e)| e > a);
                let last = t.offsets.iter().rposition(|&(s, _)| s < b);
                match (first, last) {
                    (Some(f), Some(l)) if f <= l => (f, l),
                    _ => (0, 0),
                }
            }
            None => (0, 0),
        };
        Ok(window_around(t.len(), first, last, self.body).map(|(s, e)| t.ids[s..e].to_vec()))
    }

    /// Label probabilities of each input (token ids without `[CLS]`/`[SEP]`), batched by
    /// `batch_tokens`.
    pub fn classify(
        &mut self,
        inputs: &[Vec<u32>],
        batch_tokens: usize,
        stats: &mut ReStats,
    ) -> Result<Vec<Vec<f32>>, AnnotateError> {
        let n_labels = self.labels.len();
        let lens: Vec<usize> = inputs.iter().map(|i| i.len() + 2).collect();
        let mut out = vec![Vec::new(); inputs.len()];
        for batch in crate::text::batch::batches(&lens, batch_tokens) {
            let cols = lens[batch[0]];
            let mut ids = vec![i64::from(self.dir.pad_id); batch.len() * cols];
            let mut mask = vec![0i64; batch.len() * cols];
            for (b, &r) in batch.iter().enumerate() {
                let base = b * cols;
                ids[base] = i64::from(self.dir.cls_id);
                for (j, &id) in inputs[r].iter().enumerate() {
                    ids[base + 1 + j] = i64::from(id);
                }
                ids[base + lens[r] - 1] = i64::from(self.dir.sep_id);
                mask[base..base + lens[r]].fill(1);
                stats.tokens += lens[r] as u64;
            }
            stats.batches += 1;
            stats.padded_tokens += (batch.len() * cols) as u64;
            let text: usize = batch.iter().map(|&r| lens[r] - 2).sum();
            let span =
                tracing::debug_span!("model", model = %self.dir.name, rows = batch.len(), cols);
            let started = std::time::Instant::now();
            let logits = span.in_scope(|| self.backend.run(ids, mask, batch.len(), cols))?;
            let took = started.elapsed();
            stats.inference_seconds += took.as_secs_f64();
            crate::metrics::model_run(&self.dir.name, text, batch.len() * cols, took);
            for (b, &r) in batch.iter().enumerate() {
                let mut p = logits[b * n_labels..(b + 1) * n_labels].to_vec();
                softmax(&mut p);
                out[r] = p;
            }
        }
        Ok(out)
    }

    /// Label probabilities of texts that already carry their tags (BioBERT's RE data sets);
    /// a text longer than the model's length is cut around its tags.
    pub fn classify_texts(
        &mut self,
        texts: &[&str],
        batch_tokens: usize,
        stats: &mut ReStats,
    ) -> Result<Vec<Vec<f32>>, AnnotateError> {
        let mut tags: Vec<String> = self.settings.tags.values().cloned().collect();
        for [a, b] in &self.settings.pairs {
            tags.push(self.settings.tag(a));
            tags.push(self.settings.tag(b));
        }
        let mut inputs = Vec::with_capacity(texts.len());
        for text in texts {
            let around = tag_span(text, &tags);
            let ids = match self.input_ids(text, around)? {
                Some(ids) => ids,
                // Tags further apart than the model's length: cut the end, as BioBERT does.
                None => self.input_ids(text, None)?.unwrap_or_default(),
            };
            inputs.push(ids);
        }
        stats.pairs += inputs.len() as u64;
        self.classify(&inputs, batch_tokens, stats)
    }

    /// The best label other than the negative one and its probability.
    pub fn best(&self, probs: &[f32]) -> Option<(usize, f32)> {
        probs
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != self.negative)
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(k, p)| (k, *p))
    }
}

/// Characters from the start of the first tag found in `text` to the end of the last one.
fn tag_span(text: &str, tags: &[String]) -> Option<(usize, usize)> {
    let mut lo: Option<usize> = None;
    let mut hi: Option<usize> = None;
    for tag in tags.iter().filter(|t| !t.is_empty()) {
        for (byte, _) in text.match_indices(tag.as_str()) {
            let start = text[..byte].chars().count();
            let end = start + tag.chars().count();
            lo = Some(lo.map_or(start, |l| l.min(start)));
            hi = Some(hi.map_or(end, |h| h.max(end)));
        }
    }
    lo.zip(hi)
}

/// The window of at most `body` of `n` tokens holding tokens `first..=last`, centred on them;
/// `None` when they alone are longer than `body`.
pub fn window_around(n: usize, first: usize, last: usize, body: usize) -> Option<(usize, usize)> {
    if n <= body {
        return Some((0, n));
    }
    let need = last - first + 1;
    if need > body {
        return None;
    }
    let left = (body - need) / 2;
    let start = first.saturating_sub(left).min(n - body);
    Some((start, start + body))
}

/// The order an undirected relation names its two mentions in, so that one pair is one pair in
/// the dashboards and the index whichever of the two the text gives first: mentions of two
/// types in the order of the first configured pair of those types (`[Gene, Disease]`: the gene
/// first), mentions of one type by concept id where they have one, else by normal form (then by
/// place). `pairs` in lower case.
pub fn canonical_order(
    mentions: &[Mention],
    i: usize,
    j: usize,
    pairs: &[(String, String)],
) -> (usize, usize) {
    let (ti, tj) = (mentions[i].ty.to_lowercase(), mentions[j].ty.to_lowercase());
    let i_first = if ti != tj {
        pairs
            .iter()
            .find(|(a, b)| (*a == ti && *b == tj) || (*a == tj && *b == ti))
            .map_or(ti < tj, |(a, _)| *a == ti)
    } else {
        // The entity: the concept where there is one, else the normal form.
        let key = |k: usize| {
            let m = &mentions[k];
            let entity = match &m.concept {
                Some(c) => c.id.clone(),
                None => normalize_entity(&m.text),
            };
            (entity, m.start, k)
        };
        key(i) <= key(j)
    };
    if i_first { (i, j) } else { (j, i) }
}

/// Candidate pairs `(subject, object)` of mention indices among `in_window` (mentions of one
/// sentence, or of a window of sentences), for the type `pairs` (lower case), and how many the
/// cap left out: the nearest pairs are kept. Only pairs with a mention among the first `anchor`
/// of `in_window` are candidates (the mentions of the window's first sentence: each pair of a
/// passage then belongs to one window); overlapping mentions are never paired.
pub fn candidate_pairs(
    mentions: &[Mention],
    in_window: &[usize],
    anchor: usize,
    pairs: &[(String, String)],
    directed: bool,
    cap: usize,
) -> (Vec<(usize, usize)>, usize) {
    // a set, not a scan: a sentence of a table can hold hundreds of mentions
    let anchored: BTreeSet<usize> = in_window[..anchor.min(in_window.len())]
        .iter()
        .copied()
        .collect();
    let mut found: BTreeSet<(usize, usize)> = BTreeSet::new();
    let of_type = |ty: &str| -> Vec<usize> {
        in_window
            .iter()
            .copied()
            .filter(|&i| mentions[i].ty.to_lowercase() == ty)
            .collect()
    };
    let first_in_text = |i: usize, j: usize| {
        let (a, b) = (&mentions[i], &mentions[j]);
        if (a.start, a.end, i) <= (b.start, b.end, j) {
            (i, j)
        } else {
            (j, i)
        }
    };
    for (sa, sb) in pairs {
        let objects = of_type(sb);
        for i in of_type(sa) {
            for &j in &objects {
                let (a, b) = (&mentions[i], &mentions[j]);
                if i == j
                    || (a.start < b.end && b.start < a.end)
                    || !(anchored.contains(&i) || anchored.contains(&j))
                {
                    continue;
                }
                found.insert(if directed && sa != sb {
                    (i, j)
                } else {
                    first_in_text(i, j)
                });
            }
        }
    }
    let mut out: Vec<(usize, usize)> = found.into_iter().collect();
    let dropped = out.len().saturating_sub(cap);
    if dropped > 0 {
        let gap = |&(i, j): &(usize, usize)| {
            let (a, b) = (&mentions[i], &mentions[j]);
            a.start.max(b.start).saturating_sub(a.end.min(b.end))
        };
        out.sort_by_key(|p| (gap(p), *p));
        out.truncate(cap);
        out.sort_unstable();
    }
    (out, dropped)
}

/// The sentence (characters of `chars` in `s`) with the mentions `a` and `b` replaced by their
/// tags, and the characters the tags take in it, from the start of the first to the end of the
/// second.
pub fn tagged(
    chars: &[char],
    s: Sentence,
    a: (&Mention, &str),
    b: (&Mention, &str),
) -> (String, (usize, usize)) {
    let (first, second) = if a.0.start <= b.0.start {
        (a, b)
    } else {
        (b, a)
    };
    let piece = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
    let (f0, f1) = (first.0.start as usize, first.0.end as usize);
    let (s0, s1) = (second.0.start as usize, second.0.end as usize);
    let mut text = piece(s.start, f0);
    let tag_start = text.chars().count();
    text.push_str(first.1);
    text.push_str(&piece(f1, s0));
    text.push_str(second.1);
    let tag_end = text.chars().count();
    text.push_str(&piece(s1, s.end));
    (text, (tag_start, tag_end))
}

/// One input to classify.
struct Row {
    doc: usize,
    subject: usize,
    object: usize,
}

/// A passage with two mentions or more: its sentences (merged where a mention crosses a
/// boundary) and its mentions with the sentence of each, in order of sentence.
struct Passage {
    doc: usize,
    passage: usize,
    sentences: Vec<Sentence>,
    /// (sentence, mention index), sorted.
    mentions: Vec<(usize, usize)>,
}

impl Passage {
    /// Each window of `n` sentences that starts at a sentence with a mention and holds two
    /// mentions or more: the mentions of its first sentence, then the others, and how many are
    /// of the first sentence.
    fn windows(&self, n: usize) -> impl Iterator<Item = (Vec<usize>, usize)> + '_ {
        let ms = &self.mentions;
        let mut at = 0;
        std::iter::from_fn(move || {
            while at < ms.len() {
                let k = ms[at].0;
                let anchor = ms[at..].iter().take_while(|(s, _)| *s == k).count();
                let window: Vec<usize> = ms[at..]
                    .iter()
                    .take_while(|(s, _)| *s < k + n)
                    .map(|&(_, i)| i)
                    .collect();
                at += anchor;
                if window.len() >= 2 {
                    return Some((window, anchor));
                }
            }
            None
        })
    }

    /// The sentences from mention `ms[i]`'s to mention `ms[j]`'s (either order).
    fn span(&self, ms: &[Mention], i: usize, j: usize) -> Sentence {
        let of = |m: usize| {
            sentence_of(&self.sentences, ms[m].start as usize, ms[m].end as usize).unwrap_or(0)
        };
        let (a, b) = (of(i), of(j));
        Sentence {
            start: self.sentences[a.min(b)].start,
            end: self.sentences[a.max(b)].end,
        }
    }
}

/// The relations of each document among its `mentions` (as the annotator sorted them: the
/// relations refer to them by index), from every RE model. `sentences` are the sentences of
/// every passage of `docs`, in order (the split the NER inputs were cut from).
pub fn extract(
    models: &mut [ReModel],
    docs: &[&Document],
    sentences: &[Vec<Sentence>],
    mentions: &[Vec<Mention>],
    batch_tokens: usize,
    stats: &mut ReStats,
) -> Result<Vec<Vec<Relation>>, AnnotateError> {
    let mut passages: Vec<Passage> = Vec::new();
    let mut passage_chars: Vec<Vec<Vec<char>>> = Vec::with_capacity(docs.len());
    let mut flat = 0; // index of the passage in `sentences`
    for (d, doc) in docs.iter().enumerate() {
        let ms = &mentions[d];
        let mut chars_of = Vec::with_capacity(doc.passages.len());
        for (p, passage) in doc.passages.iter().enumerate() {
            let split_here = sentences.get(flat).ok_or(AnnotateError::NotPrepared)?;
            flat += 1;
            let here: Vec<usize> = (0..ms.len())
                .filter(|&i| ms[i].passage as usize == p)
                .collect();
            if here.len() < 2 {
                chars_of.push(Vec::new());
                continue;
            }
            chars_of.push(passage.text.chars().collect());
            let spans: Vec<(usize, usize)> = here
                .iter()
                .map(|&i| (ms[i].start as usize, ms[i].end as usize))
                .collect();
            let sentences = merge_around(split_here.clone(), &spans);
            let mut of: Vec<(usize, usize)> = here
                .iter()
                .filter_map(|&i| {
                    sentence_of(&sentences, ms[i].start as usize, ms[i].end as usize)
                        .map(|k| (k, i))
                })
                .collect();
            of.sort_unstable();
            stats.sentences += of
                .chunk_by(|a, b| a.0 == b.0)
                .filter(|c| c.len() >= 2)
                .count() as u64;
            passages.push(Passage {
                doc: d,
                passage: p,
                sentences,
                mentions: of,
            });
        }
        passage_chars.push(chars_of);
    }
    let mut out: Vec<Vec<Relation>> = vec![Vec::new(); docs.len()];
    for m in models.iter_mut() {
        let pairs: Vec<(String, String)> = m
            .settings
            .pairs
            .iter()
            .map(|[a, b]| (a.to_lowercase(), b.to_lowercase()))
            .collect();
        let mut rows: Vec<Row> = Vec::new();
        let mut inputs: Vec<Vec<u32>> = Vec::new();
        for pass in &passages {
            let ms = &mentions[pass.doc];
            for (window, anchor) in pass.windows(m.settings.sentences) {
                let (cands, dropped) = candidate_pairs(
                    ms,
                    &window,
                    anchor,
                    &pairs,
                    m.settings.directed,
                    m.settings.max_pairs,
                );
                if dropped > 0 {
                    stats.pairs_capped += dropped as u64;
                    tracing::debug!(model = %m.dir.name, dropped, "pairs over the per-sentence cap left out");
                }
                for (i, j) in cands {
                    let (ti, tj) = (m.settings.tag(&ms[i].ty), m.settings.tag(&ms[j].ty));
                    let (text, around) = tagged(
                        &passage_chars[pass.doc][pass.passage],
                        pass.span(ms, i, j),
                        (&ms[i], &ti),
                        (&ms[j], &tj),
                    );
                    match m.input_ids(&text, Some(around))? {
                        Some(ids) => {
                            rows.push(Row {
                                doc: pass.doc,
                                subject: i,
                                object: j,
                            });
                            inputs.push(ids);
                        }
                        None => stats.pairs_too_long += 1,
                    }
                }
            }
        }
        stats.pairs += rows.len() as u64;
        let probs = m.classify(&inputs, batch_tokens, stats)?;
        for (row, p) in rows.iter().zip(probs) {
            if let Some((k, score)) = m.best(&p)
                && score >= m.settings.threshold
            {
                let (subject, object) = if m.settings.directed {
                    (row.subject, row.object)
                } else {
                    canonical_order(&mentions[row.doc], row.subject, row.object, &pairs)
                };
                out[row.doc].push(Relation {
                    subject: subject as u32,
                    object: object as u32,
                    ty: m.relation_type(k),
                    score,
                    model: m.dir.name.clone(),
                });
            }
        }
    }
    for rels in &mut out {
        stats.relations += rels.len() as u64;
        rels.sort_by(|a, b| (a.subject, a.object, &a.model).cmp(&(b.subject, b.object, &b.model)));
    }
    Ok(out)
}

/// Where a settings file given on the command line is: `DIR=FILE` names one, `DIR` alone uses
/// `DIR/re.json`.
pub fn split_model_arg(arg: &Path) -> (PathBuf, Option<PathBuf>) {
    let s = arg.to_string_lossy();
    match s.rsplit_once('=') {
        Some((dir, file)) if !dir.is_empty() && !file.is_empty() && !arg.exists() => {
            (PathBuf::from(dir), Some(PathBuf::from(file)))
        }
        _ => (arg.to_path_buf(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(start: u32, end: u32, ty: &str) -> Mention {
        Mention {
            passage: 0,
            start,
            end,
            text: String::new(),
            ty: ty.into(),
            score: 1.0,
            model: "m".into(),
            concept: None,
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_lowercase(), b.to_lowercase()))
            .collect()
    }

    #[test]
    fn candidates_follow_types_and_direction() {
        // Disease at 0, Gene at 10, Chemical at 20, Gene at 30.
        let ms = vec![
            mention(0, 5, "Disease"),
            mention(10, 15, "Gene"),
            mention(20, 25, "Chemical"),
            mention(30, 35, "GENE"),
        ];
        let all = [0, 1, 2, 3];
        let (p, d) = candidate_pairs(&ms, &all, 4, &pairs(&[("Gene", "Disease")]), true, 10);
        assert_eq!((p, d), (vec![(1, 0), (3, 0)], 0));
        // Undirected: the subject is the first in the text, and both orders give one pair.
        let both = pairs(&[("Gene", "Disease"), ("Disease", "Gene")]);
        let (p, _) = candidate_pairs(&ms, &all, 4, &both, false, 10);
        assert_eq!(p, [(0, 1), (0, 3)]);
        // An undirected relation names its mentions in the configured types' order, then by
        // normal form.
        let gd = pairs(&[("Gene", "Disease")]);
        assert_eq!(canonical_order(&ms, 1, 0, &gd), (1, 0));
        assert_eq!(canonical_order(&ms, 0, 1, &gd), (1, 0));
        assert_eq!(canonical_order(&ms, 0, 1, &both), (1, 0));
        let named = |start, text: &str| Mention {
            text: text.into(),
            ..mention(start, start + 5, "Chemical")
        };
        let same = [named(0, "warfarin"), named(10, "Aspirin")];
        assert_eq!(canonical_order(&same, 0, 1, &gd), (1, 0));
        assert_eq!(canonical_order(&same, 1, 0, &gd), (1, 0));
        // One type: each two mentions once.
        let (p, _) = candidate_pairs(&ms, &all, 4, &pairs(&[("Gene", "Gene")]), true, 10);
        assert_eq!(p, [(1, 3)]);
        // Only the sentence's mentions.
        let (p, _) = candidate_pairs(&ms, &[0, 1], 2, &pairs(&[("Gene", "Disease")]), true, 10);
        assert_eq!(p, [(1, 0)]);
    }

    #[test]
    fn windows_of_sentences_pair_each_two_mentions_once() {
        // Sentences 0..10, 10..20, 20..30, 30..40; mentions in sentences 0, 0, 1 and 3.
        let ms = vec![
            mention(0, 5, "Chemical"),
            mention(6, 9, "Disease"),
            mention(12, 18, "Disease"),
            mention(31, 35, "Disease"),
        ];
        let pass = Passage {
            doc: 0,
            passage: 0,
            sentences: (0..4)
                .map(|k| Sentence {
                    start: k * 10,
                    end: k * 10 + 10,
                })
                .collect(),
            mentions: vec![(0, 0), (0, 1), (1, 2), (3, 3)],
        };
        let cd = pairs(&[("Chemical", "Disease")]);
        let all = |n: usize| -> Vec<(usize, usize)> {
            pass.windows(n)
                .flat_map(|(w, a)| candidate_pairs(&ms, &w, a, &cd, true, 10).0)
                .collect()
        };
        // One sentence: BioBERT's recipe, the pair of sentence 0 alone.
        assert_eq!(pass.windows(1).collect::<Vec<_>>(), [(vec![0, 1], 2)]);
        assert_eq!(all(1), [(0, 1)]);
        // Two: the adjacent sentence's mention too; sentence 3 is two away.
        assert_eq!(all(2), [(0, 1), (0, 2)]);
        assert_eq!(all(4), [(0, 1), (0, 2), (0, 3)]);
        // The input runs from the first mention's sentence to the second's.
        assert_eq!(pass.span(&ms, 0, 2), Sentence { start: 0, end: 20 });
        assert_eq!(pass.span(&ms, 3, 0), Sentence { start: 0, end: 40 });
        // A window's pairs need a mention of its first sentence: with four sentences, sentence
        // 0's window holds every mention, yet the Diseases of sentences 1 and 3 are paired in
        // sentence 1's window only.
        let dd = pairs(&[("Disease", "Disease")]);
        let both: Vec<(usize, usize)> = pass
            .windows(4)
            .flat_map(|(w, a)| candidate_pairs(&ms, &w, a, &dd, false, 10).0)
            .collect();
        assert_eq!(both, [(1, 2), (1, 3), (2, 3)]);
    }

    #[test]
    fn cap_keeps_the_nearest_pairs_and_counts_the_rest() {
        let ms = vec![
            mention(0, 5, "Chemical"),
            mention(7, 10, "Gene"),
            mention(50, 55, "Gene"),
            mention(90, 95, "Gene"),
        ];
        let (p, d) = candidate_pairs(
            &ms,
            &[0, 1, 2, 3],
            4,
            &pairs(&[("Chemical", "Gene")]),
            true,
            2,
        );
        assert_eq!((p, d), (vec![(0, 1), (0, 2)], 1));
    }

    #[test]
    fn overlapping_mentions_are_not_paired() {
        let ms = vec![mention(0, 10, "Gene"), mention(5, 12, "Disease")];
        let (p, _) = candidate_pairs(&ms, &[0, 1], 2, &pairs(&[("Gene", "Disease")]), true, 10);
        assert!(p.is_empty());
    }

    #[test]
    fn tags_replace_the_pair_only() {
        let text = "So, BRCA1 and TP53 raise breast cancer risk.";
        let chars: Vec<char> = text.chars().collect();
        let s = Sentence {
            start: 4,
            end: chars.len(),
        };
        let gene = mention(14, 18, "Gene");
        let disease = mention(25, 38, "Disease");
        let (t, around) = tagged(&chars, s, (&disease, "@DISEASE$"), (&gene, "@GENE$"));
        assert_eq!(t, "BRCA1 and @GENE$ raise @DISEASE$ risk.");
        assert_eq!(around, (10, 32));
        let settings = ReSettings::new(&[["Gene", "Disease"]]);
        assert_eq!(settings.tag("gene"), "@GENE$");
        let mut custom = settings.clone();
        custom.tags.insert("Disease".into(), "@DIS$".into());
        assert_eq!(custom.tag("DISEASE"), "@DIS$");
        assert_eq!(
            tag_span("x @GENE$ y @DIS$ z", &["@GENE$".into(), "@DIS$".into()]),
            Some((2, 16))
        );
    }

    #[test]
    fn windows_never_cut_the_pair() {
        assert_eq!(window_around(10, 2, 5, 126), Some((0, 10)));
        // Centred on the pair.
        assert_eq!(window_around(300, 100, 109, 20), Some((95, 115)));
        // Against either end.
        assert_eq!(window_around(300, 1, 4, 20), Some((0, 20)));
        assert_eq!(window_around(300, 290, 299, 20), Some((280, 300)));
        // The pair alone is too long.
        assert_eq!(window_around(300, 10, 40, 20), None);
        for (first, last) in [(0, 0), (7, 19), (250, 260), (280, 299)] {
            let (s, e) = window_around(300, first, last, 20).unwrap();
            assert!(s <= first && last < e && e - s == 20 && e <= 300);
        }
    }

    #[test]
    fn settings_file() {
        let dir = std::env::temp_dir().join(format!("pubmine-re-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("re.json");
        std::fs::write(
            &f,
            r#"{"pairs": [["Chemical", "Gene"]], "threshold": 0.7, "negative": "false"}"#,
        )
        .unwrap();
        let s = ReSettings::read(&f).unwrap();
        assert_eq!(s.pairs, [["Chemical".to_string(), "Gene".to_string()]]);
        assert_eq!((s.threshold, s.max_len, s.directed), (0.7, 128, true));
        std::fs::write(&f, r#"{"pairs": [["A", "B"]], "treshold": 0.7}"#).unwrap();
        assert!(
            ReSettings::read(&f)
                .unwrap_err()
                .to_string()
                .contains("treshold")
        );
        std::fs::write(&f, r#"{"pairs": []}"#).unwrap();
        assert!(ReSettings::read(&f).is_err());
        std::fs::write(&f, r#"{"pairs": [["A", "B"]], "sentences": 0}"#).unwrap();
        assert!(
            ReSettings::read(&f)
                .unwrap_err()
                .to_string()
                .contains("\"sentences\" 0")
        );
        std::fs::write(&f, r#"{"pairs": [["A", "B"]], "sentences": 2}"#).unwrap();
        assert_eq!(ReSettings::read(&f).unwrap().sentences, 2);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            split_model_arg(Path::new("models/x=my.json")),
            (PathBuf::from("models/x"), Some(PathBuf::from("my.json")))
        );
        assert_eq!(
            split_model_arg(Path::new("models/x")),
            (PathBuf::from("models/x"), None)
        );
    }
}
