//! The index's schema, built in one function ([`build`]), its analyzer, and the normal forms of
//! entity names and types that both the writer and the searcher use.

use std::path::Path;

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, JsonObjectOptions, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{Index, TantivyDocument};

use crate::IndexError;

/// The analyzer of mention texts, titles and journals: words split on anything that is not a
/// letter or digit, lowercased, accents folded (`Sjögren` finds `Sjogren`), words over 64 bytes
/// dropped.
pub const ANALYZER: &str = "pubmine_entity";

/// The fields of the index, resolved once from [`build`].
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The document id (`pmid:<n>`, `pmc:PMC<n>`), raw: what replacement and deletion key on.
    pub id: Field,
    pub pmid: Field,
    pub pmcid: Field,
    pub doi: Field,
    /// The title, analyzed and stored (for display; `title:` in a query).
    pub title: Field,
    /// Journal title (or ISO abbreviation), analyzed and stored.
    pub journal: Field,
    /// Publication year: indexed, fast (range filters, the year histogram) and stored.
    pub year: Field,
    /// The document is retracted (stored, for display).
    pub retracted: Field,
    /// Kinds of the document's passages (`title`, `abstract`, `paragraph`, ...), raw.
    pub passage_kind: Field,
    /// Each mention's text, analyzed with positions (one value per mention): the default field of
    /// a query.
    pub mention: Field,
    /// Mention texts under their type's key (`{"chemical": ["aspirin", ...]}`), analyzed with
    /// positions: what a query restricted to one entity type searches, so the type and the words
    /// must hold for the same mention.
    pub by_type: Field,
    /// Exact forms, raw: `<normal form>` and `<type key>:<normal form>`.
    pub entity: Field,
    /// Type keys of the mentions, raw.
    pub entity_type: Field,
    /// Concept ids of the mentions (`MESH:D001241`, `NCBIGene:7157`), raw.
    pub concept: Field,
    /// One facet per distinct entity, `/<Type>/<entity>`: co-mention counts. The entity is the
    /// concept (see [`concept_facet`]) where the mention has one, else its normal form.
    pub facet: Field,
    /// The [`facet_id`] of each facet, fast: what search counts facets by, with no dictionary.
    pub entity_id: Field,
    /// Names of the models whose mentions the document holds, raw.
    pub model: Field,
    /// The mentions as JSON (stored only), with snippets: what search shows and what a partial
    /// re-annotation keeps.
    pub mentions: Field,
    /// The record the entry was made from (an [`pubmine_stream::transport::Origin`] as written,
    /// stored), when its record named one: a record made from an earlier record is refused.
    pub origin: Field,
    /// `true` on the entry that stands for a deleted document: its id and the origin of its
    /// tombstone, nothing to find; every search leaves these out.
    pub deleted: Field,
}

/// The schema, and its fields. The only place the schema is defined.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let analyzed = |stored: bool| {
        let opts = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored { opts.set_stored() } else { opts }
    };
    let by_type_opts = JsonObjectOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        pmid: b.add_text_field("pmid", STRING | STORED),
        pmcid: b.add_text_field("pmcid", STRING | STORED),
        doi: b.add_text_field("doi", STRING | STORED),
        title: b.add_text_field("title", analyzed(true)),
        journal: b.add_text_field("journal", analyzed(true)),
        year: b.add_i64_field("year", INDEXED | FAST | STORED),
        retracted: b.add_bool_field("retracted", STORED),
        passage_kind: b.add_text_field("passage_kind", STRING),
        mention: b.add_text_field("mention", analyzed(false)),
        by_type: b.add_json_field("by_type", by_type_opts),
        entity: b.add_text_field("entity", STRING),
        entity_type: b.add_text_field("type", STRING),
        concept: b.add_text_field("concept", STRING),
        facet: b.add_facet_field("entity_facet", tantivy::schema::FacetOptions::default()),
        entity_id: b.add_u64_field("entity_id", FAST),
        model: b.add_text_field("model", STRING),
        mentions: b.add_text_field("mentions", STORED),
        origin: b.add_text_field("origin", STRING | STORED),
        deleted: b.add_text_field("deleted", STRING),
    };
    (b.build(), fields)
}

