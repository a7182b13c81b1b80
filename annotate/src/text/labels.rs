//! A token-classification model's labels (`config.json` `id2label`), checked to be BIO/IOB2.
//!
//! Labels name their entity type (`B-Disease`, `I-Disease`), or, in single-type checkpoints such
//! as the original BioBERT NER fine-tunes, are bare `B`, `I` and `O`: the type of those comes
//! from the user (`--model DIR=TYPE`).

use std::collections::BTreeMap;

/// One label: outside, or the beginning or inside of an entity of type `types[t]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    O,
    B(usize),
    I(usize),
}

/// The labels of a NER model, by output index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSet {
    /// Label names as the model gives them (`B-Disease`), by index.
    pub names: Vec<String>,
    pub tags: Vec<Tag>,
    /// Entity types, in order of first appearance (`Disease`).
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("id2label is empty")]
    Empty,
    #[error("id2label ids are not 0..{n}: id {id} is missing")]
    Gap { n: usize, id: usize },
    #[error("label {label:?} (id {id}) is not BIO-shaped: expected O, B-<type> or I-<type>")]
    NotBio { id: usize, label: String },
    #[error("no O label among {0:?}")]
    NoOutside(Vec<String>),
    #[error(
        "labels {labels:?} name no entity type (bare B/I, as single-type BioBERT checkpoints have): say which type the model finds, e.g. --model DIR=Disease"
    )]
    Untyped { labels: Vec<String> },
    #[error(
        "entity type {given:?} was given, but the labels already name their types ({types:?}); give the type only for a model whose labels are bare B/I/O"
    )]
    TypeGiven { given: String, types: Vec<String> },
    #[error("entity type {0:?} is not a name: it must be non-empty, without spaces")]
    BadType(String),
}

impl LabelSet {
    /// Reads `id2label` (keys are the output indices, as strings in `config.json`).
    pub fn from_id2label(map: &BTreeMap<usize, String>) -> Result<Self, LabelError> {
        Self::with_entity_type(map, None)
    }

    /// Reads `id2label`; `entity_type` is the type of bare `B` and `I` labels, and is required
    /// when there are such labels and refused when there are none.
    pub fn with_entity_type(
        map: &BTreeMap<usize, String>,
        entity_type: Option<&str>,
    ) -> Result<Self, LabelError> {
        if let Some(t) = entity_type
            && (t.is_empty() || t.chars().any(char::is_whitespace))
        {
            return Err(LabelError::BadType(t.to_string()));
        }
        if map.is_empty() {
            return Err(LabelError::Empty);
        }
        let n = map.len();
        let mut names = Vec::with_capacity(n);
        for id in 0..n {
            names.push(map.get(&id).cloned().ok_or(LabelError::Gap { n, id })?);
        }
        let mut types: Vec<String> = Vec::new();
        let mut type_index = |t: &str| match types.iter().position(|x| x == t) {
            Some(i) => i,
            None => {
                types.push(t.to_string());
                types.len() - 1
            }
        };
        let mut tags = Vec::with_capacity(n);
        for (id, label) in names.iter().enumerate() {
            let tag = if label == "O" {
                Tag::O
            } else if let (Some(t), "B" | "I") = (entity_type, label.as_str()) {
                let t = type_index(t);
                if label == "B" { Tag::B(t) } else { Tag::I(t) }
            } else if let Some(t) = label.strip_prefix("B-").filter(|t| !t.is_empty()) {
                Tag::B(type_index(t))
            } else if let Some(t) = label.strip_prefix("I-").filter(|t| !t.is_empty()) {
                Tag::I(type_index(t))
            } else if label == "B" || label == "I" {
                return Err(LabelError::Untyped {
                    labels: names.clone(),
                });
            } else {
                return Err(LabelError::NotBio {
                    id,
                    label: label.clone(),
                });
            };
            tags.push(tag);
        }
        if !tags.contains(&Tag::O) {
            return Err(LabelError::NoOutside(names));
        }
        if let Some(given) = entity_type
            && !names.iter().any(|l| l == "B" || l == "I")
        {
            return Err(LabelError::TypeGiven {
                given: given.to_string(),
                types,
            });
        }
        Ok(LabelSet { names, tags, types })
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(labels: &[&str]) -> BTreeMap<usize, String> {
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i, l.to_string()))
            .collect()
    }

    #[test]
    fn reads_bio_labels() {
        let l = LabelSet::from_id2label(&map(&["O", "B-Disease", "I-Disease", "B-Gene", "I-Gene"]))
            .unwrap();
        assert_eq!(l.types, ["Disease", "Gene"]);
        assert_eq!(l.tags[3], Tag::B(1));
        assert_eq!(l.tags[2], Tag::I(0));
    }

    #[test]
    fn refuses_what_is_not_bio() {
        assert!(matches!(
            LabelSet::from_id2label(&map(&["O", "S-Gene"])),
            Err(LabelError::NotBio { id: 1, .. })
        ));
        assert!(matches!(
            LabelSet::from_id2label(&map(&["LABEL_0", "LABEL_1"])),
            Err(LabelError::NotBio { .. })
        ));
        assert!(matches!(
            LabelSet::from_id2label(&map(&["B-X", "I-X"])),
            Err(LabelError::NoOutside(_))
        ));
        assert!(matches!(
            LabelSet::from_id2label(&map(&["B-X", "I-X", "O", "B"])),
            Err(LabelError::Untyped { .. })
        ));
        let mut gap = map(&["O", "B-X"]);
        gap.insert(5, "I-X".into());
        assert!(matches!(
            LabelSet::from_id2label(&gap),
            Err(LabelError::Gap { .. })
        ));
    }

    /// Single-type BioBERT checkpoints: id2label {0: "B", 1: "I", 2: "O"}.
    #[test]
    fn bare_labels_take_the_given_type() {
        let bare = map(&["B", "I", "O"]);
        let l = LabelSet::with_entity_type(&bare, Some("Disease")).unwrap();
        assert_eq!(l.types, ["Disease"]);
        assert_eq!(l.tags, [Tag::B(0), Tag::I(0), Tag::O]);
        assert_eq!(l.names, ["B", "I", "O"]);
        // without a type: a start-up error that says what to do
        let err = LabelSet::from_id2label(&bare).unwrap_err();
        assert!(matches!(err, LabelError::Untyped { .. }));
        assert!(err.to_string().contains("--model DIR=Disease"), "{err}");
        // still BIO-checked with a type
        assert!(matches!(
            LabelSet::with_entity_type(&map(&["B", "I", "O", "X"]), Some("Gene")),
            Err(LabelError::NotBio { id: 3, .. })
        ));
        assert!(matches!(
            LabelSet::with_entity_type(&map(&["B", "I"]), Some("Gene")),
            Err(LabelError::NoOutside(_))
        ));
        assert!(matches!(
            LabelSet::with_entity_type(&bare, Some("")),
            Err(LabelError::BadType(_))
        ));
    }

    #[test]
    fn a_type_for_typed_labels_is_refused() {
        let err = LabelSet::with_entity_type(&map(&["O", "B-Gene", "I-Gene"]), Some("Disease"))
            .unwrap_err();
        assert_eq!(
            err,
            LabelError::TypeGiven {
                given: "Disease".into(),
                types: vec!["Gene".into()]
            }
        );
        // a bare B beside typed labels takes the given type; typed ones keep theirs
        let l = LabelSet::with_entity_type(&map(&["O", "B", "I", "B-Gene", "I-Gene"]), Some("X"))
            .unwrap();
        assert_eq!(l.types, ["X", "Gene"]);
    }
}
