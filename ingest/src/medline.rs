//! PubMed MEDLINE XML (`PubmedArticleSet`, as in the yearly baseline and the daily update files)
//! into [`DocumentRecord`]s, streamed: one article in memory at a time, whatever the file size.
//!
//! Elements read: `PubmedArticle`, `PubmedBookArticle`, and `DeleteCitation` (each PMID becomes a
//! deletion of the version it names). Each version of a versioned citation (`<PMID
//! Version="2">`) is a document of its own, `pmid:<n>.<v>` ([`pubmed_version_id`]): a late copy
//! of version 1 never replaces version 2, and deleting one version leaves the others. A record
//! that cannot be read (no PMID, malformed XML, a character XML forbids) is returned as a
//! [`RecordError`] (naming the PMID when it was read before the fault) and the parser
//! resynchronises at the next record start tag.
//! A stream that stops early (a read error, a truncated file) ends with a fatal
//! [`RecordError`] after its last whole record.

use std::io::Read;

use pubmine_stream::record::{
    ArticleId, Author, Chemical, CommentCorrection, Document, DocumentRecord, Grant, Keyword,
    KindedDate, MeshHeading, Passage, PassageKind, PubDate, Reference, SourceKind, Term,
    pubmed_version_id,
};
use quick_xml::events::Event;

use crate::chunk::{Chunk, RecordStream, default_threads};
use crate::error::RecordError;
use crate::text::{TextBuf, non_empty};
use crate::xml::{Slice, Source, TextStyle, Xml, attr, attr_yes, each_child, parse_records};

/// MathML's TeX or content annotations would repeat a formula's text: they are left out.
fn medline_skip(name: &str) -> bool {
    matches!(name, "annotation" | "annotation-xml")
}
fn no_block(_: &str) -> bool {
    false
}
const STYLE: TextStyle = TextStyle {
    skip: medline_skip,
    block: no_block,
};

/// Streams the records of a MEDLINE XML file: the input is cut into chunks of whole records
/// (about [`CHUNK_BYTES`] each), parsed from memory on worker threads, and handed back in input
/// order.
#[derive(Debug)]
pub struct MedlineParser<R>(RecordStream<R>);

/// Size of the chunks the input is cut into.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The elements a MEDLINE stream is cut between.
pub const RECORD_NAMES: &[&str] = &["PubmedArticle", "PubmedBookArticle", "DeleteCitation"];

impl<R: Read> MedlineParser<R> {
    /// A parser using as many threads as the machine has cores (at most 4).
    pub fn new(inner: R) -> Self {
        Self::with_threads(inner, default_threads())
    }

    /// A parser with `threads` parsing threads.
    pub fn with_threads(inner: R, threads: usize) -> Self {
        MedlineParser(RecordStream::new(
            inner,
            RECORD_NAMES,
            CHUNK_BYTES,
            threads,
            parse_chunk,
        ))
    }
}

