//! The heads of a token-classification model: one label set per head, read off one graph.
//!
//! A single-type model (every BioBERT NER checkpoint) has one head: its whole `id2label`, named as
//! its directory. A multi-head model (`models/train_ner_multi.py`: one encoder, a linear layer per
//! entity type, their logits concatenated into the one output `logits`) lists the heads' labels one
//! after the other in `id2label`, and its `ner.json` names each head's range of them:
//! `"heads": [{"name": "disease", "labels": [0, 3]}, {"name": "chemical", "labels": [3, 6]}]`.
//! Each head is softmaxed and decoded on its own, and its mentions name the model and the head as
//! `<directory>/<head>`: the name its [`pubmine_stream::record::ModelRef`] carries, so that a
//! head's mentions are replaced, replayed and exported as a model's are.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::text::labels::{LabelError, LabelSet};

/// One head as `ner.json` names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadSetting {
    pub name: String,
    /// `[first, end)`: the head's labels in `id2label`.
    pub labels: [usize; 2],
}

/// One head of a model, ready to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NerHead {
    /// What its mentions name as their model: the directory's name, or `<directory>/<head>`.
    pub name: String,
    pub labels: LabelSet,
    /// Its labels' positions in the model's logits.
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error(
        "id2label has {0} O labels, as a model with several heads has, but ner.json names no \"heads\""
    )]
    Unnamed(usize),
    #[error(
        "the heads' label ranges must follow one another from 0 to the {labels} labels of id2label; head {head:?} has [{first}, {end}) where [{expected}, ..) comes next"
    )]
    Ranges {
        head: String,
        first: usize,
        end: usize,
        expected: usize,
        labels: usize,
    },
    #[error(
        "the heads' ranges end at label {end}, but id2label (and the graph's logits) have {labels}"
    )]
    Short { end: usize, labels: usize },
    #[error("head name {0:?}: a name must be non-empty, without '/' or spaces, and named once")]
    Name(String),
    #[error("head {head:?}: {error}")]
    Labels { head: String, error: LabelError },
    #[error(
        "an entity type is given for a model with several heads: their labels name their types"
    )]
    TypeGiven,
    #[error("no head {name:?}: the model's heads are {heads:?}")]
    NoSuchHead { name: String, heads: Vec<String> },
}

