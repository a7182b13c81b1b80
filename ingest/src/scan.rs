//! A lexical scan of an XML byte stream, just deep enough to find where records begin and end.
//!
//! The chunker cuts a stream between records and resynchronises after a bad one without a full
//! parse: it needs to know where the start and end tags of records (`<PubmedArticle>`,
//! `<article>`) are, and that a `</PubmedArticle>` written inside a comment, a CDATA section, a
//! processing instruction, an attribute value or a DOCTYPE is none. The scanner keeps its state
//! between calls, so a stream is scanned once, in pieces, in linear time and constant memory.

use memchr::{memchr, memchr3, memmem};

/// What the scanner found, by absolute byte offset in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// A record's start tag begins here (the `<`).
    Start(u64),
    /// A record's end tag (or an empty record element) ends here (after the `>`).
    End(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    /// Inside a tag that began at `start`.
    Tag {
        start: u64,
        end: bool,
        record: bool,
        /// The root element's start tag.
        root: bool,
        quote: Option<u8>,
        slash: bool,
    },
    /// Inside a comment; `decl` is the bracket depth of the DOCTYPE it sits in, if any.
    Comment {
        decl: Option<u32>,
    },
    CData,
    Pi,
    /// Inside `<!...>` (a DOCTYPE and its internal subset).
    Decl {
        bracket: u32,
        quote: Option<u8>,
    },
}

/// A name longer than this is no record name: the scanner stops waiting for its end.
const NAME_LOOKAHEAD: usize = 256;

/// Finds record tags in a stream fed to it in pieces.
#[derive(Debug)]
pub struct Scanner {
    names: &'static [&'static str],
    state: State,
    /// Absolute offset of the next byte to look at; bytes before it are no longer needed.
    pos: u64,
    root: Option<Vec<u8>>,
    /// The last tag seen closes the root element.
    root_closed: bool,
    /// Start of the record being read, if one is open.
    open_record: Option<u64>,
}

