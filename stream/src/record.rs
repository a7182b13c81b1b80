//! Record types carried on the documents topic (docs/architecture.md, "Records and topics").
//!
//! A [`Document`] is the JSON value of a record whose key is the document id (`pmid:<n>` or
//! `pmc:PMC<n>`). A deletion is a tombstone: the key with a null value. Every field that a source
//! may lack is optional or an empty list, and is left out of the JSON when empty, so records stay
//! small and readers written against an older schema keep working.

use serde::{Deserialize, Serialize};

/// Version of the JSON encoding of records; bumped on a change readers must know about.
pub const SCHEMA_VERSION: u32 = 1;

fn is_false(b: &bool) -> bool {
    !*b
}

/// Where a document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// PubMed MEDLINE XML (`PubmedArticle`, `PubmedBookArticle`).
    #[default]
    Pubmed,
    /// PMC full text (JATS/NLM XML).
    Pmc,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Pubmed => "pubmed",
            SourceKind::Pmc => "pmc",
        }
    }
}

/// One article, as every later stage sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Document {
    pub schema_version: u32,
    /// `pmid:<n>` for PubMed records, `pmc:PMC<n>` for PMC full text.
    pub id: String,
    pub source: SourceKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmcid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    /// Every id the source lists (`pubmed`, `pmc`, `doi`, `pii`, `publisher-id`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub article_ids: Vec<ArticleId>,
    /// The PMID `Version` attribute (1 unless a citation was versioned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// Article title (book title for a book without a chapter title).
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<Journal>,
    /// Publication date of the issue (or the book).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pub_date: Option<PubDate>,
    /// Electronic and other article dates, and PMC history dates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<KindedDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<Author>,
    /// ISO 639-2 language codes as given (`eng`, `ger`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publication_types: Vec<Term>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mesh: Vec<MeshHeading>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chemicals: Vec<Chemical>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<Keyword>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// CommentsCorrections (PubMed) and related-article links (PMC): retractions, errata, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments_corrections: Vec<CommentCorrection>,
    /// True for a retraction notice's target: publication type "Retracted Publication" or a
    /// `RetractionIn` link. A retracted article stays in the stream, flagged.
    #[serde(default, skip_serializing_if = "is_false")]
    pub retracted: bool,
    /// The text, in reading order. Offsets of annotations count characters within one passage.
    pub passages: Vec<Passage>,
    /// Cited works (PMC), as metadata, never as passages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
}

impl Document {
    /// An empty document of `source` with `id`, at the current schema version.
    pub fn new(source: SourceKind, id: String) -> Self {
        Document {
            schema_version: SCHEMA_VERSION,
            id,
            source,
            ..Default::default()
        }
    }

    /// Number of Unicode characters over all passages.
    pub fn text_chars(&self) -> usize {
        self.passages.iter().map(|p| p.text.chars().count()).sum()
    }
}

/// The id of a PubMed document: `pmid:<n>`.
pub fn pubmed_id(pmid: &str) -> String {
    format!("pmid:{pmid}")
}

/// The id of one version of a PubMed citation (`<PMID Version="v">`): `pmid:<n>` for the first
/// version (and a citation that names none), `pmid:<n>.<v>` for a later one, as PubMed cites
/// them (`12345678.2`). Each version is a document of its own, so that a late copy of an older
/// version never replaces a newer one, and a deletion of one version leaves the others.
pub fn pubmed_version_id(pmid: &str, version: Option<u32>) -> String {
    match version {
        Some(v) if v > 1 => format!("pmid:{pmid}.{v}"),
        _ => pubmed_id(pmid),
    }
}

/// The id of a PMC document: `pmc:PMC<n>`, whether or not `pmcid` carries the `PMC` prefix.
pub fn pmc_id(pmcid: &str) -> String {
    let digits = pmcid
        .strip_prefix("PMC")
        .or_else(|| pmcid.strip_prefix("pmc"))
        .unwrap_or(pmcid);
    format!("pmc:PMC{digits}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ArticleId {
    /// `pubmed`, `doi`, `pmc`, `pii`, `mid`, `publisher-id`, ...
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Journal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iso_abbreviation: Option<String>,
    /// ISSNs with their type (`Print`, `Electronic`, `ppub`, `epub`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issns: Vec<ArticleId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nlm_unique_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
}

/// A publication date. `year`/`month`/`day` are filled when the source states them or they can be
/// read off a free-text `MedlineDate` (such as `1998 Dec-1999 Jan`), which is kept in `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PubDate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<String>,
    /// The date as written when it was free text (`MedlineDate`, PMC `string-date`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A date with its kind (`Electronic`, `received`, `accepted`, `epub`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct KindedDate {
    pub kind: String,
    #[serde(flatten)]
    pub date: PubDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Author {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fore_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initials: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Set for a group author (`CollectiveName`, JATS `collab`); the name fields are then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collective_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affiliations: Vec<String>,
    /// ORCID iD, normalised to its 16-character form `0000-0002-1825-0097`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orcid: Option<String>,
}

/// A controlled-vocabulary term: MeSH descriptor or qualifier, publication type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Term {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub major: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MeshHeading {
    pub descriptor: Term,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub qualifiers: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Chemical {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<String>,
    /// CAS registry number, EC number, or `0` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Keyword {
    pub text: String,
    /// `NOTNLM`, `NLM`, ... (PubMed `KeywordList/@Owner`); the `kwd-group-type` in PMC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub major: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Grant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acronym: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A link to another article: `RetractionIn`, `ErratumIn`, `CommentOn`, ... (PubMed), or a JATS
/// `related-article` type (`retracted-article`, `corrected-article`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CommentCorrection {
    pub ref_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
}

/// What part of an article a passage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassageKind {
    Title,
    Abstract,
    /// A translated or author-supplied abstract (`OtherAbstract`, JATS `trans-abstract`).
    OtherAbstract,
    Paragraph,
    Caption,
    Table,
    Footnote,
}