impl<R: Read> Iterator for MedlineParser<R> {
    type Item = Result<DocumentRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

/// The records of one chunk of whole records, in order.
pub fn parse_chunk(chunk: &Chunk) -> Vec<Result<DocumentRecord, RecordError>> {
    parse_records(chunk, next_record)
}

/// Reads the next record into `out`; false at the end of the input.
fn next_record(
    x: &mut Xml<Slice<'_>>,
    out: &mut Vec<Result<DocumentRecord, RecordError>>,
) -> Result<bool, RecordError> {
    loop {
        let start = x.position();
        let kind = match x.event()? {
            Event::Start(e) => match e.local_name().as_ref() {
                "PubmedArticle" => Top::Article,
                "PubmedBookArticle" => Top::Book,
                "DeleteCitation" => Top::Delete,
                _ => continue,
            },
            Event::Eof => return Ok(false),
            _ => continue,
        };
        let mut doc = Document::new(SourceKind::Pubmed, String::new());
        let read = match kind {
            Top::Article => pubmed_article(x, &mut doc),
            Top::Book => book_article(x, &mut doc),
            Top::Delete => {
                // Each PMID with the version it deletes: the other versions stay.
                let mut ids = Vec::new();
                each_child!(x, e, {
                    "PMID" => { let v = attr(&e, "Version"); ids.push((x.text(&STYLE)?, v)) },
                });
                out.extend(
                    ids.into_iter()
                        .filter(|(i, _)| !i.is_empty())
                        .map(|(i, v)| {
                            Ok(DocumentRecord::Delete(pubmed_version_id(&i, version(v))))
                        }),
                );
                return Ok(true);
            }
        };
        // A record that breaks after its PMID was read names it in its dead letter.
        if let Err(e) = read {
            let id = doc
                .pmid
                .as_deref()
                .filter(|p| is_pmid(p))
                .map(|p| pubmed_version_id(p, doc.version));
            return Err(e.with_id(id));
        }
        out.push(finish(doc, start).map(|d| DocumentRecord::Upsert(Box::new(d))));
        return Ok(true);
    }
}

fn pubmed_article<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    each_child!(x, e, {
        "MedlineCitation" => medline_citation(x, doc)?,
        "PubmedData" => pubmed_data(x, doc)?,
    });
    Ok(())
}

fn book_article<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    let mut book_title = None;
    let mut chapter_title = None;
    each_child!(x, e, {
        "BookDocument" => each_child!(x, e, {
            "PMID" => { let v = attr(&e, "Version"); pmid(x, v, doc)? },
            "ArticleIdList" => article_ids(x, doc)?,
            "Book" => each_child!(x, e, {
                "Publisher" => each_child!(x, e, {
                    "PublisherName" => doc.journal.get_or_insert_default().publisher = x.opt_text(&STYLE)?,
                }),
                "BookTitle" => book_title = x.opt_text(&STYLE)?,
                "PubDate" => doc.pub_date = Some(date(x)?),
                "AuthorList" => {
                    // Editors of the book; the chapter's authors come in the outer list.
                    let is_editors = attr(&e, "Type").as_deref() == Some("editors");
                    if is_editors && !doc.authors.is_empty() { x.skip()? } else { author_list(x, doc)? }
                },
                "Isbn" => if let Some(v) = x.opt_text(&STYLE)? {
                    doc.article_ids.push(ArticleId { kind: "isbn".into(), value: v })
                },
            }),
            "ArticleTitle" => chapter_title = x.opt_text(&STYLE)?,
            "VernacularTitle" => vernacular(x, doc)?,
            "Language" => language(x, doc)?,
            "AuthorList" => {
                if attr(&e, "Type").as_deref() != Some("editors") {
                    doc.authors.clear();
                    author_list(x, doc)?
                } else { x.skip()? }
            },
            "PublicationType" => doc.publication_types.push({ let a = term_attrs(&e); term(x, a)? }),
            "Abstract" => abstract_(x, doc, PassageKind::Abstract, None)?,
            "KeywordList" => { let owner = attr(&e, "Owner"); keyword_list(x, owner, doc)? },
            "GrantList" => grant_list(x, doc)?,
            "DateRevised" => { let d = date(x)?; doc.dates.push(KindedDate { kind: "revised".into(), date: d }) },
            "ContributionDate" => { let d = date(x)?; doc.dates.push(KindedDate { kind: "contribution".into(), date: d }) },
        }),
        "PubmedBookData" => pubmed_data(x, doc)?,
    });
    doc.title = chapter_title.or(book_title).unwrap_or_default();
    Ok(())
}

enum Top {
    Article,
    Book,
    Delete,
}

