//! Text as passages carry it: inline markup flattened, whitespace collapsed.
//!
//! Every parser builds its text through [`TextBuf`], so whitespace is normalised the same way
//! everywhere: any run of whitespace (XML's and Unicode's, including no-break spaces and line
//! separators) becomes one ASCII space, and the ends are trimmed. Nothing else is changed.

/// A string under construction that collapses whitespace as it grows.
#[derive(Debug, Default, Clone)]
pub struct TextBuf {
    text: String,
    /// A space is owed before the next non-space character.
    pending_space: bool,
}

impl TextBuf {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends text, collapsing whitespace runs (also across calls) into one space. Runs of
    /// words separated by single ASCII spaces, the common case, are copied at once.
    pub fn push_str(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let n = bytes.len();
        let mut i = 0;
        while i < n {
            let b = bytes[i];
            if b < 0x80 && is_ascii_space(b) {
                self.pending_space = true;
                i += 1;
                continue;
            }
            if b >= 0x80 {
                let c = s[i..].chars().next().unwrap_or(' ');
                if c.is_whitespace() {
                    self.pending_space = true;
                    i += c.len_utf8();
                    continue;
                }
            }
            // A run of words, each space in it single and followed by an ASCII non-space.
            let start = i;
            while i < n {
                let b = bytes[i];
                if b < 0x80 {
                    if !is_ascii_space(b) {
                        i += 1;
                    } else if b == b' '
                        && i + 1 < n
                        && bytes[i + 1] < 0x80
                        && !is_ascii_space(bytes[i + 1])
                    {
                        i += 2;
                    } else {
                        break;
                    }
                } else {
                    let c = s[i..].chars().next().unwrap_or(' ');
                    if c.is_whitespace() {
                        break;
                    }
                    i += c.len_utf8();
                }
            }
            self.push_word(&s[start..i]);
        }
    }

    fn push_word(&mut self, w: &str) {
        if self.pending_space && !self.text.is_empty() {
            self.text.push(' ');
        }
        self.pending_space = false;
        self.text.push_str(w);
    }

