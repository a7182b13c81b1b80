//! A thin layer over quick-xml shared by the MEDLINE and JATS parsers: one reusable event
//! buffer, namespace-blind element names, text flattening and skipping.
//!
//! Names are compared by local name (`mml:math` and `math` are the same element), so bare JATS,
//! namespaced JATS (OAI-PMH) and prefixed MathML are read alike.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use crate::chunk::Chunk;
use crate::error::RecordError;
use crate::text::TextBuf;

/// Where events come from: a buffered stream (one event buffer, reused), or bytes already in
/// memory, read without a copy.
pub trait Source {
    /// The next event, or the error with the byte offset where it was seen.
    fn read(&mut self) -> Result<Event<'_>, (quick_xml::Error, u64)>;
    /// Byte offset reached in this source's input.
    fn offset(&self) -> u64;
    /// Moves to the end tag that closes the element whose start tag begins at offset `start`,
    /// without reading the events between, when the source can (bytes in memory); false when
    /// it cannot, and nothing has moved.
    fn skip_raw(&mut self, _start: u64) -> bool {
        false
    }
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
    /// All the bytes, from the first the reader was given.
    all: &'a [u8],
    /// Bytes passed over by [`Source::skip_raw`], which the reader does not count.
    skipped: u64,
    /// Scratch space of [`find_end_tag`].
    open: Vec<(usize, usize)>,
}

impl Source for Slice<'_> {
    fn read(&mut self) -> Result<Event<'_>, (quick_xml::Error, u64)> {
        let before = self.reader.buffer_position();
        match self.reader.read_event() {
            Ok(ev) => Ok(ev),
            Err(e) => Err((e, self.reader.error_position().max(before) + self.skipped)),
        }
    }
    fn offset(&self) -> u64 {
        self.reader.buffer_position() + self.skipped
    }
    fn skip_raw(&mut self, start: u64) -> bool {
        let at = self.offset() as usize;
        let (Some(tag), Some(rest)) = (self.all.get(start as usize..at), self.all.get(at..)) else {
            return false;
        };
        // Only right after a start tag (not an empty element's, an end tag or other markup).
        let is_start = tag.len() > 2
            && tag[0] == b'<'
            && !matches!(tag[1], b'/' | b'!' | b'?')
            && tag.ends_with(b">")
            && !tag.ends_with(b"/>");
        if !is_start {
            return false;
        }
        let name = tag_name(&tag[1..]);
        match find_end_tag(rest, name, &mut self.open) {
            Some(k) => {
                *self.reader.get_mut() = &rest[k..];
                self.skipped += k as u64;
                true
            }
            None => false,
        }
    }
}

