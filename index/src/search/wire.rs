//! The request and response of a search: plain serde types, for the CLI and for `pubmine serve`.

use serde::{Deserialize, Serialize};

use crate::doc::StoredMention;

/// One search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// The entity to find (see the module docs for the syntax); may be empty when `concept` is
    /// given.
    #[serde(default)]
    pub query: String,
    /// Only papers with a mention normalized to this concept (`MESH:D001241`,
    /// `NCBIGene:7157`): every spelling and every defined short form of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<String>,
    /// Only mentions of this entity type (case-insensitive: `chemical` finds `Chemical`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    /// Papers published in or after this year (papers without a year are then left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_from: Option<i32>,
    /// Papers published in or before this year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_to: Option<i32>,
    /// A second entity the papers must mention too (any type; same syntax as `query`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    /// Papers to return, capped at [`MAX_LIMIT`](super::MAX_LIMIT).
    #[serde(default = "default_limit")]
    pub limit: usize,
    /// Papers to skip (paging).
    #[serde(default)]
    pub offset: usize,
    /// Count the entities co-mentioned in the matching papers, per type, and the papers per year.
    #[serde(default)]
    pub facets: bool,
    /// Entities listed per type, capped at [`MAX_FACETS`](super::MAX_FACETS).
    #[serde(default = "default_facet_limit")]
    pub facet_limit: usize,
}

fn default_limit() -> usize {
    10
}

fn default_facet_limit() -> usize {
    10
}

impl SearchRequest {
    /// A request for `query` with the defaults: 10 papers, no filter, no facets.
    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            concept: None,
            entity_type: None,
            year_from: None,
            year_to: None,
            with: None,
            limit: default_limit(),
            offset: 0,
            facets: false,
            facet_limit: default_facet_limit(),
        }
    }
}

/// What a search found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// Papers matching, over all pages.
    pub total: usize,
    pub offset: usize,
    /// The page size used (the request's, capped).
    pub limit: usize,
    pub hits: Vec<Hit>,
    /// Per entity type, the entities most often mentioned in the matching papers (the searched
    /// entities themselves left out), most papers first; types with most papers first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facets: Vec<FacetGroup>,
    /// When more papers match than facets count ([`FACET_SAMPLE`](super::FACET_SAMPLE)): the
    /// number of best-scoring papers the facets were counted over. Absent when they count every
    /// matching paper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facets_sampled: Option<usize>,
    /// With facets: the matching papers per publication year, earliest first (years without a
    /// paper and papers without a year left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<YearCount>,
}

/// Matching papers published in one year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearCount {
    pub year: i32,
    pub papers: u64,
}

/// One paper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmcid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// The paper is retracted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retracted: bool,
    pub score: f32,
    /// All mentions in the paper.
    pub mention_count: usize,
    /// The mentions that match the query or `with`, in document order.
    pub mentions: Vec<MatchedMention>,
}

/// A mention that matched, and which part of the request it matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedMention {
    #[serde(flatten)]
    pub mention: StoredMention,
    pub matched: Matched,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matched {
    Query,
    With,
}

/// The top co-mentioned entities of one type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacetGroup {
    #[serde(rename = "type")]
    pub ty: String,
    /// Matching papers that mention an entity of this type.
    pub papers: u64,
    pub entities: Vec<FacetEntity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacetEntity {
    /// The concept's preferred name, or the normal form of mentions without a concept.
    pub name: String,
    /// The concept id, for an entity normalized to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<String>,
    /// Matching papers that mention it.
    pub papers: u64,
}
