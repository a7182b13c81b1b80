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

    /// Appends text, collapsing whitespace runs (also across calls) into one space.
    pub fn push_str(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                if is_ascii_space(b) {
                    self.pending_space = true;
                    i += 1;
                    continue;
                }
                // A run of ASCII non-space: copied at once.
                let start = i;
                while i < bytes.len() && bytes[i] < 0x80 && !is_ascii_space(bytes[i]) {
                    i += 1;
                }
                self.push_word(&s[start..i]);
            } else {
                let c = s[i..].chars().next().unwrap_or(' ');
                let len = c.len_utf8();
                if c.is_whitespace() {
                    self.pending_space = true;
                } else {
                    self.push_word(&s[i..i + len]);
                }
                i += len;
            }
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
    fn inline_pieces_join_without_space() {
        let mut b = TextBuf::new();
        b.push_str("H");
        b.push_str("2");
        b.push_str("O and CO");
        b.push_str("2");
        assert_eq!(b.as_str(), "H2O and CO2");
    }
}
