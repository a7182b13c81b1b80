//! Text: abstracts, body sections, floats (figures, tables, boxes), back matter, references.

use pubmine_stream::record::{Document, Passage, PassageKind, Reference};
use quick_xml::events::Event;

use crate::error::RecordError;
use crate::text::TextBuf;
use crate::xml::{Source, Xml, attr, each_child, push_ref};

use super::*;

/// How an article's `abstract` or `trans-abstract` turns into passages.
#[derive(Debug)]
pub(super) struct AbstractKind {
    pub(super) kind: PassageKind,
    pub(super) lang: Option<String>,
    /// The `abstract-type` (`summary`, `graphical`, ...), the category of passages whose `sec`
    /// has no `sec-type`.
    pub(super) category: Option<String>,
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
pub(super) fn abstract_<S: Source>(
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
            Part::Float(kind) => float(x, kind, &mut doc.passages, &mut heading)?,
            Part::Text => {
                let (mut text, mut floats) = (TextBuf::new(), Vec::new());
                flow(x, &mut text, &mut floats, &mut heading, None)?;
                a.push(doc, &heading, None, text.take());
                doc.passages.append(&mut floats);
            }
            _ => x.skip()?,
        }
    }
}

/// One section of an abstract, its paragraphs joined; a nested section is a passage of its own,
/// named by the chain of titles.
pub(super) fn abstract_sec<S: Source>(
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
                if x.enter() {
                    let r = abstract_sec(x, doc, a, chain, inner_type);
                    x.leave();
                    r?
                } else {
                    let flat = x.text(&STYLE)?;
                    a.push(doc, chain, sec_type.as_deref(), flat);
                }
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
pub(super) enum Part {
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
pub(super) enum Float {
    /// `fig`, `fig-group`, `table-wrap`, `table-wrap-group`, `supplementary-material`,
    /// `chem-struct-wrap`: a label, a caption, tables, table footnotes, nested floats.
    Captioned,
    Footnote,
    Boxed,
}

pub(super) fn float_kind(name: &str) -> Option<Float> {
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
pub(super) fn section(chain: &[String]) -> Option<String> {
    let parts: Vec<&str> = chain
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" / "))
}

pub(super) fn push(
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
pub(super) fn blocks<S: Source>(
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
                if x.enter() {
                    chain.push(heading.to_string());
                    let r = blocks(x, out, refs, chain, true);
                    chain.pop();
                    x.leave();
                    r?
                } else {
                    flat(x, out, PassageKind::Paragraph, chain)?
                }
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
pub(super) fn flow<S: Source>(
    x: &mut Xml<S>,
    out: &mut TextBuf,
    floats: &mut Vec<Passage>,
    chain: &mut Vec<String>,
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
pub(super) fn float<S: Source>(
    x: &mut Xml<S>,
    kind: Float,
    out: &mut Vec<Passage>,
    chain: &mut Vec<String>,
) -> Result<(), RecordError> {
    if !x.enter() {
        let kind = match kind {
            Float::Captioned => PassageKind::Caption,
            Float::Footnote => PassageKind::Footnote,
            Float::Boxed => PassageKind::Paragraph,
        };
        return flat(x, out, kind, chain);
    }
    let r = match kind {
        Float::Captioned => captioned(x, out, chain),
        Float::Footnote => footnote(x, out, chain),
        Float::Boxed => {
            chain.push(String::new());
            // A box inside a paragraph holds no reference list.
            let r = blocks(x, out, &mut Vec::new(), chain, true);
            chain.pop();
            r
        }
    };
    x.leave();
    r
}

/// An element nested deeper than [`crate::xml::MAX_NESTING`]: all its text, flattened, is one
/// passage of `kind`.
fn flat<S: Source>(
    x: &mut Xml<S>,
    out: &mut Vec<Passage>,
    kind: PassageKind,
    chain: &[String],
) -> Result<(), RecordError> {
    let text = x.text(&STYLE)?;
    push(out, kind, chain, None, text);
    Ok(())
}

/// A figure, table, group of them or supplementary material: the `caption` is a Caption passage,
/// each `table` a Table passage (cells separated by spaces), table footnotes Footnote passages;
/// all carry the `label` ("Figure 1", "Table 2") as their category. Images are left out; a
/// `media` or `graphic` element's own label and caption are read as a float's (BMC journals put the caption of
/// a supplementary file there: "Additional file 1: Figure S1. ...").
pub(super) fn captioned<S: Source>(
    x: &mut Xml<S>,
    out: &mut Vec<Passage>,
    chain: &mut Vec<String>,
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
            "media" | "graphic" => float(x, Float::Captioned, out, chain)?,
            n => match float_kind(n) {
                Some(kind) => float(x, kind, out, chain)?,
                None => x.skip()?,
            },
        }
    }
}

/// A table's footer: each `fn` (or loose `p`) is a Footnote passage.
pub(super) fn table_foot<S: Source>(
    x: &mut Xml<S>,
    out: &mut Vec<Passage>,
    chain: &mut Vec<String>,
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
            Part::Container(_) if x.enter() => {
                let r = table_foot(x, out, chain);
                x.leave();
                r?
            }
            Part::Container(_) => flat(x, out, PassageKind::Footnote, chain)?,
            Part::Skip => x.skip()?,
            _ => footnote(x, out, chain)?,
        }
    }
}

/// A footnote: one passage, its `label` as the category.
pub(super) fn footnote<S: Source>(
    x: &mut Xml<S>,
    out: &mut Vec<Passage>,
    chain: &mut Vec<String>,
) -> Result<(), RecordError> {
    let (mut text, mut floats, mut label) = (TextBuf::new(), Vec::new(), None);
    flow(x, &mut text, &mut floats, chain, Some(&mut label))?;
    push(out, PassageKind::Footnote, chain, label, text.take());
    out.append(&mut floats);
    Ok(())
}

pub(super) fn ref_list<S: Source>(
    x: &mut Xml<S>,
    refs: &mut Vec<Reference>,
) -> Result<(), RecordError> {
    each_child!(x, e, {
        "ref" => { let id = attr(&e, "id"); refs.push(reference(x, id)?) },
        "ref-list" => {
            if x.enter() {
                let r = ref_list(x, refs);
                x.leave();
                r?
            } else {
                // Nested too deep: the rest is one flat reference, its words kept.
                let citation = x.text(&STYLE)?;
                refs.push(Reference { citation, ..Default::default() })
            }
        },
    });
    Ok(())
}

/// A `ref`: the citation flattened to one line; PMID, DOI and PMCID from its `pub-id`s.
pub(super) fn reference<S: Source>(
    x: &mut Xml<S>,
    id: Option<String>,
) -> Result<Reference, RecordError> {
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
