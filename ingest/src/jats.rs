//! PMC full text (JATS/NLM XML) into [`DocumentRecord`]s, streamed: one article in memory at a
//! time, whatever the file size.
//!
//! Every `<article>` element of the input becomes one document, wherever it sits: the root of an
//! OA bulk `.nxml`, each article of an efetch `<pmc-articleset>`, the article of an OAI-PMH
//! `GetRecord` envelope (in the JATS namespace: names are compared by local name). An article
//! without a PMC id, or one that cannot be read (malformed XML), is returned as a [`RecordError`]
//! and the parser moves on to the next article.
//!
//! Passages come in reading order: the title, the abstracts, the body, the back matter
//! (acknowledgments, appendices, footnotes) and the floats group. A paragraph's figures, tables,
//! boxes and footnotes are passages of their own, placed after the paragraph; their text is not
//! the paragraph's. References are kept as metadata, never as passages. Sub-articles and
//! responses (`sub-article`, `response`: peer reviews, author replies, translations) are skipped:
//! they are other works, with their own authors, inside the article's file.

use std::io::BufRead;

use pubmine_stream::record::{
    ArticleId, Author, CommentCorrection, Document, DocumentRecord, Grant, Keyword, KindedDate,
    Passage, PassageKind, PubDate, Reference, SourceKind, Term, pmc_id,
};
use quick_xml::events::{BytesStart, Event};

use crate::error::RecordError;
use crate::medline::{normalize_orcid, parse_month};
use crate::text::{TextBuf, non_empty};
use crate::xml::{Source, Stream, TextStyle, Xml, attr, each_child, push_ref};

/// Left out of every text: the TeX twin of a formula, MathML annotations, images and their
/// descriptions, object ids, glyph data.
#[rustfmt::skip]
fn jats_skip(name: &str) -> bool {
    matches!(name,
        "tex-math" | "annotation" | "annotation-xml" | "graphic" | "inline-graphic" | "media"
        | "object-id" | "alt-text" | "long-desc" | "glyph-data" | "glyph-ref")
}
/// Block-level elements, separated from their neighbours by a space (table cells, list items).
#[rustfmt::skip]
fn jats_block(name: &str) -> bool {
    matches!(name,
        "p" | "title" | "label" | "caption" | "list" | "list-item" | "def-list" | "def-item"
        | "term" | "def" | "disp-quote" | "disp-formula" | "disp-formula-group" | "statement"
        | "speech" | "verse-group" | "verse-line" | "preformat" | "attrib" | "address" | "break"
        | "hr" | "table" | "thead" | "tbody" | "tfoot" | "tr" | "th" | "td" | "row" | "entry")
}
const STYLE: TextStyle = TextStyle {
    skip: jats_skip,
    block: jats_block,
};
/// A group author's name, without its member list or footnote markers.
fn collab_skip(name: &str) -> bool {
    jats_skip(name) || matches!(name, "contrib-group" | "xref")
}
const COLLAB: TextStyle = TextStyle {
    skip: collab_skip,
    block: jats_block,
};
/// An affiliation or funder without its label and institution ids (ROR, Funder Registry).
fn aff_skip(name: &str) -> bool {
    jats_skip(name) || matches!(name, "label" | "institution-id")
}
const FUNDER: TextStyle = TextStyle {
    skip: aff_skip,
    block: jats_block,
};

/// True for the root elements of the files this parser reads: a bare article, an efetch
/// article set, an OAI-PMH response.
pub fn root_is_jats(root_local_name: &str) -> bool {
    matches!(root_local_name, "article" | "pmc-articleset" | "OAI-PMH")
}

/// Like [`each_child!`], with a second set of arms for empty elements (`<xref rid="a1"/>`,
/// `<related-article .../>`), which have no content to read or skip.
macro_rules! each_child_or_empty {
    ($x:expr, $e:ident, { $($name:pat => $body:expr),* $(,)? },
     empty { $($ename:pat => $ebody:expr),* $(,)? }) => {
        loop {
            match $x.event()? {
                Event::Start($e) => {
                    let local = $e.local_name();
                    match local.as_ref() {
                        $($name => { $body; })*
                        _ => $x.skip()?,
                    }
                }
                Event::Empty($e) => {
                    let local = $e.local_name();
                    match local.as_ref() {
                        $($ename => { $ebody; })*
                        _ => {}
                    }
                }
                Event::End(_) => break,
                Event::Eof => return Err($x.error("unexpected end of file")),
                _ => {}
            }
        }
    };
}

/// Streams the articles of a JATS file.
#[derive(Debug)]
pub struct JatsParser<R> {
    x: Xml<Stream<R>>,
    done: bool,
    last_error_at: Option<u64>,
}

impl<R: BufRead> JatsParser<R> {
    pub fn new(inner: R) -> Self {
        JatsParser {
            x: Xml::new(inner),
            done: false,
            last_error_at: None,
        }
    }

    /// Byte offset reached in the (decompressed) input.
    pub fn position(&self) -> u64 {
        self.x.position()
    }

    fn next_record(&mut self) -> Result<Option<DocumentRecord>, RecordError> {
        loop {
            let start = self.x.position();
            let (article_type, lang) = match self.x.event()? {
                Event::Start(e) if e.local_name().as_ref() == "article" => {
                    (attr(&e, "article-type"), attr(&e, "lang"))
                }
                Event::Eof => return Ok(None),
                _ => continue,
            };
            let mut doc = Document::new(SourceKind::Pmc, String::new());
            doc.languages.extend(lang.and_then(|l| non_empty(&l)));
            doc.publication_types.extend(article_type.map(|name| Term {
                name,
                ..Default::default()
            }));
            if let Err(e) = self.article(&mut doc) {
                return Err(e.with_id(known_id(&doc)));
            }
            return finish(doc, start).map(|d| Some(DocumentRecord::Upsert(Box::new(d))));
        }
    }

    fn article(&mut self, doc: &mut Document) -> Result<(), RecordError> {
        let x = &mut self.x;
        each_child!(x, e, {
            "front" => each_child!(x, e, {
                "journal-meta" => journal_meta(x, doc)?,
                "article-meta" => article_meta(x, doc)?,
            }),
            "body" | "back" | "floats-group" => {
                blocks(x, &mut doc.passages, &mut doc.references, &mut Vec::new(), false)?
            },
        });
        Ok(())
    }
}

impl<R: BufRead> Iterator for JatsParser<R> {
    type Item = Result<DocumentRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                // A syntax error the reader cannot get past repeats at the same place: stop.
                if self.last_error_at == Some(e.position) || e.reason.contains("end of file") {
                    self.done = true;
                }
                self.last_error_at = Some(e.position);
                Some(Err(e))
            }
        }
    }
}

/// `8000001`, `PMC8000001` to `PMC8000001`; `None` when it is not a PMC id.
fn normalize_pmcid(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let digits = raw
        .strip_prefix("PMC")
        .or_else(|| raw.strip_prefix("pmc"))
        .unwrap_or(raw);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("PMC{digits}"))
}

