//! Entity search: papers ranked by their mentions, with the mentions that match and their
//! snippets, filters by entity type and year, co-mention (`with`), and the top co-mentioned
//! entities per type. The request and response are plain serde types, for the CLI and for
//! `pubmine serve` (`wire.rs`); what a request and a query may hold is checked before tantivy
//! sees them, and plain words become one phrase (`guard.rs`); this file runs the search.
//!
//! Query syntax: plain words are one phrase within one mention (`type 2 diabetes`, `IL-6`);
//! otherwise tantivy's syntax: `"..."` phrases, `AND`, `OR`, `NOT`, `+`/`-`, parentheses, `x*`
//! prefixes, `*` for every paper, and the fields `title:` and `journal:`. Words without a field
//! search the mention texts (of the requested type only, with `type`).

use std::collections::HashSet;
use std::ops::Bound;
use std::path::Path;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, RangeQuery};
use tantivy::query_grammar::{self, Delimiter, UserInputAst, UserInputLeaf};
use tantivy::schema::Value as _;
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

mod facets;
mod guard;
mod wire;

pub use guard::{
    FACET_SAMPLE, MAX_DEPTH, MAX_FACETS, MAX_GROUPS, MAX_LIMIT, MAX_NESTING, MAX_QUERY_BYTES,
    MAX_TERMS, MAX_TYPE_BYTES, check_type,
};
use guard::{Limits, as_one_phrase, terms};
pub use wire::*;

use crate::IndexError;
use crate::doc::StoredMention;
use crate::schema::{self, Fields, normalize, type_key};

/// The first year [`years`] counts: earlier years (and MEDLINE has papers from the 1780s) are
/// rare enough to leave out of a histogram.
const FIRST_YEAR: i32 = 1800;
/// Years counted from [`FIRST_YEAR`], so up to 2199.
const YEARS: usize = 400;

/// The papers matching `query` per year, from the year's fast field.
fn years(searcher: &tantivy::Searcher, query: &dyn Query) -> Result<Vec<YearCount>, SearchError> {
    let histogram = tantivy::collector::HistogramCollector::new::<i64>(
        "year".to_owned(),
        i64::from(FIRST_YEAR),
        1,
        YEARS,
    );
    let counts = searcher.search(query, &histogram)?;
    Ok(counts
        .into_iter()
        .zip(FIRST_YEAR..)
        .filter(|(n, _)| *n > 0)
        .map(|(papers, year)| YearCount { year, papers })
        .collect())
}

/// Why a search failed. [`SearchError::is_client_error`] tells a bad request (HTTP 400) from a
/// failure of the index (500).
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("bad query {}: {reason}", shown(.query))]
    BadQuery { query: String, reason: String },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl SearchError {
    pub fn is_client_error(&self) -> bool {
        !matches!(self, SearchError::Index(_))
    }
}

/// The query as an error shows it: quoted, cut after 80 characters.
fn shown(query: &str) -> String {
    const SHOWN: usize = 80;
    match query.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{:?}...", &query[..at]),
        None => format!("{query:?}"),
    }
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Index(IndexError::Tantivy(e))
    }
}

/// The read side of an index directory; cheap to share (`Send + Sync`), sees new commits within
/// a moment of their landing.
#[derive(Clone)]
pub struct Searcher {
    index: Index,
    fields: Fields,
    reader: IndexReader,
    parser: QueryParser,
    limits: Limits,
    /// Facets counted by the papers' entity ids (the dictionaries where the ids cannot answer);
    /// `false`: by the dictionaries alone.
    facets_by_id: bool,
}

impl std::fmt::Debug for Searcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Searcher").finish_non_exhaustive()
    }
}

/// A parsed query and what a mention must contain to count as matching it.
struct Parsed {
    query: Box<dyn Query>,
    /// Word sequences (phrases) of the positive literals; a mention containing one matches.
    phrases: Vec<Phrase>,
    /// The query matches every mention (`*`).
    all: bool,
}

struct Phrase {
    words: Vec<String>,
    prefix: bool,
}