/// The heads of a model named `model` whose labels are `id2label`, as `settings` (ner.json's
/// `heads`) cut them; `entity_type` is the type of bare B/I labels (single-head only); `only`
/// keeps one head by name.
pub fn heads(
    model: &str,
    id2label: &BTreeMap<usize, String>,
    settings: Option<&[HeadSetting]>,
    entity_type: Option<&str>,
    only: Option<&str>,
) -> Result<Vec<NerHead>, HeadError> {
    let Some(settings) = settings else {
        let outside = id2label.values().filter(|l| *l == "O").count();
        if outside > 1 {
            return Err(HeadError::Unnamed(outside));
        }
        let labels = LabelSet::with_entity_type(id2label, entity_type).map_err(|error| {
            HeadError::Labels {
                head: model.to_string(),
                error,
            }
        })?;
        let head = NerHead {
            name: model.to_string(),
            range: 0..labels.len(),
            labels,
        };
        return match only {
            Some(name) => Err(HeadError::NoSuchHead {
                name: name.to_string(),
                heads: Vec::new(),
            }),
            None => Ok(vec![head]),
        };
    };
    if entity_type.is_some() {
        return Err(HeadError::TypeGiven);
    }
    let mut out: Vec<NerHead> = Vec::with_capacity(settings.len());
    let mut next = 0;
    for h in settings {
        let bad_name = h.name.is_empty()
            || h.name.contains('/')
            || h.name.chars().any(char::is_whitespace)
            || settings.iter().filter(|o| o.name == h.name).count() > 1;
        if bad_name {
            return Err(HeadError::Name(h.name.clone()));
        }
        let [first, end] = h.labels;
        if first != next || end <= first || end > id2label.len() {
            return Err(HeadError::Ranges {
                head: h.name.clone(),
                first,
                end,
                expected: next,
                labels: id2label.len(),
            });
        }
        let own: BTreeMap<usize, String> = (first..end)
            .filter_map(|i| id2label.get(&i).map(|l| (i - first, l.clone())))
            .collect();
        let labels = LabelSet::with_entity_type(&own, None).map_err(|error| HeadError::Labels {
            head: h.name.clone(),
            error,
        })?;
        out.push(NerHead {
            name: format!("{model}/{}", h.name),
            labels,
            range: first..end,
        });
        next = end;
    }
    if next != id2label.len() {
        return Err(HeadError::Short {
            end: next,
            labels: id2label.len(),
        });
    }
    if let Some(name) = only {
        let all: Vec<String> = settings.iter().map(|h| h.name.clone()).collect();
        let i = all
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| HeadError::NoSuchHead {
                name: name.to_string(),
                heads: all.clone(),
            })?;
        return Ok(vec![out.swap_remove(i)]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id2label(labels: &[&str]) -> BTreeMap<usize, String> {
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i, l.to_string()))
            .collect()
    }

    fn head(name: &str, a: usize, b: usize) -> HeadSetting {
        HeadSetting {
            name: name.into(),
            labels: [a, b],
        }
    }

    const TWO: &[&str] = &[
        "O",
        "B-Disease",
        "I-Disease",
        "O",
        "B-Chemical",
        "I-Chemical",
    ];

    #[test]
    fn one_head_is_the_whole_label_set_named_as_the_model() {
        let h = heads("m", &id2label(&["O", "B-Gene", "I-Gene"]), None, None, None).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].name, "m");
        assert_eq!(h[0].range, 0..3);
        assert_eq!(h[0].labels.types, ["Gene"]);
        let bare = heads("m", &id2label(&["O", "B", "I"]), None, Some("Gene"), None).unwrap();
        assert_eq!(bare[0].labels.types, ["Gene"]);
    }

    #[test]
    fn heads_cut_the_labels_into_their_ranges() {
        let s = [head("disease", 0, 3), head("chemical", 3, 6)];
        let h = heads("multi", &id2label(TWO), Some(&s), None, None).unwrap();
        assert_eq!(
            h.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(),
            ["multi/disease", "multi/chemical"]
        );
        assert_eq!(h[1].range, 3..6);
        assert_eq!(h[1].labels.types, ["Chemical"]);
        assert_eq!(h[1].labels.names, ["O", "B-Chemical", "I-Chemical"]);
        let one = heads("multi", &id2label(TWO), Some(&s), None, Some("chemical")).unwrap();
        assert_eq!(one, vec![h[1].clone()]);
    }

    #[test]
    fn settings_that_disagree_with_the_labels_are_refused() {
        let labels = id2label(TWO);
        let err = |s: &[HeadSetting]| heads("m", &labels, Some(s), None, None).unwrap_err();
        assert_eq!(
            heads("m", &labels, None, None, None),
            Err(HeadError::Unnamed(2))
        );
        assert!(matches!(
            err(&[head("a", 0, 3), head("b", 4, 6)]),
            HeadError::Ranges { expected: 3, .. }
        ));
        assert!(matches!(
            err(&[head("a", 0, 3), head("b", 3, 7)]),
            HeadError::Ranges { end: 7, .. }
        ));
        assert_eq!(
            err(&[head("a", 0, 3)]),
            HeadError::Short { end: 3, labels: 6 }
        );
        assert!(matches!(
            err(&[head("a", 0, 4), head("b", 4, 6)]),
            HeadError::Labels { head, error: LabelError::NoOutside(_) } if head == "b"
        ));
        assert_eq!(
            err(&[head("a", 0, 3), head("a", 3, 6)]),
            HeadError::Name("a".into())
        );
        assert_eq!(
            err(&[head("a/b", 0, 3), head("c", 3, 6)]),
            HeadError::Name("a/b".into())
        );
        let s = [head("a", 0, 3), head("b", 3, 6)];
        assert_eq!(
            heads("m", &labels, Some(&s), Some("Gene"), None),
            Err(HeadError::TypeGiven)
        );
        assert!(matches!(
            heads("m", &labels, Some(&s), None, Some("c")),
            Err(HeadError::NoSuchHead { .. })
        ));
    }
}
