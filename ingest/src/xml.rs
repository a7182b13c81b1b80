//! A thin layer over quick-xml shared by the MEDLINE and JATS parsers: one reusable event
//! buffer, namespace-blind element names, text flattening and skipping.
//!
//! Names are compared by local name (`mml:math` and `math` are the same element), so bare JATS,
//! namespaced JATS (OAI-PMH) and prefixed MathML are read alike.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use crate::error::RecordError;
use crate::text::TextBuf;

/// Where events come from: a buffered stream (one event buffer, reused), or bytes already in
/// memory, read without a copy.
pub trait Source {
    /// The next event, or the error with the byte offset where it was seen.
    fn read(&mut self) -> Result<Event<'_>, (quick_xml::Error, u64)>;
    /// Byte offset reached in this source's input.
    fn offset(&self) -> u64;
}

/// Events from a stream.
#[derive(Debug)]
pub struct Stream<R> {
    reader: Reader<R>,
    buf: Vec<u8>,
}

impl<R: BufRead> Source for Stream<R> {
    fn read(&mut self) -> Result<Event<'_>, (quick_xml::Error, u64)> {
        self.buf.clear();
        let before = self.reader.buffer_position();
        match self.reader.read_event_into(&mut self.buf) {
            Ok(ev) => Ok(ev),
            Err(e) => Err((e, self.reader.error_position().max(before))),
        }
    }
    fn offset(&self) -> u64 {
        self.reader.buffer_position()
    }
}

/// Events borrowed from bytes in memory.
#[derive(Debug)]
pub struct Slice<'a> {
    reader: Reader<&'a [u8]>,
}

impl Source for Slice<'_> {
    fn read(&mut self) -> Result<Event<'_>, (quick_xml::Error, u64)> {
        let before = self.reader.buffer_position();
        match self.reader.read_event() {
            Ok(ev) => Ok(ev),
            Err(e) => Err((e, self.reader.error_position().max(before))),
        }
    }
    fn offset(&self) -> u64 {
        self.reader.buffer_position()
    }
}

fn configure<R>(reader: &mut Reader<R>) {
    let config = reader.config_mut();
    config.trim_text(false);
    config.expand_empty_elements = false;
    config.check_end_names = true;
}

/// An XML reader: events, positions, text flattening, skipping.
#[derive(Debug)]
pub struct Xml<S> {
    src: S,
    /// Offset of this source's first byte in the whole input (a chunk's place in its file).
    base: u64,
}

/// What [`Xml::event`] yields, with borrowed names; the borrow ends before the next read.
pub type Ev<'a> = Event<'a>;

impl<R: BufRead> Xml<Stream<R>> {
    pub fn new(inner: R) -> Self {
        let mut reader = Reader::from_reader(inner);
        configure(&mut reader);
        Xml {
            src: Stream {
                reader,
                buf: Vec::with_capacity(64 * 1024),
            },
            base: 0,
        }
    }
}

impl<'a> Xml<Slice<'a>> {
    /// Reads `bytes`, a run of whole top-level elements cut out of a larger document that starts
    /// at offset `base` of it. End tags of elements opened before the run (the root's) are let
    /// through.
    pub fn from_slice(bytes: &'a [u8], base: u64) -> Self {
        let mut reader = Reader::from_reader(bytes);
        configure(&mut reader);
        reader.config_mut().allow_unmatched_ends = true;
        Xml {
            src: Slice { reader },
            base,
        }
    }
}

impl<S: Source> Xml<S> {
    /// Byte offset of the reader in the input.
    pub fn position(&self) -> u64 {
        self.base + self.src.offset()
    }

    /// An error at the current position.
    pub fn error(&self, reason: impl Into<String>) -> RecordError {
        RecordError::new(self.position(), reason)
    }

    /// The next event. `Eof` is returned as an event; syntax errors as [`RecordError`].
    pub fn event(&mut self) -> Result<Ev<'_>, RecordError> {
        let base = self.base;
        self.src
            .read()
            .map_err(|(e, at)| RecordError::new(base + at, format!("malformed XML: {e}")))
    }

    /// Skips the rest of the element whose start tag was just read.
    pub fn skip(&mut self) -> Result<(), RecordError> {
        let mut depth = 1usize;
        loop {
            match self.event()? {
                Event::Start(_) => depth += 1,
                Event::End(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Event::Eof => return Err(self.error("unexpected end of file")),
                _ => {}
            }
        }
    }

    /// Reads the text of the element whose start tag was just read, to its end, into `out`:
    /// inline markup flattened, references decoded, whitespace collapsed. Elements for which
    /// `style.skip` answers true are left out (a TeX twin of a formula, a figure's graphic);
    /// elements for which `style.block` answers true are separated from their neighbours by a space.
    pub fn text_into(&mut self, out: &mut TextBuf, style: &TextStyle) -> Result<(), RecordError> {
        let mut depth = 1usize;
        loop {
            match self.event()? {
                Event::Text(t) => out.push_str(&t),
                Event::CData(t) => out.push_str(&t),
                Event::GeneralRef(r) => push_ref(out, &r),
                Event::Start(e) => {
                    let name = e.local_name();
                    let name = name.as_ref();
                    if (style.skip)(name) {
                        self.skip()?;
                    } else {
                        if (style.block)(name) {
                            out.boundary();
                        }
                        depth += 1;
                    }
                }
                Event::Empty(e) if (style.block)(e.local_name().as_ref()) => out.boundary(),
                Event::End(e) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                    if (style.block)(e.local_name().as_ref()) {
                        out.boundary();
                    }
                }
                Event::Eof => return Err(self.error("unexpected end of file")),
                _ => {}
            }
        }
    }

    /// The text of the element whose start tag was just read, flattened and normalised.
    pub fn text(&mut self, style: &TextStyle) -> Result<String, RecordError> {
        let mut out = TextBuf::new();
        self.text_into(&mut out, style)?;
        Ok(out.take())
    }

    /// Like [`Xml::text`], `None` when empty.
    pub fn opt_text(&mut self, style: &TextStyle) -> Result<Option<String>, RecordError> {
        let t = self.text(style)?;
        Ok((!t.is_empty()).then_some(t))
    }
}

