//! A model: its directory in the Hugging Face layout, checked at start-up (this file:
//! `model.onnx`, `config.json` with `id2label`, `max_position_embeddings` and `model_type`, and
//! `tokenizer.json` or a BERT WordPiece `vocab.txt`; every problem is reported with the file it
//! is about), the [`backend::Backend`] that runs its graph ([`session`]: ONNX Runtime), the heads
//! of a multi-head model ([`heads`]), and opening every model a command names ([`open`]).

pub mod backend;
pub mod heads;
pub mod open;
pub mod session;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokenizers::Tokenizer;

use crate::text::labels::LabelError;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "{path}: missing (a model directory needs model.onnx, config.json and tokenizer.json or vocab.txt)"
    )]
    Missing { path: PathBuf },
    #[error("failed to read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    // the label error is part of this message, not a source: error chains would print it twice
    #[error("{path}: {error}")]
    Labels { path: PathBuf, error: LabelError },
    #[error("{path}: failed to load the tokenizer: {reason}")]
    Tokenizer { path: PathBuf, reason: String },
}

/// The fields of `config.json` pubmine uses.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelConfig {
    #[serde(default)]
    pub model_type: Option<String>,
    pub id2label: BTreeMap<String, String>,
    #[serde(default = "default_max_positions")]
    pub max_position_embeddings: usize,
    #[serde(default)]
    pub pad_token_id: Option<u32>,
    /// Rows of the model's token embeddings: no token id of its tokenizer may reach it.
    #[serde(default)]
    pub vocab_size: Option<usize>,
}

fn default_max_positions() -> usize {
    512
}

/// A loaded model directory, before any ONNX session is made.
#[derive(Debug, Clone)]
pub struct ModelDir {
    pub path: PathBuf,
    /// The directory's name: how annotations name the model.
    pub name: String,
    pub config: ModelConfig,
    pub id2label: BTreeMap<usize, String>,
    /// sha256 of model.onnx, config.json and the tokenizer file, hex.
    pub hash: String,
    pub tokenizer: Tokenizer,
    /// Which tokenizer file was used.
    pub tokenizer_file: PathBuf,
    /// sha256 of the tokenizer file: models with equal ones share the tokenization.
    pub tokenizer_hash: String,
    /// Token ids of the special tokens.
    pub cls_id: u32,
    pub sep_id: u32,
    pub pad_id: u32,
    pub unk_id: Option<u32>,
}

impl ModelDir {
    pub fn onnx_path(&self) -> PathBuf {
        self.path.join("model.onnx")
    }

    /// Passage tokens a window of `max_len` holds: that length (at most the model's positions)
    /// less `[CLS]` and `[SEP]`.
    pub fn window_body(&self, max_len: usize) -> usize {
        max_len
            .min(self.config.max_position_embeddings)
            .saturating_sub(2)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read(path: &Path) -> Result<Vec<u8>, ModelError> {
    if !path.exists() {
        return Err(ModelError::Missing {
            path: path.to_path_buf(),
        });
    }
    std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads and checks the model directory at `dir`.
pub fn load(dir: &Path) -> Result<ModelDir, ModelError> {
    let onnx = dir.join("model.onnx");
    let config_path = dir.join("config.json");
    let onnx_bytes = read(&onnx)?;
    let config_bytes = read(&config_path)?;
    let config: ModelConfig =
        serde_json::from_slice(&config_bytes).map_err(|e| ModelError::Invalid {
            path: config_path.clone(),
            reason: e.to_string(),
        })?;
    let mut id2label = BTreeMap::new();
    for (k, v) in &config.id2label {
        let id: usize = k.parse().map_err(|_| ModelError::Invalid {
            path: config_path.clone(),
            reason: format!("id2label key {k:?} is not a number"),
        })?;
        id2label.insert(id, v.clone());
    }
    if id2label.is_empty() {
        return Err(ModelError::Invalid {
            path: config_path,
            reason: "id2label is empty".into(),
        });
    }
    let (tokenizer, tokenizer_file) = load_tokenizer(dir)?;
    let tok_bytes = read(&tokenizer_file)?;
    let mut h = Sha256::new();
    for part in [&onnx_bytes, &config_bytes, &tok_bytes] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    let hash = hex(&h.finalize());
    let tokenizer_hash = hex(&Sha256::digest(&tok_bytes));
    let special = |t: &str| {
        tokenizer
            .token_to_id(t)
            .ok_or_else(|| ModelError::Tokenizer {
                path: tokenizer_file.clone(),
                reason: format!("no {t} token in the vocabulary"),
            })
    };
    // A tokenizer of another model gives ids past the model's embeddings, which would fail
    // only at the first batch that holds one.
    let tokens = tokenizer.get_vocab_size(true);
    if let Some(rows) = config.vocab_size
        && tokens > rows
    {
        return Err(ModelError::Tokenizer {
            path: tokenizer_file.clone(),
            reason: format!(
                "{tokens} tokens, more than the {rows} of the model (vocab_size in config.json): \
                 the tokenizer does not belong to this model"
            ),
        });
    }
    let unk_id = tokenizer.token_to_id("[UNK]");
    let cls_id = special("[CLS]")?;
    let sep_id = special("[SEP]")?;
    let pad_id = match config.pad_token_id {
        Some(p) => p,
        None => special("[PAD]")?,
    };
    let name = dir
        .canonicalize()
        .unwrap_or_else(|_| dir.to_path_buf())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    Ok(ModelDir {
        path: dir.to_path_buf(),
        name,
        config,
        id2label,
        hash,
        tokenizer,
        tokenizer_file,
        tokenizer_hash,
        cls_id,
        sep_id,
        pad_id,
        unk_id,
    })
}

/// `tokenizer.json` when present, else a BERT WordPiece tokenizer over `vocab.txt` (cased unless
/// `tokenizer_config.json` says `do_lower_case`). Truncation and padding are switched off:
/// windows are cut by pubmine, never by the tokenizer.
fn load_tokenizer(dir: &Path) -> Result<(Tokenizer, PathBuf), ModelError> {
    let json = dir.join("tokenizer.json");
    let vocab = dir.join("vocab.txt");
    let bad = |path: &Path, e: &dyn std::fmt::Display| ModelError::Tokenizer {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let (mut tok, file) = if json.exists() {
        (
            Tokenizer::from_file(&json).map_err(|e| bad(&json, &e))?,
            json,
        )
    } else if vocab.exists() {
        let lower = std::fs::read(dir.join("tokenizer_config.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("do_lower_case").and_then(|l| l.as_bool()))
            .unwrap_or(false);
        (
            wordpiece(&vocab, lower).map_err(|e| bad(&vocab, &e))?,
            vocab,
        )
    } else {
        return Err(ModelError::Missing { path: json });
    };
    tok.with_truncation(None).map_err(|e| bad(&file, &e))?;
    tok.with_padding(None);
    Ok((tok, file))
}

fn wordpiece(vocab: &Path, lowercase: bool) -> tokenizers::Result<Tokenizer> {
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::normalizers::bert::BertNormalizer;
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
    let model = WordPiece::from_file(&vocab.to_string_lossy())
        .unk_token("[UNK]".into())
        .continuing_subword_prefix("##".into())
        .build()?;
    let mut tok = Tokenizer::new(model);
    tok.with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)))?;
    tok.with_pre_tokenizer(Some(BertPreTokenizer));
    Ok(tok)
}
