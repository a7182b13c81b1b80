//! From an annotated document to its one tantivy document: the mentions with their snippets,
//! and the fields that search, filters and facets read. Pure, no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use pubmine_stream::record::{Annotations, Document};
use pubmine_stream::transport::Origin;
use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;
use tantivy::schema::{Facet, OwnedValue};

use crate::schema::{Fields, concept_facet, normalize, type_key};

/// Characters of context on each side of a mention in its snippet.
pub const SNIPPET_CONTEXT: usize = 60;

/// A mention as the index stores it (and search returns it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMention {
    /// Index of the passage in the document's `passages`.
    pub passage: u32,
    /// The passage's kind (`title`, `abstract`, `paragraph`, ...), when the record carried the
    /// document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passage_kind: Option<String>,
    /// Offsets in Unicode characters within the passage, as in the annotations.
    pub start: u32,
    pub end: u32,
    pub text: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// The normal form (see [`crate::schema::normalize`]).
    pub normalized: String,
    pub score: f32,
    pub model: String,
    /// The concept id the mention was normalized to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<String>,
    /// The concept's preferred name: searched as the mention's text too, so a search for a
    /// concept's name finds its mentions under other names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept_name: Option<String>,
    /// For a short form the document defines, its long form: searched as the mention's text
    /// too, so a search for the long form finds the papers that write the short form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_form: Option<String>,
    /// The passage text around the mention, about [`SNIPPET_CONTEXT`] characters each side, cut
    /// at word boundaries, `…` where it was cut.
    pub snippet: String,
    /// Where the mention lies in `snippet`, in Unicode characters.
    pub snippet_start: u32,
    pub snippet_end: u32,
}

/// The mentions of `annotations`, with snippets from its document's passages.
pub fn mentions_of(annotations: &Annotations) -> Vec<StoredMention> {
    let doc = annotations.document.as_deref();
    // Short form -> long form, as first defined.
    let mut long_forms: HashMap<&str, &str> = HashMap::new();
    for a in &annotations.abbreviations {
        long_forms
            .entry(a.short.as_str())
            .or_insert(a.long.as_str());
    }
    // Character boundaries of each passage that holds a mention, computed once per passage.
    let mut bounds: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    annotations
        .mentions
        .iter()
        .map(|m| {
            let passage = doc.and_then(|d| d.passages.get(m.passage as usize));
            let (snippet, snippet_start, snippet_end) = match passage {
                Some(p) => {
                    let b = bounds
                        .entry(m.passage)
                        .or_insert_with(|| char_bounds(&p.text));
                    snippet(&p.text, b, m.start as usize, m.end as usize)
                }
                None => None,
            }
            .unwrap_or_else(|| (m.text.clone(), 0, m.text.chars().count() as u32));
            StoredMention {
                passage: m.passage,
                passage_kind: passage.map(|p| p.kind.as_str().to_owned()),
                start: m.start,
                end: m.end,
                text: m.text.clone(),
                ty: m.ty.clone(),
                normalized: normalize(&m.text),
                score: m.score,
                model: m.model.clone(),
                concept: m.concept.as_ref().map(|c| c.id.clone()),
                concept_name: m.concept.as_ref().map(|c| c.name.clone()),
                long_form: long_forms.get(m.text.as_str()).map(|l| (*l).to_owned()),
                snippet,
                snippet_start,
                snippet_end,
            }
        })
        .collect()
}

/// Byte offsets of the character boundaries of `text` (one more than its characters).
fn char_bounds(text: &str) -> Vec<usize> {
    let mut b: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    b.push(text.len());
    b
}

/// The snippet around characters `start..end`; `None` when the offsets do not fit the text.
fn snippet(text: &str, bounds: &[usize], start: usize, end: usize) -> Option<(String, u32, u32)> {
    let n = bounds.len() - 1;
    if start > end || end > n {
        return None;
    }
    let chars = |from: usize, to: usize| &text[bounds[from]..bounds[to]];
    let is_space = |i: usize| chars(i, i + 1).starts_with(char::is_whitespace);
    let mut from = start.saturating_sub(SNIPPET_CONTEXT);
    // Start after a space, so that no word is cut (unless the context is one long word).
    if from > 0
        && let Some(s) = (from..start).find(|&i| is_space(i))
    {
        from = s + 1;
    }
    let mut to = (end + SNIPPET_CONTEXT).min(n);
    if to < n
        && let Some(s) = (end..to).rev().find(|&i| is_space(i))
    {
        to = s;
    }
    let mut out = String::with_capacity(bounds[to] - bounds[from] + 8);
    let mut offset = 0;
    if from > 0 {
        out.push('…');
        offset = 1;
    }
    out.push_str(chars(from, to));
    if to < n {
        out.push('…');
    }
    Some((
        out,
        (offset + start - from) as u32,
        (offset + end - from) as u32,
    ))
}

/// The facet a mention counts under: `/<type>/<entity>`, the entity its concept where it has
/// one (see [`concept_facet`]), else its normal form.
pub fn facet_of(m: &StoredMention) -> Facet {
    match &m.concept {
        Some(id) => {
            let name = m.concept_name.as_deref().unwrap_or(&m.normalized);
            let entity = concept_facet(id, name);
            Facet::from_path([m.ty.as_str(), entity.as_str()])
        }
        None => Facet::from_path([m.ty.as_str(), m.normalized.as_str()]),
    }
}