/// Checks a parsed document and derives the fields that depend on several elements.
fn finish(mut doc: Document, start: u64) -> Result<Document, RecordError> {
    let Some(pmid) = doc.pmid.clone() else {
        let hint = (!doc.title.is_empty()).then(|| format!(" (title {:?})", doc.title));
        return Err(RecordError::new(
            start,
            format!("article without PMID{}", hint.unwrap_or_default()),
        ));
    };
    if !is_pmid(&pmid) {
        return Err(RecordError::new(
            start,
            format!("PMID {pmid:?} is not a number"),
        ));
    }
    doc.id = pubmed_version_id(&pmid, doc.version);
    if doc.title.is_empty() {
        // Some records carry only the title in their original language.
        if let Some(p) = doc
            .passages
            .iter()
            .position(|p| p.kind == PassageKind::Title)
        {
            doc.title = doc.passages[p].text.clone();
        }
    }
    if !doc.title.is_empty() {
        let title = Passage::new(PassageKind::Title, doc.title.clone());
        doc.passages.retain(|p| p.kind != PassageKind::Title);
        doc.passages.insert(0, title);
    }
    for id in &doc.article_ids {
        match id.kind.as_str() {
            "doi" if doc.doi.is_none() => doc.doi = Some(id.value.clone()),
            "pmc" if doc.pmcid.is_none() => doc.pmcid = Some(id.value.clone()),
            _ => {}
        }
    }
    doc.retracted = doc
        .publication_types
        .iter()
        .any(|t| t.name == "Retracted Publication")
        || doc
            .comments_corrections
            .iter()
            .any(|c| c.ref_type == "RetractionIn");
    Ok(doc)
}

/// A PMID as PubMed writes them: digits only.
fn is_pmid(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A `PMID`'s `Version` attribute as a number (none when absent or not a number).
fn version(attr: Option<String>) -> Option<u32> {
    attr.and_then(|v| v.trim().parse().ok())
}

fn pmid<S: Source>(
    x: &mut Xml<S>,
    version: Option<String>,
    doc: &mut Document,
) -> Result<(), RecordError> {
    let version = self::version(version);
    let value = x.text(&STYLE)?;
    // The first PMID is the article's; later ones (in CommentsCorrections) are read elsewhere.
    if doc.pmid.is_none() && !value.is_empty() {
        doc.pmid = Some(value);
        doc.version = version;
    }
    Ok(())
}

fn medline_citation<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    each_child!(x, e, {
        "PMID" => { let v = attr(&e, "Version"); pmid(x, v, doc)? },
        "DateCompleted" => { let d = date(x)?; doc.dates.push(KindedDate { kind: "completed".into(), date: d }) },
        "DateRevised" => { let d = date(x)?; doc.dates.push(KindedDate { kind: "revised".into(), date: d }) },
        "Article" => article(x, doc)?,
        "MedlineJournalInfo" => each_child!(x, e, {
            "NlmUniqueID" => doc.journal.get_or_insert_default().nlm_unique_id = x.opt_text(&STYLE)?,
            "MedlineTA" => {
                let ta = x.opt_text(&STYLE)?;
                let j = doc.journal.get_or_insert_default();
                if j.iso_abbreviation.is_none() { j.iso_abbreviation = ta }
            },
        }),
        "ChemicalList" => each_child!(x, e, {
            "Chemical" => {
                let mut c = Chemical::default();
                each_child!(x, e, {
                    "RegistryNumber" => c.registry_number = x.opt_text(&STYLE)?,
                    "NameOfSubstance" => { c.ui = attr(&e, "UI"); c.name = x.text(&STYLE)? },
                });
                doc.chemicals.push(c)
            },
        }),
        "CommentsCorrectionsList" => each_child!(x, e, {
            "CommentsCorrections" => {
                let mut c = CommentCorrection { ref_type: attr(&e, "RefType").unwrap_or_default(), ..Default::default() };
                each_child!(x, e, {
                    "RefSource" => c.ref_source = x.opt_text(&STYLE)?,
                    "PMID" => c.pmid = x.opt_text(&STYLE)?,
                });
                doc.comments_corrections.push(c)
            },
        }),
        "MeshHeadingList" => each_child!(x, e, {
            "MeshHeading" => {
                let mut h = MeshHeading::default();
                each_child!(x, e, {
                    "DescriptorName" => h.descriptor = { let a = term_attrs(&e); term(x, a)? },
                    "QualifierName" => h.qualifiers.push({ let a = term_attrs(&e); term(x, a)? }),
                });
                doc.mesh.push(h)
            },
        }),
        "KeywordList" => { let owner = attr(&e, "Owner"); keyword_list(x, owner, doc)? },
        "OtherAbstract" => {
            let lang = attr(&e, "Language");
            abstract_(x, doc, PassageKind::OtherAbstract, lang)?
        },
        "OtherID" => {
            let source = attr(&e, "Source").unwrap_or_else(|| "other".into());
            if let Some(v) = x.opt_text(&STYLE)? {
                doc.article_ids.push(ArticleId { kind: source.to_lowercase(), value: v })
            }
        },
    });
    Ok(())
}