/// The raw PMC id among the article's ids.
fn raw_pmcid(doc: &Document) -> Option<&str> {
    doc.article_ids
        .iter()
        .find(|i| i.kind == "pmc" || i.kind == "pmcid")
        .map(|i| i.value.as_str())
}

/// The document id, when the PMC id was read before a problem.
fn known_id(doc: &Document) -> Option<String> {
    raw_pmcid(doc).and_then(normalize_pmcid).map(|p| pmc_id(&p))
}

/// Checks a parsed document and derives the fields that depend on several elements.
fn finish(mut doc: Document, start: u64) -> Result<Document, RecordError> {
    let Some(raw) = raw_pmcid(&doc) else {
        let hint = (!doc.title.is_empty()).then(|| format!(" (title {:?})", doc.title));
        return Err(RecordError::new(
            start,
            format!("article without PMC id{}", hint.unwrap_or_default()),
        ));
    };
    let Some(pmcid) = normalize_pmcid(raw) else {
        return Err(RecordError::new(
            start,
            format!("PMC id {raw:?} is not a number"),
        ));
    };
    doc.id = pmc_id(&pmcid);
    doc.pmcid = Some(pmcid);
    for id in &doc.article_ids {
        match id.kind.as_str() {
            "pmid" if doc.pmid.is_none() && id.value.bytes().all(|b| b.is_ascii_digit()) => {
                doc.pmid = Some(id.value.clone())
            }
            "doi" if doc.doi.is_none() => doc.doi = Some(id.value.clone()),
            _ => {}
        }
    }
    if !doc.title.is_empty() {
        let title = Passage::new(PassageKind::Title, doc.title.clone());
        doc.passages.insert(0, title);
    }
    // A retraction notice (article-type "retraction") points at its target with
    // "retracted-article"; the retracted article itself points forward to the notice.
    doc.retracted = doc
        .comments_corrections
        .iter()
        .any(|c| matches!(c.ref_type.as_str(), "retraction-forward" | "retracted-by"));
    Ok(doc)
}

fn journal_meta<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    let j = doc.journal.get_or_insert_default();
    let (mut iso, mut nlm_ta) = (None, None);
    each_child!(x, e, {
        "journal-id" => {
            let kind = attr(&e, "journal-id-type");
            let v = x.opt_text(&STYLE)?;
            match kind.as_deref() {
                Some("iso-abbrev") => iso = iso.or(v),
                Some("nlm-ta") => nlm_ta = nlm_ta.or(v),
                Some("nlm-journal-id") => j.nlm_unique_id = v,
                _ => {}
            }
        },
        "journal-title-group" => each_child!(x, e, {
            "journal-title" => if j.title.is_none() { j.title = x.opt_text(&STYLE)? } else { x.skip()? },
        }),
        "journal-title" => if j.title.is_none() { j.title = x.opt_text(&STYLE)? } else { x.skip()? },
        "issn" => {
            let kind = attr(&e, "pub-type").or_else(|| attr(&e, "publication-format")).unwrap_or_default();
            if let Some(value) = x.opt_text(&STYLE)? { j.issns.push(ArticleId { kind, value }) }
        },
        "publisher" => each_child!(x, e, {
            "publisher-name" => j.publisher = x.opt_text(&STYLE)?,
        }),
    });
    j.iso_abbreviation = iso.or(nlm_ta);
    Ok(())
}

fn article_meta<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    let mut affs = Affiliations::default();
    let mut pub_dates = Vec::new();
    let (mut fpage, mut lpage, mut elocation) = (None, None, None);
    each_child_or_empty!(x, e, {
        "article-id" => {
            let kind = attr(&e, "pub-id-type").unwrap_or_default();
            if let Some(value) = x.opt_text(&STYLE)?
                && !doc.article_ids.iter().any(|i| i.kind == kind && i.value == value)
            {
                doc.article_ids.push(ArticleId { kind, value })
            }
        },
        "title-group" => each_child!(x, e, {
            "article-title" => doc.title = x.text(&STYLE)?,
        }),
        "contrib-group" => contrib_group(x, doc, &mut affs)?,
        "aff" => { let id = attr(&e, "id"); let t = aff_text(x)?; affs.add(id, t) },
        "aff-alternatives" => { let id = attr(&e, "id"); let t = aff_alternatives(x)?; affs.add(id, t) },
        "pub-date" => {
            let kind = pub_date_kind(&e);
            let iso = attr(&e, "iso-8601-date");
            let d = date(x, iso)?;
            pub_dates.push(KindedDate { kind, date: d })
        },
        "volume" => doc.journal.get_or_insert_default().volume = x.opt_text(&STYLE)?,
        "issue" => doc.journal.get_or_insert_default().issue = x.opt_text(&STYLE)?,
        "fpage" => fpage = x.opt_text(&STYLE)?,
        "lpage" => lpage = x.opt_text(&STYLE)?,
        "elocation-id" => elocation = x.opt_text(&STYLE)?,
        "history" => each_child!(x, e, {
            "date" => {
                let kind = attr(&e, "date-type").unwrap_or_default();
                let iso = attr(&e, "iso-8601-date");
                let d = date(x, iso)?;
                doc.dates.push(KindedDate { kind, date: d })
            },
        }),
        "abstract" => {
            let a = AbstractKind { kind: PassageKind::Abstract, lang: None, category: attr(&e, "abstract-type") };
            abstract_(x, doc, &a)?
        },
        "trans-abstract" => {
            let lang = attr(&e, "lang");
            let a = AbstractKind { kind: PassageKind::OtherAbstract, lang, category: attr(&e, "abstract-type") };
            abstract_(x, doc, &a)?
        },
        "kwd-group" => { let owner = attr(&e, "kwd-group-type"); kwd_group(x, owner, doc)? },
        "funding-group" => funding_group(x, doc)?,
        "related-article" => {
            let mut c = related_article(&e);
            let text = x.opt_text(&STYLE)?;
            c.ref_source = c.ref_source.or(text);
            doc.comments_corrections.push(c)
        },
    }, empty {
        "related-article" => doc.comments_corrections.push(related_article(&e)),
    });
    affs.resolve(&mut doc.authors);
    const PREFERRED: [&str; 4] = ["ppub", "epub-ppub", "epub", "collection"];
    let preferred = PREFERRED
        .iter()
        .find_map(|k| pub_dates.iter().find(|d| d.kind == *k))
        .or(pub_dates.first());
    doc.pub_date = preferred.map(|d| d.date.clone());
    doc.dates.splice(0..0, pub_dates);
    let pages = match (fpage, lpage) {
        (Some(f), Some(l)) if f != l => Some(format!("{f}-{l}")),
        (Some(f), _) => Some(f),
        (None, _) => elocation,
    };
    if pages.is_some() {
        doc.journal.get_or_insert_default().pages = pages;
    }
    Ok(())
}