impl Searcher {
    /// Opens the index in `dir` (which must exist) for reading.
    pub fn open(dir: &Path) -> Result<Searcher, IndexError> {
        let (index, fields) = schema::open_existing(dir)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        let mut parser = QueryParser::for_index(&index, vec![fields.mention]);
        // Only for one-word prefixes, which `retarget` turns into regexes; a regex the user
        // writes is refused there.
        parser.allow_regexes();
        // `aspirin "colorectal cancer"`: both, as `--with` does.
        parser.set_conjunction_by_default();
        Ok(Searcher {
            index,
            fields,
            reader,
            parser,
            limits: Limits::default(),
            facets_by_id: true,
        })
    }

    /// Counts facets by the segments' dictionaries alone, as search did before the entity ids:
    /// the same answers, slower; the reference the scale benchmark times the ids against.
    pub fn with_facets_by_dictionary(mut self) -> Searcher {
        self.facets_by_id = false;
        self
    }

    /// Picks up the latest commit now (it is otherwise picked up within a moment).
    pub fn reload(&self) -> Result<(), IndexError> {
        Ok(self.reader.reload()?)
    }

    /// Papers in the index (the entries that stand for deleted documents left out).
    pub fn num_docs(&self) -> Result<u64, SearchError> {
        let searcher = self.reader.searcher();
        let deleted = searcher.search(&self.deleted(), &Count)?;
        Ok(searcher.num_docs() - deleted as u64)
    }

