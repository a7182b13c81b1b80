//! Front matter: journal and article metadata, contributors, affiliations, funding.

use pubmine_stream::record::{
    ArticleId, Author, CommentCorrection, Document, Grant, Keyword, KindedDate, PassageKind,
    PubDate,
};
use quick_xml::events::{BytesStart, Event};

use crate::error::RecordError;
use crate::medline::{normalize_orcid, parse_month};
use crate::text::{TextBuf, non_empty};
use crate::xml::{Source, Xml, attr, each_child, push_ref};

use super::*;

pub(super) fn journal_meta<S: Source>(
    x: &mut Xml<S>,
    doc: &mut Document,
) -> Result<(), RecordError> {
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

pub(super) fn article_meta<S: Source>(
    x: &mut Xml<S>,
    doc: &mut Document,
) -> Result<(), RecordError> {
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
pub(super) fn pub_date_kind(e: &BytesStart<'_>) -> String {
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
pub(super) fn date<S: Source>(x: &mut Xml<S>, iso: Option<String>) -> Result<PubDate, RecordError> {
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

pub(super) fn related_article(e: &BytesStart<'_>) -> CommentCorrection {
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

pub(super) fn kwd_group<S: Source>(
    x: &mut Xml<S>,
    owner: Option<String>,
    doc: &mut Document,
) -> Result<(), RecordError> {
    each_child!(x, e, {
        "kwd" => {
            let text = x.text(&STYLE)?;
            if !text.is_empty() { doc.keywords.push(Keyword { text, owner: owner.clone(), major: false }) }
        },
        "nested-kwd" => {
            if x.enter() {
                let r = kwd_group(x, owner.clone(), doc);
                x.leave();
                r?
            } else {
                // Nested too deep: the rest is one keyword, its words kept.
                let text = x.text(&STYLE)?;
                if !text.is_empty() { doc.keywords.push(Keyword { text, owner: owner.clone(), major: false }) }
            }
        },
    });
    Ok(())
}

pub(super) fn funding_group<S: Source>(
    x: &mut Xml<S>,
    doc: &mut Document,
) -> Result<(), RecordError> {
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
pub(super) struct Affiliations {
    pub(super) by_id: Vec<(String, String)>,
    /// `aff`s without an id: they belong to every author that points at none.
    pub(super) unnamed: Vec<String>,
    /// The `rid`s each author's `xref ref-type="aff"` point at, in `doc.authors` order.
    pub(super) refs: Vec<Vec<String>>,
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

pub(super) fn contrib_group<S: Source>(
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

pub(super) fn contrib<S: Source>(
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

pub(super) fn name<S: Source>(x: &mut Xml<S>, a: &mut Author) -> Result<(), RecordError> {
    each_child!(x, e, {
        "surname" => a.last_name = x.opt_text(&STYLE)?,
        "given-names" => { a.initials = attr(&e, "initials"); a.fore_name = x.opt_text(&STYLE)? },
        "suffix" => a.suffix = x.opt_text(&STYLE)?,
    });
    Ok(())
}

/// The ids an `xref ref-type="aff"` points at (`rid` may list several).
pub(super) fn aff_rids(e: &BytesStart<'_>) -> Vec<String> {
    if attr(e, "ref-type").as_deref() != Some("aff") {
        return Vec::new();
    }
    let rid = attr(e, "rid").unwrap_or_default();
    rid.split_whitespace().map(str::to_string).collect()
}

pub(super) fn aff_text<S: Source>(x: &mut Xml<S>) -> Result<Option<String>, RecordError> {
    let mut text = TextBuf::new();
    fields_into(x, &mut text, &mut Vec::new(), aff_skip)?;
    Ok(Some(text.take()).filter(|t| !t.is_empty()))
}

/// The first `aff` of an `aff-alternatives` (the others are the same place in other languages).
pub(super) fn aff_alternatives<S: Source>(x: &mut Xml<S>) -> Result<Option<String>, RecordError> {
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
pub(super) fn fields_into<S: Source>(
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