/// The kind of a `pub-date`: its `pub-type` (`epub`, `ppub`, `collection`), or for JATS 1.1+
/// `date-type="pub"` with `publication-format` `electronic`/`print`, `epub`/`ppub`.
fn pub_date_kind(e: &BytesStart<'_>) -> String {
    if let Some(t) = attr(e, "pub-type") {
        return t;
    }
    let format = attr(e, "publication-format");
    match (attr(e, "date-type").as_deref(), format.as_deref()) {
        (None | Some("pub"), Some("print")) => "ppub".into(),
        (None | Some("pub"), Some("electronic")) => "epub".into(),
        (Some(t), _) => t.into(),
        (None, _) => "pub".into(),
    }
}

/// Reads `year`, `month`, `day`, `season`, `string-date`; the `iso-8601-date` attribute fills a
/// date without a year.
fn date<S: Source>(x: &mut Xml<S>, iso: Option<String>) -> Result<PubDate, RecordError> {
    let mut d = PubDate::default();
    each_child!(x, e, {
        "year" => d.year = x.text(&STYLE)?.parse().ok(),
        "month" => d.month = parse_month(&x.text(&STYLE)?),
        "day" => d.day = x.text(&STYLE)?.parse().ok().filter(|d| (1..=31).contains(d)),
        "season" => d.season = x.opt_text(&STYLE)?,
        "string-date" => d.text = x.opt_text(&STYLE)?,
    });
    if let (None, Some(iso)) = (d.year, iso) {
        let mut parts = iso.trim().split('-');
        d.year = parts.next().and_then(|y| y.parse().ok());
        d.month = parts.next().and_then(parse_month);
        d.day = parts
            .next()
            .and_then(|v| v.parse().ok())
            .filter(|v| (1..=31).contains(v));
    }
    Ok(d)
}

fn related_article(e: &BytesStart<'_>) -> CommentCorrection {
    let mut c = CommentCorrection {
        ref_type: attr(e, "related-article-type").unwrap_or_default(),
        ..Default::default()
    };
    let href = attr(e, "href").and_then(|h| non_empty(&h));
    match attr(e, "ext-link-type").as_deref() {
        Some("doi") => c.doi = href,
        Some("pubmed" | "pmid") => c.pmid = href,
        _ => c.ref_source = href,
    }
    c
}

fn kwd_group<S: Source>(
    x: &mut Xml<S>,
    owner: Option<String>,
    doc: &mut Document,
) -> Result<(), RecordError> {
    each_child!(x, e, {
        "kwd" => {
            let text = x.text(&STYLE)?;
            if !text.is_empty() { doc.keywords.push(Keyword { text, owner: owner.clone(), major: false }) }
        },
        "nested-kwd" => kwd_group(x, owner.clone(), doc)?,
    });
    Ok(())
}

fn funding_group<S: Source>(x: &mut Xml<S>, doc: &mut Document) -> Result<(), RecordError> {
    each_child!(x, e, {
        "award-group" => {
            let mut g = Grant::default();
            each_child!(x, e, {
                "funding-source" => if g.agency.is_none() { g.agency = x.opt_text(&FUNDER)? } else { x.skip()? },
                "award-id" => if g.id.is_none() { g.id = x.opt_text(&STYLE)? } else { x.skip()? },
            });
            if g != Grant::default() { doc.grants.push(g) }
        },
    });
    Ok(())
}

/// Affiliations of the article's authors: `aff` elements are read wherever they sit (often after
/// the contribs that point at them) and resolved when `article-meta` ends.
#[derive(Debug, Default)]
struct Affiliations {
    by_id: Vec<(String, String)>,
    /// `aff`s without an id: they belong to every author that points at none.
    unnamed: Vec<String>,
    /// The `rid`s each author's `xref ref-type="aff"` point at, in `doc.authors` order.
    refs: Vec<Vec<String>>,
}

impl Affiliations {
    fn add(&mut self, id: Option<String>, text: Option<String>) {
        match (id, text) {
            (Some(id), Some(t)) => self.by_id.push((id, t)),
            (None, Some(t)) => self.unnamed.push(t),
            (_, None) => {}
        }
    }

    fn resolve(self, authors: &mut [Author]) {
        for (a, rids) in authors.iter_mut().zip(&self.refs) {
            for rid in rids {
                if let Some((_, t)) = self.by_id.iter().find(|(id, _)| id == rid)
                    && !a.affiliations.contains(t)
                {
                    a.affiliations.push(t.clone());
                }
            }
            if rids.is_empty() && a.affiliations.is_empty() {
                a.affiliations = self.unnamed.clone();
            }
        }
    }
}

fn contrib_group<S: Source>(
    x: &mut Xml<S>,
    doc: &mut Document,
    affs: &mut Affiliations,
) -> Result<(), RecordError> {
    each_child!(x, e, {
        "contrib" => {
            let kind = attr(&e, "contrib-type");
            if kind.is_none_or(|k| k.eq_ignore_ascii_case("author")) { contrib(x, doc, affs)? } else { x.skip()? }
        },
        "aff" => { let id = attr(&e, "id"); let t = aff_text(x)?; affs.add(id, t) },
        "aff-alternatives" => { let id = attr(&e, "id"); let t = aff_alternatives(x)?; affs.add(id, t) },
    });
    Ok(())
}

fn contrib<S: Source>(
    x: &mut Xml<S>,
    doc: &mut Document,
    affs: &mut Affiliations,
) -> Result<(), RecordError> {
    let mut a = Author::default();
    let mut rids = Vec::new();
    each_child_or_empty!(x, e, {
        "name" | "string-name" => name(x, &mut a)?,
        "name-alternatives" => each_child!(x, e, {
            "name" | "string-name" => if a.last_name.is_none() && a.fore_name.is_none() { name(x, &mut a)? } else { x.skip()? },
        }),
        "collab" => a.collective_name = x.opt_text(&COLLAB)?,
        "contrib-id" => {
            let is_orcid = attr(&e, "contrib-id-type").as_deref() == Some("orcid");
            let v = x.text(&STYLE)?;
            if is_orcid { a.orcid = normalize_orcid(&v) }
        },
        "xref" => { rids.extend(aff_rids(&e)); x.skip()? },
        "aff" => if let Some(t) = aff_text(x)? { a.affiliations.push(t) },
    }, empty {
        "xref" => rids.extend(aff_rids(&e)),
    });
    // A contrib with no name (`<anonymous/>`) is no author.
    if a != Author::default() || !rids.is_empty() {
        doc.authors.push(a);
        affs.refs.push(rids);
    }
    Ok(())
}

fn name<S: Source>(x: &mut Xml<S>, a: &mut Author) -> Result<(), RecordError> {
    each_child!(x, e, {
        "surname" => a.last_name = x.opt_text(&STYLE)?,
        "given-names" => { a.initials = attr(&e, "initials"); a.fore_name = x.opt_text(&STYLE)? },
        "suffix" => a.suffix = x.opt_text(&STYLE)?,
    });
    Ok(())
}

/// The ids an `xref ref-type="aff"` points at (`rid` may list several).
fn aff_rids(e: &BytesStart<'_>) -> Vec<String> {
    if attr(e, "ref-type").as_deref() != Some("aff") {
        return Vec::new();
    }
    let rid = attr(e, "rid").unwrap_or_default();
    rid.split_whitespace().map(str::to_string).collect()
}