fn article<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    let mut elocation_doi = None;
    each_child!(x, e, {
        "Journal" => journal(x, doc)?,
        "ArticleTitle" => doc.title = x.text(&STYLE)?,
        "VernacularTitle" => vernacular(x, doc)?,
        "Pagination" => each_child!(x, e, {
            "MedlinePgn" => doc.journal.get_or_insert_default().pages = x.opt_text(&STYLE)?,
        }),
        "ELocationID" => {
            let is_doi = attr(&e, "EIdType").as_deref() == Some("doi");
            let v = x.opt_text(&STYLE)?;
            if is_doi && elocation_doi.is_none() { elocation_doi = v }
        },
        "Abstract" => abstract_(x, doc, PassageKind::Abstract, None)?,
        "AuthorList" => author_list(x, doc)?,
        "Language" => language(x, doc)?,
        "GrantList" => grant_list(x, doc)?,
        "PublicationTypeList" => each_child!(x, e, {
            "PublicationType" => doc.publication_types.push({ let a = term_attrs(&e); term(x, a)? }),
        }),
        "ArticleDate" => {
            let kind = attr(&e, "DateType").unwrap_or_else(|| "Electronic".into());
            let d = date(x)?;
            doc.dates.push(KindedDate { kind, date: d })
        },
    });
    if doc.doi.is_none() {
        doc.doi = elocation_doi;
    }
    Ok(())
}

fn journal<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    let j = doc.journal.get_or_insert_default();
    let mut pub_date = None;
    each_child!(x, e, {
        "ISSN" => {
            let kind = attr(&e, "IssnType").unwrap_or_default();
            if let Some(v) = x.opt_text(&STYLE)? { j.issns.push(ArticleId { kind, value: v }) }
        },
        "JournalIssue" => each_child!(x, e, {
            "Volume" => j.volume = x.opt_text(&STYLE)?,
            "Issue" => j.issue = x.opt_text(&STYLE)?,
            "PubDate" => pub_date = Some(date(x)?),
        }),
        "Title" => j.title = x.opt_text(&STYLE)?,
        "ISOAbbreviation" => j.iso_abbreviation = x.opt_text(&STYLE)?,
    });
    doc.pub_date = pub_date;
    Ok(())
}

fn vernacular<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    // Kept as the title only when there is no English one (see `finish`).
    if let Some(t) = x.opt_text(&STYLE)?
        && doc.title.is_empty()
        && !doc.passages.iter().any(|p| p.kind == PassageKind::Title)
    {
        doc.passages.push(Passage::new(PassageKind::Title, t));
    }
    Ok(())
}

fn language<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    if let Some(l) = x.opt_text(&STYLE)? {
        doc.languages.push(l);
    }
    Ok(())
}

/// The `UI` and `MajorTopicYN` attributes of a term.
fn term_attrs(e: &quick_xml::events::BytesStart<'_>) -> (Option<String>, bool) {
    (attr(e, "UI"), attr_yes(e, "MajorTopicYN"))
}

