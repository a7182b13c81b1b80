//! Facets: the entities most often mentioned in a search's best-scoring papers, per type.
//!
//! Each paper holds the ids of its entities in a fast column (`entity_id`): ids that are the same
//! in every segment ([`schema::facet_id`]), so the papers are counted per id with no dictionary,
//! and only the entities each type can list are named, from the stored mentions of a paper that
//! holds each ([`by_id`]). Where the ids cannot answer exactly (two types with one type hash, two
//! named entities with one id, too many papers to read), the dictionaries answer
//! ([`by_dictionary`]): each paper's entities are ordinals into its segment's sorted facet
//! dictionary, whose terms are `type \0 entity`; papers are counted per ordinal, the distinct
//! ordinals resolved in one sorted pass over each segment's dictionary, their counts summed by
//! term across segments, and only each type's leading terms made into entities.

use std::collections::{BTreeMap, HashMap, HashSet};

use tantivy::collector::TopDocs;
use tantivy::query::Query;
use tantivy::{DocAddress, DocId};

use super::{FACET_SAMPLE, FacetEntity, FacetGroup, SearchError};
use crate::IndexError;
use crate::doc::{self, StoredMention};
use crate::schema::{self, normalize};

/// Papers read at most to name the entities listed; past it, the dictionaries name them.
const MAX_PAPERS_READ: usize = 64;

/// The top co-mentioned entities per type in the best-scoring [`FACET_SAMPLE`] papers that match
/// `query` (all of them when fewer match), `k` per type, the `searched` entities left out; and
/// how many papers were counted. Each paper counts once per entity and once per type. By the
/// papers' entity ids when `by_ids` (where they can answer), else by the dictionaries.
pub(super) fn facets(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
    k: usize,
    searched: &HashSet<String>,
    by_ids: bool,
) -> Result<(Vec<FacetGroup>, usize), SearchError> {
    let top = searcher.search(query, &TopDocs::with_limit(FACET_SAMPLE).order_by_score())?;
    let counted = top.len();
    let mut by_segment: BTreeMap<u32, Vec<DocId>> = BTreeMap::new();
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
    let counted_by_id = match by_ids {
        true => by_id(searcher, &by_segment, k, searched, MAX_PAPERS_READ)?,
        false => None,
    };
    let groups = match counted_by_id {
        Some(groups) => groups,
        None => by_dictionary(searcher, by_segment, k, searched)?,
    };
    Ok((groups, counted))
}