fn aff_text<S: Source>(x: &mut Xml<S>) -> Result<Option<String>, RecordError> {
    let mut text = TextBuf::new();
    fields_into(x, &mut text, &mut Vec::new(), aff_skip)?;
    Ok(Some(text.take()).filter(|t| !t.is_empty()))
}

/// The first `aff` of an `aff-alternatives` (the others are the same place in other languages).
fn aff_alternatives<S: Source>(x: &mut Xml<S>) -> Result<Option<String>, RecordError> {
    let mut first = None;
    each_child!(x, e, {
        "aff" => if first.is_none() { first = aff_text(x)? } else { x.skip()? },
    });
    Ok(first)
}

/// Flattens an element whose parts may be written without separators between them
/// (`<surname>Smith</surname><given-names>J</given-names>`, an `aff`'s `institution` and
/// `country`, an `element-citation`): a space is put before each part unless the text so far
/// ends in an opening bracket, a dash or a slash. Inline markup (`italic`, `sup`, MathML) is joined as
/// written. `pub-id`s are collected into `ids`, (type, value), and left out of the text.
fn fields_into<S: Source>(
    x: &mut Xml<S>,
    out: &mut TextBuf,
    ids: &mut Vec<(String, String)>,
    skip: fn(&str) -> bool,
) -> Result<(), RecordError> {
    #[rustfmt::skip]
    fn inline(name: &str) -> bool {
        matches!(name,
            "italic" | "bold" | "sup" | "sub" | "sc" | "underline" | "overline" | "monospace"
            | "roman" | "sans-serif" | "strike" | "styled-content" | "named-content" | "xref")
    }
    let mut depth = 1usize;
    // Depth at which a formula began: its parts are joined as written.
    let mut math_at = None;
    loop {
        match x.event()? {
            Event::Text(t) => out.push_str(&t),
            Event::CData(t) => out.push_str(&t),
            Event::GeneralRef(r) => push_ref(out, &r),
            Event::Start(e) => {
                let local = e.local_name();
                let name = local.as_ref();
                if name == "pub-id" {
                    let kind = attr(&e, "pub-id-type").unwrap_or_default();
                    let v = x.text(&STYLE)?;
                    if !v.is_empty() {
                        ids.push((kind, v));
                    }
                } else if skip(name) {
                    x.skip()?;
                } else {
                    if math_at.is_none() {
                        if matches!(name, "math" | "inline-formula") {
                            math_at = Some(depth);
                        } else if !inline(name)
                            && out.as_str().ends_with(|c: char| {
                                !matches!(c, '(' | '[' | '{' | '-' | '‐' | '–' | '—' | '/')
                            })
                        {
                            out.boundary();
                        }
                    }
                    depth += 1;
                }
            }
            Event::Empty(e) if e.local_name().as_ref() == "break" => out.boundary(),
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
                if math_at == Some(depth) {
                    math_at = None;
                }
            }
            Event::Eof => return Err(x.error("unexpected end of file")),
            _ => {}
        }
    }
}

/// How an article's `abstract` or `trans-abstract` turns into passages.
#[derive(Debug)]
struct AbstractKind {
    kind: PassageKind,
    lang: Option<String>,
    /// The `abstract-type` (`summary`, `graphical`, ...), the category of passages whose `sec`
    /// has no `sec-type`.
    category: Option<String>,
}

impl AbstractKind {
    fn push(&self, doc: &mut Document, chain: &[String], category: Option<&str>, text: String) {
        if !text.is_empty() {
            doc.passages.push(Passage {
                kind: self.kind,
                section: section(chain),
                category: category.or(self.category.as_deref()).map(str::to_string),
                lang: self.lang.clone(),
                text,
            });
        }
    }
}

/// An abstract: each `sec` is one passage (section = its title); outside sections, each `p` is
/// one passage, whose section is the abstract's own `title` when it has one.
fn abstract_<S: Source>(
    x: &mut Xml<S>,
    doc: &mut Document,
    a: &AbstractKind,
) -> Result<(), RecordError> {
    let mut heading = Vec::new();
    loop {
        let part = match x.event()? {
            Event::Start(e) => match e.local_name().as_ref() {
                "title" => Part::Heading,
                "sec" => Part::Section(attr(&e, "sec-type")),
                n if jats_skip(n) || n == "label" => Part::Skip,
                n => float_kind(n).map_or(Part::Text, Part::Float),
            },
            Event::End(_) => return Ok(()),
            Event::Eof => return Err(x.error("unexpected end of file")),
            _ => continue,
        };
        match part {
            Part::Heading => heading = x.opt_text(&STYLE)?.into_iter().collect(),
            Part::Section(sec_type) => abstract_sec(x, doc, a, &mut Vec::new(), sec_type)?,
            Part::Float(kind) => float(x, kind, &mut doc.passages, &heading)?,
            Part::Text => {
                let (mut text, mut floats) = (TextBuf::new(), Vec::new());
                flow(x, &mut text, &mut floats, &heading, None)?;
                a.push(doc, &heading, None, text.take());
                doc.passages.append(&mut floats);
            }
            _ => x.skip()?,
        }
    }
}

/// One section of an abstract, its paragraphs joined; a nested section is a passage of its own,
/// named by the chain of titles.
fn abstract_sec<S: Source>(
    x: &mut Xml<S>,
    doc: &mut Document,
    a: &AbstractKind,
    chain: &mut Vec<String>,
    sec_type: Option<String>,
) -> Result<(), RecordError> {
    chain.push(String::new());
    let (mut text, mut floats) = (TextBuf::new(), Vec::new());
    loop {
        let part = match x.event()? {
            Event::Start(e) => match e.local_name().as_ref() {
                "title" => Part::Heading,
                "sec" => Part::Section(attr(&e, "sec-type")),
                n if jats_skip(n) || n == "label" => Part::Skip,
                n => float_kind(n).map_or(Part::Text, Part::Float),
            },
            Event::End(_) => break,
            Event::Eof => return Err(x.error("unexpected end of file")),
            _ => continue,
        };
        match part {
            Part::Heading => {
                let t = x.text(&STYLE)?;
                if let Some(last) = chain.last_mut() {
                    *last = t;
                }
            }
            Part::Section(inner_type) => {
                a.push(doc, chain, sec_type.as_deref(), text.take());
                doc.passages.append(&mut floats);
                abstract_sec(x, doc, a, chain, inner_type)?;
            }
            Part::Float(kind) => float(x, kind, &mut floats, chain)?,
            Part::Text => {
                text.boundary();
                flow(x, &mut text, &mut floats, chain, None)?;
                text.boundary();
            }
            _ => x.skip()?,
        }
    }
    a.push(doc, chain, sec_type.as_deref(), text.take());
    doc.passages.append(&mut floats);
    chain.pop();
    Ok(())
}