impl PassageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PassageKind::Title => "title",
            PassageKind::Abstract => "abstract",
            PassageKind::OtherAbstract => "other_abstract",
            PassageKind::Paragraph => "paragraph",
            PassageKind::Caption => "caption",
            PassageKind::Table => "table",
            PassageKind::Footnote => "footnote",
        }
    }
}

/// A run of text: the title, one section of an abstract, a paragraph, a caption, a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    pub kind: PassageKind,
    /// The section: an abstract's `Label`, or the body headings from the outermost in, joined by
    /// ` / ` (`Methods / Cell culture`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// NLM's category of a structured-abstract section (`BACKGROUND`, `METHODS`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Language of an other abstract, when it is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The text, inline markup flattened, character references decoded, whitespace collapsed.
    pub text: String,
}

impl Passage {
    pub fn new(kind: PassageKind, text: String) -> Self {
        Passage {
            kind,
            section: None,
            category: None,
            lang: None,
            text,
        }
    }
}

/// A cited work, kept as metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Reference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmcid: Option<String>,
    /// The citation as written, flattened to one line.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub citation: String,
}

/// What ingest produces for one article: a document, or the deletion of one.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentRecord {
    Upsert(Box<Document>),
    /// A tombstone for this document id.
    Delete(String),
}

impl DocumentRecord {
    /// The Kafka key: the document id.
    pub fn key(&self) -> &str {
        match self {
            DocumentRecord::Upsert(doc) => &doc.id,
            DocumentRecord::Delete(id) => id,
        }
    }
}

/// What annotate produces for one document (the annotations topic; key = document id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Annotations {
    pub schema_version: u32,
    /// The document id.
    pub id: String,
    /// The models that ran, with their content hash: a model's mentions and relations are
    /// replaced as a whole when the document is annotated again by that model.
    pub models: Vec<ModelRef>,
    pub mentions: Vec<Mention>,
    #[serde(default)]
    pub relations: Vec<Relation>,
    /// The abbreviations the document defines ("long form (SF)", "SF (long form)").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub abbreviations: Vec<Abbreviation>,
    /// The document as it was annotated, so that the sinks (Postgres, the entity index) store
    /// its metadata and passages from this one topic, consistent with the mentions' offsets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Box<Document>>,
}

/// A model, by name and content hash (sha256 of its files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ModelRef {
    pub name: String,
    pub hash: String,
    /// `ner` or `re`.
    pub task: String,
    /// What the model can emit: entity types (NER) or relation labels (RE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// An entity mention: `text == passages[passage].text[start..end]` counting Unicode characters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Mention {
    /// Index of the passage in the document's `passages`.
    pub passage: u32,
    pub start: u32,
    pub end: u32,
    pub text: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub score: f32,
    /// The model's name (see [`Annotations::models`]).
    pub model: String,
    /// The concept the mention was normalized to, when a vocabulary names exactly one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<ConceptRef>,
}

/// A mention's concept: a database identifier and how it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConceptRef {
    /// `MESH:D001241`, `NCBIGene:7157`, `NCBITaxon:9606`.
    pub id: String,
    /// The concept's preferred name in its vocabulary (a gene's official symbol, a taxon's
    /// scientific name).
    pub name: String,
    /// The vocabulary's name that matched: the mention's text, or its long form's for a short
    /// form, under the matching rules.
    pub matched: String,
    /// The mention is a short form defined in the document, and the concept is its long form's.
    #[serde(default, skip_serializing_if = "is_false")]
    pub via_abbreviation: bool,
}

