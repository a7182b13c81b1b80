//! PMC full text (JATS/NLM XML) into [`DocumentRecord`]s, streamed: one article in memory at a
//! time, whatever the file size.
//!
//! Every `<article>` element of the input becomes one document, wherever it sits: the root of an
//! OA bulk `.nxml`, each article of an efetch `<pmc-articleset>`, the article of an OAI-PMH
//! `GetRecord` envelope (in the JATS namespace: names are compared by local name). An article
//! without a PMC id, or one that cannot be read (malformed XML, a character XML forbids), is
//! returned as a [`RecordError`] and the parser resynchronises at the next `<article` start tag.
//! The input is cut into chunks of whole articles ([`crate::chunk`]), parsed on worker threads; a
//! stream that stops early ends with a fatal [`RecordError`] after its last whole article.
//!
//! Nesting deeper than [`crate::xml::MAX_NESTING`] (sections in sections, boxes in boxes) is
//! read as one flat passage: its words are kept, its inner structure is not.
//!
//! Passages come in reading order: the title, the abstracts, the body, the back matter
//! (acknowledgments, appendices, footnotes) and the floats group. A paragraph's figures, tables,
//! boxes and footnotes are passages of their own, placed after the paragraph; their text is not
//! the paragraph's. References are kept as metadata, never as passages. Sub-articles and
//! responses (`sub-article`, `response`: peer reviews, author replies, translations) are skipped:
//! they are other works, with their own authors, inside the article's file.

use std::io::Read;

use pubmine_stream::record::{
    Document, DocumentRecord, Passage, PassageKind, SourceKind, Term, pmc_id,
};
use quick_xml::events::Event;

use crate::chunk::{Chunk, RecordStream, default_threads};
use crate::error::RecordError;
use crate::text::non_empty;
use crate::xml::{Slice, TextStyle, Xml, attr, each_child, parse_records};

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
pub struct JatsParser<R>(RecordStream<R>);

/// Size of the chunks the input is cut into.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The element a JATS stream is cut between.
pub const RECORD_NAMES: &[&str] = &["article"];

impl<R: Read> JatsParser<R> {
    /// A parser using as many threads as the machine has cores (at most 4).
    pub fn new(inner: R) -> Self {
        Self::with_threads(inner, default_threads())
    }

    /// A parser with `threads` parsing threads.
    pub fn with_threads(inner: R, threads: usize) -> Self {
        JatsParser(RecordStream::new(
            inner,
            RECORD_NAMES,
            CHUNK_BYTES,
            threads,
            parse_chunk,
        ))
    }
}

impl<R: Read> Iterator for JatsParser<R> {
    type Item = Result<DocumentRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

/// The articles of one chunk of whole articles, in order.
pub fn parse_chunk(chunk: &Chunk) -> Vec<Result<DocumentRecord, RecordError>> {
    parse_records(chunk, next_record)
}

/// Reads the next article into `out`; false at the end of the input.
fn next_record(
    x: &mut Xml<Slice<'_>>,
    out: &mut Vec<Result<DocumentRecord, RecordError>>,
) -> Result<bool, RecordError> {
    loop {
        let start = x.position();
        let (article_type, lang) = match x.event()? {
            Event::Start(e) if e.local_name().as_ref() == "article" => {
                (attr(&e, "article-type"), attr(&e, "lang"))
            }
            Event::Eof => return Ok(false),
            _ => continue,
        };
        let mut doc = Document::new(SourceKind::Pmc, String::new());
        doc.languages.extend(lang.and_then(|l| non_empty(&l)));
        doc.publication_types.extend(article_type.map(|name| Term {
            name,
            ..Default::default()
        }));
        if let Err(e) = article(x, &mut doc) {
            return Err(e.with_id(known_id(&doc)));
        }
        out.push(finish(doc, start).map(|d| DocumentRecord::Upsert(Box::new(d))));
        return Ok(true);
    }
}

fn article(x: &mut Xml<Slice<'_>>, doc: &mut Document) -> Result<(), RecordError> {
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

mod body;
mod meta;
#[cfg(test)]
mod tests;

use body::*;
use meta::*;