/// What a child of an abstract or a body-like element is.
enum Part {
    /// The `title` naming the section.
    Heading,
    /// A section (abstract: with its `sec-type`).
    Section(Option<String>),
    /// A section of the body or back matter, with the heading it has when it has no `title`.
    Container(&'static str),
    References,
    Caption,
    Float(Float),
    /// A paragraph or another block that is one passage.
    Text,
    Skip,
}

/// Elements that are passages of their own wherever they sit, even inside a paragraph.
#[derive(Debug, Clone, Copy)]
enum Float {
    /// `fig`, `fig-group`, `table-wrap`, `table-wrap-group`, `supplementary-material`,
    /// `chem-struct-wrap`: a label, a caption, tables, table footnotes, nested floats.
    Captioned,
    Footnote,
    Boxed,
}

fn float_kind(name: &str) -> Option<Float> {
    match name {
        "fig"
        | "fig-group"
        | "table-wrap"
        | "table-wrap-group"
        | "supplementary-material"
        | "chem-struct-wrap" => Some(Float::Captioned),
        "fn" => Some(Float::Footnote),
        "boxed-text" => Some(Float::Boxed),
        _ => None,
    }
}

/// The section headings from the outermost in, joined by ` / `.
fn section(chain: &[String]) -> Option<String> {
    let parts: Vec<&str> = chain
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" / "))
}

fn push(
    out: &mut Vec<Passage>,
    kind: PassageKind,
    chain: &[String],
    category: Option<String>,
    text: String,
) {
    if !text.is_empty() {
        out.push(Passage {
            kind,
            section: section(chain),
            category,
            lang: None,
            text,
        });
    }
}

/// Reads the children of a body-like element whose start tag was just read (`body`, `sec`,
/// `back`, `ack`, `app`, `boxed-text`, `floats-group`, ...): each paragraph or other block is a
/// passage, sections nest. When `headed`, the caller pushed this element's slot onto `chain` and
/// a `title` child fills it.
fn blocks<S: Source>(
    x: &mut Xml<S>,
    out: &mut Vec<Passage>,
    refs: &mut Vec<Reference>,
    chain: &mut Vec<String>,
    headed: bool,
) -> Result<(), RecordError> {
    loop {
        let part = match x.event()? {
            Event::Start(e) => match e.local_name().as_ref() {
                "title" if headed => Part::Heading,
                "sec" | "app" | "app-group" | "notes" | "glossary" | "bio" | "fn-group"
                | "boxed-text" => Part::Container(""),
                "ack" => Part::Container("Acknowledgments"),
                "ref-list" => Part::References,
                "caption" => Part::Caption,
                n if jats_skip(n) || matches!(n, "label" | "sec-meta" | "permissions") => {
                    Part::Skip
                }
                n => float_kind(n).map_or(Part::Text, Part::Float),
            },
            Event::End(_) => return Ok(()),
            Event::Eof => return Err(x.error("unexpected end of file")),
            _ => continue,
        };
        match part {
            Part::Heading => {
                let t = x.text(&STYLE)?;
                if let Some(last) = chain.last_mut() {
                    *last = t;
                }
            }
            Part::Container(heading) => {
                chain.push(heading.to_string());
                blocks(x, out, refs, chain, true)?;
                chain.pop();
            }
            Part::References => ref_list(x, refs)?,
            Part::Caption => push(out, PassageKind::Caption, chain, None, x.text(&STYLE)?),
            Part::Float(kind) => float(x, kind, out, chain)?,
            Part::Text | Part::Section(_) => {
                let (mut text, mut floats) = (TextBuf::new(), Vec::new());
                flow(x, &mut text, &mut floats, chain, None)?;
                push(out, PassageKind::Paragraph, chain, None, text.take());
                out.append(&mut floats);
            }
            Part::Skip => x.skip()?,
        }
    }
}

/// Reads the text of the element whose start tag was just read into `out`, like
/// [`Xml::text_into`], except that a figure, table, box or footnote met inside is not text of
/// the paragraph: it becomes passages of its own, in `floats`. With `label`, a `label` child is
/// read into it rather than into the text (a footnote's mark).
fn flow<S: Source>(
    x: &mut Xml<S>,
    out: &mut TextBuf,
    floats: &mut Vec<Passage>,
    chain: &[String],
    mut label: Option<&mut Option<String>>,
) -> Result<(), RecordError> {
    let mut depth = 1usize;
    loop {
        match x.event()? {
            Event::Text(t) => out.push_str(&t),
            Event::CData(t) => out.push_str(&t),
            Event::GeneralRef(r) => push_ref(out, &r),
            Event::Start(e) => {
                let local = e.local_name();
                let name = local.as_ref();
                if let Some(kind) = float_kind(name) {
                    // A footnote sits at its mark, mid-sentence; the others are blocks.
                    if !matches!(kind, Float::Footnote) {
                        out.boundary();
                    }
                    float(x, kind, floats, chain)?;
                } else if depth == 1
                    && name == "label"
                    && let Some(slot) = label.as_deref_mut()
                {
                    *slot = x.opt_text(&STYLE)?;
                } else if jats_skip(name) || name == "ref-list" {
                    x.skip()?;
                } else {
                    if jats_block(name) {
                        out.boundary();
                    }
                    depth += 1;
                }
            }
            Event::Empty(e) if jats_block(e.local_name().as_ref()) => out.boundary(),
            Event::End(e) => {
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
                if jats_block(e.local_name().as_ref()) {
                    out.boundary();
                }
            }
            Event::Eof => return Err(x.error("unexpected end of file")),
            _ => {}
        }
    }
}

/// Reads a float whose start tag was just read into passages.
fn float<S: Source>(
    x: &mut Xml<S>,
    kind: Float,
    out: &mut Vec<Passage>,
    chain: &[String],
) -> Result<(), RecordError> {
    match kind {
        Float::Captioned => captioned(x, out, chain),
        Float::Footnote => footnote(x, out, chain),
        Float::Boxed => {
            let mut chain = chain.to_vec();
            chain.push(String::new());
            // A box inside a paragraph holds no reference list.
            blocks(x, out, &mut Vec::new(), &mut chain, true)
        }
    }
}

/// A figure, table, group of them or supplementary material: the `caption` is a Caption passage,
/// each `table` a Table passage (cells separated by spaces), table footnotes Footnote passages;
/// all carry the `label` ("Figure 1", "Table 2") as their category. Images and media are left out.
fn captioned<S: Source>(
    x: &mut Xml<S>,
    out: &mut Vec<Passage>,
    chain: &[String],
) -> Result<(), RecordError> {
    let mut label = None;
    loop {
        let name = match x.event()? {
            Event::Start(e) => e.local_name().as_ref().to_string(),
            Event::End(_) => return Ok(()),
            Event::Eof => return Err(x.error("unexpected end of file")),
            _ => continue,
        };
        match name.as_str() {
            "label" => label = x.opt_text(&STYLE)?,
            "caption" => push(
                out,
                PassageKind::Caption,
                chain,
                label.clone(),
                x.text(&STYLE)?,
            ),
            "table" => push(
                out,
                PassageKind::Table,
                chain,
                label.clone(),
                x.text(&STYLE)?,
            ),
            "alternatives" => each_child!(x, e, {
                "table" => push(out, PassageKind::Table, chain, label.clone(), x.text(&STYLE)?),
            }),
            "table-wrap-foot" => table_foot(x, out, chain)?,
            n => match float_kind(n) {
                Some(kind) => float(x, kind, out, chain)?,
                None => x.skip()?,
            },
        }
    }
}