/// Opens the index in `dir`, creating the directory and the index when there is none, and
/// checks that its schema is this version's.
pub fn open_or_create(dir: &Path) -> Result<(Index, Fields), IndexError> {
    let (schema, fields) = build();
    std::fs::create_dir_all(dir).map_err(|source| IndexError::Dir {
        dir: dir.to_owned(),
        source,
    })?;
    let index = if dir.join("meta.json").exists() {
        Index::open_in_dir(dir)?
    } else {
        Index::create_in_dir(dir, schema.clone())?
    };
    check_schema(&index, &schema, dir)?;
    register(&index);
    Ok((index, fields))
}

/// Opens an existing index for reading.
pub fn open_existing(dir: &Path) -> Result<(Index, Fields), IndexError> {
    let (schema, fields) = build();
    if !dir.join("meta.json").exists() {
        return Err(IndexError::Missing(dir.to_owned()));
    }
    let index = Index::open_in_dir(dir)?;
    check_schema(&index, &schema, dir)?;
    register(&index);
    Ok((index, fields))
}

fn check_schema(index: &Index, schema: &Schema, dir: &Path) -> Result<(), IndexError> {
    let same = serde_json::to_value(index.schema()).ok() == serde_json::to_value(schema).ok();
    if same {
        Ok(())
    } else {
        Err(IndexError::SchemaMismatch(dir.to_owned()))
    }
}

fn register(index: &Index) {
    let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    index.tokenizers().register(ANALYZER, analyzer);
}

/// Between a concept's id and its name in a facet's entity segment.
const CONCEPT_SEPARATOR: char = '\u{1f}';

/// The facet segment of a concept: its id and its name, so that facet counts carry both.
pub fn concept_facet(id: &str, name: &str) -> String {
    format!("{id}{CONCEPT_SEPARATOR}{name}")
}

/// A facet's id, the same in every segment and every index: the 16-bit [`facet_type_bits`] of
/// its type in the top bits, a 48-bit hash of its whole term (`type \0 entity`, as the facet
/// dictionary holds it) below. Search counts facets by these ids without reading any dictionary;
/// two terms of one type share an id with odds of about n² / 2⁴⁹ among n terms counted together
/// (3 in 100,000 for the 140,000 of a large sample).
pub fn facet_id(term: &[u8]) -> u64 {
    let ty = &term[..term.iter().position(|&b| b == 0).unwrap_or(term.len())];
    (facet_type_bits(ty) << 48) | (hash64(term) >> 16)
}

/// The 16 bits a type gives the ids of its facets ([`facet_id`]).
pub fn facet_type_bits(ty: &[u8]) -> u64 {
    hash64(ty) >> 48
}

/// FNV-1a, then MurmurHash3's 64-bit finalizer, which spreads every input bit over the high
/// bits; fixed here, so that ids stay the same across builds and Rust releases.
fn hash64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A facet's entity segment read back: `(concept id, name)` for a concept, `(None, normal
/// form)` otherwise.
pub fn facet_entity(segment: &str) -> (Option<&str>, &str) {
    match segment.split_once(CONCEPT_SEPARATOR) {
        Some((id, name)) => (Some(id), name),
        None => (None, segment),
    }
}

/// The words of `text` as the index analyzes them.
pub fn words(index: &Index, text: &str) -> Vec<String> {
    let Some(mut analyzer) = index.tokenizers().get(ANALYZER) else {
        return Vec::new();
    };
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(t) = tantivy::tokenizer::TokenStream::next(&mut stream) {
        out.push(t.text.clone());
    }
    out
}

/// The normal form of an entity name: the one the store groups by too.
pub use pubmine_stream::record::normalize_entity as normalize;

/// The key of an entity type in raw fields and JSON paths: lowercased, anything but letters,
/// digits and `_` turned into `_` (`Cell Line` → `cell_line`), so `--type chemical` finds
/// `Chemical`.
pub fn type_key(ty: &str) -> String {
    ty.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                '_'
            }
        })
        .collect()
}

/// The first text value of `field` in a stored document.
pub(crate) fn stored_str(doc: &TantivyDocument, field: Field) -> Option<String> {
    use tantivy::schema::Value as _;
    doc.get_first(field)
        .and_then(|v| v.as_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_keys() {
        assert_eq!(type_key("Cell Line"), "cell_line");
        assert_eq!(type_key("Chemical"), "chemical");
    }

    #[test]
    fn the_analyzer_folds_and_splits() {
        let dir = tempfile::tempdir().unwrap();
        let (index, _) = open_or_create(dir.path()).unwrap();
        assert_eq!(words(&index, "Sjögren's IL-6"), ["sjogren", "s", "il", "6"]);
    }
}
