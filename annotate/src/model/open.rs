//! Opening the models a stage runs, from what a user gives on the command line: the one place
//! that turns model arguments into an [`Annotator`], for `pubmine annotate` and any other
//! command that annotates.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::annotator::Annotator;
use crate::error::AnnotateError;
use crate::model::session::SessionOptions;
use crate::ner::{NerModel, NerOptions, split_entity_type};
use crate::normalize::VocabSpec;
use crate::re::{ReModel, ReSettings, split_model_arg};

/// The models to open and how to run them.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// NER model directories, each `DIR` or `DIR=TYPE` (the entity type of bare B/I/O labels).
    pub ner: Vec<PathBuf>,
    /// RE model directories, each `DIR` or `DIR=SETTINGS.json`.
    pub re: Vec<PathBuf>,
    pub options: NerOptions,
    pub session: SessionOptions,
    /// The vocabularies mentions are normalized with.
    pub vocab: VocabSpec,
    /// The fallback matcher's threshold ([`crate::normalize::Normalizer::with_fuzzy`]); `None`
    /// turns it off.
    pub fuzzy_threshold: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("failed to open model {}", .dir.display())]
    Ner {
        dir: PathBuf,
        #[source]
        source: AnnotateError,
    },
    #[error("failed to read the settings of RE model {}", .dir.display())]
    ReSettings {
        dir: PathBuf,
        #[source]
        source: AnnotateError,
    },
    #[error(
        "input settings are given for model {name:?}, but no NER model's directory is named so"
    )]
    UnknownModel { name: String },
    #[error("failed to load the vocabularies")]
    Vocab(#[source] pubmine_vocab::VocabError),
    #[error("failed to open RE model {}", .dir.display())]
    Re {
        dir: PathBuf,
        #[source]
        source: AnnotateError,
    },
}

impl pubmine_stream::error::Classify for OpenError {
    /// Models and vocabularies that do not open are a configuration to fix, not a fault to wait
    /// out.
    fn class(&self) -> pubmine_stream::error::ErrorClass {
        pubmine_stream::error::ErrorClass::Fatal
    }
}

/// Opens every model of `spec`, logging what was loaded; an RE model whose entity types no NER
/// model finds is opened with a warning (it will see no such pairs).
pub fn open_annotator(spec: &ModelSpec) -> Result<Annotator, OpenError> {
    let mut models = Vec::with_capacity(spec.ner.len());
    for arg in &spec.ner {
        let (dir, entity_type) = split_entity_type(arg);
        let m = NerModel::open_typed(&dir, entity_type.as_deref(), spec.session, &spec.options)
            .map_err(|source| OpenError::Ner { dir, source })?;
        tracing::info!(model = %m.dir.name, hash = %&m.dir.hash[..12], types = ?m.types(), heads = m.heads.len(), "model loaded");
        models.push(m);
    }
    for (name, _) in &spec.options.per_model {
        if !models.iter().any(|m| &m.dir.name == name) {
            return Err(OpenError::UnknownModel { name: name.clone() });
        }
    }
    let types: BTreeSet<String> = models
        .iter()
        .flat_map(NerModel::types)
        .map(|t| t.to_lowercase())
        .collect();
    let mut relation_models = Vec::with_capacity(spec.re.len());
    for arg in &spec.re {
        let (dir, settings_file) = split_model_arg(arg);
        let settings = match settings_file.map(|f| ReSettings::read(&f)).transpose() {
            Ok(s) => s,
            Err(source) => return Err(OpenError::ReSettings { dir, source }),
        };
        let m = ReModel::open(&dir, settings, spec.session)
            .map_err(|source| OpenError::Re { dir, source })?;
        for [a, b] in &m.settings.pairs {
            for t in [a, b] {
                if !types.contains(&t.to_lowercase()) {
                    tracing::warn!(model = %m.dir.name, r#type = %t, "no NER model finds this entity type: the RE model will see no such pairs");
                }
            }
        }
        tracing::info!(model = %m.dir.name, hash = %&m.dir.hash[..12], pairs = ?m.settings.pairs, labels = ?m.labels, negative = %m.labels[m.negative], threshold = m.settings.threshold, "RE model loaded");
        relation_models.push(m);
    }
    let normalizer = spec
        .vocab
        .load()
        .map_err(OpenError::Vocab)?
        .map(|n| n.with_fuzzy(spec.fuzzy_threshold));
    if let Some(n) = &normalizer {
        for v in n.vocabularies() {
            tracing::info!(vocabulary = %v.meta.name, hash = %&v.hash[..12], concepts = v.meta.concepts, "vocabulary loaded");
        }
    }
    Ok(Annotator::new(models, &spec.options)
        .with_relations(relation_models)
        .with_normalizer(normalizer))
}