/// A table's footer: each `fn` (or loose `p`) is a Footnote passage.
fn table_foot<S: Source>(
    x: &mut Xml<S>,
    out: &mut Vec<Passage>,
    chain: &[String],
) -> Result<(), RecordError> {
    loop {
        let part = match x.event()? {
            Event::Start(e) => match e.local_name().as_ref() {
                "fn" => Part::Float(Float::Footnote),
                "fn-group" => Part::Container(""),
                n if jats_skip(n) => Part::Skip,
                _ => Part::Text,
            },
            Event::End(_) => return Ok(()),
            Event::Eof => return Err(x.error("unexpected end of file")),
            _ => continue,
        };
        match part {
            Part::Container(_) => table_foot(x, out, chain)?,
            Part::Skip => x.skip()?,
            _ => footnote(x, out, chain)?,
        }
    }
}

/// A footnote: one passage, its `label` as the category.
fn footnote<S: Source>(
    x: &mut Xml<S>,
    out: &mut Vec<Passage>,
    chain: &[String],
) -> Result<(), RecordError> {
    let (mut text, mut floats, mut label) = (TextBuf::new(), Vec::new(), None);
    flow(x, &mut text, &mut floats, chain, Some(&mut label))?;
    push(out, PassageKind::Footnote, chain, label, text.take());
    out.append(&mut floats);
    Ok(())
}

fn ref_list<S: Source>(x: &mut Xml<S>, refs: &mut Vec<Reference>) -> Result<(), RecordError> {
    each_child!(x, e, {
        "ref" => { let id = attr(&e, "id"); refs.push(reference(x, id)?) },
        "ref-list" => ref_list(x, refs)?,
    });
    Ok(())
}

