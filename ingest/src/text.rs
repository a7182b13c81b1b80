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
        // Fast path: ASCII text without whitespace but for single inner spaces.
        for c in s.chars() {
            if c.is_whitespace() {
                self.pending_space = true;
            } else {
                if self.pending_space && !self.text.is_empty() {
                    self.text.push(' ');
                }
                self.pending_space = false;
                self.text.push(c);
            }
        }
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