fn term<S: Source>(
    x: &mut Xml<S>,
    (ui, major): (Option<String>, bool),
) -> Result<Term, RecordError> {
    Ok(Term {
        name: x.text(&STYLE)?,
        ui,
        major,
    })
}

fn keyword_list<S: Source>(
    x: &mut Xml<S>,
    owner: Option<String>,
    doc: &mut Document,
) -> Result<(), RecordError> {
    each_child!(x, e, {
        "Keyword" => {
            let major = attr_yes(&e, "MajorTopicYN");
            let text = x.text(&STYLE)?;
            if !text.is_empty() { doc.keywords.push(Keyword { text, owner: owner.clone(), major }) }
        },
    });
    Ok(())
}

fn grant_list<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    each_child!(x, e, {
        "Grant" => {
            let mut g = Grant::default();
            each_child!(x, e, {
                "GrantID" => g.id = x.opt_text(&STYLE)?,
                "Acronym" => g.acronym = x.opt_text(&STYLE)?,
                "Agency" => g.agency = x.opt_text(&STYLE)?,
                "Country" => g.country = x.opt_text(&STYLE)?,
            });
            doc.grants.push(g)
        },
    });
    Ok(())
}

fn author_list<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    each_child!(x, e, {
        "Author" => {
            let mut a = Author::default();
            each_child!(x, e, {
                "LastName" => a.last_name = x.opt_text(&STYLE)?,
                "ForeName" | "FirstName" => a.fore_name = x.opt_text(&STYLE)?,
                "Initials" => a.initials = x.opt_text(&STYLE)?,
                "Suffix" => a.suffix = x.opt_text(&STYLE)?,
                "CollectiveName" => a.collective_name = x.opt_text(&STYLE)?,
                "Identifier" => {
                    let is_orcid = attr(&e, "Source").as_deref() == Some("ORCID");
                    let v = x.text(&STYLE)?;
                    if is_orcid { a.orcid = normalize_orcid(&v) }
                },
                "AffiliationInfo" => each_child!(x, e, {
                    "Affiliation" => if let Some(t) = x.opt_text(&STYLE)? { a.affiliations.push(t) },
                }),
            });
            doc.authors.push(a)
        },
    });
    Ok(())
}

/// `https://orcid.org/0000-0002-1825-0097`, `0000000218250097`, ... to `0000-0002-1825-0097`.
pub fn normalize_orcid(raw: &str) -> Option<String> {
    let chars: Vec<char> = raw
        .trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'X' || *c == 'x')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.len() != 16 {
        return non_empty(raw);
    }
    let s: String = chars.iter().collect();
    Some(format!(
        "{}-{}-{}-{}",
        &s[0..4],
        &s[4..8],
        &s[8..12],
        &s[12..16]
    ))
}

fn abstract_<S: Source>(
    x: &mut Xml<S>,
    doc: &mut Document,
    kind: PassageKind,
    lang: Option<String>,
) -> Result<(), RecordError> {
    let mut text = TextBuf::new();
    each_child!(x, e, {
        "AbstractText" => {
            let section = attr(&e, "Label").and_then(|l| non_empty(&l));
            let category = attr(&e, "NlmCategory");
            x.text_into(&mut text, &STYLE)?;
            if !text.is_empty() {
                doc.passages.push(Passage { kind, section, category, lang: lang.clone(), text: text.take() })
            }
        },
    });
    Ok(())
}

fn pubmed_data<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    each_child!(x, e, {
        "History" => each_child!(x, e, {
            "PubMedPubDate" => {
                let kind = attr(&e, "PubStatus").unwrap_or_default();
                let d = date(x)?;
                doc.dates.push(KindedDate { kind, date: d })
            },
        }),
        "ArticleIdList" => article_ids(x, doc)?,
        "ReferenceList" => {
            if x.enter() {
                let r = reference_list(x, doc);
                x.leave();
                r?
            } else {
                // Nested too deep: the rest is one flat reference, its words kept.
                let citation = x.text(&STYLE)?;
                doc.references.push(Reference { citation, ..Default::default() })
            }
        },
    });
    Ok(())
}