    /// Marks a word boundary: the next text is separated from what came before by a space.
    /// Used between block-level pieces (table cells, list items) that have no whitespace between
    /// them in the XML.
    pub fn boundary(&mut self) {
        self.pending_space = true;
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Takes the text out, leaving the buffer empty.
    pub fn take(&mut self) -> String {
        self.pending_space = false;
        std::mem::take(&mut self.text)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The ASCII characters `char::is_whitespace` accepts: tab, LF, VT, FF, CR, space.
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// Collapses whitespace in `s` the same way [`TextBuf`] does.
pub fn normalize(s: &str) -> String {
    let mut buf = TextBuf::new();
    buf.push_str(s);
    buf.take()
}

/// Normalises and returns `None` for an empty result.
pub fn non_empty(s: &str) -> Option<String> {
    let n = normalize(s);
    (!n.is_empty()).then_some(n)
}

/// Decodes a single-byte encoding (ISO-8859-1, windows-1252) to UTF-8 as it is read.
#[derive(Debug)]
pub struct SingleByte<R> {
    inner: R,
    /// Characters of bytes 0x80 to 0x9F (windows-1252); `None` for Latin-1, where they are the
    /// C1 controls of the same number.
    high: Option<&'static [char; 32]>,
    /// Encoded bytes of a character that did not fit the caller's buffer.
    carry: [u8; 4],
    carry_len: usize,
}

/// windows-1252 at 0x80..=0x9F; its five unassigned bytes are read as Latin-1 (C1 controls).
#[rustfmt::skip]
const WINDOWS_1252: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

impl<R> SingleByte<R> {
    pub fn latin1(inner: R) -> Self {
        SingleByte {
            inner,
            high: None,
            carry: [0; 4],
            carry_len: 0,
        }
    }

    pub fn windows_1252(inner: R) -> Self {
        SingleByte {
            high: Some(&WINDOWS_1252),
            ..Self::latin1(inner)
        }
    }
}

fn decode_byte(high: Option<&'static [char; 32]>, b: u8) -> char {
    match high {
        Some(t) if (0x80..0xA0).contains(&b) => t[(b - 0x80) as usize],
        _ => b as char,
    }
}

impl<R: std::io::BufRead> std::io::Read for SingleByte<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.carry_len > 0 {
            let n = self.carry_len.min(out.len());
            out[..n].copy_from_slice(&self.carry[..n]);
            self.carry.copy_within(n..self.carry_len, 0);
            self.carry_len -= n;
            return Ok(n);
        }
        let high = self.high;
        let input = self.inner.fill_buf()?;
        let (mut n, mut used) = (0, 0);
        for &b in input {
            if b < 0x80 {
                if n == out.len() {
                    break;
                }
                out[n] = b;
                n += 1;
            } else {
                let mut tmp = [0u8; 4];
                let s = decode_byte(high, b).encode_utf8(&mut tmp).len();
                if n + s <= out.len() {
                    out[n..n + s].copy_from_slice(&tmp[..s]);
                    n += s;
                } else if n == 0 {
                    let fit = out.len();
                    out.copy_from_slice(&tmp[..fit]);
                    self.carry[..s - fit].copy_from_slice(&tmp[fit..s]);
                    self.carry_len = s - fit;
                    n = fit;
                    used += 1;
                    break;
                } else {
                    break;
                }
            }
            used += 1;
        }
        self.inner.consume(used);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_and_trims_across_pushes() {
        let mut b = TextBuf::new();
        b.push_str("  Hello,\n\t");
        b.push_str("  wor");
        b.push_str("ld\u{00a0}\u{2028} again ");
        assert_eq!(b.take(), "Hello, world again");
    }

    #[test]
    fn agrees_with_char_is_whitespace_on_every_char_class() {
        let sample =
            "a\u{0b}b\u{0c}c\u{85}d\u{a0}e\u{1680}f\u{2000}g\u{3000}h\u{feff}i\u{200b}j é\tß";
        let words: Vec<&str> = sample
            .split(char::is_whitespace)
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(normalize(sample), words.join(" "));
    }

    #[test]
    fn every_short_text_pushed_in_two_pieces_is_its_words_joined() {
        // Every text of up to five characters over an alphabet of words, ASCII and Unicode
        // spaces, and a non-ASCII letter.
        let alphabet = ['a', ' ', '\t', '\u{a0}', 'é', '\n', '.'];
        let mut texts = vec![String::new()];
        let mut last = texts.clone();
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(last.iter().cloned());
        }
        for t in &texts {
            let words: Vec<&str> = t
                .split(char::is_whitespace)
                .filter(|w| !w.is_empty())
                .collect();
            for (cut, _) in t.char_indices().chain([(t.len(), ' ')]) {
                let mut b = TextBuf::new();
                b.push_str(&t[..cut]);
                b.push_str(&t[cut..]);
                assert_eq!(b.take(), words.join(" "), "{t:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn boundary_separates_only_between_words() {
        let mut b = TextBuf::new();
        b.boundary();
        b.push_str("cell1");
        b.boundary();
        b.boundary();
        b.push_str("cell2");
        b.boundary();
        assert_eq!(b.take(), "cell1 cell2");
    }

    #[test]
    fn single_byte_encodings_decode_to_utf8_whatever_the_buffer() {
        use std::io::Read;
        let latin1 = b"na\xefve \xb5g \x80";
        for step in [1, 2, 3, 64] {
            let mut r = SingleByte::latin1(&latin1[..]);
            let mut got = Vec::new();
            let mut buf = vec![0u8; step];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(
                String::from_utf8(got).unwrap(),
                "naïve µg \u{80}",
                "step {step}"
            );
        }
        let mut s = String::new();
        SingleByte::windows_1252(&b"\x93quoted\x94 \x80 5"[..])
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "“quoted” € 5");
    }

    #[test]
    fn inline_pieces_join_without_space() {
        let mut b = TextBuf::new();
        b.push_str("H");
        b.push_str("2");
        b.push_str("O and CO");
        b.push_str("2");
        assert_eq!(b.as_str(), "H2O and CO2");
    }
}
