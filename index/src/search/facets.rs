//! Facets: the entities most often mentioned in a search's best-scoring papers, per type.
//!
//! Each paper's entities are ordinals into its segment's sorted facet dictionary, whose terms
//! are `type \0 entity`. Papers are counted per ordinal first; the distinct ordinals are then
//! resolved in one sorted pass over each segment's dictionary (one look-up per ordinal decodes
//! a dictionary block each time, a sorted pass decodes each block once), their counts summed
//! by term across segments, and only each type's leading terms made into entities.

use std::collections::{BTreeMap, HashMap, HashSet};

use tantivy::DocAddress;
use tantivy::collector::TopDocs;
use tantivy::query::Query;

use super::{FACET_SAMPLE, FacetEntity, FacetGroup, SearchError};
use crate::IndexError;
use crate::schema::{self, normalize};

/// The top co-mentioned entities per type in the best-scoring [`FACET_SAMPLE`] papers that match
/// `query` (all of them when fewer match), `k` per type, the `searched` entities left out; and
/// how many papers were counted. Each paper counts once per entity and once per type.
pub(super) fn facets(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
    k: usize,
    searched: &HashSet<String>,
) -> Result<(Vec<FacetGroup>, usize), SearchError> {
    let top = searcher.search(query, &TopDocs::with_limit(FACET_SAMPLE).order_by_score())?;
    let counted = top.len();
    let mut by_segment: BTreeMap<u32, Vec<tantivy::DocId>> = BTreeMap::new();
    for (
        _,
        DocAddress {
            segment_ord,
            doc_id,
        },
    ) in top
    {
        by_segment.entry(segment_ord).or_default().push(doc_id);
    }
    // Papers per term (`type \0 entity`, summed over segments), and per type.
    let mut per_term: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut per_type: HashMap<Vec<u8>, u64> = HashMap::new();
    for (segment, docs) in by_segment {
        let reader = searcher
            .segment_reader(segment)
            .facet_reader("entity_facet")?;
        let per_doc: Vec<Vec<u64>> = docs
            .into_iter()
            .map(|doc| {
                let mut ords: Vec<u64> = reader.facet_ords(doc).collect();
                ords.sort_unstable();
                ords.dedup();
                ords
            })
            .collect();
        // The segment's distinct ordinals and their papers.
        let mut ords: Vec<u64> = per_doc.iter().flatten().copied().collect();
        ords.sort_unstable();
        ords.dedup();
        // Each paper's entities as indices into `ords`.
        let per_doc: Vec<Vec<usize>> = per_doc
            .iter()
            .map(|d| {
                d.iter()
                    .filter_map(|o| ords.binary_search(o).ok())
                    .collect()
            })
            .collect();
        let mut papers = vec![0u64; ords.len()];
        for &at in per_doc.iter().flatten() {
            papers[at] += 1;
        }
        // Each ordinal's type, as an index into `types`, from the same pass.
        let mut types: Vec<Vec<u8>> = Vec::new();
        let mut type_of: Vec<Option<usize>> = Vec::with_capacity(ords.len());
        let mut at = 0;
        let complete = reader.facet_dict().sorted_ords_to_term_cb(&ords, |bytes| {
            // A facet's bytes are its path's segments joined by 0: type, then entity.
            let split = bytes.iter().position(|&b| b == 0);
            type_of.push(split.map(|i| {
                let ty = &bytes[..i];
                match types.iter().position(|t| t == ty) {
                    Some(t) => t,
                    None => {
                        types.push(ty.to_vec());
                        types.len() - 1
                    }
                }
            }));
            if split.is_some() {
                let n = papers.get(at).copied().unwrap_or(0);
                match per_term.get_mut(bytes) {
                    Some(c) => *c += n,
                    None => {
                        per_term.insert(bytes.to_vec(), n);
                    }
                }
            }
            at += 1;
        });
        if !complete.map_err(|e| IndexError::Tantivy(e.into()))? || type_of.len() != ords.len() {
            return Err(IndexError::Tantivy(tantivy::TantivyError::InternalError(
                "a facet ordinal is missing from its segment's dictionary".into(),
            ))
            .into());
        }
        let mut seen: Vec<usize> = Vec::new();
        for doc in &per_doc {
            seen.clear();
            for &at in doc {
                if let Some(t) = type_of[at]
                    && !seen.contains(&t)
                {
                    seen.push(t);
                }
            }
            for &t in &seen {
                match per_type.get_mut(&types[t]) {
                    Some(c) => *c += 1,
                    None => {
                        per_type.insert(types[t].clone(), 1);
                    }
                }
            }
        }
    }
    // Each type's terms, most papers first.
    let mut terms_of: HashMap<&[u8], Vec<(u64, &[u8])>> = HashMap::new();
    for (term, &papers) in &per_term {
        let i = term.iter().position(|&b| b == 0).unwrap_or(term.len());
        let entity = term.get(i + 1..).unwrap_or_default();
        terms_of
            .entry(&term[..i])
            .or_default()
            .push((papers, entity));
    }
    let mut types: Vec<(String, u64, Vec<FacetEntity>)> = per_type
        .iter()
        .map(|(ty, &papers)| {
            let terms = terms_of.remove(ty.as_slice()).unwrap_or_default();
            (
                String::from_utf8_lossy(ty).into_owned(),
                papers,
                leading(terms, k, searched),
            )
        })
        .collect();
    types.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let groups = types
        .into_iter()
        .map(|(ty, papers, entities)| FacetGroup {
            ty,
            papers,
            entities,
        })
        .collect();
    Ok((groups, counted))
}

/// The `k` entities in most papers (then by name and concept), the searched ones left out: by
/// their concept, or by their name where the query names it. Only the terms that can be listed
/// (the leading ones and those tied with them) are made into entities.
fn leading(mut terms: Vec<(u64, &[u8])>, k: usize, searched: &HashSet<String>) -> Vec<FacetEntity> {
    terms.sort_unstable_by_key(|t| std::cmp::Reverse(t.0));
    let mut entities: Vec<FacetEntity> = Vec::new();
    let mut last = None;
    for (papers, bytes) in terms {
        // Past the k-th entity kept, only those tied with it can still be listed.
        if entities.len() >= k && last != Some(papers) {
            break;
        }
        let entity = String::from_utf8_lossy(bytes);
        let (concept, name) = schema::facet_entity(&entity);
        let searched_for = match concept {
            Some(c) => searched.contains(c) || searched.contains(&normalize(name)),
            None => searched.contains(name),
        };
        if searched_for {
            continue;
        }
        entities.push(FacetEntity {
            name: name.to_owned(),
            concept: concept.map(str::to_owned),
            papers,
        });
        last = Some(papers);
    }
    entities.sort_by(|a, b| {
        b.papers
            .cmp(&a.papers)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.concept.cmp(&b.concept))
    });
    entities.truncate(k);
    entities
}