/// Runs `$body` for each child element of the element whose start tag was just read, by local
/// name; other children are skipped. Ends after the element's end tag.
macro_rules! each_child {
    ($x:expr, $e:ident, { $($name:pat => $body:expr),* $(,)? }) => {
        loop {
            match $x.event()? {
                ::quick_xml::events::Event::Start($e) => {
                    let local = $e.local_name();
                    match local.as_ref() {
                        $($name => { $body; })*
                        _ => $x.skip()?,
                    }
                }
                ::quick_xml::events::Event::End(_) => break,
                ::quick_xml::events::Event::Eof => return Err($x.error("unexpected end of file")),
                _ => {}
            }
        }
    };
}
pub(crate) use each_child;

/// The stop rule the record parsers share: a record error is reported and reading goes on, but
/// a syntax error the reader cannot get past (it repeats at the same place, or the file ended)
/// ends the stream.
#[derive(Debug, Default)]
pub struct Recovery {
    done: bool,
    last_error_at: Option<u64>,
}

impl Recovery {
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// What the iterator yields for the outcome of reading one record.
    pub fn settle<T>(
        &mut self,
        outcome: Result<Option<T>, RecordError>,
    ) -> Option<Result<T, RecordError>> {
        match outcome {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                if self.last_error_at == Some(e.position) || e.reason.contains("end of file") {
                    self.done = true;
                }
                self.last_error_at = Some(e.position);
                Some(Err(e))
            }
        }
    }
}

/// Decodes an entity or character reference into `out`; an unknown named entity is kept as
/// written, so no text is lost.
pub fn push_ref(out: &mut TextBuf, r: &BytesRef<'_>) {
    match r.resolve_char_ref() {
        Ok(Some(c)) => {
            let mut tmp = [0u8; 4];
            out.push_str(c.encode_utf8(&mut tmp));
        }
        _ => {
            let name: &str = r;
            let s = match name {
                "amp" => "&",
                "lt" => "<",
                "gt" => ">",
                "quot" => "\"",
                "apos" => "'",
                "nbsp" => " ",
                other => {
                    out.push_str("&");
                    out.push_str(other);
                    out.push_str(";");
                    return;
                }
            };
            out.push_str(s);
        }
    }
}

/// Which elements text flattening leaves out or separates.
#[derive(Debug)]
pub struct TextStyle {
    pub skip: fn(&str) -> bool,
    pub block: fn(&str) -> bool,
}

/// The value of attribute `name` (by local name), unescaped.
pub fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == name).then(|| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.clone().into_owned())
        })
    })
}

/// True when attribute `name` is `Y` (MEDLINE's yes/no flags).
pub fn attr_yes(e: &BytesStart<'_>, name: &str) -> bool {
    e.attributes()
        .flatten()
        .any(|a| a.key.local_name().as_ref() == name && a.value.as_ref() == "Y")
}

/// Reads the root element's local name from the first bytes of a file, skipping the prolog.
pub fn root_name(head: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(head);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                return Some(e.local_name().as_ref().to_string());
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no(_: &str) -> bool {
        false
    }
    fn is_p(n: &str) -> bool {
        n == "p" || n == "td"
    }
    fn is_annotation(n: &str) -> bool {
        n == "annotation"
    }

    fn flatten(xml: &str, style: &TextStyle) -> String {
        let mut x = Xml::new(xml.as_bytes());
        loop {
            if let Event::Start(_) = x.event().unwrap() {
                break;
            }
        }
        x.text(style).unwrap()
    }

    #[test]
    fn flattens_inline_markup_and_references() {
        let style = TextStyle {
            skip: no,
            block: no,
        };
        let xml = "<t>CO<sub>2</sub> &amp; H<sub>2</sub>O at 10<sup>-5</sup>\n M, &#x3B1;-<i>syn</i> &lt; 5&#160;%</t>";
        assert_eq!(
            flatten(xml, &style),
            "CO2 & H2O at 10-5 M, \u{3b1}-syn < 5 %"
        );
    }

    #[test]
    fn blocks_are_separated_and_skips_left_out() {
        let style = TextStyle {
            skip: is_annotation,
            block: is_p,
        };
        let xml = "<t><td>a</td><td>b</td><m><mi>x</mi><annotation>\\alpha</annotation></m></t>";
        assert_eq!(flatten(xml, &style), "a b x");
    }

    #[test]
    fn root_name_skips_prolog() {
        let head = b"<?xml version=\"1.0\"?>\n<!DOCTYPE PubmedArticleSet PUBLIC \"x\" \"y\">\n<!-- c --><PubmedArticleSet><Pub";
        assert_eq!(root_name(head).as_deref(), Some("PubmedArticleSet"));
        let oai = b"<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">";
        assert_eq!(root_name(oai).as_deref(), Some("OAI-PMH"));
    }
}