fn article_ids<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    each_child!(x, e, {
        "ArticleId" => {
            let kind = attr(&e, "IdType").unwrap_or_default();
            if let Some(value) = x.opt_text(&STYLE)?
                && !doc.article_ids.iter().any(|i| i.kind == kind && i.value == value)
            {
                doc.article_ids.push(ArticleId { kind, value })
            }
        },
    });
    Ok(())
}

fn reference_list<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    each_child!(x, e, {
        "Reference" => {
            let mut r = Reference::default();
            each_child!(x, e, {
                "Citation" => r.citation = x.text(&STYLE)?,
                "ArticleIdList" => each_child!(x, e, {
                    "ArticleId" => {
                        let kind = attr(&e, "IdType").unwrap_or_default();
                        let v = x.opt_text(&STYLE)?;
                        match kind.as_str() {
                            "pubmed" => r.pmid = v,
                            "doi" => r.doi = v,
                            "pmc" | "pmcid" => r.pmcid = v,
                            _ => {}
                        }
                    },
                }),
            });
            doc.references.push(r)
        },
        "ReferenceList" => {
            if x.enter() {
                let r = reference_list(x, doc);
                x.leave();
                r?
            } else {
                // Nested too deep: the rest is one flat reference, its words kept.
                let citation = x.text(&STYLE)?;
                doc.references.push(Reference { citation, ..Default::default() })
            }
        },
    });
    Ok(())
}

/// Reads `Year`, `Month`, `Day`, `Season`, `MedlineDate` children.
fn date<S: Source>(x: &mut Xml<S>) -> Result<PubDate, RecordError> {
    let mut d = PubDate::default();
    each_child!(x, e, {
        "Year" => d.year = x.text(&STYLE)?.parse().ok(),
        "Month" => d.month = parse_month(&x.text(&STYLE)?),
        "Day" => d.day = x.text(&STYLE)?.parse().ok().filter(|d| (1..=31).contains(d)),
        "Season" => d.season = x.opt_text(&STYLE)?,
        "MedlineDate" => {
            let t = x.text(&STYLE)?;
            let (year, month) = parse_medline_date(&t);
            d.year = d.year.or(year);
            d.month = d.month.or(month);
            d.text = Some(t)
        },
    });
    Ok(d)
}

/// `Jan`, `January`, `01`, `1` to 1.
pub fn parse_month(s: &str) -> Option<u8> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u8>() {
        return (1..=12).contains(&n).then_some(n);
    }
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = s.get(..3)?.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == lower).map(|i| i as u8 + 1)
}

