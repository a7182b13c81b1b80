//! A token-classification model's labels (`config.json` `id2label`), checked to be BIO/IOB2.

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
}

impl LabelSet {
    /// Reads `id2label` (keys are the output indices, as strings in `config.json`).
    pub fn from_id2label(map: &BTreeMap<usize, String>) -> Result<Self, LabelError> {
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
            } else if let Some(t) = label.strip_prefix("B-").filter(|t| !t.is_empty()) {
                Tag::B(type_index(t))
            } else if let Some(t) = label.strip_prefix("I-").filter(|t| !t.is_empty()) {
                Tag::I(type_index(t))
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
        let mut gap = map(&["O", "B-X"]);
        gap.insert(5, "I-X".into());
        assert!(matches!(
            LabelSet::from_id2label(&gap),
            Err(LabelError::Gap { .. })
        ));
    }
}