/// Facets counted by the papers' `entity_id` column: ids that are the same in every segment, so
/// no dictionary is read to count them; only the entities that can be listed are named, from the
/// stored mentions of papers that hold them. `None` when the ids cannot answer exactly: two
/// types with one type hash, two entities with one id among those named, or more papers to read
/// than `max_read`; [`by_dictionary`] answers then.
fn by_id(
    searcher: &tantivy::Searcher,
    docs: &BTreeMap<u32, Vec<DocId>>,
    k: usize,
    searched: &HashSet<String>,
    max_read: usize,
) -> Result<Option<Vec<FacetGroup>>, SearchError> {
    // The types of the segments, by the hash their entities' ids carry.
    let mut type_of: HashMap<u64, Vec<u8>> = HashMap::new();
    for &segment in docs.keys() {
        let reader = searcher
            .segment_reader(segment)
            .facet_reader("entity_facet")?;
        for ty in segment_types(reader.facet_dict())? {
            match type_of.get(&schema::facet_type_bits(&ty)) {
                Some(known) if *known != ty => return Ok(None),
                Some(_) => {}
                None => {
                    type_of.insert(schema::facet_type_bits(&ty), ty);
                }
            }
        }
    }
    // Papers per id (and one paper that holds it), and per type.
    let mut per_id: HashMap<u64, (u64, DocAddress)> = HashMap::new();
    let mut per_type: HashMap<u64, u64> = HashMap::new();
    let mut ids: Vec<u64> = Vec::new();
    let mut types: Vec<u64> = Vec::new();
    for (&segment, in_segment) in docs {
        let column = searcher
            .segment_reader(segment)
            .fast_fields()
            .u64("entity_id")?;
        for &doc in in_segment {
            ids.clear();
            ids.extend(column.values_for_doc(doc));
            ids.sort_unstable();
            ids.dedup();
            types.clear();
            for &id in &ids {
                per_id
                    .entry(id)
                    .and_modify(|c| c.0 += 1)
                    .or_insert((1, DocAddress::new(segment, doc)));
                let t = id >> 48;
                if !types.contains(&t) {
                    types.push(t);
                }
            }
            for &t in &types {
                *per_type.entry(t).or_default() += 1;
            }
        }
    }
    let mut of_type: HashMap<u64, Vec<(u64, u64)>> = HashMap::new();
    for (&id, &(papers, _)) in &per_id {
        of_type.entry(id >> 48).or_default().push((papers, id));
    }
    let mut names = Names::new(searcher, max_read);
    let mut groups: Vec<FacetGroup> = Vec::new();
    for (t, papers) in per_type {
        let Some(ty) = type_of.get(&t) else {
            return Ok(None);
        };
        let mut candidates = of_type.remove(&t).unwrap_or_default();
        candidates.sort_unstable_by_key(|c| std::cmp::Reverse(c.0));
        // The candidates in most papers, named, until k not searched for are in hand and the
        // next one is not tied with the last of them.
        let mut named: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut kept = 0;
        let mut last = None;
        for (n, id) in candidates {
            if kept >= k && last != Some(n) {
                break;
            }
            let Some(term) = names.name(id, per_id[&id].1)? else {
                return Ok(None);
            };
            let Some(entity) = term
                .strip_prefix(ty.as_slice())
                .and_then(|e| e.strip_prefix(&[0]))
            else {
                return Ok(None);
            };
            if !is_searched(&String::from_utf8_lossy(entity), searched) {
                kept += 1;
                last = Some(n);
            }
            named.push((n, entity.to_vec()));
        }
        let entities = leading(
            named.iter().map(|(n, e)| (*n, e.as_slice())).collect(),
            k,
            searched,
        );
        groups.push(FacetGroup {
            ty: String::from_utf8_lossy(ty).into_owned(),
            papers,
            entities,
        });
    }
    if names.conflict {
        return Ok(None);
    }
    groups.sort_by(|a, b| b.papers.cmp(&a.papers).then_with(|| a.ty.cmp(&b.ty)));
    Ok(Some(groups))
}

/// The types of a segment's facets (`type \0 entity`): one seek in the dictionary per type.
fn segment_types(dict: &tantivy::columnar::Dictionary) -> Result<Vec<Vec<u8>>, SearchError> {
    let mut types = Vec::new();
    let mut from: Vec<u8> = Vec::new();
    loop {
        let mut stream = dict
            .range()
            .ge(&from)
            .limit(1)
            .into_stream()
            .map_err(|e| IndexError::Tantivy(e.into()))?;
        if !stream.advance() {
            return Ok(types);
        }
        let key = stream.key();
        let ty = &key[..key.iter().position(|&b| b == 0).unwrap_or(key.len())];
        types.push(ty.to_vec());
        // Past every `ty \0 ...`: `ty \1` sorts after them and before any longer type.
        from.clear();
        from.extend_from_slice(ty);
        from.push(1);
    }
}

/// Facet terms by id, from the stored mentions of the papers read.
struct Names<'a> {
    searcher: &'a tantivy::Searcher,
    terms: HashMap<u64, Vec<u8>>,
    read: usize,
    max_read: usize,
    /// Two terms with one id were seen.
    conflict: bool,
}

impl<'a> Names<'a> {
    fn new(searcher: &'a tantivy::Searcher, max_read: usize) -> Self {
        Names {
            searcher,
            terms: HashMap::new(),
            read: 0,
            max_read,
            conflict: false,
        }
    }