/// A `ref`: the citation flattened to one line; PMID, DOI and PMCID from its `pub-id`s.
fn reference<S: Source>(x: &mut Xml<S>, id: Option<String>) -> Result<Reference, RecordError> {
    let (mut text, mut ids) = (TextBuf::new(), Vec::new());
    each_child!(x, e, {
        "element-citation" | "mixed-citation" | "citation" | "nlm-citation" => {
            text.boundary();
            fields_into(x, &mut text, &mut ids, jats_skip)?
        },
        // The same work in several forms or languages: the first is enough.
        "citation-alternatives" => each_child!(x, e, {
            "element-citation" | "mixed-citation" | "citation" | "nlm-citation" => {
                if text.is_empty() { fields_into(x, &mut text, &mut ids, jats_skip)? } else { x.skip()? }
            },
        }),
    });
    let mut r = Reference {
        id,
        citation: text.take(),
        ..Default::default()
    };
    for (kind, value) in ids {
        match kind.as_str() {
            "pmid" | "pubmed" if r.pmid.is_none() => r.pmid = Some(value),
            "doi" if r.doi.is_none() => r.doi = Some(value),
            "pmcid" | "pmc" if r.pmcid.is_none() => {
                r.pmcid = Some(normalize_pmcid(&value).unwrap_or(value))
            }
            _ => {}
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Vec<Result<DocumentRecord, RecordError>> {
        JatsParser::new(xml.as_bytes()).collect()
    }

    fn doc(r: &Result<DocumentRecord, RecordError>) -> &Document {
        match r {
            Ok(DocumentRecord::Upsert(d)) => d,
            other => panic!("expected a document, got {other:?}"),
        }
    }

    fn one(xml: &str) -> Document {
        let records = parse(xml);
        assert_eq!(records.len(), 1, "{records:?}");
        doc(&records[0]).clone()
    }

    /// (kind, section, text) of each passage.
    fn passages(d: &Document) -> Vec<(&str, Option<&str>, &str)> {
        d.passages
            .iter()
            .map(|p| (p.kind.as_str(), p.section.as_deref(), p.text.as_str()))
            .collect()
    }

    const META: &str = r#"<front><article-meta><article-id pub-id-type="pmc">42</article-id>
<title-group><article-title>T</article-title></title-group></article-meta></front>"#;

    #[test]
    fn bare_article_metadata() {
        let d = one(r#"<?xml version="1.0"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS" "x.dtd">
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article" xml:lang="en"><?properties open_access?>
<front><journal-meta><journal-id journal-id-type="nlm-ta">J Test</journal-id><journal-title>Journal of Tests</journal-title>
<issn pub-type="ppub">1234-5678</issn><publisher><publisher-name>Pub</publisher-name></publisher></journal-meta>
<article-meta><article-id pub-id-type="pmid">123</article-id><article-id pub-id-type="pmc">PMC42</article-id>
<article-id pub-id-type="doi">10.5555/x</article-id>
<title-group><article-title>CO<sub>2</sub> and <italic>E. coli</italic></article-title></title-group>
<contrib-group><contrib contrib-type="author"><contrib-id contrib-id-type="orcid">https://orcid.org/0000-0002-1825-0097</contrib-id>
<name><surname>Doe</surname><given-names>Jane</given-names><suffix>Jr</suffix></name><xref ref-type="aff" rid="a2 a1"><sup>1</sup></xref></contrib>
<contrib contrib-type="editor"><name><surname>Ed</surname></name></contrib>
<contrib contrib-type="author"><collab>The Group<contrib-group><contrib><name><surname>Member</surname></name></contrib></contrib-group></collab><xref ref-type="aff" rid="a1"/></contrib></contrib-group>
<aff id="a1"><label>1</label><institution>Uni A</institution><country>Norway</country></aff>
<aff id="a2"><label>2</label>Dept B, <institution>Uni B</institution></aff>
<pub-date pub-type="epub"><day>3</day><month>5</month><year>2021</year></pub-date>
<pub-date pub-type="ppub"><month>Jun</month><year>2021</year></pub-date>
<volume>7</volume><issue>2</issue><fpage>10</fpage><lpage>20</lpage>
<history><date date-type="received"><day>1</day><month>1</month><year>2020</year></date></history>
<kwd-group kwd-group-type="author"><title>Keywords</title><kwd>alpha</kwd><kwd>beta</kwd></kwd-group>
<related-article related-article-type="retraction-forward" ext-link-type="doi" xlink:href="10.5555/notice"/>
<article-id pub-id-type="pmid">999</article-id>
</article-meta></front></article>"#);
        assert_eq!(d.id, "pmc:PMC42");
        assert_eq!(d.source, SourceKind::Pmc);
        assert_eq!(d.pmcid.as_deref(), Some("PMC42"));
        assert_eq!(d.pmid.as_deref(), Some("123"));
        assert_eq!(d.doi.as_deref(), Some("10.5555/x"));
        assert_eq!(d.title, "CO2 and E. coli");
        assert_eq!(passages(&d), [("title", None, "CO2 and E. coli")]);
        let j = d.journal.as_ref().unwrap();
        assert_eq!(j.title.as_deref(), Some("Journal of Tests"));
        assert_eq!(j.iso_abbreviation.as_deref(), Some("J Test"));
        assert_eq!(j.issns[0].kind, "ppub");
        assert_eq!(j.publisher.as_deref(), Some("Pub"));
        assert_eq!(j.pages.as_deref(), Some("10-20"));
        assert_eq!(
            (j.volume.as_deref(), j.issue.as_deref()),
            (Some("7"), Some("2"))
        );
        assert_eq!(d.pub_date.as_ref().unwrap().month, Some(6));
        let kinds: Vec<_> = d.dates.iter().map(|k| k.kind.as_str()).collect();
        assert_eq!(kinds, ["epub", "ppub", "received"]);
        assert_eq!(d.authors.len(), 2);
        let a = &d.authors[0];
        assert_eq!(a.last_name.as_deref(), Some("Doe"));
        assert_eq!(a.fore_name.as_deref(), Some("Jane"));
        assert_eq!(a.suffix.as_deref(), Some("Jr"));
        assert_eq!(a.orcid.as_deref(), Some("0000-0002-1825-0097"));
        assert_eq!(a.affiliations, ["Dept B, Uni B", "Uni A Norway"]);
        assert_eq!(d.authors[1].collective_name.as_deref(), Some("The Group"));
        assert_eq!(d.authors[1].affiliations, ["Uni A Norway"]);
        assert_eq!(d.languages, ["en"]);
        assert_eq!(d.publication_types[0].name, "research-article");
        assert_eq!(d.keywords.len(), 2);
        assert_eq!(d.keywords[0].owner.as_deref(), Some("author"));
        assert_eq!(
            d.comments_corrections[0].doi.as_deref(),
            Some("10.5555/notice")
        );
        assert!(d.retracted);
    }

    #[test]
    fn oai_envelope_in_the_jats_namespace() {
        let d = one(r#"<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><GetRecord><record><header><identifier>oai:x:1</identifier></header>
<metadata><article xmlns="https://jats.nlm.nih.gov/ns/archiving/1.3/" xmlns:mml="http://www.w3.org/1998/Math/MathML" article-type="brief-report">
<front><article-meta><article-id pub-id-type="pmcid">PMC8000003</article-id><article-id pub-id-type="pmcid-ver">PMC8000003.1</article-id>
<article-id pub-id-type="pmcaid">8000003</article-id><article-id pub-id-type="pmid">32000003</article-id>
<title-group><article-title>Title <mml:math><mml:mi>x</mml:mi></mml:math></article-title></title-group>
<pub-date publication-format="electronic" date-type="collection"><year>2024</year></pub-date>
<pub-date publication-format="electronic" date-type="pub"><day>28</day><month>10</month><year>2024</year></pub-date>
<elocation-id>e0088</elocation-id>
<abstract><p>One.</p><p>Two.</p></abstract></article-meta></front>
<body><sec><title>Intro</title><p>Body.</p></sec></body></article></metadata></record></GetRecord></OAI-PMH>"#);
        assert_eq!(d.id, "pmc:PMC8000003");
        assert_eq!(d.pmid.as_deref(), Some("32000003"));
        assert_eq!(d.title, "Title x");
        assert_eq!(d.pub_date.as_ref().unwrap().day, Some(28));
        assert_eq!(d.journal.as_ref().unwrap().pages.as_deref(), Some("e0088"));
        assert_eq!(
            passages(&d),
            [
                ("title", None, "Title x"),
                ("abstract", None, "One."),
                ("abstract", None, "Two."),
                ("paragraph", Some("Intro"), "Body."),
            ]
        );
    }

    #[test]
    fn articleset_with_two_articles() {
        let records = parse(&format!(
            "<pmc-articleset><article>{META}</article>\n<article>{}</article></pmc-articleset>",
            META.replace(">42<", ">43<")
        ));
        let ids: Vec<_> = records.iter().map(|r| doc(r).id.as_str()).collect();
        assert_eq!(ids, ["pmc:PMC42", "pmc:PMC43"]);
    }

    #[test]
    fn abstract_sections_and_nested_body_sections() {
        let d = one(&format!(
            r#"<article>{}<body><p>Lead.</p><sec><title>Methods</title><p>M.</p>
<sec><label>2.1</label><title>Cell <italic>culture</italic></title><p>A549 cells.</p></sec>
<sec><p>Untitled.</p></sec></sec><sec><title>Results</title><p>R.</p></sec></body>
<back><ack><p>Thanks.</p></ack><app-group><app><title>Appendix</title><p>App.</p></app></app-group>
<fn-group><fn><label>*</label><p>Note.</p></fn></fn-group></back></article>"#,
            META.replace(
                "</article-meta>",
                r#"<abstract><sec sec-type="background"><title>Background</title><p>B1.</p><p>B2.</p></sec>
<sec><title>Results</title><p>R.</p></sec></abstract>
<abstract abstract-type="summary"><title>Author Summary</title><p>S.</p></abstract>
<trans-abstract xml:lang="de"><p>Zusammenfassung.</p></trans-abstract></article-meta>"#
            )
        ));
        assert_eq!(
            passages(&d),
            [
                ("title", None, "T"),
                ("abstract", Some("Background"), "B1. B2."),
                ("abstract", Some("Results"), "R."),
                ("abstract", Some("Author Summary"), "S."),
                ("other_abstract", None, "Zusammenfassung."),
                ("paragraph", None, "Lead."),
                ("paragraph", Some("Methods"), "M."),
                ("paragraph", Some("Methods / Cell culture"), "A549 cells."),
                ("paragraph", Some("Methods"), "Untitled."),
                ("paragraph", Some("Results"), "R."),
                ("paragraph", Some("Acknowledgments"), "Thanks."),
                ("paragraph", Some("Appendix"), "App."),
                ("footnote", None, "Note."),
            ]
        );
        assert_eq!(d.passages[1].category.as_deref(), Some("background"));
        assert_eq!(d.passages[3].category.as_deref(), Some("summary"));
        assert_eq!(d.passages[4].lang.as_deref(), Some("de"));
        assert_eq!(d.passages[12].category.as_deref(), Some("*"));
    }

    #[test]
    fn floats_inside_a_paragraph_are_not_duplicated() {
        let d = one(&format!(
            r#"<article>{META}<body><sec><title>Results</title><p>See the list:<list><list-item><p>one;</p></list-item><list-item><p>two.</p></list-item></list>
Then<fig id="F1"><label>Figure 1</label><caption><title>Cap title.</title><p>Cap text.</p></caption><graphic/></fig>after the figure,
<disp-formula><mml:math xmlns:mml="m"><mml:mi>E</mml:mi><mml:mo>=</mml:mo><mml:mi>m</mml:mi><mml:msup><mml:mi>c</mml:mi><mml:mn>2</mml:mn></mml:msup><mml:annotation encoding="tex">E=mc^2</mml:annotation></mml:math><tex-math>E=mc^2</tex-math></disp-formula>
and a note<fn><p>Footnote.</p></fn>.<table-wrap><label>Table 1</label><caption><p>Genes.</p></caption>
<alternatives><graphic/><table><thead><tr><th>Gene</th><th>Fold</th></tr></thead><tbody><tr><td>TP53</td><td>2.5</td></tr></tbody></table></alternatives>
<table-wrap-foot><fn><label>a</label><p>p &lt; 0.05.</p></fn><p>Loose.</p></table-wrap-foot></table-wrap></p></sec></body></article>"#
        ));
        let texts: Vec<_> = d
            .passages
            .iter()
            .map(|p| (p.kind.as_str(), p.category.as_deref(), p.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                ("title", None, "T"),
                (
                    "paragraph",
                    None,
                    "See the list: one; two. Then after the figure, E=mc2 and a note."
                ),
                ("caption", Some("Figure 1"), "Cap title. Cap text."),
                ("footnote", None, "Footnote."),
                ("caption", Some("Table 1"), "Genes."),
                ("table", Some("Table 1"), "Gene Fold TP53 2.5"),
                ("footnote", Some("a"), "p < 0.05."),
                ("footnote", None, "Loose."),
            ]
        );
        assert!(
            d.passages
                .iter()
                .all(|p| p.kind == PassageKind::Title || p.section.as_deref() == Some("Results"))
        );
    }

    #[test]
    fn an_article_without_body_keeps_its_metadata() {
        let d = one(&format!(
            "<article>{}</article>",
            META.replace(
                "</article-meta>",
                "<abstract><p>Abs.</p></abstract></article-meta>"
            )
        ));
        assert_eq!(
            passages(&d),
            [("title", None, "T"), ("abstract", None, "Abs.")]
        );
    }

    #[test]
    fn an_article_without_pmc_id_is_an_error_and_the_next_is_read() {
        let xml = format!(
            r#"<pmc-articleset><article><front><article-meta><article-id pub-id-type="pmid">1</article-id>
<title-group><article-title>No id</article-title></title-group></article-meta></front><body><p>x</p></body></article>
<article>{META}</article></pmc-articleset>"#
        );
        let records = parse(&xml);
        assert_eq!(records.len(), 2);
        let err = records[0].clone().unwrap_err();
        assert!(err.reason.contains("article without PMC id"), "{err}");
        assert_eq!(doc(&records[1]).id, "pmc:PMC42");
    }

    #[test]
    fn malformed_article_then_next_and_truncated_input() {
        let xml = format!(
            "<pmc-articleset><article>{META}<body><p>a</q></body></article><article>{META}</article>"
        );
        let records = parse(&xml);
        assert!(records[0].is_err(), "{records:?}");
        assert_eq!(
            records[0].as_ref().unwrap_err().id.as_deref(),
            Some("pmc:PMC42")
        );
        assert!(records.iter().any(|r| r.is_ok()));
        let truncated = parse(&format!("<article>{META}<body><p>cut"));
        assert_eq!(truncated.len(), 1);
        assert!(truncated[0].is_err());
    }

    #[test]
    fn references_are_metadata() {
        let d = one(&format!(
            r#"<article>{META}<back><ref-list><title>References</title>
<ref id="B1"><label>1</label><element-citation><person-group><name><surname>Smith</surname><given-names>J</given-names></name></person-group><article-title>A <italic>b</italic> c</article-title><source>Nature</source><year>2000</year><pub-id pub-id-type="pmid">111</pub-id><pub-id pub-id-type="doi">10.1/x</pub-id></element-citation></ref>
<ref id="B2"><mixed-citation><name><surname>Li</surname><given-names>X</given-names></name> (<year>2010</year>) <source>J</source> <volume>1</volume>: <fpage>1</fpage>–<lpage>5</lpage>. <pub-id pub-id-type="pmcid">PMC7</pub-id></mixed-citation></ref>
</ref-list></back></article>"#
        ));
        assert_eq!(d.passages.len(), 1);
        let r = &d.references;
        assert_eq!(r[0].id.as_deref(), Some("B1"));
        assert_eq!(r[0].citation, "Smith J A b c Nature 2000");
        assert_eq!(
            (r[0].pmid.as_deref(), r[0].doi.as_deref()),
            (Some("111"), Some("10.1/x"))
        );
        assert_eq!(r[1].citation, "Li X (2010) J 1: 1–5.");
        assert_eq!(r[1].pmcid.as_deref(), Some("PMC7"));
    }

    #[test]
    fn jats_roots() {
        assert!(
            root_is_jats("article") && root_is_jats("pmc-articleset") && root_is_jats("OAI-PMH")
        );
        assert!(!root_is_jats("PubmedArticleSet"));
    }

    fn parse_file(path: &std::path::Path) -> Vec<Result<DocumentRecord, RecordError>> {
        let file = std::fs::File::open(path).unwrap();
        JatsParser::new(std::io::BufReader::new(file)).collect()
    }

    #[test]
    fn fixtures_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("jats_") {
                continue;
            }
            let records = parse_file(&path);
            assert!(!records.is_empty(), "{name}: no document");
            for r in &records {
                assert!(!doc(r).title.is_empty(), "{name}: empty title");
            }
        }
        let bare = dir.join("jats_bare.nxml");
        if !bare.exists() {
            return;
        }
        let records = parse_file(&bare);
        let d = doc(&records[0]);
        assert_eq!(d.id, "pmc:PMC8000001");
        assert!(
            d.passages
                .iter()
                .any(|p| p.section.as_deref() == Some("Methods / Cell culture")),
            "{:#?}",
            d.passages
        );
        assert!(
            d.passages
                .iter()
                .any(|p| p.kind == PassageKind::Table && p.text.contains("TP53"))
        );
        assert!(
            d.references
                .iter()
                .any(|r| r.pmid.as_deref() == Some("32000091"))
        );
    }

    /// Real files from `../shared/samples/pmc`, when present: every article parses, with a title
    /// and body text, and no caption or table text is repeated inside a paragraph.
    #[test]
    fn shared_samples_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/pmc");
        if !dir.exists() {
            return;
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let records = parse_file(&path);
            assert!(!records.is_empty(), "{path:?}");
            for r in &records {
                let d = doc(r);
                assert!(!d.title.is_empty(), "{path:?}");
                assert!(
                    d.passages.iter().any(|p| p.kind == PassageKind::Paragraph),
                    "{path:?}"
                );
                let floats = d.passages.iter().filter(|p| {
                    matches!(p.kind, PassageKind::Caption | PassageKind::Table) && p.text.len() > 40
                });
                for f in floats {
                    assert!(
                        !d.passages
                            .iter()
                            .any(|p| p.kind == PassageKind::Paragraph && p.text.contains(&f.text)),
                        "{path:?}: {:?} repeated in a paragraph",
                        f.text
                    );
                }
            }
        }
    }
}