/// The name at the start of a tag's bytes (after `<` or `</`).
fn tag_name(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .position(|&c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>'))
        .unwrap_or(b.len());
    &b[..end]
}

/// Where the end tag `</name>` that closes an element whose content begins `b` starts, checking
/// what the reader would: each end tag closes the element open last, each reference ends with
/// `;` before any `&` or `<`. Comments, CDATA sections, processing instructions and quoted
/// attribute values are passed over. `None` when it is not found, or at anything the reader
/// would refuse or check further (a character reference, a DOCTYPE): the caller then reads event
/// by event, and reports what is wrong where the reader finds it. `open` is scratch space for the
/// elements open inside.
fn find_end_tag(b: &[u8], name: &[u8], open: &mut Vec<(usize, usize)>) -> Option<usize> {
    open.clear();
    let mut i = 0;
    loop {
        let j = i + memchr::memchr2(b'<', b'&', &b[i..])?;
        let after = &b[j + 1..];
        if b[j] == b'&' {
            let k = memchr::memchr3(b';', b'&', b'<', after)?;
            if after[k] != b';' || after.first() == Some(&b'#') {
                return None;
            }
            i = j + 1 + k + 1;
            continue;
        }
        match after.first()? {
            b'/' => {
                let gt = memchr::memchr(b'>', after)?;
                let end = after[1..gt].trim_ascii_end();
                match open.pop() {
                    Some((from, to)) if b[from..to] == *end => {}
                    Some(_) => return None,
                    None => return (end == name).then_some(j),
                }
                i = j + 1 + gt + 1;
            }
            b'!' if after.starts_with(b"!--") => {
                i = j + 4 + memchr::memmem::find(&after[3..], b"-->")? + 3;
            }
            b'!' if after.starts_with(b"![CDATA[") => {
                i = j + 9 + memchr::memmem::find(&after[8..], b"]]>")? + 3;
            }
            b'?' => i = j + 2 + memchr::memmem::find(&after[1..], b"?>")? + 2,
            b'!' => return None,
            _ => {
                // A start tag: its end is the first `>` outside quotes.
                let mut k = 0;
                let close = loop {
                    let q = k + memchr::memchr3(b'>', b'"', b'\'', &after[k..])?;
                    if after[q] == b'>' {
                        break q;
                    }
                    k = q + 1 + memchr::memchr(after[q], &after[q + 1..])? + 1;
                };
                // A name, and a `/` after it only where it makes the element empty.
                let n = tag_name(after).len();
                if n == 0 || (after[n] == b'/' && n + 1 != close) {
                    return None;
                }
                if after[close - 1] != b'/' {
                    open.push((j + 1, j + 1 + n));
                }
                i = j + 1 + close + 1;
            }
        }
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
    /// Nested structures being read (see [`Xml::enter`]).
    nesting: usize,
    /// The input is known to hold no character XML forbids (checked once, for a whole chunk):
    /// [`Xml::event`] then checks only character references.
    clean: bool,
    /// Offset in the source of the last event read: after a start tag, where it begins.
    last_start: u64,
}

/// How deep the parsers recurse into nested structures (sections, boxes, floats, nested lists of
/// references or keywords). An element nested deeper is read as one run of flat text: its words
/// are kept, the structure below it is not. Real articles nest a few levels.
pub const MAX_NESTING: usize = 32;

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
            nesting: 0,
            clean: false,
            last_start: 0,
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
            src: Slice {
                reader,
                all: bytes,
                skipped: 0,
                open: Vec::new(),
            },
            base,
            nesting: 0,
            clean: is_clean(bytes),
            last_start: 0,
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

    /// The next event. `Eof` is returned as an event; syntax errors as [`RecordError`], and so
    /// are characters XML does not allow (NUL and the other C0 controls but tab, LF and CR;
    /// U+FFFE, U+FFFF), written raw or as character references: no document text holds them.
    pub fn event(&mut self) -> Result<Ev<'_>, RecordError> {
        let base = self.base;
        self.last_start = self.src.offset();
        let before = base + self.last_start;
        let ev = self
            .src
            .read()
            .map_err(|(e, at)| RecordError::new(base + at, format!("malformed XML: {e}")))?;
        let bad = match &ev {
            Event::Text(_) | Event::CData(_) | Event::Start(_) | Event::Empty(_) if self.clean => {
                None
            }
            Event::Text(t) => forbidden_char(t).map(|(i, c)| (i, c, "")),
            Event::CData(t) => forbidden_char(t).map(|(i, c)| (i + 9, c, "")),
            Event::Start(t) | Event::Empty(t) => forbidden_char(t).map(|(i, c)| (i + 1, c, "")),
            Event::GeneralRef(r) if r.starts_with('#') => match r.resolve_char_ref() {
                Ok(Some(c)) if !is_xml_char(c) => Some((0, c, " (a character reference)")),
                Ok(_) => None,
                Err(e) => {
                    return Err(RecordError::new(
                        before,
                        format!("malformed XML: character reference &{};: {e}", &**r),
                    ));
                }
            },
            _ => None,
        };
        if let Some((i, c, how)) = bad {
            return Err(RecordError::new(
                before + i as u64,
                format!(
                    "malformed XML: character U+{:04X}{how} is not allowed in XML",
                    c as u32
                ),
            ));
        }
        Ok(ev)
    }

    /// Enters a nested structure the caller is about to read recursively; false when it is
    /// [`MAX_NESTING`] deep already, and the caller reads the element as flat text instead.
    /// Each `true` is matched by [`Xml::leave`].
    pub fn enter(&mut self) -> bool {
        if self.nesting >= MAX_NESTING {
            return false;
        }
        self.nesting += 1;
        true
    }

    pub fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    /// Skips the rest of the element whose start tag was just read. In a clean chunk in memory,
    /// the bytes up to its end tag are passed over without reading their events (their
    /// characters are known to be allowed, and `find_end_tag` checks the nesting and the
    /// references as the reader does, or leaves the element to it), and the end tag is read as
    /// an event, so that the reader checks it closes the element.
    pub fn skip(&mut self) -> Result<(), RecordError> {
        if self.clean && self.src.skip_raw(self.last_start) {
            return match self.event()? {
                Event::End(_) => Ok(()),
                _ => Err(self.error("malformed XML: an end tag was expected")),
            };
        }
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

/// Reads the records of a chunk with `read_one`, which reads the next record into `out` and
/// answers false at the end of the input. After a record that cannot be read (malformed XML, a
/// forbidden character), reading resynchronises at the next record start tag the chunk lists
/// after the error, so each bad record is one error and every good record after it is read. The
/// chunk's trailer, if any (a record too large, the end of a stream cut short), comes last.
pub fn parse_records<T>(
    chunk: &Chunk,
    mut read_one: impl FnMut(
        &mut Xml<Slice<'_>>,
        &mut Vec<Result<T, RecordError>>,
    ) -> Result<bool, RecordError>,
) -> Vec<Result<T, RecordError>> {
    let mut out = Vec::new();
    let mut from = 0usize;
    loop {
        let mut x = Xml::from_slice(&chunk.bytes[from..], chunk.base + from as u64);
        let error = loop {
            x.nesting = 0;
            match read_one(&mut x, &mut out) {
                Ok(true) => {}
                Ok(false) => break None,
                Err(e) => break Some(e),
            }
        };
        let Some(e) = error else { break };
        let after = e.position.max(chunk.base + from as u64);
        out.push(Err(e));
        match chunk.starts.iter().find(|&&s| s > after) {
            Some(&s) => from = (s - chunk.base) as usize,
            None => break,
        }
    }
    out.extend(chunk.trailer.clone().map(Err));
    out
}

/// True for the characters XML 1.0 allows in a document.
pub fn is_xml_char(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => true,
        c if (c as u32) < 0x20 => false,
        '\u{FFFE}' | '\u{FFFF}' => false,
        _ => true,
    }
}

/// True when `b` is UTF-8 and holds no character XML does not allow, written raw: checked once
/// for a whole chunk, in place of a check of every text and tag.
fn is_clean(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(|s| forbidden_char(s).is_none())
}

/// The first character of `s` XML does not allow (a C0 control but tab, LF and CR; U+FFFE,
/// U+FFFF), with its byte index. Controls are looked for in blocks the compiler vectorizes, as
/// a whole chunk is checked at once.
fn forbidden_char(s: &str) -> Option<(usize, char)> {
    let b = s.as_bytes();
    let is_control = |c: u8| (c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r');
    for (k, block) in b.chunks(256).enumerate() {
        if block.iter().fold(false, |bad, &c| bad | is_control(c)) {
            let i = k * 256 + block.iter().position(|&c| is_control(c))?;
            return Some((i, b[i] as char));
        }
    }
    // U+FFFE and U+FFFF are EF BF BE and EF BF BF in UTF-8.
    let mut at = 0;
    while let Some(k) = memchr::memchr(0xEF, &b[at..]) {
        let i = at + k;
        if b.len() >= i + 3 && b[i + 1] == 0xBF && (b[i + 2] == 0xBE || b[i + 2] == 0xBF) {
            return s[i..].chars().next().map(|c| (i, c));
        }
        at = i + 1;
    }
    None
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

    /// Reads `xml` to the start tag of `<skipme>`, skips it (passing its bytes over, when
    /// `raw`, or reading its events), and reads on: the position after the skip, then each
    /// event (or the error and its position) to the end; and the bytes passed over unread.
    fn skip_and_read_on(xml: &str, raw: bool) -> ((u64, Vec<String>), u64) {
        let mut x = Xml::from_slice(xml.as_bytes(), 100);
        x.clean = raw;
        loop {
            match x.event().unwrap() {
                Event::Start(e) if e.name().as_ref() == "skipme" => break,
                Event::Eof => panic!("no <skipme> in {xml}"),
                _ => {}
            }
        }
        let mut seen = Vec::new();
        if let Err(e) = x.skip() {
            return ((e.position, vec![e.reason]), x.src.skipped);
        }
        let at = x.position();
        loop {
            match x.event() {
                Ok(Event::Eof) => return ((at, seen), x.src.skipped),
                Ok(ev) => seen.push(format!("{ev:?}")),
                Err(e) => {
                    seen.push(format!("{} at {}", e.reason, e.position));
                    return ((at, seen), x.src.skipped);
                }
            }
        }
    }

    #[test]
    fn passing_over_a_skipped_element_ends_where_reading_its_events_ends() {
        let well_formed = [
            "",
            "text &amp; more &unknown;",
            "<a x=\"1>2\" y='</skipme>' z=\"&#1;\">t</a>",
            "<skipme>nested <skipme/> twice <skipme k='v'>deep</skipme></skipme>",
            "<!-- </skipme> & --><![CDATA[</skipme> &#0;]]><?pi </skipme>?>",
            "<mml:math><mml:mi>x</mml:mi></mml:math><skipmeNot>n</skipmeNot ><e/>",
        ];
        // What the reader refuses or checks further: read event by event, as before.
        let left_to_the_reader = [
            "<a></b>",
            "<a>",
            "</a>",
            "a & b",
            "a &amp b",
            "&#1;",
            "&#xZZ;",
            "&#233;",
            "< a>",
            "<a></a >x</skipmeX>",
            "<!DOCTYPE x>",
            "<a/ >x</a>",
            "<a/b>x</a/b>",
        ];
        let after = ["<next>t</next></r>", "<next>t</oops></r>", "</r>"];
        for (inner, whole) in well_formed
            .iter()
            .map(|i| (i, true))
            .chain(left_to_the_reader.iter().map(|i| (i, false)))
        {
            for tail in after {
                let xml = format!("<r><skipme id=\"s\">{inner}</skipme >{tail}");
                let (by_events, _) = skip_and_read_on(&xml, false);
                let (raw, passed_over) = skip_and_read_on(&xml, true);
                assert_eq!(raw, by_events, "{xml}");
                let want = if whole { inner.len() as u64 } else { 0 };
                assert_eq!(passed_over, want, "{xml}");
            }
        }
        // Cut short: the same error either way.
        let xml = "<r><skipme><a>text";
        assert_eq!(
            skip_and_read_on(xml, true).0,
            skip_and_read_on(xml, false).0
        );
    }

    #[test]
    fn a_chunk_is_clean_unless_it_holds_a_forbidden_character() {
        assert!(is_clean(
            "<a x=\"1\">tab\tLF\nCR\r é \u{FFFD} \u{FFEF}</a>".as_bytes()
        ));
        for bad in ["\u{0}", "\u{1}", "\u{1F}", "\u{FFFE}", "\u{FFFF}"] {
            let mut s = "x".repeat(300);
            s.push_str(bad);
            assert!(!is_clean(s.as_bytes()), "{bad:?}");
        }
        assert!(!is_clean(b"caf\xe9 au lait"), "Latin-1, not UTF-8");
    }

    #[test]
    fn root_name_skips_prolog() {
        let head = b"<?xml version=\"1.0\"?>\n<!DOCTYPE PubmedArticleSet PUBLIC \"x\" \"y\">\n<!-- c --><PubmedArticleSet><Pub";
        assert_eq!(root_name(head).as_deref(), Some("PubmedArticleSet"));
        let oai = b"<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">";
        assert_eq!(root_name(oai).as_deref(), Some("OAI-PMH"));
    }
}