impl Scanner {
    /// A scanner for records whose elements have one of `names` as local name.
    pub fn new(names: &'static [&'static str]) -> Self {
        Scanner {
            names,
            state: State::Text,
            pos: 0,
            root: None,
            root_closed: false,
            open_record: None,
        }
    }

    /// The first offset the scanner still needs: a caller may drop the bytes before it.
    pub fn needed_from(&self) -> u64 {
        self.pos
    }

    /// Start of the record that is open at the scan position, if any.
    pub fn open_record(&self) -> Option<u64> {
        self.open_record
    }

    /// True when the input scanned so far is a whole document: its root element closed, no
    /// record, comment or tag left open.
    pub fn is_complete(&self) -> bool {
        self.root_closed && self.state == State::Text && self.open_record.is_none()
    }

    /// The root element's name, once seen.
    pub fn root(&self) -> Option<&[u8]> {
        self.root.as_deref()
    }

    /// Scans `buf`, whose first byte is at offset `base` of the stream (`base` must not be past
    /// [`Scanner::needed_from`]), calling `found` for each record start and end. With `eof`, no
    /// more bytes will come, so a construct cut short is not waited for.
    pub fn scan(&mut self, buf: &[u8], base: u64, eof: bool, found: &mut dyn FnMut(Found)) {
        debug_assert!(base <= self.pos);
        loop {
            let i = (self.pos - base) as usize;
            if i >= buf.len() {
                return;
            }
            let rest = &buf[i..];
            match self.state {
                State::Text => match memchr(b'<', rest) {
                    None => self.pos += rest.len() as u64,
                    Some(k) => {
                        self.pos += k as u64;
                        if !self.markup(&buf[i + k..], eof) {
                            return; // wait for more bytes
                        }
                    }
                },
                State::Tag {
                    start,
                    end,
                    record,
                    root,
                    mut quote,
                    mut slash,
                } => {
                    let mut j = 0;
                    let closed = loop {
                        if let Some(q) = quote {
                            match memchr(q, &rest[j..]) {
                                Some(k) => {
                                    j += k + 1;
                                    quote = None;
                                    slash = false;
                                }
                                None => break None,
                            }
                        } else {
                            match memchr3(b'>', b'"', b'\'', &rest[j..]) {
                                Some(k) => {
                                    let at = j + k;
                                    let before_slash =
                                        if at > 0 { rest[at - 1] == b'/' } else { slash };
                                    j = at + 1;
                                    if rest[at] == b'>' {
                                        break Some(before_slash);
                                    }
                                    quote = Some(rest[at]);
                                }
                                None => {
                                    slash = rest.last() == Some(&b'/');
                                    break None;
                                }
                            }
                        }
                    };
                    self.pos += j.min(rest.len()) as u64;
                    match closed {
                        None => {
                            self.pos = base + buf.len() as u64;
                            self.state = State::Tag {
                                start,
                                end,
                                record,
                                root,
                                quote,
                                slash,
                            };
                        }
                        Some(empty) => {
                            self.state = State::Text;
                            if record {
                                if !end {
                                    self.open_record = Some(start);
                                    found(Found::Start(start));
                                }
                                if end || empty {
                                    self.open_record = None;
                                    found(Found::End(self.pos));
                                }
                            }
                            if empty && root {
                                self.root_closed = true; // `<PubmedArticleSet/>`
                            }
                        }
                    }
                }
                State::Comment { decl } => {
                    if !self.find_close(rest, b"-->", eof) {
                        return;
                    }
                    self.state = match decl {
                        Some(bracket) => State::Decl {
                            bracket,
                            quote: None,
                        },
                        None => State::Text,
                    };
                }
                State::CData => {
                    if !self.find_close(rest, b"]]>", eof) {
                        return;
                    }
                    self.state = State::Text;
                }
                State::Pi => {
                    if !self.find_close(rest, b"?>", eof) {
                        return;
                    }
                    self.state = State::Text;
                }
                State::Decl {
                    mut bracket,
                    mut quote,
                } => {
                    let mut j = 0;
                    while j < rest.len() {
                        let b = rest[j];
                        if let Some(q) = quote {
                            if b == q {
                                quote = None;
                            }
                        } else if b == b'"' || b == b'\'' {
                            quote = Some(b);
                        } else if b == b'[' {
                            bracket += 1;
                        } else if b == b']' {
                            bracket = bracket.saturating_sub(1);
                        } else if b == b'>' && bracket == 0 {
                            self.pos += j as u64 + 1;
                            self.state = State::Text;
                            break;
                        } else if b == b'<' && rest[j..].starts_with(b"<!--") {
                            self.pos += j as u64 + 4;
                            self.state = State::Comment {
                                decl: Some(bracket),
                            };
                            break;
                        } else if b == b'<' && rest.len() - j < 4 && !eof {
                            // Perhaps a comment: decide once its opening is whole.
                            self.pos += j as u64;
                            self.state = State::Decl { bracket, quote };
                            return;
                        }
                        j += 1;
                    }
                    if j >= rest.len() {
                        self.pos += rest.len() as u64;
                        self.state = State::Decl { bracket, quote };
                    }
                }
            }
        }
    }

    /// Looks for `close` in `rest`; on success moves past it. Otherwise keeps the last bytes
    /// that could begin it and waits.
    fn find_close(&mut self, rest: &[u8], close: &[u8], eof: bool) -> bool {
        match memmem::find(rest, close) {
            Some(k) => {
                self.pos += (k + close.len()) as u64;
                true
            }
            None => {
                let keep = if eof { 0 } else { close.len() - 1 };
                self.pos += rest.len().saturating_sub(keep) as u64;
                if eof {
                    self.pos += keep as u64;
                }
                false
            }
        }
    }

    /// Reads the markup that begins at `m[0]` (a `<`) and enters its state. False when more
    /// bytes are needed to tell what it is.
    fn markup(&mut self, m: &[u8], eof: bool) -> bool {
        const COMMENT: &[u8] = b"<!--";
        const CDATA: &[u8] = b"<![CDATA[";
        if m.len() < 2 {
            if eof {
                self.pos += m.len() as u64;
            }
            return eof;
        }
        match m[1] {
            b'?' => {
                self.pos += 2;
                self.state = State::Pi;
            }
            b'!' => {
                if m.starts_with(COMMENT) {
                    self.pos += COMMENT.len() as u64;
                    self.state = State::Comment { decl: None };
                } else if m.starts_with(CDATA) {
                    self.pos += CDATA.len() as u64;
                    self.state = State::CData;
                } else if !eof
                    && m.len() < CDATA.len()
                    && (COMMENT.starts_with(m) || CDATA.starts_with(m))
                {
                    return false;
                } else {
                    self.pos += 2;
                    self.state = State::Decl {
                        bracket: 0,
                        quote: None,
                    };
                }
            }
            _ => {
                let end = m[1] == b'/';
                let from = if end { 2 } else { 1 };
                let name_len = m[from..]
                    .iter()
                    .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'));
                let name_len = match name_len {
                    Some(n) => n,
                    None if !eof && m.len() - from < NAME_LOOKAHEAD => return false,
                    None => m.len() - from,
                };
                let name = &m[from..from + name_len];
                let local = match memchr::memrchr(b':', name) {
                    Some(c) => &name[c + 1..],
                    None => name,
                };
                let record = self.names.iter().any(|n| n.as_bytes() == local);
                let mut root = false;
                if end {
                    self.root_closed = self.root.as_deref() == Some(name);
                } else {
                    self.root_closed = false;
                    if self.root.is_none() && !name.is_empty() {
                        self.root = Some(name.to_vec());
                        root = true;
                    }
                }
                let start = self.pos;
                self.pos += (from + name_len) as u64;
                self.state = State::Tag {
                    start,
                    end,
                    record,
                    root,
                    quote: None,
                    slash: false,
                };
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["A"];

    /// Everything found, scanning `input` in pieces of `step` bytes, keeping only what the
    /// scanner still needs, as the chunker does.
    fn scan_in_pieces(input: &[u8], step: usize) -> (Vec<Found>, bool) {
        let mut s = Scanner::new(NAMES);
        let mut out = Vec::new();
        let mut end = 0;
        while end < input.len() {
            end = (end + step).min(input.len());
            let from = s.needed_from() as usize;
            s.scan(
                &input[from..end],
                from as u64,
                end == input.len(),
                &mut |f| out.push(f),
            );
        }
        (out, s.is_complete())
    }

    #[test]
    fn finds_records_and_ignores_lookalikes() {
        let input = br#"<?xml version="1.0"?>
<!DOCTYPE Set [ <!ENTITY x "</A>"> <!-- a ']' and a '>' in a comment --> ]>
<Set><A k="</A>" j='>'><b>t</b><!-- </A> --><![CDATA[ </A> ]]><?pi </A> ?></A>
<AB></AB><p:A/><A ></A ></Set>"#;
        let starts_at = |needle: &str| memmem::find(input, needle.as_bytes()).unwrap() as u64;
        let first = starts_at("<A k=");
        let first_end = starts_at("?></A>") + 6;
        let empty = starts_at("<p:A/>");
        let last = starts_at("<A >");
        let want = vec![
            Found::Start(first),
            Found::End(first_end),
            Found::Start(empty),
            Found::End(empty + 6),
            Found::Start(last),
            Found::End(starts_at("</A >") + 5),
        ];
        for step in [1, 2, 3, 7, 64, input.len()] {
            let (found, complete) = scan_in_pieces(input, step);
            assert_eq!(found, want, "step {step}");
            assert!(complete, "step {step}");
        }
    }

    #[test]
    fn a_cut_document_is_not_complete() {
        for input in [
            &b"<Set><A>x</A>"[..],
            b"<Set><A>x",
            b"<Set><A>x</A></Set><!-- ",
            b"<Set><A>x</A></Set",
        ] {
            let (_, complete) = scan_in_pieces(input, 3);
            assert!(!complete, "{}", String::from_utf8_lossy(input));
        }
        let (_, complete) = scan_in_pieces(b"<Set><A>x</A></Set>\n", 3);
        assert!(complete);
    }
}