/// The first year and month of a free-text MEDLINE date such as `1998 Dec-1999 Jan` or
/// `2000 Spring`.
pub fn parse_medline_date(s: &str) -> (Option<i32>, Option<u8>) {
    let mut words = s.split(|c: char| c.is_whitespace() || c == '-' || c == '/');
    let year = words
        .next()
        .filter(|w| w.len() == 4)
        .and_then(|w| w.parse().ok());
    let month = year.and(words.next()).and_then(parse_month);
    (year, month)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_medline_dates() {
        assert_eq!(parse_month("Dec"), Some(12));
        assert_eq!(parse_month("03"), Some(3));
        assert_eq!(parse_month("13"), None);
        assert_eq!(
            parse_medline_date("1998 Dec-1999 Jan"),
            (Some(1998), Some(12))
        );
        assert_eq!(parse_medline_date("2000 Spring"), (Some(2000), None));
        assert_eq!(parse_medline_date("Summer"), (None, None));
    }

    #[test]
    fn orcids_are_normalised() {
        let want = Some("0000-0002-1825-0097".to_string());
        assert_eq!(
            normalize_orcid("https://orcid.org/0000-0002-1825-0097"),
            want
        );
        assert_eq!(normalize_orcid("0000000218250097"), want);
        assert_eq!(
            normalize_orcid("0000-0002-1694-233X").as_deref(),
            Some("0000-0002-1694-233X")
        );
    }

    #[test]
    fn a_small_set_parses() {
        let xml = r#"<?xml version="1.0"?>
<PubmedArticleSet>
<PubmedArticle><MedlineCitation><PMID Version="2">42</PMID>
<Article><ArticleTitle>CO<sub>2</sub> in <i>E. coli</i>.</ArticleTitle>
<Abstract><AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">One.</AbstractText>
<AbstractText Label="RESULTS">Two &amp; three.</AbstractText></Abstract></Article>
</MedlineCitation></PubmedArticle>
<PubmedArticle><MedlineCitation><Article><ArticleTitle>No id</ArticleTitle></Article></MedlineCitation></PubmedArticle>
<DeleteCitation><PMID Version="1">7</PMID><PMID Version="1">8</PMID></DeleteCitation>
</PubmedArticleSet>"#;
        let records: Vec<_> = MedlineParser::new(xml.as_bytes()).collect();
        assert_eq!(records.len(), 4);
        let DocumentRecord::Upsert(doc) = records[0].clone().unwrap() else {
            panic!("expected a document")
        };
        assert_eq!(doc.id, "pmid:42.2");
        assert_eq!(doc.pmid.as_deref(), Some("42"));
        assert_eq!(doc.version, Some(2));
        assert_eq!(doc.title, "CO2 in E. coli.");
        let texts: Vec<_> = doc.passages.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["CO2 in E. coli.", "One.", "Two & three."]);
        assert_eq!(doc.passages[1].section.as_deref(), Some("BACKGROUND"));
        let err = records[1].clone().unwrap_err();
        assert!(err.reason.contains("without PMID"), "{err}");
        assert_eq!(
            records[2].clone().unwrap(),
            DocumentRecord::Delete("pmid:7".into())
        );
        assert_eq!(
            records[3].clone().unwrap(),
            DocumentRecord::Delete("pmid:8".into())
        );
    }

    /// Versions of one PMID in either order are distinct documents, and a deletion names the
    /// version it deletes.
    #[test]
    fn versions_of_a_citation_are_documents_of_their_own() {
        let article = |v: &str, title: &str| {
            format!(
                "<PubmedArticle><MedlineCitation><PMID{v}>5</PMID><Article>\
                 <ArticleTitle>{title}</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
            )
        };
        let ids = |xml: String| -> Vec<(String, Option<String>)> {
            MedlineParser::new(xml.as_bytes())
                .map(|r| match r.unwrap() {
                    DocumentRecord::Upsert(d) => (d.id.clone(), Some(d.title.clone())),
                    DocumentRecord::Delete(id) => (id, None),
                })
                .collect()
        };
        let newer_first = format!(
            "<PubmedArticleSet>{}{}<DeleteCitation><PMID Version=\"1\">5</PMID>\
             <PMID Version=\"3\">5</PMID><PMID>6</PMID></DeleteCitation></PubmedArticleSet>",
            article(" Version=\"2\"", "Second"),
            article(" Version=\"1\"", "First"),
        );
        let s = |x: &str| x.to_string();
        assert_eq!(
            ids(newer_first),
            [
                (s("pmid:5.2"), Some(s("Second"))),
                (s("pmid:5"), Some(s("First"))),
                (s("pmid:5"), None),
                (s("pmid:5.3"), None),
                (s("pmid:6"), None),
            ]
        );
        let older_first = format!(
            "<PubmedArticleSet>{}{}</PubmedArticleSet>",
            article("", "First"),
            article(" Version=\" 2 \"", "Second"),
        );
        assert_eq!(
            ids(older_first),
            [
                (s("pmid:5"), Some(s("First"))),
                (s("pmid:5.2"), Some(s("Second"))),
            ]
        );
    }
}