/// The entry of a deleted document: its id, the origin of its tombstone, and the `deleted`
/// mark, so that a version made before the deletion and delivered after it is refused.
pub fn tombstone(fields: &Fields, id: &str, origin: &Origin) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_text(fields.id, id);
    d.add_text(fields.origin, origin.to_string());
    d.add_text(fields.deleted, DELETED);
    d
}

/// The value of [`Fields::deleted`] on the entry of a deleted document.
pub const DELETED: &str = "true";

/// The tantivy document of `id` holding `mentions`, with `document`'s metadata when the record
/// carried it.
pub fn build(
    fields: &Fields,
    id: &str,
    document: Option<&Document>,
    mentions: &[StoredMention],
) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_text(fields.id, id);
    if let Some(doc) = document {
        if let Some(pmid) = &doc.pmid {
            d.add_text(fields.pmid, pmid);
        }
        if let Some(pmcid) = &doc.pmcid {
            d.add_text(fields.pmcid, pmcid);
        }
        if let Some(doi) = &doc.doi {
            d.add_text(fields.doi, doi);
        }
        d.add_text(fields.title, &doc.title);
        let journal = doc
            .journal
            .as_ref()
            .and_then(|j| j.title.as_ref().or(j.iso_abbreviation.as_ref()));
        if let Some(j) = journal {
            d.add_text(fields.journal, j);
        }
        if let Some(year) = doc.pub_date.as_ref().and_then(|p| p.year) {
            d.add_i64(fields.year, i64::from(year));
        }
        d.add_bool(fields.retracted, doc.retracted);
        let kinds: BTreeSet<&str> = doc.passages.iter().map(|p| p.kind.as_str()).collect();
        for k in kinds {
            d.add_text(fields.passage_kind, k);
        }
    }
    let mut by_type: BTreeMap<String, Vec<OwnedValue>> = BTreeMap::new();
    let mut entities: HashSet<(&str, &str)> = HashSet::new();
    let mut facets: BTreeSet<Facet> = BTreeSet::new();
    let mut concepts: BTreeSet<&str> = BTreeSet::new();
    let mut models: BTreeSet<&str> = BTreeSet::new();
    for m in mentions {
        // The text, and the names the mention is known by: a short form's long form, the
        // concept's preferred name. A search for either finds the mention.
        let texts = std::iter::once(&m.text)
            .chain(m.long_form.as_ref())
            .chain(m.concept_name.as_ref());
        for text in texts {
            d.add_text(fields.mention, text);
            by_type
                .entry(type_key(&m.ty))
                .or_default()
                .push(OwnedValue::Str(text.clone()));
        }
        entities.insert((&m.ty, &m.normalized));
        if let Some(id) = &m.concept {
            concepts.insert(id);
        }
        facets.insert(facet_of(m));
        models.insert(&m.model);
    }
    let mut forms: BTreeSet<String> = BTreeSet::new();
    for (ty, norm) in &entities {
        forms.insert((*norm).to_owned());
        forms.insert(format!("{}:{norm}", type_key(ty)));
    }
    for facet in facets {
        d.add_u64(
            fields.entity_id,
            crate::schema::facet_id(facet.encoded_str().as_bytes()),
        );
        d.add_facet(fields.facet, facet);
    }
    for c in concepts {
        d.add_text(fields.concept, c);
    }
    for f in forms {
        d.add_text(fields.entity, f);
    }
    for ty in by_type.keys() {
        d.add_text(fields.entity_type, ty);
    }
    if !by_type.is_empty() {
        d.add_object(
            fields.by_type,
            by_type
                .into_iter()
                .map(|(k, v)| (k, OwnedValue::Array(v)))
                .collect(),
        );
    }
    for m in models {
        d.add_text(fields.model, m);
    }
    d.add_text(
        fields.mentions,
        serde_json::to_string(mentions).unwrap_or_else(|_| "[]".into()),
    );
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snip(text: &str, start: usize, end: usize) -> (String, u32, u32) {
        snippet(text, &char_bounds(text), start, end).unwrap()
    }

    #[test]
    fn a_short_passage_is_its_own_snippet() {
        let (s, a, b) = snip("Aspirin reduces pain.", 0, 7);
        assert_eq!(s, "Aspirin reduces pain.");
        assert_eq!((a, b), (0, 7));
    }

    #[test]
    fn long_passages_are_cut_at_word_boundaries_in_characters() {
        let before = "é".repeat(10) + " " + &"word ".repeat(20);
        let text = format!("{before}metformin{}", " and more words".repeat(10));
        let start = before.chars().count();
        let (s, a, b) = snip(&text, start, start + 9);
        let chars: Vec<char> = s.chars().collect();
        assert_eq!(
            chars[a as usize..b as usize].iter().collect::<String>(),
            "metformin"
        );
        assert!(s.starts_with("…word"), "{s}");
        assert!(s.ends_with("…"), "{s}");
        assert!(s.chars().count() <= 9 + 2 * SNIPPET_CONTEXT + 2);
    }

    #[test]
    fn offsets_past_the_text_give_no_snippet() {
        assert!(snippet("abc", &char_bounds("abc"), 2, 5).is_none());
        assert!(snippet("abc", &char_bounds("abc"), 2, 1).is_none());
    }
}