    /// The entries that stand for deleted documents ([`crate::doc::tombstone`]).
    fn deleted(&self) -> tantivy::query::TermQuery {
        tantivy::query::TermQuery::new(
            Term::from_field_text(self.fields.deleted, crate::doc::DELETED),
            tantivy::schema::IndexRecordOption::Basic,
        )
    }

    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, SearchError> {
        let limit = req.limit.clamp(1, MAX_LIMIT);
        if req
            .offset
            .checked_add(limit)
            .is_none_or(|end| end > MAX_DEPTH)
        {
            return Err(SearchError::BadRequest(format!(
                "offset + limit must be at most {MAX_DEPTH}"
            )));
        }
        if let (Some(a), Some(b)) = (req.year_from, req.year_to)
            && a > b
        {
            return Err(SearchError::BadRequest(format!(
                "year_from {a} is after year_to {b}"
            )));
        }
        if let Some(t) = &req.entity_type {
            check_type(t).map_err(SearchError::BadRequest)?;
        }
        let ty = req
            .entity_type
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(type_key);
        let target = match &ty {
            Some(key) => format!("by_type.{key}"),
            None => "mention".to_owned(),
        };
        let concept = req
            .concept
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if let Some(c) = concept {
            check_type(c)
                .map_err(|e| SearchError::BadRequest(e.replace("the type", "the concept")))?;
        }
        // A concept alone: every paper that mentions it (of the type, when one is given).
        let concept_only = concept.is_some() && req.query.trim().is_empty();
        let main = self.parse(if concept_only { "*" } else { &req.query }, &target)?;
        let with = match req.with.as_deref() {
            Some(w) => Some(self.parse(w, "mention")?),
            None => None,
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, main.query.box_clone())];
        if let Some(w) = &with {
            clauses.push((Occur::Must, w.query.box_clone()));
        }
        if let Some(c) = concept {
            clauses.push((
                Occur::Must,
                Box::new(tantivy::query::TermQuery::new(
                    Term::from_field_text(self.fields.concept, c),
                    tantivy::schema::IndexRecordOption::Basic,
                )),
            ));
        }
        if let Some(key) = &ty
            && main.all
        {
            // `*` with a type: the papers that mention that type at all.
            clauses.push((
                Occur::Must,
                Box::new(tantivy::query::TermQuery::new(
                    Term::from_field_text(self.fields.entity_type, key),
                    tantivy::schema::IndexRecordOption::Basic,
                )),
            ));
        }
        if req.year_from.is_some() || req.year_to.is_some() {
            let bound = |y: Option<i32>| match y {
                Some(y) => Bound::Included(Term::from_field_i64(self.fields.year, i64::from(y))),
                None => Bound::Unbounded,
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(req.year_from), bound(req.year_to))),
            ));
        }
        // `*`, a year range or a negation alone would match the entries of deleted documents.
        clauses.push((Occur::MustNot, Box::new(self.deleted())));
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let (top, total) = searcher.search(
            &query,
            &(
                TopDocs::with_limit(limit)
                    .and_offset(req.offset)
                    .order_by_score(),
                Count,
            ),
        )?;
        let mut hits = Vec::with_capacity(top.len());
        let wanted = Wanted {
            ty: ty.as_deref(),
            main: &main,
            concept,
            concept_only,
            with: with.as_ref(),
        };
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            hits.push(self.hit(&doc, score, &wanted)?);
        }
        let (facets, facets_sampled, years) = if req.facets {
            let mut searched: HashSet<String> = HashSet::new();
            for p in main
                .phrases
                .iter()
                .chain(with.iter().flat_map(|w| &w.phrases))
            {
                searched.insert(normalize(&p.words.join(" ")));
            }
            if let Some(c) = concept {
                searched.insert(c.to_owned());
            }
            let (facets, counted) = facets::facets(
                &searcher,
                &query,
                req.facet_limit.clamp(1, MAX_FACETS),
                &searched,
                self.facets_by_id,
            )?;
            let sampled = (counted < total).then_some(counted);
            (facets, sampled, years(&searcher, &query)?)
        } else {
            (Vec::new(), None, Vec::new())
        };
        Ok(SearchResponse {
            total,
            offset: req.offset,
            limit,
            hits,
            facets,
            facets_sampled,
            years,
        })
    }

    /// Parses `text`, pointing every term without a field at `target`.
    fn parse(&self, text: &str, target: &str) -> Result<Parsed, SearchError> {
        let bad = |reason: String| SearchError::BadQuery {
            query: text.to_owned(),
            reason,
        };
        if text.trim().is_empty() {
            return Err(bad("the query is empty".into()));
        }
        // Before the grammar sees it: the grammar recurses per level of nesting, and a deep
        // enough query overflows the stack, which aborts the process.
        self.limits.check(text).map_err(bad)?;
        let ast = query_grammar::parse_query(text).map_err(|_| {
            bad("not a valid query: quote phrases with \"...\", combine with AND, OR, NOT, +, - and parentheses".into())
        })?;
        let ast = as_one_phrase(ast);
        if terms(&ast) > self.limits.terms {
            return Err(bad(format!(
                "the query has more than {} terms",
                self.limits.terms
            )));
        }
        let mut phrases = Vec::new();
        let mut all = false;
        let ast = self
            .retarget(ast, target, true, &mut phrases, &mut all)
            .map_err(bad)?;
        let query = self
            .parser
            .build_query_from_user_input_ast(ast)
            .map_err(|e| bad(e.to_string()))?;
        Ok(Parsed {
            query,
            phrases,
            all,
        })
    }

    /// Sets `target` as the field of the leaves without one, and collects the positive phrases.
    fn retarget(
        &self,
        ast: UserInputAst,
        target: &str,
        positive: bool,
        phrases: &mut Vec<Phrase>,
        all: &mut bool,
    ) -> Result<UserInputAst, String> {
        Ok(match ast {
            UserInputAst::Clause(clauses) => UserInputAst::Clause(
                clauses
                    .into_iter()
                    .map(|(occur, sub)| {
                        let pos = positive && occur != Some(query_grammar::Occur::MustNot);
                        Ok((occur, self.retarget(sub, target, pos, phrases, all)?))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            UserInputAst::Boost(sub, boost) => UserInputAst::Boost(
                Box::new(self.retarget(*sub, target, positive, phrases, all)?),
                boost,
            ),
            UserInputAst::Leaf(leaf) => {
                let leaf = match *leaf {
                    UserInputLeaf::Literal(mut lit) if lit.field_name.is_none() => {
                        // The grammar keeps the `*` of an unquoted word in the word.
                        if lit.delimiter == Delimiter::None
                            && let Some(stem) = lit.phrase.strip_suffix('*')
                        {
                            lit.phrase = stem.to_owned();
                            lit.prefix = true;
                        }
                        let words = schema::words(&self.index, &lit.phrase);
                        let one_word_prefix = lit.prefix && words.len() == 1;
                        let leaf = if one_word_prefix {
                            // tantivy's prefixes need a phrase of two words or more; one word is
                            // a prefix regex on the term dictionary (words are letters and
                            // digits only, nothing to escape).
                            if target != "mention" {
                                return Err(format!(
                                    "a one-word prefix ({}*) cannot be combined with a type; give two words (\"{} ...\"*) or no type",
                                    lit.phrase, lit.phrase
                                ));
                            }
                            UserInputLeaf::Regex {
                                field: Some(target.to_owned()),
                                pattern: format!("{}.*", words[0]),
                            }
                        } else {
                            lit.field_name = Some(target.to_owned());
                            UserInputLeaf::Literal(lit.clone())
                        };
                        if positive {
                            phrases.push(Phrase {
                                words,
                                prefix: lit.prefix,
                            });
                        }
                        leaf
                    }
                    UserInputLeaf::Regex { .. } => {
                        return Err("regular expressions are not supported".into());
                    }
                    UserInputLeaf::All => {
                        *all |= positive;
                        UserInputLeaf::All
                    }
                    UserInputLeaf::Range {
                        field: None,
                        lower,
                        upper,
                    } => UserInputLeaf::Range {
                        field: Some(target.to_owned()),
                        lower,
                        upper,
                    },
                    UserInputLeaf::Set {
                        field: None,
                        elements,
                    } => UserInputLeaf::Set {
                        field: Some(target.to_owned()),
                        elements,
                    },
                    other => other,
                };
                UserInputAst::Leaf(Box::new(leaf))
            }
        })
    }

    fn hit(&self, doc: &TantivyDocument, score: f32, w: &Wanted<'_>) -> Result<Hit, SearchError> {
        let f = &self.fields;
        let json = schema::stored_str(doc, f.mentions).unwrap_or_default();
        let all: Vec<StoredMention> =
            serde_json::from_str(&json).map_err(|e| SearchError::Index(IndexError::Payload(e)))?;
        let mention_count = all.len();
        let mut mentions = Vec::new();
        for m in all {
            let words = schema::words(&self.index, &m.text);
            // The other names the mention is indexed under (see `doc::build`).
            let aliases: Vec<Vec<String>> = [m.long_form.as_deref(), m.concept_name.as_deref()]
                .into_iter()
                .flatten()
                .map(|l| schema::words(&self.index, l))
                .collect();
            let of_type = w.ty.is_none_or(|t| type_key(&m.ty) == t);
            let of_concept = w.concept.is_some() && m.concept.as_deref() == w.concept;
            let by_text = !w.concept_only
                && (w.main.matches(&words) || aliases.iter().any(|l| w.main.matches(l)));
            let matched = if of_type && (of_concept || by_text) {
                Some(Matched::Query)
            } else if w
                .with
                .is_some_and(|x| x.matches(&words) || aliases.iter().any(|l| x.matches(l)))
            {
                Some(Matched::With)
            } else {
                None
            };
            if let Some(matched) = matched {
                mentions.push(MatchedMention {
                    mention: m,
                    matched,
                });
            }
        }
        Ok(Hit {
            id: schema::stored_str(doc, f.id).unwrap_or_default(),
            pmid: schema::stored_str(doc, f.pmid),
            pmcid: schema::stored_str(doc, f.pmcid),
            doi: schema::stored_str(doc, f.doi),
            title: schema::stored_str(doc, f.title).filter(|t| !t.is_empty()),
            journal: schema::stored_str(doc, f.journal),
            year: doc
                .get_first(f.year)
                .and_then(|v| v.as_i64())
                .and_then(|y| i32::try_from(y).ok()),
            retracted: doc
                .get_first(f.retracted)
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            score,
            mention_count,
            mentions,
        })
    }
}

/// What a hit's mentions are matched against.
struct Wanted<'a> {
    ty: Option<&'a str>,
    main: &'a Parsed,
    concept: Option<&'a str>,
    /// The request names a concept and no query: only the concept's mentions match it.
    concept_only: bool,
    with: Option<&'a Parsed>,
}

impl Parsed {
    /// Whether a mention with these words matches one of the query's phrases.
    fn matches(&self, words: &[String]) -> bool {
        self.all || self.phrases.iter().any(|p| p.found_in(words))
    }
}

impl Phrase {
    fn found_in(&self, words: &[String]) -> bool {
        let n = self.words.len();
        if n == 0 || n > words.len() {
            return false;
        }
        words.windows(n).any(|w| {
            w.iter().zip(&self.words).enumerate().all(|(i, (a, b))| {
                if self.prefix && i == n - 1 {
                    a.starts_with(b.as_str())
                } else {
                    a == b
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::guard::nesting;
    use super::*;
    use crate::writer::{IndexConfig, Indexer};
    use pubmine_stream::record::{
        Annotations, Document, Mention, Passage, PassageKind, SourceKind,
    };
    use pubmine_stream::sink::{SinkBatch, SinkItem};
    use pubmine_stream::transport::Offsets;

    /// An index of one paper mentioning aspirin.
    fn searcher(dir: &Path) -> Searcher {
        let mut doc = Document::new(SourceKind::Pubmed, "pmid:1".into());
        doc.passages = vec![Passage::new(PassageKind::Title, "aspirin".into())];
        let a = Annotations {
            id: "pmid:1".into(),
            mentions: vec![Mention {
                passage: 0,
                start: 0,
                end: 7,
                text: "aspirin".into(),
                ty: "Chemical".into(),
                score: 1.0,
                model: "m".into(),
                concept: None,
            }],
            abbreviations: Vec::new(),
            document: Some(Box::new(doc)),
            ..Default::default()
        };
        let mut next = Offsets::new();
        next.insert(("t".into(), 0), 1);
        let batch = SinkBatch {
            items: vec![SinkItem {
                topic: "t".into(),
                partition: 0,
                offset: 0,
                key: "pmid:1".into(),
                annotations: Some(Box::new(a)),
                origin: None,
            }],
            next,
        };
        let mut ix = Indexer::open(dir, IndexConfig::default()).unwrap();
        ix.write(&batch).unwrap();
        ix.commit().unwrap();
        ix.close().unwrap();
        Searcher::open(dir).unwrap()
    }

    fn reason(s: &Searcher, query: &str) -> String {
        match s.search(&SearchRequest::new(query)) {
            Err(SearchError::BadQuery { reason, .. }) => reason,
            other => panic!("{:?}: {other:?}", shown(query)),
        }
    }

    #[test]
    fn nesting_counts_groups_and_pending_nots() {
        for (q, n) in [
            ("aspirin", 0),
            ("(aspirin)", 1),
            ("(a OR b) AND (c OR d)", 1),
            ("((a) (b (c)))", 3),
            ("title:(a OR journal:(b))", 2),
            ("+(a -(b))", 2),
            ("NOT NOT a", 2),
            ("NOT (NOT a)", 3),
            ("a AND NOT b AND NOT c", 1),
            ("\"((((\" 'a (b' \"x \\\" ((\"", 0),
            ("a\\(\\(b", 0),
            ("))) (a)", 1),
        ] {
            assert_eq!(nesting(q), n, "{q}");
        }
    }

    /// A query nested thousands deep used to overflow the stack of the thread searching, which
    /// aborts the whole process (`pubmine serve` with it).
    #[test]
    fn deeply_nested_queries_are_refused_not_a_stack_overflow() {
        let dir = tempfile::tempdir().unwrap();
        let s = searcher(dir.path());
        let too_deep = format!("the query is nested deeper than {MAX_NESTING} levels");
        for n in [MAX_NESTING + 1, 3_000, 100_000] {
            for q in [
                format!("{}aspirin{}", "(".repeat(n), ")".repeat(n)),
                format!("{}aspirin", "(".repeat(n)),
                format!("{}aspirin", "NOT ".repeat(n)),
                format!("{}aspirin{}", "title:(".repeat(n), ")".repeat(n)),
                format!("{}aspirin{}", "(a OR ".repeat(n), ")".repeat(n)),
                format!("{}aspirin{}", "NOT (".repeat(n), ")".repeat(n)),
            ] {
                assert_eq!(reason(&s, &q), too_deep, "{}", shown(&q));
            }
        }
        // `with` goes through the same parser.
        let req = SearchRequest {
            with: Some(format!("{}a{}", "(".repeat(3_000), ")".repeat(3_000))),
            ..SearchRequest::new("aspirin")
        };
        let e = s.search(&req).unwrap_err();
        assert!(
            e.is_client_error() && e.to_string().contains(&too_deep),
            "{e}"
        );
        // The error quotes the start of the query, not all of it.
        assert!(e.to_string().len() < 200, "{e}");
        // At the limit, still a query.
        let q = format!(
            "{}aspirin{}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert_eq!(s.search(&SearchRequest::new(q)).unwrap().total, 1);
    }

    /// The bound that holds whatever the nesting count makes of a query: `MAX_GROUPS` levels of
    /// the deepest shapes parse, build and run on a thread stack of 2 MiB (tokio's, for
    /// `spawn_blocking`), in a debug build. (At 256 this test overflows its stack.)
    #[test]
    fn max_groups_levels_fit_a_small_stack() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = searcher(dir.path());
        s.limits.nesting = usize::MAX;
        s.limits.terms = usize::MAX;
        s.limits.bytes = usize::MAX;
        let n = MAX_GROUPS;
        let shapes = [
            format!("{}aspirin{}", "(".repeat(n), ")".repeat(n)),
            format!("{}aspirin{}", "(a OR ".repeat(n), ")".repeat(n)),
            format!("{}aspirin{}", "(+a -".repeat(n - 1), ")".repeat(n - 1)),
            format!("{}aspirin", "NOT ".repeat(n)),
            format!("{}aspirin{}", "title:(a ".repeat(n), ")".repeat(n)),
            format!("{}aspirin{}", "(aspirin^2 AND ".repeat(n), ")".repeat(n)),
            format!(
                "{}aspirin{}",
                "title:(NOT ".repeat(n / 2),
                ")".repeat(n / 2)
            ),
            format!("{}aspirin{}", "journal:(+a ".repeat(n), ")".repeat(n)),
        ];
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                for q in shapes {
                    assert_eq!(Limits::default().groups, MAX_GROUPS);
                    // Found, or refused for what it means (a NOT alone excludes only).
                    match s.search(&SearchRequest::new(q.clone())) {
                        Ok(_) | Err(SearchError::BadQuery { .. }) => {}
                        Err(e) => panic!("{}: {e:?}", shown(&q)),
                    }
                }
                // One more is refused.
                s.limits = Limits {
                    nesting: usize::MAX,
                    ..Limits::default()
                };
                let q = format!("{}aspirin{}", "(".repeat(n + 1), ")".repeat(n + 1));
                assert_eq!(
                    reason(&s, &q),
                    format!("the query has more than {MAX_GROUPS} parentheses and NOTs")
                );
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn long_queries_many_terms_and_control_characters_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = searcher(dir.path());
        let long = "aspirin ".repeat(MAX_QUERY_BYTES / 8 + 1);
        assert_eq!(
            reason(&s, &long),
            format!("the query is longer than {MAX_QUERY_BYTES} bytes")
        );
        // Distinct terms: the grammar merges repeated ones.
        let terms = |n: usize| {
            let mut t: Vec<String> = (1..n).map(|i| format!("t{i}")).collect();
            t.push("aspirin".into());
            t.join(" OR ")
        };
        assert_eq!(
            reason(&s, &terms(MAX_TERMS + 1)),
            format!("the query has more than {MAX_TERMS} terms")
        );
        assert_eq!(
            s.search(&SearchRequest::new(terms(MAX_TERMS)))
                .unwrap()
                .total,
            1
        );
        // Plain words are one phrase: one term however many words.
        let words = vec!["aspirin"; MAX_TERMS + 1].join(" ");
        assert!(s.search(&SearchRequest::new(words)).is_ok());
        assert_eq!(
            reason(&s, "aspirin\0x"),
            "the query holds a control character (U+0000)"
        );
        assert_eq!(
            reason(&s, "as\u{1b}pirin"),
            "the query holds a control character (U+001B)"
        );
        assert_eq!(
            s.search(&SearchRequest::new("\taspirin\n")).unwrap().total,
            1
        );
        for ty in ["\0", "chemical\u{7f}", &"x".repeat(MAX_TYPE_BYTES + 1)] {
            let req = SearchRequest {
                entity_type: Some(ty.to_owned()),
                ..SearchRequest::new("aspirin")
            };
            let e = s.search(&req).unwrap_err();
            assert!(matches!(e, SearchError::BadRequest(_)), "{ty:?}: {e}");
        }
        // `offset + limit` past usize is refused, not an overflow.
        let req = SearchRequest {
            offset: usize::MAX,
            ..SearchRequest::new("aspirin")
        };
        assert!(matches!(
            s.search(&req).unwrap_err(),
            SearchError::BadRequest(_)
        ));
    }
}