/// The one normal form of an entity's text, which the store groups by and the index searches
/// by: Unicode NFKC, lowercased, runs of whitespace collapsed to one space, trimmed.
/// `Breast  Cancer` and `breast cancer` are one entity; so are `ﬁbrosis` and `fibrosis`, `ＴＮＦ`
/// and `tnf`.
pub fn normalize_entity(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let lowered: String = if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.nfkc().collect::<String>().to_lowercase()
    };
    let mut out = String::with_capacity(lowered.len());
    for word in lowered.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// An abbreviation defined in a passage: its short form and long form, each with its offsets
/// in Unicode characters within the passage, as a mention's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Abbreviation {
    pub passage: u32,
    pub short_start: u32,
    pub short_end: u32,
    pub short: String,
    pub long_start: u32,
    pub long_end: u32,
    pub long: String,
}

/// The name mentions found through an abbreviation carry as their model: the occurrences of a
/// defined short form that no model marked, typed as its long form.
pub const ABBREVIATION_MODEL: &str = "abbreviation";

/// A relation between two mentions (indices into [`Annotations::mentions`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Relation {
    pub subject: u32,
    pub object: u32,
    #[serde(rename = "type")]
    pub ty: String,
    pub score: f32,
    pub model: String,
}

/// A record that could not be processed, as written to a dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub schema_version: u32,
    /// The stage that gave up on the record (`ingest`, `annotate`, ...).
    pub stage: String,
    /// Where it came from: a file path or URL, or `topic/partition@offset`.
    pub source: String,
    /// Position within the source: byte offset into the (decompressed) XML, or record number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// The document id, when it was known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Why it failed.
    pub reason: String,
}

impl DeadLetter {
    /// The dead letter (of this schema version) of a record that `stage` gave up on, from
    /// `source`, because of `reason`; [`DeadLetter::at`] and [`DeadLetter::with_id`] add what is
    /// known of where it was and which document it held.
    pub fn new(
        stage: impl Into<String>,
        source: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        DeadLetter {
            schema_version: SCHEMA_VERSION,
            stage: stage.into(),
            source: source.into(),
            position: None,
            id: None,
            reason: reason.into(),
        }
    }

    /// The record's position within its source (a byte offset, a record number).
    pub fn at(mut self, position: impl Into<String>) -> Self {
        self.position = Some(position.into());
        self
    }

    /// The document id, where one was known (an empty key counts as none).
    pub fn with_id(mut self, id: Option<String>) -> Self {
        self.id = id.filter(|id| !id.is_empty());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_letter_says_what_is_known() {
        let dl = DeadLetter::new("annotate", "t/0@4", "not a document")
            .at("record 3")
            .with_id(Some(String::new()));
        assert_eq!(dl.schema_version, SCHEMA_VERSION);
        assert_eq!(
            (dl.stage.as_str(), dl.source.as_str(), dl.reason.as_str()),
            ("annotate", "t/0@4", "not a document")
        );
        assert_eq!(dl.position.as_deref(), Some("record 3"));
        // an empty key names no document
        assert_eq!(dl.id, None);
        let dl = DeadLetter::new("ingest", "f.xml", "bad").with_id(Some("pmid:1".into()));
        assert_eq!((dl.position, dl.id.as_deref()), (None, Some("pmid:1")));
    }

    #[test]
    fn ids_are_normalised() {
        assert_eq!(pubmed_id("123"), "pmid:123");
        assert_eq!(pubmed_version_id("123", None), "pmid:123");
        assert_eq!(pubmed_version_id("123", Some(1)), "pmid:123");
        assert_eq!(pubmed_version_id("123", Some(2)), "pmid:123.2");
        assert_eq!(pmc_id("PMC42"), "pmc:PMC42");
        assert_eq!(pmc_id("42"), "pmc:PMC42");
    }

    #[test]
    fn entities_normalize() {
        assert_eq!(normalize_entity(" Breast\n  Cancer "), "breast cancer");
        assert_eq!(normalize_entity("TNF-α"), "tnf-α");
        assert_eq!(normalize_entity("ΑΒΓ"), "αβγ");
        assert_eq!(
            normalize_entity("  Type 2\u{a0} Diabetes "),
            "type 2 diabetes"
        );
        // NFKC: the ligature and the full-width letters fold.
        assert_eq!(normalize_entity("ﬁbrosis"), "fibrosis");
        assert_eq!(normalize_entity("ＴＮＦ"), "tnf");
    }

    #[test]
    fn empty_fields_are_left_out_of_json() {
        let mut doc = Document::new(SourceKind::Pubmed, pubmed_id("1"));
        doc.title = "T".into();
        doc.passages
            .push(Passage::new(PassageKind::Title, "T".into()));
        let json = serde_json::to_string(&doc).unwrap();
        assert_eq!(
            json,
            r#"{"schema_version":1,"id":"pmid:1","source":"pubmed","title":"T","passages":[{"kind":"title","text":"T"}]}"#
        );
        let back: Document = serde_json::from_str(&json).unwrap();
        assert_eq!(back, doc);
    }
}