    /// The term of `id`, reading `paper` (which holds it) when it is not known yet; `None`
    /// past `max_read` papers, or when the paper does not name it after all.
    fn name(&mut self, id: u64, paper: DocAddress) -> Result<Option<Vec<u8>>, SearchError> {
        if !self.terms.contains_key(&id) {
            if self.read >= self.max_read {
                return Ok(None);
            }
            self.read += 1;
            let doc: tantivy::TantivyDocument = self.searcher.doc(paper)?;
            let fields = self.searcher.schema();
            let mentions_field = fields.get_field("mentions")?;
            let json = schema::stored_str(&doc, mentions_field).unwrap_or_default();
            let mentions: Vec<StoredMention> =
                serde_json::from_str(&json).map_err(IndexError::Payload)?;
            for m in &mentions {
                let facet = doc::facet_of(m);
                let term = facet.encoded_str().as_bytes();
                let of = schema::facet_id(term);
                match self.terms.get(&of) {
                    Some(t) if t != term => self.conflict = true,
                    Some(_) => {}
                    None => {
                        self.terms.insert(of, term.to_vec());
                    }
                }
            }
        }
        Ok(self.terms.get(&id).cloned())
    }
}

/// Facets counted by the ordinals of each segment's facet dictionary: exact, whatever the ids.
fn by_dictionary(
    searcher: &tantivy::Searcher,
    by_segment: BTreeMap<u32, Vec<DocId>>,
    k: usize,
    searched: &HashSet<String>,
) -> Result<Vec<FacetGroup>, SearchError> {
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
    Ok(groups)
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
        if is_searched(&entity, searched) {
            continue;
        }
        let (concept, name) = schema::facet_entity(&entity);
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

/// True when the query searched for `entity` (a facet's entity segment): by its concept, or by
/// its name where the query names it.
fn is_searched(entity: &str, searched: &HashSet<String>) -> bool {
    let (concept, name) = schema::facet_entity(entity);
    match concept {
        Some(c) => searched.contains(c) || searched.contains(&normalize(name)),
        None => searched.contains(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::{IndexConfig, Indexer};
    use pubmine_stream::record::{
        Annotations, ConceptRef, Document, Mention, Passage, PassageKind, SourceKind,
    };
    use pubmine_stream::sink::{SinkBatch, SinkItem};
    use pubmine_stream::transport::Offsets;

    /// An entity of a test paper: its type, its text, and its concept (id, name).
    type Entity = (String, String, Option<(String, String)>);

    /// A paper whose one passage lists `entities`, each a mention.
    fn paper(pmid: u32, entities: &[Entity]) -> Annotations {
        let mut text = String::new();
        let mut mentions = Vec::new();
        for (ty, surface, concept) in entities {
            let start = text.chars().count() as u32;
            text.push_str(surface);
            mentions.push(Mention {
                passage: 0,
                start,
                end: start + surface.chars().count() as u32,
                text: surface.clone(),
                ty: ty.clone(),
                score: 0.9,
                model: "m".into(),
                concept: concept.as_ref().map(|(id, name)| ConceptRef {
                    id: id.clone(),
                    name: name.clone(),
                    matched: surface.clone(),
                    via_abbreviation: false,
                }),
            });
            text.push_str(", ");
        }
        let id = format!("pmid:{pmid}");
        let mut doc = Document::new(SourceKind::Pubmed, id.clone());
        doc.passages = vec![Passage::new(PassageKind::Abstract, text)];
        Annotations {
            id,
            mentions,
            document: Some(Box::new(doc)),
            ..Default::default()
        }
    }

    /// Papers over `segments` commits, entities drawn long-tailed per type, some with concepts
    /// (two surfaces of one concept), in `types`.
    fn index(dir: &std::path::Path, types: &[&str], segments: u32) -> Indexer {
        let cfg = IndexConfig {
            commit_docs: 1_000_000,
            threads: 1,
            memory_bytes: 20 << 20,
            ..Default::default()
        };
        let mut ix = Indexer::open(dir, cfg).unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut draw = move |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Rank r in about 1/r of the draws.
            (f64::from(n).powf((seed >> 11) as f64 / (1u64 << 53) as f64) as u32).max(1) - 1
        };
        let mut offset = 0;
        for segment in 0..segments {
            let mut items = Vec::new();
            for i in 0..150 {
                let mut ents = Vec::new();
                for ty in types {
                    for _ in 0..3 {
                        let r = draw(300);
                        let concept = (r % 3 == 0).then(|| {
                            (
                                format!("MESH:D{:06}", r / 2),
                                format!("{ty} concept {}", r / 2),
                            )
                        });
                        ents.push((ty.to_string(), format!("{ty} entity {r}"), concept));
                    }
                }
                let a = paper(segment * 1000 + i, &ents);
                items.push(SinkItem {
                    topic: "t".into(),
                    partition: 0,
                    offset,
                    key: a.id.clone(),
                    annotations: Some(Box::new(a)),
                    origin: None,
                });
                offset += 1;
            }
            let mut next = Offsets::new();
            next.insert(("t".into(), 0), offset);
            ix.write(&SinkBatch { items, next }).unwrap();
            ix.commit().unwrap();
        }
        ix
    }

    /// Every paper of the index, by segment; those whose pmid is divisible by `every`.
    fn papers(searcher: &tantivy::Searcher, every: u32) -> BTreeMap<u32, Vec<DocId>> {
        let mut out = BTreeMap::new();
        for (segment, reader) in searcher.segment_readers().iter().enumerate() {
            let docs: Vec<DocId> = reader.doc_ids_alive().filter(|d| d % every == 0).collect();
            out.insert(segment as u32, docs);
        }
        out
    }

    #[test]
    fn counting_by_id_lists_what_the_dictionaries_list() {
        let dir = tempfile::tempdir().unwrap();
        let ix = index(dir.path(), &["Disease", "Chemical", "Gene"], 4);
        let searcher = ix.index().reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 4);
        let searched: HashSet<String> = ["disease entity 0", "MESH:D000000"]
            .into_iter()
            .map(String::from)
            .collect();
        for every in [1, 3, 40] {
            let docs = papers(&searcher, every);
            for k in [1, 5, 20] {
                for searched in [HashSet::new(), searched.clone()] {
                    let exact = by_dictionary(&searcher, docs.clone(), k, &searched).unwrap();
                    let by_ids = by_id(&searcher, &docs, k, &searched, MAX_PAPERS_READ)
                        .unwrap()
                        .expect("the ids answer");
                    assert_eq!(by_ids, exact, "every {every}, k {k}, {searched:?}");
                    assert_eq!(exact.len(), 3);
                    assert!(
                        exact
                            .iter()
                            .all(|g| g.entities.len() == k.min(g.entities.len()))
                    );
                }
            }
        }
        // With no paper to read, the ids cannot name what they count: the dictionaries answer.
        let docs = papers(&searcher, 1);
        assert!(
            by_id(&searcher, &docs, 5, &HashSet::new(), 0)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn two_types_with_one_type_hash_are_counted_by_the_dictionaries() {
        let bits = |t: &str| schema::facet_type_bits(t.as_bytes());
        let other = (0..)
            .map(|i| format!("Type{i}"))
            .find(|t| t != "Type0" && bits(t) == bits("Type0"))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ix = index(dir.path(), &["Type0", &other], 2);
        let searcher = ix.index().reader().unwrap().searcher();
        let docs = papers(&searcher, 1);
        assert!(
            by_id(&searcher, &docs, 5, &HashSet::new(), MAX_PAPERS_READ)
                .unwrap()
                .is_none()
        );
        let exact = by_dictionary(&searcher, docs, 5, &HashSet::new()).unwrap();
        assert_eq!(exact.len(), 2, "both types listed");
    }
}
